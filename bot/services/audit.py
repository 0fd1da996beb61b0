"""The audit log: who did what. Never pass message text, names or other personal data in `details`."""

from __future__ import annotations

from typing import Any, Literal, cast

from sqlalchemy import Table, and_, delete, insert, or_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.db.models import AuditEntry

Actor = Literal["client", "staff", "system"]


def record(
    session: AsyncSession,
    action: str,
    *,
    actor: Actor,
    actor_id: int | None = None,
    client_id: int | None = None,
    **details: Any,
) -> None:
    session.add(AuditEntry(actor=actor, actor_id=actor_id, client_id=client_id, action=action, details=details))


_AUDIT = cast(Table, AuditEntry.__table__)
_INSERT = insert(_AUDIT)


async def record_now(
    session: AsyncSession,
    action: str,
    *,
    actor: Actor,
    actor_id: int | None = None,
    client_id: int | None = None,
    **details: Any,
) -> None:
    """`record` as one Core INSERT now, for hot paths (first contact): no ORM object, nothing for a later flush."""
    values = {"actor": actor, "actor_id": actor_id, "client_id": client_id, "action": action, "details": details}
    await session.execute(_INSERT, values | {"at": utcnow()})


async def forget_client(session: AsyncSession, client_id: int) -> None:
    """Delete the client's entries (erasure), and those they made as the actor: the log then keeps only that an
    erasure happened."""
    mine = or_(AuditEntry.client_id == client_id, and_(AuditEntry.actor == "client", AuditEntry.actor_id == client_id))
    await session.execute(delete(AuditEntry).where(mine))

"""The audit log: who did what. Never pass message text, names or other personal data in `details`."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import and_, delete, or_
from sqlalchemy.ext.asyncio import AsyncSession

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


async def forget_client(session: AsyncSession, client_id: int) -> None:
    """Delete the client's entries (erasure), and those they made as the actor: the log then keeps only that an
    erasure happened."""
    mine = or_(AuditEntry.client_id == client_id, and_(AuditEntry.actor == "client", AuditEntry.actor_id == client_id))
    await session.execute(delete(AuditEntry).where(mine))

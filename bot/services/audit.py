"""The audit log: who did what. Never pass message text, names or other personal data in `details`."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import delete, select
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


async def activity_for_client(session: AsyncSession, client_id: int) -> list[dict[str, Any]]:
    """What the log holds about the client, oldest first, for their data export: when, and what (no details)."""
    entries = (
        await session.scalars(select(AuditEntry).where(AuditEntry.client_id == client_id).order_by(AuditEntry.id))
    ).all()
    return [{"at": e.at.isoformat() if e.at else None, "action": e.action} for e in entries]


async def forget_client(session: AsyncSession, client_id: int) -> None:
    """Delete the client's entries (erasure): the log then keeps only that an erasure happened."""
    await session.execute(delete(AuditEntry).where(AuditEntry.client_id == client_id))

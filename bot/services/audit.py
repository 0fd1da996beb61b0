"""The audit log: who did what. Never pass message text, names or other personal data in `details`."""

from __future__ import annotations

from typing import Any, Literal

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

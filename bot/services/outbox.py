"""Writing to the outbox. Callers pass their own session: the message is queued in the same transaction as the
change that causes it, so a rollback queues nothing and a commit loses nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models_outbox import OutboxMessage

REMINDER_PRIORITY = 0
ALERT_PRIORITY = 0
BROADCAST_PRIORITY = 10


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    chat_id: int,
    template: str,
    due_at: datetime,
    params: dict[str, Any] | None = None,
    client_id: int | None = None,
    thread_id: int | None = None,
    expires_at: datetime | None = None,
    priority: int = REMINDER_PRIORITY,
    broadcast_id: int | None = None,
) -> bool:
    """Queue a message unless one with the same idempotency key exists; True if queued now.

    A cancelled row with the same key is revived with the new due time (an appointment moved back, say).
    """
    existing = await session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
    if existing is not None:
        if existing.status != "cancelled":
            return False
        existing.status, existing.due_at, existing.expires_at = "pending", due_at, expires_at
        existing.params, existing.attempts, existing.last_error = dict(params or {}), 0, None
        return True
    session.add(
        OutboxMessage(
            idempotency_key=key,
            client_id=client_id,
            chat_id=chat_id,
            thread_id=thread_id,
            template=template,
            params=dict(params or {}),
            priority=priority,
            due_at=due_at,
            expires_at=expires_at,
            broadcast_id=broadcast_id,
        )
    )
    await session.flush()
    return True


async def cancel(session: AsyncSession, key_prefix: str) -> int:
    """Cancel every pending message whose key starts with `key_prefix` (e.g. "appointment:42:")."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.idempotency_key.startswith(key_prefix), OutboxMessage.status == "pending")
        .values(status="cancelled")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

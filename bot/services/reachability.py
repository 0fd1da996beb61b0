"""Whether kimbot can still write to a client. One service for both ways of finding out that it cannot: a send
refused with 403 (the delivery worker) and Telegram's `my_chat_member` update when the client blocks the bot
(status "kicked"). Either way: the client's pending outbox messages are cancelled, `reachable` turns false, and
their case manager (or, without one, the staff group) is alerted – once, by whoever flips the flag. Unblocking the
bot makes the client reachable again (their next reminders are queued as usual).

Telegram-free: the alert is an outbox row (template `staff_client_unreachable`), sent by the drain.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Client, Staff
from bot.db.models_outbox import OutboxMessage
from bot.delivery import outbox


async def became_unreachable(
    session: AsyncSession, client_id: int, *, now: datetime, staff_chat_id: int | None, cause: str
) -> bool:
    """Stop writing to the client and tell staff once. `cause` names the event (e.g. "outbox:17", "blocked:…"):
    it makes the alert's idempotency key, so the same event handled twice alerts once. True if the flag flipped
    now (this call queued the alert)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.client_id == client_id, OutboxMessage.status == "pending")
        .values(status="cancelled", last_error="client unreachable")
        .execution_options(synchronize_session=False)
    )
    flipped = await session.execute(
        update(Client)
        .where(Client.id == client_id, Client.reachable.is_(True))
        .values(reachable=False)
        .execution_options(synchronize_session=False)
    )
    if not flipped.rowcount:  # type: ignore[attr-defined]
        return False
    found = (
        await session.execute(
            select(Client.reference, Staff.telegram_id)
            .outerjoin(Staff, and_(Staff.id == Client.case_manager_id, Staff.active.is_(True)))
            .where(Client.id == client_id)
        )
    ).one()
    chat_id = found.telegram_id or staff_chat_id
    if chat_id is not None:
        await outbox.enqueue(
            session,
            key=f"client:{client_id}:unreachable:{cause}",
            chat_id=chat_id,
            template=outbox.STAFF_UNREACHABLE_TEMPLATE,
            due_at=now,
            params={"reference": found.reference},
            priority=outbox.ALERT_PRIORITY,
        )
    return True


async def became_reachable(session: AsyncSession, client_id: int) -> None:
    """The client unblocked the bot (or wrote again)."""
    await session.execute(
        update(Client).where(Client.id == client_id).values(reachable=True).execution_options(synchronize_session=False)
    )

"""Writing to the outbox. Callers pass their own session: the message is queued in the same transaction as the
change that causes it, so a rollback queues nothing and a commit loses nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import DEFAULT_LOCALE, OFFICE_LOCALE
from bot.db.models import Client, Staff
from bot.db.models_outbox import OutboxMessage

REMINDER_PRIORITY = 0
ALERT_PRIORITY = 0
BROADCAST_PRIORITY = 10

# Template keys the renderer (bot/delivery/renderer.py) knows.
STAFF_UNREACHABLE_TEMPLATE = "staff_client_unreachable"


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

    A message to staff about a client has a key that starts with `client:{id}:` or `appointment:{id}:`, so the
    client's erasure finds it (`forget_client`).

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


# ---------------------------------------------------------------------------------------------------------------
# Draining the outbox: claims are leases, outcomes are fenced by the lease they were claimed with.
# ---------------------------------------------------------------------------------------------------------------

FINAL_STATUSES = ("sent", "failed", "unreachable", "cancelled", "dropped")


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A row this worker holds a lease on, with everything needed to render it now."""

    id: int
    key: str
    client_id: int | None
    chat_id: int
    thread_id: int | None
    template: str
    params: dict[str, Any]
    attempts: int
    lease_until: datetime
    # Recipient's languages, most preferred first (the client's current language, or a staff member's).
    locales: tuple[str, ...]


def _due(now: datetime) -> ColumnElement[bool]:
    """Pending and due, or claimed by a worker whose lease has run out (it crashed or hung)."""
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.due_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
    )


def _current(now: datetime) -> ColumnElement[bool]:
    return or_(OutboxMessage.expires_at.is_(None), OutboxMessage.expires_at > now)


async def drop_expired(session: AsyncSession, now: datetime) -> int:
    """Rows that no longer make sense (e.g. the appointment has started) are dropped, with the reason."""
    result = await session.execute(
        update(OutboxMessage)
        .where(_due(now), OutboxMessage.expires_at.is_not(None), OutboxMessage.expires_at <= now)
        .values(status="dropped", lease_until=None, last_error="expired before it could be delivered")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def claim(session: AsyncSession, *, now: datetime, limit: int, lease_seconds: float) -> list[ClaimedMessage]:
    """Lease up to `limit` due rows to the caller; no other worker gets them until the lease runs out.

    Run it in a transaction of its own that commits right away. PostgreSQL: `FOR UPDATE SKIP LOCKED`, so
    concurrent workers take disjoint rows without waiting. SQLite: a single conditional UPDATE … RETURNING as the
    first statement of the transaction takes the write lock (waiting on busy_timeout); its WHERE re-checks the
    status, so a second process can never claim a row that is already leased.
    """
    await drop_expired(session, now)
    lease = now + timedelta(seconds=lease_seconds)
    order = (OutboxMessage.priority, OutboxMessage.due_at, OutboxMessage.id)
    bind = session.get_bind()
    # Expired rows locked by another worker's drop_expired are skipped here, not sent.
    candidates = select(OutboxMessage.id).where(_due(now), _current(now)).order_by(*order).limit(limit)
    if bind.dialect.name == "postgresql":
        ids = list((await session.scalars(candidates.with_for_update(skip_locked=True))).all())
        if not ids:
            return []
        target: ColumnElement[bool] = OutboxMessage.id.in_(ids)
    else:
        target = and_(OutboxMessage.id.in_(candidates.scalar_subquery()), _due(now), _current(now))
    rows = (
        await session.execute(
            update(OutboxMessage)
            .where(target)
            .values(status="sending", lease_until=lease, attempts=OutboxMessage.attempts + 1)
            .returning(
                OutboxMessage.id,
                OutboxMessage.idempotency_key,
                OutboxMessage.client_id,
                OutboxMessage.chat_id,
                OutboxMessage.thread_id,
                OutboxMessage.template,
                OutboxMessage.params,
                OutboxMessage.attempts,
                OutboxMessage.priority,
                OutboxMessage.due_at,
            )
            .execution_options(synchronize_session=False)
        )
    ).all()
    if not rows:
        return []
    client_ids = {r.client_id for r in rows if r.client_id is not None}
    client_locales: dict[int, str | None] = {}
    if client_ids:
        result = await session.execute(select(Client.id, Client.locale).where(Client.id.in_(client_ids)))
        client_locales = {client_id: locale for client_id, locale in result.all()}
    staff_chats = {r.chat_id for r in rows if r.client_id is None}
    staff_languages: dict[int, list[str]] = {}
    if staff_chats:
        found = await session.execute(
            select(Staff.telegram_id, Staff.languages).where(Staff.telegram_id.in_(staff_chats))
        )
        staff_languages = {telegram_id: list(languages or ()) for telegram_id, languages in found.all()}
    claimed = []
    for r in sorted(rows, key=lambda r: (r.priority, r.due_at, r.id)):
        if r.client_id is not None:
            locales: tuple[str, ...] = (client_locales.get(r.client_id) or DEFAULT_LOCALE,)
        else:
            locales = (*staff_languages.get(r.chat_id, ()), OFFICE_LOCALE)
        claimed.append(
            ClaimedMessage(
                id=r.id,
                key=r.idempotency_key,
                client_id=r.client_id,
                chat_id=r.chat_id,
                thread_id=r.thread_id,
                template=r.template,
                params=dict(r.params or {}),
                attempts=r.attempts,
                lease_until=lease,
                locales=locales,
            )
        )
    return claimed


def _leased(message: ClaimedMessage) -> ColumnElement[bool]:
    """Fencing: an outcome is recorded only while the row is still under this worker's lease."""
    return and_(
        OutboxMessage.id == message.id,
        OutboxMessage.status == "sending",
        OutboxMessage.lease_until == message.lease_until,
    )


async def _finish(session: AsyncSession, message: ClaimedMessage, **values: Any) -> bool:
    result = await session.execute(
        update(OutboxMessage).where(_leased(message)).values(**values).execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_sent(session: AsyncSession, message: ClaimedMessage, *, telegram_message_id: int, now: datetime) -> bool:
    return await _finish(
        session,
        message,
        status="sent",
        sent_at=now,
        telegram_message_id=telegram_message_id,
        lease_until=None,
        last_error=None,
    )


async def retry_later(session: AsyncSession, message: ClaimedMessage, *, due_at: datetime, error: str) -> bool:
    return await _finish(session, message, status="pending", due_at=due_at, lease_until=None, last_error=error[:500])


async def mark_failed(session: AsyncSession, message: ClaimedMessage, *, error: str) -> bool:
    return await _finish(session, message, status="failed", lease_until=None, last_error=error[:500])


async def mark_dropped(session: AsyncSession, message: ClaimedMessage, *, reason: str) -> bool:
    return await _finish(session, message, status="dropped", lease_until=None, last_error=reason[:500])


async def mark_unreachable(session: AsyncSession, message: ClaimedMessage, *, error: str) -> bool:
    """403: the recipient blocked the bot (or never started it). Only this row; what follows for the client
    (their other messages cancelled, staff alerted once) is `bot.services.reachability.became_unreachable`."""
    return await _finish(session, message, status="unreachable", lease_until=None, last_error=error[:500])


async def was_sent_to(session: AsyncSession, key_prefix: str, client_id: int) -> bool:
    """True if a message with this key prefix was addressed to the client (ownership check for buttons)."""
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.idempotency_key.startswith(key_prefix), OutboxMessage.client_id == client_id)
        .limit(1)
    )
    return found is not None


async def purge_closed(session: AsyncSession, before: datetime) -> int:
    """Retention: delete delivered, failed, cancelled and dropped rows created before `before`."""
    result = await session.execute(
        delete(OutboxMessage).where(OutboxMessage.status.in_(FINAL_STATUSES), OutboxMessage.created_at < before)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def status_counts(session: AsyncSession) -> dict[str, int]:
    rows = (await session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all()
    return {status: int(count) for status, count in rows}


async def forget_client(session: AsyncSession, client_id: int, *, appointment_ids: list[int]) -> int:
    """Erasure: every message to the client, and every message to staff about them. Messages to staff carry no
    `client_id` (it would make the drain render them in the client's language and treat a 403 as the client's);
    their idempotency key names the client (`client:{id}:…`) or the appointment (`appointment:{id}:…`)."""
    about = [OutboxMessage.client_id == client_id, OutboxMessage.idempotency_key.startswith(f"client:{client_id}:")]
    about += [OutboxMessage.idempotency_key.startswith(f"appointment:{aid}:") for aid in appointment_ids]
    result = await session.execute(delete(OutboxMessage).where(or_(*about)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

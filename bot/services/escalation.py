"""Nobody waits unseen: a client's message that no staff member has answered after N working hours (the county's
`escalation_hours`, default 24; office hours and NRW public holidays count, see `working_hours`) brings a reminder
into the client's topic mentioning their case manager; after 2N, the case manager's deputy or the admins.

"Waiting since" is not stored separately: it is the first message the client sent after the last staff answer
(`handoff_conversations.last_staff_message_at`) and after the last /close (the audit log), read from the message
pairs the relay keeps anyway. A staff answer ends the wait; `answered` counts the first-response time for the
programme report, before the relay moves `last_staff_message_at`.

Telegram-free: reminders are outbox rows for the staff group (key `client:{id}:escalation:{since}:{level}`, so a
second run, a second worker or a restart queues nothing twice, and the client's erasure finds them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County, Office
from bot.db.models import AuditEntry, Client, Staff
from bot.db.models_handoff import Conversation, RelayMessage
from bot.db.models_outbox import OutboxMessage
from bot.delivery import outbox
from bot.services import clients, handoff, office_hours, working_hours
from bot.services import staff as staff_service
from bot.services.dto import ClientDTO, StaffDTO
from bot.services.reporting import events as reporting

Level = Literal["n", "2n"]
Who = Literal["manager", "deputy", "admins"]

ESCALATION_TEMPLATE = "handoff_escalation"
# The relay stores a client's messages as "delivered" (in the topic) or "held" (flood protection, on their way).
_WAITING_STATUSES = ("delivered", "held")
_CLOSED = "conversation_closed"  # the audit action of /close (bot.services.handoff.close)


# ---------------------------------------------------------------------- rules (pure)


def due_level(office: Office | None, since: datetime, now: datetime, hours: float, tz: ZoneInfo) -> Level | None:
    """The highest level due at `now` for a wait that began at `since`: "2n", "n", or None (not yet)."""
    second = working_hours.add(office, since, 2 * hours, tz)
    if second is not None and now >= second:
        return "2n"
    first = working_hours.add(office, since, hours, tz)
    if first is not None and now >= first:
        return "n"
    return None


@dataclass(frozen=True, slots=True)
class Recipients:
    who: Who
    staff: tuple[StaffDTO, ...]


def recipients(
    level: Level,
    manager: StaffDTO | None,
    *,
    away_deputy: StaffDTO | None,
    deputy: StaffDTO | None,
    admins: Sequence[StaffDTO],
) -> Recipients:
    """Who a reminder mentions. After N the case manager – or, while they are away, whoever answers for them (as
    the relay's mention); after 2N the next one up: the deputy named in the county file, or the admins when
    there is none, or the deputy was the one reminded after N. Without a case manager: the admins both times."""
    fallback = Recipients("admins", tuple(admins)) if admins else None
    if manager is None:
        return fallback or Recipients("admins", ())
    if level == "n":
        if away_deputy is not None:
            return Recipients("deputy", (away_deputy,))
        return Recipients("manager", (manager,))
    if away_deputy is None and deputy is not None and deputy.id != manager.id:
        return Recipients("deputy", (deputy,))
    return fallback or Recipients("manager", (manager,))


def outbox_key(client_id: int, since: datetime, level: Level) -> str:
    return f"client:{client_id}:escalation:{int(since.timestamp())}:{level}"


# ---------------------------------------------------------------------- waiting clients


def _unanswered() -> object:
    """A client's message (joined with its conversation) after the last staff answer and after any /close."""
    closed_after = exists().where(
        AuditEntry.client_id == RelayMessage.client_id,
        AuditEntry.action == _CLOSED,
        AuditEntry.at >= RelayMessage.created_at,
    )
    return and_(
        RelayMessage.direction == "in",
        RelayMessage.status.in_(_WAITING_STATUSES),
        or_(Conversation.last_staff_message_at.is_(None), RelayMessage.created_at > Conversation.last_staff_message_at),
        ~closed_after,
    )


async def waiting_since(session: AsyncSession, client_id: int) -> datetime | None:
    """When the client's oldest unanswered message arrived; None when nothing waits for an answer."""
    found: datetime | None = await session.scalar(
        select(func.min(RelayMessage.created_at))
        .join(Conversation, Conversation.client_id == RelayMessage.client_id)
        .where(RelayMessage.client_id == client_id, _unanswered())  # type: ignore[arg-type]
    )
    return found


@dataclass(frozen=True, slots=True)
class Waiting:
    client: ClientDTO
    since: datetime


async def waiting(session: AsyncSession) -> list[Waiting]:
    """Clients in an open, unblocked conversation with a topic whose last message has no staff answer, oldest
    wait first. One query; only conversations whose last client message is newer than the last answer are read."""
    first = (
        select(RelayMessage.client_id.label("client_id"), func.min(RelayMessage.created_at).label("since"))
        .join(Conversation, Conversation.client_id == RelayMessage.client_id)
        .where(
            Conversation.status == "open",
            Conversation.blocked.is_(False),
            Conversation.thread_id.is_not(None),
            Conversation.last_client_message_at.is_not(None),
            or_(
                Conversation.last_staff_message_at.is_(None),
                Conversation.last_client_message_at > Conversation.last_staff_message_at,
            ),
            _unanswered(),  # type: ignore[arg-type]
        )
        .group_by(RelayMessage.client_id)
        .subquery()
    )
    rows = (await session.execute(select(Client, first.c.since).join(first, first.c.client_id == Client.id))).all()
    found = [Waiting(clients.to_dto(row), since) for row, since in rows]
    return sorted(found, key=lambda w: (w.since, w.client.id))


# ---------------------------------------------------------------------- a staff answer


async def answered(session: AsyncSession, client: ClientDTO, at: datetime) -> float | None:
    """A staff answer reaches the client: count the first-response time (wall-clock seconds from the oldest
    unanswered message) for the report. Call it before `handoff.staff_answered` moves the answer mark; None when
    the client was not waiting (staff wrote first, or again)."""
    since = await waiting_since(session, client.id)
    if since is None:
        return None
    seconds = max((at - since).total_seconds(), 0.0)
    await reporting.record_duration(
        session,
        "first_response",
        seconds,
        when=at,
        municipality=client.municipality,
        language=client.locale,
        case_manager_id=client.case_manager_id,
    )
    return seconds


# ---------------------------------------------------------------------- the scan


async def _admins(session: AsyncSession) -> list[StaffDTO]:
    rows = await session.scalars(select(Staff).where(Staff.active.is_(True), Staff.role == "admin").order_by(Staff.id))
    return [staff_service.to_dto(r) for r in rows.all()]


async def _county_deputy(session: AsyncSession, county: County, manager: StaffDTO) -> StaffDTO | None:
    member = county.staff_member(manager.telegram_id)
    if member is None or member.deputy is None:
        return None
    return await staff_service.find_active(session, member.deputy)


async def _recipients(
    session: AsyncSession, county: County, client: ClientDTO, level: Level, now: datetime, tz: ZoneInfo
) -> tuple[StaffDTO | None, Recipients]:
    manager = await handoff.staff_by_id(session, client.case_manager_id)
    away = await handoff.absence(session, manager.id, now.astimezone(tz).date()) if manager else None
    deputy = await _county_deputy(session, county, manager) if manager else None
    chosen = recipients(
        level, manager, away_deputy=away.deputy if away else None, deputy=deputy, admins=await _admins(session)
    )
    return manager, chosen


@dataclass(frozen=True, slots=True)
class Planned:
    client_id: int
    level: Level
    who: Who


async def plan(
    session: AsyncSession, county: County, *, staff_chat_id: int, now: datetime, tz: ZoneInfo
) -> list[Planned]:
    """Queue the reminders due at `now` (each once per wait and level) and count them for the report."""
    due: list[tuple[Waiting, Level, str]] = []
    for wait in await waiting(session):
        manager = await handoff.staff_by_id(session, wait.client.case_manager_id)
        office = office_hours.office_for(county, manager.office_key if manager else None, wait.client.municipality)
        level = due_level(office, wait.since, now, county.escalation_hours, tz)
        if level is not None:
            due.append((wait, level, outbox_key(wait.client.id, wait.since, level)))
    if not due:
        return []
    queued = set(
        (
            await session.scalars(
                select(OutboxMessage.idempotency_key).where(
                    OutboxMessage.idempotency_key.in_([key for _, _, key in due])
                )
            )
        ).all()
    )
    planned: list[Planned] = []
    for wait, level, key in due:
        if key in queued:
            continue
        client = wait.client
        manager, chosen = await _recipients(session, county, client, level, now, tz)
        thread = (await handoff.conversation(session, client.id)).thread_id
        params = {
            "client_id": client.id,
            "level": level,
            "since": int(wait.since.timestamp()),
            "hours": county.escalation_hours * (2 if level == "2n" else 1),
            "who": chosen.who,
            "to": [member.id for member in chosen.staff],
            "manager": manager.id if manager else None,
        }
        sent = await outbox.enqueue(
            session,
            key=key,
            chat_id=staff_chat_id,
            thread_id=thread,
            template=ESCALATION_TEMPLATE,
            params=params,
            due_at=now,
            priority=outbox.ALERT_PRIORITY,
        )
        if sent:
            await reporting.record(
                session,
                "escalation",
                when=now,
                municipality=client.municipality,
                language=client.locale,
                case_manager_id=client.case_manager_id,
                detail=level,
            )
            planned.append(Planned(client.id, level, chosen.who))
    return planned

"""Follow-ups: a staff member's task about a client (`/followup 3d call about the Fiktionsbescheinigung`), due at
a moment in working hours, announced at that moment with Done / +1 day / +1 week, listed in the morning agenda.

Telegram-free. When the task falls due, it goes to whoever answers for its owner then: the owner, or their
deputy while they are away (`handoff.absence`: the deputy they named, else an admin) – decided at the due time,
not when the task was written. The due message is an outbox row queued by the follow-up job
(`bot/jobs/followups.py`); its key names the client (`client:{id}:followup:…`), so the client's erasure removes
it, and the due time, so moving a task announces it again. When a task is rendered, done or moved, the row is
re-checked here: only its owner, their current deputy or an admin may act on it.

The rules for *when* (parsing "3d", "morgen", "2027-01-15 14:00"; placing the moment in working hours) are in
`bot.services.followup_due`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County
from bot.db.models import Client, Staff
from bot.db.models_casework import FollowUp
from bot.delivery import outbox
from bot.services import audit, handoff
from bot.services.dto import StaffDTO
from bot.services.followup_due import WorkingCalendar, calendar_from, place_after

FOLLOWUP_TEMPLATE = "followup_due"
ACTIONS = ("done", "day", "week")
SNOOZE = {"day": timedelta(days=1), "week": timedelta(weeks=1)}
MAX_TEXT_CHARS = 500


class FollowupNotFound(LookupError):
    """No such follow-up, or it is done already."""


class NotAllowed(PermissionError):
    """The caller is neither the task's owner, nor their current deputy, nor an admin."""


@dataclass(frozen=True, slots=True)
class FollowupDTO:
    id: int
    client_id: int
    client_reference: str
    owner_id: int | None
    owner_name: str | None
    text: str
    due_at: datetime
    status: str

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True, slots=True)
class Routed:
    """A due task and who gets it now: its owner, or the deputy answering for them."""

    followup: FollowupDTO
    recipient: StaffDTO

    @property
    def for_deputy(self) -> bool:
        return self.recipient.id != self.followup.owner_id


def key_prefix(client_id: int, followup_id: int) -> str:
    return f"client:{client_id}:followup:{followup_id}:"


def due_key(client_id: int, followup_id: int, due_at: datetime) -> str:
    return f"{key_prefix(client_id, followup_id)}{int(due_at.timestamp())}"


def _query() -> Select[FollowUp, str, str]:
    return (
        select(FollowUp, Client.reference, Staff.display_name)
        .join(Client, Client.id == FollowUp.client_id)
        .outerjoin(Staff, Staff.id == FollowUp.staff_id)
    )


def _dto(row: FollowUp, reference: str, owner_name: str | None) -> FollowupDTO:
    return FollowupDTO(row.id, row.client_id, reference, row.staff_id, owner_name, row.text, row.due_at, row.status)


async def _rows(session: AsyncSession, *where: Any) -> list[tuple[FollowUp, FollowupDTO]]:
    result = await session.execute(_query().where(*where).order_by(FollowUp.due_at, FollowUp.id))
    return [(row, _dto(row, reference, name)) for row, reference, name in result.all()]


async def get(session: AsyncSession, followup_id: int) -> FollowupDTO | None:
    found = await _rows(session, FollowUp.id == followup_id)
    return found[0][1] if found else None


async def create(session: AsyncSession, *, client_id: int, owner_id: int, text: str, due_at: datetime) -> FollowupDTO:
    cleaned = text.strip()[:MAX_TEXT_CHARS]
    if not cleaned:
        raise ValueError("a follow-up needs a text")
    row = FollowUp(client_id=client_id, staff_id=owner_id, created_by_staff_id=owner_id, text=cleaned, due_at=due_at)
    session.add(row)
    await session.flush()
    audit.record(session, "followup_created", actor="staff", actor_id=owner_id, client_id=client_id, followup=row.id)
    found = await get(session, row.id)
    assert found is not None
    return found


async def open_for_client(session: AsyncSession, client_id: int) -> list[FollowupDTO]:
    return [dto for _, dto in await _rows(session, FollowUp.client_id == client_id, FollowUp.status == "open")]


# ---------------------------------------------------------------------- who answers for whom


async def answering_for(session: AsyncSession, owner_id: int | None, today: date) -> StaffDTO | None:
    """Who gets the owner's due tasks today: their deputy while they are away, else the owner; an admin when the
    owner has left (no longer active); None when nobody can be found."""
    owner = await handoff.staff_by_id(session, owner_id)
    if owner is not None:
        away = await handoff.absence(session, owner.id, today)
        return away.deputy if away is not None and away.deputy is not None else owner
    admin = await session.scalar(
        select(Staff).where(Staff.active.is_(True), Staff.role == "admin").order_by(Staff.id).limit(1)
    )
    return await handoff.staff_by_id(session, admin.id) if admin is not None else None


async def may_act(session: AsyncSession, followup: FollowupDTO, actor: StaffDTO, today: date) -> bool:
    """The owner, an admin, or whoever answers for the owner today (their deputy while they are away)."""
    if actor.is_admin or actor.id == followup.owner_id:
        return True
    answering = await answering_for(session, followup.owner_id, today)
    return answering is not None and answering.id == actor.id


async def routed_to(session: AsyncSession, staff_id: int, until: datetime, today: date) -> list[Routed]:
    """Open tasks due before `until` (overdue ones too) that go to this staff member today: their own, unless
    they are away, and those of colleagues they stand in for."""
    found: list[Routed] = []
    answering: dict[int | None, StaffDTO | None] = {}
    for _, dto in await _rows(session, FollowUp.status == "open", FollowUp.due_at < until):
        if dto.owner_id not in answering:
            answering[dto.owner_id] = await answering_for(session, dto.owner_id, today)
        recipient = answering[dto.owner_id]
        if recipient is not None and recipient.id == staff_id:
            found.append(Routed(dto, recipient))
    return found


# ---------------------------------------------------------------------- falling due


async def announce_due(session: AsyncSession, now: datetime, today: date) -> list[Routed]:
    """Queue the due message of every open task whose moment has come and that was not announced for it yet, to
    whoever answers for its owner now. Idempotent: the key holds the due time."""
    announced: list[Routed] = []
    for row, dto in await _rows(
        session, FollowUp.status == "open", FollowUp.due_at <= now, FollowUp.announced_at.is_(None)
    ):
        recipient = await answering_for(session, dto.owner_id, today)
        if recipient is None:
            continue
        await outbox.enqueue(
            session,
            key=due_key(dto.client_id, dto.id, dto.due_at),
            chat_id=recipient.telegram_id,
            template=FOLLOWUP_TEMPLATE,
            params={"followup_id": dto.id, "due_at": dto.due_at.isoformat(), "recipient_id": recipient.id},
            due_at=now,
            priority=outbox.ALERT_PRIORITY,
        )
        row.announced_at = now
        announced.append(Routed(dto, recipient))
    await session.flush()
    return announced


async def still_due(session: AsyncSession, followup_id: int, due_at: datetime) -> FollowupDTO | None:
    """The task, if it is still open and still due at `due_at` (not done or moved since it was announced)."""
    found = await get(session, followup_id)
    return found if found is not None and found.is_open and found.due_at == due_at else None


# ---------------------------------------------------------------------- done, +1 day, +1 week


async def calendar_for(
    session: AsyncSession, county: County, tz: tzinfo, *, owner_id: int | None, client_id: int
) -> WorkingCalendar:
    """The working week the owner's tasks are placed in (see `followup_due.calendar_from`)."""
    owner = await session.get(Staff, owner_id) if owner_id is not None else None
    municipality = await session.scalar(select(Client.municipality).where(Client.id == client_id))
    return calendar_from(
        county,
        tz,
        staff_telegram_id=owner.telegram_id if owner else None,
        office_key=owner.office_key if owner else None,
        municipality=municipality,
    )


async def act(
    session: AsyncSession,
    followup_id: int,
    actor: StaffDTO,
    action: str,
    *,
    now: datetime,
    county: County,
    tz: tzinfo,
) -> FollowupDTO:
    """Done, or moved by a day or a week (from its due time, or from now when that has passed), placed in working
    hours again. FollowupNotFound when it is gone or done; NotAllowed for anyone but owner, deputy or admin."""
    if action not in ACTIONS:
        raise ValueError(action)
    found = await _rows(session, FollowUp.id == followup_id)
    if not found or not found[0][1].is_open:
        raise FollowupNotFound
    row, dto = found[0]
    calendar = await calendar_for(session, county, tz, owner_id=dto.owner_id, client_id=dto.client_id)
    if not await may_act(session, dto, actor, calendar.today(now)):
        raise NotAllowed
    await outbox.cancel(session, key_prefix(dto.client_id, dto.id))
    if action == "done":
        row.status, row.done_at, row.done_by_staff_id = "done", now, actor.id
    else:
        row.due_at = place_after(max(row.due_at, now) + SNOOZE[action], calendar)
        row.announced_at = None
    await session.flush()
    audit.record(
        session, f"followup_{action}", actor="staff", actor_id=actor.id, client_id=dto.client_id, followup=dto.id
    )
    result = await get(session, dto.id)
    assert result is not None
    return result

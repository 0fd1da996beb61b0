"""Interpreters as a resource of the booking: a slot "with interpreter" is free only when the staff member *and* an
interpreter of the client's language are – one who works that way (in person, video, phone), goes there (in person:
the municipalities they cover), is available then (weekly hours from the county file) and has had their notice
(working days: Mon–Fri without NRW public holidays, `office_hours.is_holiday`).

The interpreter's time is a row in `interpreter_bookings`; two active rows of one interpreter never overlap
(PostgreSQL: an exclusion constraint; SQLite: bookings run under the write lock and `assign` checks first). They are
told through the outbox – on Telegram when the county file gives their id, else the case manager gets the details
to pass on – and get reminders with the client's; a cancelled appointment releases them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import WEEKDAYS, County, Interpreter, Service
from bot.db.base import utcnow
from bot.db.models import Client, Staff
from bot.db.models_booking import Appointment
from bot.db.models_interpreters import AppointmentDetails, InterpreterBooking
from bot.delivery import outbox
from bot.services import office_hours
from bot.services.availability import MAX_APPOINTMENT_SPAN, BusyIndex, Interval, Slot, SlotQuery

EVENT_TEMPLATE = "interpreter_event"  # to the interpreter: booked | rescheduled | released
REMINDER_TEMPLATE = "interpreter_reminder"
PASS_ON_TEMPLATE = "interpreter_pass_on"  # to the case manager, for an interpreter without Telegram


class InterpreterTaken(Exception):
    """No fitting interpreter is free for the slot (any more)."""


class NotManageable(LookupError):
    """No such appointment to come, or not this staff member's to change – the same answer for both."""


@dataclass(frozen=True, slots=True)
class Need:
    """What a booking asks of an interpreter. `speakers` are staff who speak the language themselves: their slots
    need no interpreter. `notice`: False when a case manager arranges it directly with the interpreter."""

    county: County
    tz: ZoneInfo
    language: str
    mode: str
    client_municipality: str | None
    interpreters: tuple[Interpreter, ...]
    speakers: frozenset[int] = frozenset()
    notice: bool = True


@dataclass(frozen=True, slots=True)
class InterpreterBookingDTO:
    id: int
    appointment_id: int
    client_id: int
    interpreter_key: str
    language: str
    telegram_id: int | None
    starts_at: datetime
    ends_at: datetime
    active: bool


def _dto(row: InterpreterBooking) -> InterpreterBookingDTO:
    return InterpreterBookingDTO(
        row.id,
        row.appointment_id,
        row.client_id,
        row.interpreter_key,
        row.language,
        row.telegram_id,
        row.busy_from,
        row.busy_until,
        row.active,
    )


# ---------------------------------------------------------------- the rules


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not office_hours.is_holiday(day)


@lru_cache(maxsize=1024)
def earliest_day(today: date, working_days: int) -> date:
    """The first day an interpreter with this notice can be booked for: the `working_days`-th working day after
    today (booked on a Monday with 2 days' notice: Wednesday). No notice: today."""
    day, left = today, working_days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def matching(county: County, language: str, mode: str) -> tuple[Interpreter, ...]:
    return tuple(i for i in county.interpreters if language in i.languages and mode in i.modes)


def offer_needed(county: County, query: SlotQuery, language: str | None, mode: str = "in_person") -> bool:
    """Whether to ask "with interpreter?": the service allows it, a staff member offering it does not speak the
    client's language, and the county has an interpreter for it."""
    if not language or not query.service.interpreter:
        return False
    strangers = [p for p in query.providers if language not in p.member.languages]
    return bool(strangers) and bool(matching(county, language, mode))


def with_interpreter(query: SlotQuery, *, language: str | None, mode: str, municipality: str | None) -> SlotQuery:
    """The query narrowed to slots where an interpreter is free as well (those of staff speaking the language
    stay as they are)."""
    if not language:
        return query
    speakers = frozenset(p.staff_id for p in query.providers if language in p.member.languages)
    need = Need(query.county, query.tz, language, mode, municipality, matching(query.county, language, mode), speakers)
    return replace(query, filters=(*query.filters, InterpreterFilter(need)))


def need_of(query: SlotQuery | None) -> Need | None:
    """The interpreter need a query was narrowed by, if any."""
    for condition in query.filters if query else ():
        if isinstance(condition, InterpreterFilter):
            return condition.need
    return None


def _place(need: Need, slot: Slot) -> str | None:
    office = need.county.office(slot.office_key) if slot.office_key else None
    return office.municipality if office else need.client_municipality


def fits(interpreter: Interpreter, need: Need, slot: Slot, today: date) -> bool:
    """Language and mode aside (`matching`): where, when and the notice."""
    if need.mode == "in_person" and interpreter.municipalities and _place(need, slot) not in interpreter.municipalities:
        return False
    start, end = slot.starts_at.astimezone(need.tz), slot.ends_at.astimezone(need.tz)
    if start.date() != end.date() and end.time() != datetime.min.time():
        return False
    if need.notice and start.date() < earliest_day(today, interpreter.min_notice_working_days):
        return False
    ranges = interpreter.availability.get(WEEKDAYS[start.weekday()], ())
    return any(r.start <= start.time() and (end.time() <= r.end) for r in ranges)


async def busy_intervals(
    session: AsyncSession, keys: Sequence[str], start: datetime, end: datetime, ignore_appointment: int | None = None
) -> dict[str, list[Interval]]:
    """Active interpreter bookings per interpreter within [start, end)."""
    busy: dict[str, list[Interval]] = {key: [] for key in keys}
    if not keys:
        return busy
    query = select(
        InterpreterBooking.interpreter_key, InterpreterBooking.busy_from, InterpreterBooking.busy_until
    ).where(
        InterpreterBooking.interpreter_key.in_(keys),
        InterpreterBooking.active.is_(True),
        InterpreterBooking.busy_from > start - MAX_APPOINTMENT_SPAN,
        InterpreterBooking.busy_from < end,
        InterpreterBooking.busy_until > start,
    )
    if ignore_appointment is not None:
        query = query.where(InterpreterBooking.appointment_id != ignore_appointment)
    for key, begins, ends in (await session.execute(query)).all():
        busy[key].append((begins, ends))
    return busy


@dataclass(frozen=True)
class InterpreterFilter:
    """`availability.SlotFilter`: keeps a slot when its staff member speaks the language or a fitting interpreter
    is free for it (one query for all interpreters over the slots' span)."""

    need: Need
    # The first instant any fitting interpreter's notice allows, per "now" (could_keep runs for every candidate).
    _first: dict[datetime, datetime] = field(default_factory=dict, compare=False, repr=False)

    def could_keep(self, query: SlotQuery, slot: Slot) -> bool:
        """Not before the shortest notice of the fitting interpreters: the days before need no query."""
        need = self.need
        if slot.staff_id in need.speakers or not need.notice:
            return True
        if not need.interpreters:
            return False
        first = self._first.get(query.now)
        if first is None:
            today = query.now.astimezone(query.tz).date()
            day = earliest_day(today, min(i.min_notice_working_days for i in need.interpreters))
            first = self._first[query.now] = datetime.combine(day, time(), tzinfo=query.tz)
        return slot.starts_at >= first

    async def keep(self, session: AsyncSession, query: SlotQuery, slots: list[Slot]) -> list[Slot]:
        need, today = self.need, query.now.astimezone(query.tz).date()
        helped = [s for s in slots if s.staff_id not in need.speakers]
        if not helped or not need.interpreters:
            return [s for s in slots if s.staff_id in need.speakers]
        busy = await busy_intervals(
            session,
            [i.key for i in need.interpreters],
            min(s.starts_at for s in helped),
            max(s.ends_at for s in helped),
        )
        index = {key: BusyIndex(intervals) for key, intervals in busy.items()}
        # Whether an interpreter is free depends on the time and the place, not on the staff member: decided once
        # per (start, end, office) – a day's slots of 50 staff share a few dozen of them (bench/bench_slots.py).
        verdicts: dict[tuple[datetime, datetime, str | None], bool] = {}

        def helped_then(s: Slot) -> bool:
            key = (s.starts_at, s.ends_at, s.office_key)
            if key not in verdicts:
                verdicts[key] = any(
                    fits(i, need, s, today) and not index[i.key].overlaps(s.starts_at, s.ends_at)
                    for i in need.interpreters
                )
            return verdicts[key]

        return [s for s in slots if s.staff_id in need.speakers or helped_then(s)]


async def free_for(
    session: AsyncSession, need: Need, slot: Slot, *, ignore_appointment: int | None = None
) -> list[Interpreter]:
    """The fitting interpreters free for the slot, in the county file's order."""
    today = utcnow().astimezone(need.tz).date()
    candidates = [i for i in need.interpreters if fits(i, need, slot, today)]
    busy = await busy_intervals(session, [i.key for i in candidates], slot.starts_at, slot.ends_at, ignore_appointment)
    return [i for i in candidates if not BusyIndex(busy[i.key]).overlaps(slot.starts_at, slot.ends_at)]


# ---------------------------------------------------------------- booking and releasing


async def _take(
    session: AsyncSession, row: Appointment, interpreters: Iterable[Interpreter], language: str
) -> InterpreterBooking:
    """The first of `interpreters` whose time the database accepts (a concurrent booking may have got one)."""
    for interpreter in interpreters:
        taken = InterpreterBooking(
            appointment_id=row.id,
            client_id=row.client_id,
            interpreter_key=interpreter.key,
            language=language,
            telegram_id=interpreter.telegram_id,
            busy_from=row.starts_at,
            busy_until=row.ends_at,
            active=True,
        )
        try:
            async with session.begin_nested():
                session.add(taken)
                await session.flush()
        except IntegrityError:  # PostgreSQL's exclusion constraint: someone else was faster
            continue
        return taken
    raise InterpreterTaken


async def assign(session: AsyncSession, need: Need, row: Appointment, slot: Slot) -> InterpreterBookingDTO | None:
    """Book a fitting free interpreter for the new appointment (none when its staff member speaks the language);
    InterpreterTaken when there is none. The caller holds SQLite's write lock, so `free_for` cannot go stale
    there; on PostgreSQL the constraint decides."""
    if slot.staff_id in need.speakers:
        return None
    return _dto(await _take(session, row, await free_for(session, need, slot), need.language))


async def active_for(session: AsyncSession, appointment_id: int) -> InterpreterBookingDTO | None:
    row = await session.scalar(
        select(InterpreterBooking).where(
            InterpreterBooking.appointment_id == appointment_id, InterpreterBooking.active.is_(True)
        )
    )
    return _dto(row) if row is not None else None


async def get(session: AsyncSession, booking_id: int) -> InterpreterBookingDTO | None:
    row = await session.get(InterpreterBooking, booking_id)
    return _dto(row) if row is not None else None


async def release(session: AsyncSession, appointment_id: int) -> list[int]:
    """Free the appointment's interpreter (cancelled, or replaced); returns the released bookings' ids. Always an
    UPDATE statement: on SQLite it takes the write lock before anything is read for a new choice."""
    active = (InterpreterBooking.appointment_id == appointment_id, InterpreterBooking.active.is_(True))
    ids = list((await session.scalars(select(InterpreterBooking.id).where(*active))).all())
    await session.execute(
        update(InterpreterBooking)
        .where(*active)
        .values(active=False, released_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return ids


async def _need_for_row(session: AsyncSession, county: County, tz: ZoneInfo, row: Appointment, language: str) -> Need:
    mode = (
        await session.scalar(select(AppointmentDetails.mode).where(AppointmentDetails.appointment_id == row.id))
        or "in_person"
    )
    town = await session.scalar(select(Client.municipality).where(Client.id == row.client_id))
    return Need(county, tz, language, mode, town, matching(county, language, mode))


async def move(session: AsyncSession, county: County, tz: ZoneInfo, row: Appointment, slot: Slot) -> None:
    """The appointment moved to `slot`: its interpreter comes along if they are free then, else another one who
    fits; InterpreterTaken when nobody can. Runs inside the reschedule's savepoint."""
    current = await session.scalar(
        select(InterpreterBooking).where(
            InterpreterBooking.appointment_id == row.id, InterpreterBooking.active.is_(True)
        )
    )
    if current is None:
        return
    need = await _need_for_row(session, county, tz, row, current.language)
    free = await free_for(session, need, slot, ignore_appointment=row.id)
    if any(i.key == current.interpreter_key for i in free):
        current.busy_from, current.busy_until = slot.starts_at, slot.ends_at
        await session.flush()
        return
    current.active, current.released_at = False, utcnow()
    await session.flush()
    await notify(session, row, _dto(current), "released")
    await notify(session, row, _dto(await _take(session, row, free, current.language)), "booked")


async def choices(
    session: AsyncSession, county: County, tz: ZoneInfo, row: Appointment, language: str | None
) -> list[Interpreter]:
    """For a case manager changing the interpreter: everyone free at the appointment's time who works that way
    and goes there, those speaking `language` first; no notice (they arrange it with the interpreter)."""
    mode = (
        await session.scalar(select(AppointmentDetails.mode).where(AppointmentDetails.appointment_id == row.id))
        or "in_person"
    )
    need = replace(
        await _need_for_row(session, county, tz, row, language or ""),
        interpreters=tuple(i for i in county.interpreters if mode in i.modes),
        notice=False,
    )
    slot = Slot(row.staff_id, row.office_key, row.starts_at, row.ends_at, row.busy_from, row.busy_until)
    free = await free_for(session, need, slot, ignore_appointment=row.id)
    return sorted(free, key=lambda i: language not in i.languages)


async def manageable(session: AsyncSession, appointment_id: int, *, staff_id: int, admin: bool) -> Appointment | None:
    """The booked appointment to come, if this staff member may change its interpreter: it is theirs, its client
    is theirs, or they are an admin. Else None – the same for "no such appointment"."""
    row = await session.get(Appointment, appointment_id)
    if row is None or row.status != "booked" or row.ends_at <= utcnow():
        return None
    if admin or row.staff_id == staff_id:
        return row
    manager = await session.scalar(select(Client.case_manager_id).where(Client.id == row.client_id))
    return row if manager == staff_id else None


async def client_language(session: AsyncSession, row: Appointment) -> str | None:
    return await session.scalar(select(Client.locale).where(Client.id == row.client_id))


async def change(
    session: AsyncSession, county: County, tz: ZoneInfo, row: Appointment, key: str | None
) -> InterpreterBookingDTO | None:
    """A case manager puts `key` on the appointment instead of its interpreter (None: no interpreter); the one
    released and the new one are told. InterpreterTaken when `key` is not free (any more)."""
    language = await client_language(session, row)
    released = await release(session, row.id)  # first: the write lock, before `choices` reads
    chosen = [i for i in await choices(session, county, tz, row, language) if i.key == key] if key else []
    if key and not chosen:
        raise InterpreterTaken
    for booking_id in released:
        if (gone := await get(session, booking_id)) is not None and gone.interpreter_key != key:
            await notify(session, row, gone, "released")
    if not chosen:
        return None
    spoken = language if language and language in chosen[0].languages else chosen[0].languages[0]
    taken = _dto(await _take(session, row, chosen, spoken))
    service = county.service(row.service_key)
    if service is not None:
        await plan_messages(session, row, service, "booked")
    return taken


# ---------------------------------------------------------------- telling them


async def _staff_chat(session: AsyncSession, staff_id: int) -> int | None:
    chat = await session.scalar(select(Staff.telegram_id).where(Staff.id == staff_id))
    return int(chat) if chat is not None else None


async def notify(session: AsyncSession, row: Appointment, booking: InterpreterBookingDTO, event: str) -> None:
    """The interpreter hears of it on Telegram, or their case manager gets the details to pass on. One piece of
    news per booking and version of the appointment: an interpreter who joins a moved appointment is told
    "booked", not also "moved"."""
    params = {"appointment_id": row.id, "booking_id": booking.id, "event": event}
    kind = "released" if event == "released" else "news"
    key = f"appointment:{row.id}:interp:{booking.id}:{kind}:{row.sequence}"
    chat = booking.telegram_id if booking.telegram_id is not None else await _staff_chat(session, row.staff_id)
    if chat is None:
        return
    template = EVENT_TEMPLATE if booking.telegram_id is not None else PASS_ON_TEMPLATE
    await outbox.enqueue(
        session, key=key, chat_id=chat, template=template, params=params, due_at=utcnow(),
        priority=outbox.ALERT_PRIORITY,
    )  # fmt: skip


async def plan_messages(session: AsyncSession, row: Appointment, service: Service, event: str) -> None:
    """After the client's messages are planned (`booking._plan_messages`, which cancels every reminder of the
    appointment first): the interpreter's news and reminders; a cancelled appointment releases them."""
    if event == "cancelled" or row.status not in ("booked", "held"):
        for booking_id in await release(session, row.id):
            released = await get(session, booking_id)
            if released is not None:
                await notify(session, row, released, "released")
        return
    current = await active_for(session, row.id)
    if current is None:
        return
    if event in ("booked", "rescheduled"):
        await notify(session, row, current, event)
    if current.telegram_id is None or row.status != "booked":
        return
    for hours in service.reminder_hours:
        due = row.starts_at - timedelta(hours=hours)
        if due > utcnow():
            await outbox.enqueue(
                session,
                key=f"appointment:{row.id}:reminder:interp{current.id}:{hours}h:{int(row.starts_at.timestamp())}",
                chat_id=current.telegram_id,
                template=REMINDER_TEMPLATE,
                params={"appointment_id": row.id, "booking_id": current.id, "hours": hours},
                due_at=due,
                expires_at=row.starts_at,
            )


# ---------------------------------------------------------------- for a case manager (/interpreter)


async def options_for(
    session: AsyncSession, county: County, tz: ZoneInfo, appointment_id: int, *, staff_id: int, admin: bool
) -> tuple[InterpreterBookingDTO | None, list[Interpreter]]:
    """The appointment's interpreter now and who else is free then (NotManageable)."""
    row = await manageable(session, appointment_id, staff_id=staff_id, admin=admin)
    if row is None:
        raise NotManageable
    language = await client_language(session, row)
    return await active_for(session, row.id), await choices(session, county, tz, row, language)


async def change_for(
    session: AsyncSession,
    county: County,
    tz: ZoneInfo,
    appointment_id: int,
    key: str | None,
    *,
    staff_id: int,
    admin: bool,
) -> InterpreterBookingDTO | None:
    """`change`, for a staff member who may (NotManageable, InterpreterTaken)."""
    row = await manageable(session, appointment_id, staff_id=staff_id, admin=admin)
    if row is None:
        raise NotManageable
    return await change(session, county, tz, row, key)

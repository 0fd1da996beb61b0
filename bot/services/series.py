"""Series of appointments a staff member books for a client in one go ("every 2 weeks, 6 times").

Each occurrence is the first one moved by whole weeks: the same staff member, service, place, weekday and wall-clock
time in the office's time zone (so 10:00 stays 10:00 across a daylight-saving change). Each is checked as a single
booking is (`availability.find_slot`: working hours, NRW public holidays, absences, other appointments with buffers,
minimum notice, an interpreter when one is needed); only the clients' booking horizon does not apply, since staff
plan months ahead. `plan` says which weeks are free and why the others are not, before anything is booked; `book`
books the free ones in the caller's transaction, each through `booking.book` (its own reminders and notes), all
linked to one `appointment_series` row, and queues one message to the client listing the dates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County
from bot.db.base import utcnow
from bot.db.models_booking import Appointment
from bot.db.models_interpreters import AppointmentDetails, AppointmentSeries
from bot.delivery import outbox
from bot.services import availability, booking, remote_appointments
from bot.services.availability import Slot, SlotQuery, is_public_holiday, to_utc
from bot.services.booking import AppointmentDTO, AppointmentNotFound, SlotTaken

EVERY_WEEKS = (1, 2, 4)
COUNTS = (3, 6, 10)
MAX_HORIZON_WEEKS = 52  # how far ahead a series may reach (the service's own horizon is for clients)
CLIENT_TEMPLATE = "series_booked"
HOLIDAY, STAFF, INTERPRETER = "holiday", "staff", "interpreter"  # why a week is not free


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One week of the series: the planned start, the free slot, or why there is none (HOLIDAY, STAFF,
    INTERPRETER)."""

    starts_at: datetime | None  # None: the wall-clock time does not exist that day (skipped by DST)
    local_day: datetime  # midnight of the day in the office's time zone, for "week of …"
    slot: Slot | None
    conflict: str | None


@dataclass(frozen=True, slots=True)
class SeriesResult:
    series_id: int
    booked: list[AppointmentDTO]
    skipped: list[Occurrence]


def occurrence_starts(
    first: datetime, every_weeks: int, count: int, tz: ZoneInfo
) -> list[tuple[datetime, datetime | None]]:
    """(local midnight, start) for each of `count` weeks, `every_weeks` apart, from `first`; the start is None when
    that wall-clock time does not exist that day."""
    if every_weeks not in EVERY_WEEKS or not 1 <= count <= max(COUNTS):
        raise ValueError("unsupported series")
    local = first.astimezone(tz)
    found: list[tuple[datetime, datetime | None]] = []
    for index in range(count):
        day = local.date() + timedelta(weeks=every_weeks * index)
        midnight = datetime.combine(day, time(0), tzinfo=tz)
        found.append((midnight, to_utc(day, local.time().replace(tzinfo=None), tz)))
    return found


def _for_staff(query: SlotQuery) -> SlotQuery:
    longer = query.service.model_copy(update={"horizon_weeks": MAX_HORIZON_WEEKS})
    return replace(query, service=longer)


async def plan(
    session: AsyncSession, query: SlotQuery, staff_id: int, first: datetime, every_weeks: int, count: int
) -> list[Occurrence]:
    """Every week of the series, checked like a single booking with this staff member at this time."""
    query = _for_staff(query)
    plain = replace(query, filters=())
    weeks: list[Occurrence] = []
    for midnight, start in occurrence_starts(first, every_weeks, count, query.tz):
        if is_public_holiday(midnight.date()):
            weeks.append(Occurrence(start, midnight, None, HOLIDAY))
            continue
        slot = await availability.find_slot(session, query, staff_id, start) if start is not None else None
        conflict = None
        if slot is None:
            staff_free = start is not None and bool(query.filters)
            if staff_free and start is not None:
                staff_free = await availability.find_slot(session, plain, staff_id, start) is not None
            conflict = INTERPRETER if staff_free else STAFF
        weeks.append(Occurrence(start, midnight, slot, conflict))
    return weeks


async def book(
    session: AsyncSession,
    *,
    client_id: int,
    query: SlotQuery,
    staff_id: int,
    first: datetime,
    every_weeks: int,
    count: int,
    booked_by_staff_id: int,
    arrangement: remote_appointments.Arrangement,
    home_address: str | None = None,
) -> SeriesResult:
    """Book the free weeks (checked again now, under the write lock on SQLite) as one series; a week taken since
    the plan was shown is skipped like a conflict. Nothing is booked (LookupError) when no week is free."""
    await booking.take_write_lock(session)
    weeks = await plan(session, query, staff_id, first, every_weeks, count)
    if not any(w.slot for w in weeks):
        raise LookupError("no free week")
    series = AppointmentSeries(every_weeks=every_weeks, count=count, booked_by_staff_id=booked_by_staff_id)
    session.add(series)
    await session.flush()
    booked: list[AppointmentDTO] = []
    skipped = [w for w in weeks if w.slot is None]
    for week in weeks:
        if week.slot is None:
            continue
        try:
            booked.append(
                await booking.book(
                    session,
                    client_id=client_id,
                    slot=week.slot,
                    service=query.service,
                    home_address=home_address,
                    booked_by_staff_id=booked_by_staff_id,
                    arrangement=replace(arrangement, series_id=series.id),
                )
            )
        except SlotTaken:
            skipped.append(replace(week, slot=None, conflict=STAFF))
    if not booked:
        raise LookupError("no free week")
    await outbox.enqueue(
        session,
        key=f"series:{series.id}:client",
        chat_id=await booking.client_chat(session, client_id),
        client_id=client_id,
        template=CLIENT_TEMPLATE,
        params={"series_id": series.id},
        due_at=utcnow(),
    )
    return SeriesResult(series.id, booked, sorted(skipped, key=lambda w: w.local_day))


async def appointments(session: AsyncSession, series_id: int, client_id: int) -> list[AppointmentDTO]:
    """The series' booked appointments of this client still to come, earliest first."""
    rows = await session.scalars(
        select(Appointment)
        .join(AppointmentDetails, AppointmentDetails.appointment_id == Appointment.id)
        .where(
            AppointmentDetails.series_id == series_id,
            Appointment.client_id == client_id,
            Appointment.status == "booked",
            Appointment.ends_at > utcnow(),
        )
        .order_by(Appointment.starts_at)
    )
    return [booking.to_dto(row) for row in rows]


async def later_ones(session: AsyncSession, client_id: int, appointment_id: int) -> list[AppointmentDTO]:
    """This appointment and the booked ones after it in its series (just this one when it is in none)."""
    appt = await booking.get_for_client(session, client_id, appointment_id)
    found = await remote_appointments.details(session, appointment_id)
    if found is None or found.series_id is None:
        return [appt]
    return [a for a in await appointments(session, found.series_id, client_id) if a.starts_at >= appt.starts_at]


async def cancel_from(
    session: AsyncSession,
    county: County,
    *,
    client_id: int,
    appointment_id: int,
    hold_minutes: int,
    by_staff_id: int | None = None,
) -> list[AppointmentDTO]:
    """Cancel this appointment and every later one of its series (each as a single cancellation: reminders
    dropped, the time offered to the waitlist). AppointmentNotFound when this one is not the client's or not
    booked."""
    appt = await booking.get_for_client(session, client_id, appointment_id)
    if appt.status != "booked":
        raise AppointmentNotFound
    cancelled = []
    for later in await later_ones(session, client_id, appointment_id):
        cancelled.append(
            await booking.cancel(
                session,
                county,
                client_id=client_id,
                appointment_id=later.id,
                hold_minutes=hold_minutes,
                by_staff_id=by_staff_id,
            )
        )
    return cancelled

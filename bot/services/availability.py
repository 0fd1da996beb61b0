"""Free appointment slots, computed from the county file (working hours, office hours, outreach days), NRW public
holidays, staff absences and the appointments already booked.

All wall-clock arithmetic happens in the office's time zone, one local day at a time, so daylight-saving changes
neither invent a slot that does not exist (02:30 on the last Sunday of March) nor double one (October).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import WEEKDAYS, County, Service, StaffMember, TimeRange
from bot.db.models import Staff
from bot.db.models_booking import OCCUPYING, Absence, Appointment

Interval = tuple[datetime, datetime]
MAX_APPOINTMENT_SPAN = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Provider:
    """A staff member who provides the service, and where."""

    staff_id: int
    member: StaffMember
    office_key: str | None  # None: home visit


@dataclass(frozen=True, slots=True)
class Slot:
    staff_id: int
    office_key: str | None
    starts_at: datetime
    ends_at: datetime
    busy_from: datetime
    busy_until: datetime

    @property
    def key(self) -> str:
        """Compact, stable identification of the slot for callback data: '<staff>-<unix start>'."""
        return f"{self.staff_id}-{int(self.starts_at.timestamp())}"


class SlotFilter(Protocol):
    """A further condition on free slots beyond the staff member's time: an interpreter free as well
    (bot.services.interpreters), slots kept for urgent cases (bot.services.urgency).

    `could_keep` is asked first, for every candidate and without the database (e.g. the interpreters' notice): a
    day none passes costs no query. `keep` then decides on the free ones that passed, with the database."""

    def could_keep(self, query: SlotQuery, slot: Slot) -> bool: ...

    async def keep(self, session: AsyncSession, query: SlotQuery, slots: list[Slot]) -> list[Slot]: ...


@dataclass(frozen=True)
class SlotQuery:
    county: County
    service: Service
    providers: tuple[Provider, ...]
    tz: ZoneInfo
    now: datetime
    municipality: str | None = None
    preferred_staff_id: int | None = None
    filters: tuple[SlotFilter, ...] = ()


@cache
def _nrw_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Germany(subdiv="NW", years=year).keys())


def is_public_holiday(day: date) -> bool:
    return day in _nrw_holidays(day.year)


def to_utc(day: date, wall: time, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of a wall-clock time, or None if that time does not exist (skipped by DST).

    An ambiguous time (the repeated hour in October) resolves to its first occurrence (fold=0).
    """
    local = datetime.combine(day, wall, tzinfo=tz)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def intersect(a: Sequence[TimeRange], b: Sequence[TimeRange]) -> list[TimeRange]:
    out: list[TimeRange] = []
    for x in a:
        for y in b:
            start, end = max(x.start, y.start), min(x.end, y.end)
            if start < end:
                out.append(TimeRange(start=start, end=end))
    return sorted(out, key=lambda r: r.start)


def working_ranges(query: SlotQuery, provider: Provider, day: date) -> list[TimeRange]:
    """Wall-clock ranges in which the provider can see clients on `day` for this service."""
    if is_public_holiday(day):
        return []
    weekday = WEEKDAYS[day.weekday()]
    if provider.office_key is None:  # home visit: only on outreach days for the client's municipality
        return [
            r
            for outreach in provider.member.outreach
            if outreach.weekday == weekday and query.municipality in outreach.municipalities
            for r in outreach.hours
        ]
    office = query.county.office(provider.office_key)
    opening = office.opening_hours.get(weekday, ()) if office else ()
    own = provider.member.hours.get(weekday) if provider.member.hours else None
    return intersect(opening, own) if own is not None else list(opening)


def _buffers(service: Service, home_visit: bool) -> tuple[timedelta, timedelta]:
    if home_visit:
        travel = timedelta(minutes=service.travel_minutes)
        return travel, travel
    return timedelta(minutes=service.buffer_before_minutes), timedelta(minutes=service.buffer_after_minutes)


_CANDIDATES: dict[tuple[object, ...], tuple[County, list[Slot]]] = {}
_CANDIDATES_MAX = 50_000


def candidate_slots(query: SlotQuery, provider: Provider, day: date) -> list[Slot]:
    """Every slot the provider's hours allow on `day`, before looking at what is booked.

    They depend only on the county file and the day, so they are computed once per process and day. The entry
    keeps its county alive, so the county's id() in the key cannot be reused by another county meanwhile."""
    key = (
        id(query.county),
        query.service.key,
        provider.staff_id,
        provider.office_key,
        day,
        query.tz.key,
        query.municipality if provider.office_key is None else None,
    )
    cached = _CANDIDATES.get(key)
    if cached is None or cached[0] is not query.county:
        if len(_CANDIDATES) >= _CANDIDATES_MAX:
            _CANDIDATES.clear()
        cached = _CANDIDATES[key] = (query.county, _compute_candidates(query, provider, day))
    return cached[1]


def _compute_candidates(query: SlotQuery, provider: Provider, day: date) -> list[Slot]:
    service = query.service
    duration = timedelta(minutes=service.duration_minutes)
    step = timedelta(minutes=15 if service.duration_minutes < 30 else 30)
    before, after = _buffers(service, provider.office_key is None)
    slots: list[Slot] = []
    for window in working_ranges(query, provider, day):
        window_end = to_utc(day, window.end, query.tz)
        wall = datetime.combine(day, window.start)
        while wall.time() < window.end and wall.date() == day:
            start = to_utc(day, wall.time(), query.tz)
            if start is not None and window_end is not None and start + duration <= window_end:
                slots.append(
                    Slot(
                        staff_id=provider.staff_id,
                        office_key=provider.office_key,
                        starts_at=start,
                        ends_at=start + duration,
                        busy_from=start - before,
                        busy_until=start + duration + after,
                    )
                )
            wall += step
    return slots


class BusyIndex:
    """One staff member's busy intervals, sorted, with a running maximum of their ends: whether a slot overlaps
    any of them is one binary search (the intervals themselves may overlap, e.g. an absence over appointments)."""

    def __init__(self, intervals: Iterable[Interval]):
        ordered = sorted(intervals)
        self._starts = [start for start, _ in ordered]
        self._max_end: list[datetime] = []
        for _, end in ordered:
            self._max_end.append(max(end, self._max_end[-1]) if self._max_end else end)

    def overlaps(self, begin: datetime, end: datetime) -> bool:
        before = bisect_left(self._starts, end)  # intervals starting before `end`
        return before > 0 and self._max_end[before - 1] > begin


async def busy_intervals(
    session: AsyncSession, staff_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[Interval]]:
    """Booked appointments (with buffers) and absences per staff member within [start, end)."""
    busy: dict[int, list[Interval]] = {staff_id: [] for staff_id in staff_ids}
    # The status is checked here, not in SQL: with it, PostgreSQL prefers the exclusion constraint's partial index
    # and reads every appointment; without it, the (staff_id, busy_from) index reads one day's rows.
    booked = await session.execute(
        select(Appointment.staff_id, Appointment.busy_from, Appointment.busy_until, Appointment.status).where(
            Appointment.staff_id.in_(staff_ids),
            # No appointment is longer than a day: this bound lets the (staff_id, busy_from) index do the work.
            Appointment.busy_from > start - MAX_APPOINTMENT_SPAN,
            Appointment.busy_from < end,
            Appointment.busy_until > start,
        )
    )
    absent = await session.execute(
        select(Absence.staff_id, Absence.starts_at, Absence.ends_at).where(
            Absence.staff_id.in_(staff_ids), Absence.starts_at < end, Absence.ends_at > start
        )
    )
    for staff_id, begins, ends, status in booked.all():
        if status in OCCUPYING:
            busy[staff_id].append((begins, ends))
    for staff_id, begins, ends in absent.all():
        busy[staff_id].append((begins, ends))
    return busy


async def free_slots(session: AsyncSession, query: SlotQuery, first_day: date, days: int) -> list[Slot]:
    """Free slots on `days` local days from `first_day`, within notice and horizon, earliest first
    (the preferred staff member's slots before others' at the same time)."""
    earliest = query.now + timedelta(hours=query.service.min_notice_hours)
    latest = query.now + timedelta(weeks=query.service.horizon_weeks)
    span = [first_day + timedelta(days=i) for i in range(days)]
    candidates = [
        slot
        for day in span
        for provider in query.providers
        for slot in candidate_slots(query, provider, day)
        if earliest <= slot.starts_at <= latest and all(f.could_keep(query, slot) for f in query.filters)
    ]
    if not candidates:
        return []
    busy = await busy_intervals(
        session,
        [p.staff_id for p in query.providers],
        min(s.busy_from for s in candidates),
        max(s.busy_until for s in candidates),
    )
    index = {staff_id: BusyIndex(intervals) for staff_id, intervals in busy.items()}
    free = [slot for slot in candidates if not index[slot.staff_id].overlaps(slot.busy_from, slot.busy_until)]
    for condition in query.filters:
        free = await condition.keep(session, query, free) if free else free
    return sorted(free, key=lambda s: (s.starts_at, s.staff_id != query.preferred_staff_id))


def _local_today(query: SlotQuery) -> date:
    return query.now.astimezone(query.tz).date()


def _last_day(query: SlotQuery) -> date:
    return (query.now + timedelta(weeks=query.service.horizon_weeks)).astimezone(query.tz).date()


async def next_free_slots(session: AsyncSession, query: SlotQuery, limit: int = 10) -> list[Slot]:
    """The next `limit` free slots, one day at a time until the booking horizon: a day nobody works (a weekend,
    a holiday) costs no query, and the first working day usually has enough."""
    found: list[Slot] = []
    day, last = _local_today(query), _last_day(query)
    while day <= last and len(found) < limit:
        found += await free_slots(session, query, day, 1)
        day += timedelta(days=1)
    return found[:limit]


async def available_days(
    session: AsyncSession, query: SlotQuery, after: date | None = None, limit: int = 5
) -> list[date]:
    """The next local days with at least one free slot, after `after` (for paging)."""
    days: list[date] = []
    day = max(_local_today(query), after + timedelta(days=1)) if after else _local_today(query)
    last = _last_day(query)
    while day <= last and len(days) < limit:
        slots = await free_slots(session, query, day, 7)
        for found in sorted({s.starts_at.astimezone(query.tz).date() for s in slots}):
            if len(days) < limit:
                days.append(found)
        day += timedelta(days=7)
    return days


async def providers_for(
    session: AsyncSession, county: County, service: Service, home_visit: bool
) -> tuple[Provider, ...]:
    """Active staff who provide the service (from the county file), with their database ids."""
    members = (
        [m for m in county.staff if m.telegram_id in service.staff]
        if service.staff
        else [m for m in county.staff if m.role == "case_manager"]
    )
    rows = await session.execute(
        select(Staff.id, Staff.telegram_id).where(
            Staff.telegram_id.in_([m.telegram_id for m in members]), Staff.active.is_(True)
        )
    )
    ids = {telegram_id: staff_id for staff_id, telegram_id in rows.all()}
    providers = []
    for member in members:
        if member.telegram_id not in ids:
            continue
        if home_visit:
            office: str | None = None
        elif member.office in service.offices:
            office = member.office
        elif service.offices:
            office = service.offices[0]
        else:
            continue
        providers.append(Provider(staff_id=ids[member.telegram_id], member=member, office_key=office))
    return tuple(providers)


async def offices_for(session: AsyncSession, county: County, service: Service) -> list[str]:
    """The offices where active staff provide the service, in the county file's order (a client picks one)."""
    providers = await providers_for(session, county, service, home_visit=False)
    return list(dict.fromkeys(p.office_key for p in providers if p.office_key))


async def query_for(
    session: AsyncSession,
    county: County,
    service: Service,
    *,
    tz: ZoneInfo,
    municipality: str | None,
    case_manager_id: int | None,
    office_key: str | None = None,
    now: datetime | None = None,
) -> SlotQuery:
    """The slot query for a client: home visits only in their municipality; their case manager first."""
    providers = await providers_for(session, county, service, service.home_visit)
    if office_key is not None:
        providers = tuple(p for p in providers if p.office_key == office_key)
    if service.home_visit and case_manager_id is not None and any(p.staff_id == case_manager_id for p in providers):
        providers = tuple(p for p in providers if p.staff_id == case_manager_id)
    return SlotQuery(
        county=county,
        service=service,
        providers=providers,
        tz=tz,
        now=now or datetime.now(UTC),
        municipality=municipality,
        preferred_staff_id=case_manager_id,
    )


async def find_slot(session: AsyncSession, query: SlotQuery, staff_id: int, starts_at: datetime) -> Slot | None:
    """The slot with this staff member and start, if it is (still) free – callback data is only a hint."""
    day = starts_at.astimezone(query.tz).date()
    for slot in await free_slots(session, query, day, 1):
        if slot.staff_id == staff_id and slot.starts_at == starts_at:
            return slot
    return None

"""Office hours: is an office open at a given moment, and when does it open next (NRW public holidays closed).

Pure functions over the county file; the relay uses them for the out-of-office auto reply.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from bot.core.county import WEEKDAYS, County, Office


def now() -> datetime:
    """The current moment (aware, UTC). Tests replace this function to travel in time."""
    return datetime.now(UTC)


@cache
def _nrw_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("DE", subdiv="NW", years=year)


def is_holiday(day: date) -> bool:
    return day in _nrw_holidays(day.year)


def office_for(county: County, office_key: str | None, municipality: str | None = None) -> Office | None:
    """The case manager's office; else an office in the client's municipality; else the county's first office."""
    by_key = {o.key: o for o in county.offices}
    if office_key and office_key in by_key:
        return by_key[office_key]
    for office in county.offices:
        if municipality and office.municipality == municipality and office.opening_hours:
            return office
    return next((o for o in county.offices if o.opening_hours), None)


def is_open(office: Office, at: datetime, tz: ZoneInfo) -> bool:
    local = at.astimezone(tz)
    if is_holiday(local.date()):
        return False
    ranges = office.opening_hours.get(WEEKDAYS[local.weekday()], ())
    moment = local.time().replace(tzinfo=None)
    return any(r.start <= moment < r.end for r in ranges)


def next_opening(office: Office, at: datetime, tz: ZoneInfo, horizon_days: int = 21) -> datetime | None:
    """The next moment the office opens after `at` (aware, in `tz`), or None if it never opens in the horizon."""
    local = at.astimezone(tz)
    for offset in range(horizon_days + 1):
        day = local.date() + timedelta(days=offset)
        if is_holiday(day):
            continue
        for span in office.opening_hours.get(WEEKDAYS[day.weekday()], ()):
            start = datetime.combine(day, span.start, tzinfo=tz)
            if start > local:
                return start
    return None

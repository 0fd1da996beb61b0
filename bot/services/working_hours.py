"""Working hours: how much of an office's opening time lies between two moments, and the moment a number of working
hours after a start is reached. Nights, weekends, breaks and NRW public holidays (`office_hours.is_holiday`, from
the `holidays` library) do not count.

Pure functions over the county file. The escalation of unanswered client messages (`bot.services.escalation`)
counts its N and 2N hours with them: a message sent on Friday evening before Christmas is not "24 hours old" on
Sunday.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.county import WEEKDAYS, Office
from bot.services import office_hours

# How far ahead `add` looks for enough opening time before it gives up (an office that never opens).
HORIZON_DAYS = 400


def spans(office: Office, day: date, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The office's opening spans on `day` (aware, UTC); none on a public holiday."""
    if office_hours.is_holiday(day):
        return []
    ranges = office.opening_hours.get(WEEKDAYS[day.weekday()], ())
    # Local wall-clock times made aware, then UTC: arithmetic across a change to or from summer time stays right.
    return [
        (
            datetime.combine(day, r.start, tzinfo=tz).astimezone(UTC),
            datetime.combine(day, r.end, tzinfo=tz).astimezone(UTC),
        )
        for r in ranges
    ]


def _days(start: datetime, tz: ZoneInfo, last: date | None = None) -> Iterator[date]:
    day = start.astimezone(tz).date()
    end = last if last is not None else day + timedelta(days=HORIZON_DAYS)
    while day <= end:
        yield day
        day += timedelta(days=1)


def elapsed(office: Office | None, start: datetime, end: datetime, tz: ZoneInfo) -> timedelta:
    """Working time between `start` and `end` (aware). Without an office with opening hours: the wall-clock time."""
    if end <= start:
        return timedelta(0)
    if office is None or not office.opening_hours:
        return end - start
    total = timedelta(0)
    for day in _days(start, tz, end.astimezone(tz).date()):
        for opens, closes in spans(office, day, tz):
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta(0):
                total += overlap
    return total


def add(office: Office | None, start: datetime, hours: float, tz: ZoneInfo) -> datetime | None:
    """The moment `hours` working hours after `start` have passed (aware, UTC); None when the office does not open
    long enough within HORIZON_DAYS. Without an office with opening hours: wall-clock hours."""
    remaining = timedelta(hours=hours)
    if office is None or not office.opening_hours:
        return (start + remaining).astimezone(UTC)
    if remaining <= timedelta(0):
        return start.astimezone(UTC)
    for day in _days(start, tz):
        for opens, closes in spans(office, day, tz):
            begin = max(opens, start)
            if closes <= begin:
                continue
            if closes - begin >= remaining:
                return begin + remaining
            remaining -= closes - begin
    return None

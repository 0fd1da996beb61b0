"""When a follow-up is due: what staff type after `/followup` (`3d`, `1w`, `tomorrow`/`morgen`, `today`/`heute`,
`2027-01-15` or `15.01.2027`, optionally a time `14:00`), and where that lands in working hours.

Pure functions, tested without a database. A task is due in its owner's working hours: their weekly hours from
the county file, else their office's opening hours, else those of an office in the client's municipality; NRW
public holidays are never working days (`office_hours.is_holiday`). A day without a time means the start of
work on that day (or on the next working day); a moment outside working hours moves to the next start of work;
nothing is due in the past.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot.core.county import WEEKDAYS, County, TimeRange
from bot.services import office_hours
from bot.services.dates import parse_date

MAX_DAYS_AHEAD = 2 * 366
HORIZON_DAYS = 60  # how far ahead the next start of work is looked for
# Without hours in the county file: Monday to Friday, 9 to 16.
DEFAULT_WEEK: Mapping[str, tuple[TimeRange, ...]] = {
    day: (TimeRange(start=time(9, 0), end=time(16, 0)),) for day in WEEKDAYS[:5]
}
_RELATIVE = re.compile(r"^(\d{1,3})([dtw])$")  # 3d, 3t (Tage), 2w
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_WORDS = {"today": 0, "heute": 0, "tomorrow": 1, "morgen": 1, "übermorgen": 2}


@dataclass(frozen=True, slots=True)
class DueRequest:
    """What `/followup` was given: the day, maybe a time of day, and the task's text."""

    day: date
    at: time | None
    text: str


def _day(token: str, today: date) -> date | None:
    token = token.lower()
    if token in _WORDS:
        return today + timedelta(days=_WORDS[token])
    if match := _RELATIVE.match(token):
        amount, unit = int(match.group(1)), match.group(2)
        return today + (timedelta(weeks=amount) if unit == "w" else timedelta(days=amount))
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\.\d{1,2}\.\d{4}", token):
        try:
            return parse_date(token)
        except ValueError:
            return None
    return None


def parse_request(args: str, today: date) -> DueRequest | None:
    """`3d call about the Fiktionsbescheinigung` → in three days; None when the first word is no moment, the
    moment is in the past or more than two years ahead, or there is no text."""
    words = args.split()
    if not words:
        return None
    day = _day(words[0], today)
    if day is None or day < today or day > today + timedelta(days=MAX_DAYS_AHEAD):
        return None
    at = None
    rest = words[1:]
    if rest and (match := _TIME.match(rest[0])):
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            return None
        at, rest = time(hour, minute), rest[1:]
    text = " ".join(rest).strip()
    return DueRequest(day, at, text) if text else None


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """A staff member's working week (weekday → ranges) in the office's time zone, NRW holidays off."""

    week: Mapping[str, tuple[TimeRange, ...]]
    tz: tzinfo

    def today(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()

    def _spans(self, day: date) -> tuple[TimeRange, ...]:
        return () if office_hours.is_holiday(day) else self.week.get(WEEKDAYS[day.weekday()], ())

    def is_working(self, at: datetime) -> bool:
        local = at.astimezone(self.tz)
        moment = local.time().replace(tzinfo=None)
        return any(span.start <= moment < span.end for span in self._spans(local.date()))

    def next_start(self, at: datetime) -> datetime | None:
        """The first start of work at or after `at`; None when there is none within HORIZON_DAYS."""
        local = at.astimezone(self.tz)
        for offset in range(HORIZON_DAYS + 1):
            day = local.date() + timedelta(days=offset)
            for span in self._spans(day):
                start = datetime.combine(day, span.start, tzinfo=self.tz)
                if start >= local:
                    return start
        return None


def calendar_from(
    county: County, tz: tzinfo, *, staff_telegram_id: int | None, office_key: str | None, municipality: str | None
) -> WorkingCalendar:
    """The owner's working week: their own hours, else their office's, else an office's in the client's town."""
    member = county.staff_member(staff_telegram_id) if staff_telegram_id is not None else None
    if member is not None and member.hours:
        return WorkingCalendar(member.hours, tz)
    office = office_hours.office_for(county, office_key, municipality)
    if office is not None and office.opening_hours:
        return WorkingCalendar(office.opening_hours, tz)
    return WorkingCalendar(DEFAULT_WEEK, tz)


def place_after(moment: datetime, calendar: WorkingCalendar) -> datetime:
    """`moment` if it is in working hours, else the next start of work (or `moment` when there is none)."""
    if calendar.is_working(moment):
        return moment
    return calendar.next_start(moment) or moment


def place(request: DueRequest, now: datetime, calendar: WorkingCalendar) -> datetime:
    """The due moment of a request: its time on its day, or the start of work that day; in working hours, never
    before `now`."""
    if request.at is not None:
        moment = place_after(datetime.combine(request.day, request.at, tzinfo=calendar.tz), calendar)
    else:
        start_of_day = datetime.combine(request.day, time(0), tzinfo=calendar.tz)
        moment = calendar.next_start(start_of_day) or datetime.combine(request.day, time(9), tzinfo=calendar.tz)
    if moment < now:
        moment = place_after(now, calendar)
    return moment

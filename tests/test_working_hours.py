"""Working hours counted on the example county's office "ki" (Kommunales Integrationszentrum): mornings
08:30–12:00 every weekday, afternoons 13:30–15:30 on Monday and Tuesday and 13:30–17:30 on Thursday; weekends,
the lunch break and NRW public holidays do not count. The clock is whatever the test says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.county import County, Office
from bot.services import office_hours, working_hours
from tests.support import BERLIN


@pytest.fixture
def ki(example_county: County) -> Office:
    office = example_county.office("ki")
    assert office is not None
    return office


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def test_a_morning_counts_as_it_is(ki: Office) -> None:
    assert working_hours.elapsed(ki, at(2026, 12, 1, 9, 0), at(2026, 12, 1, 11, 0), BERLIN) == timedelta(hours=2)
    assert working_hours.add(ki, at(2026, 12, 1, 9, 0), 2, BERLIN) == at(2026, 12, 1, 11, 0)


def test_the_lunch_break_and_the_night_do_not_count(ki: Office) -> None:
    # Monday 11:00 → 14:30: one hour before the break, one after it.
    assert working_hours.elapsed(ki, at(2026, 11, 30, 11, 0), at(2026, 11, 30, 14, 30), BERLIN) == timedelta(hours=2)
    # Tuesday 15:00 + 1 h: half an hour on Tuesday, the rest on Wednesday morning.
    assert working_hours.add(ki, at(2026, 12, 1, 15, 0), 1, BERLIN) == at(2026, 12, 2, 9, 0)
    # A message at night starts counting when the office opens.
    assert working_hours.add(ki, at(2026, 12, 1, 22, 0), 0.5, BERLIN) == at(2026, 12, 2, 9, 0)


def test_the_weekend_does_not_count(ki: Office) -> None:
    friday, monday = at(2026, 12, 4, 11, 0), at(2026, 12, 7, 9, 30)
    assert working_hours.elapsed(ki, friday, monday, BERLIN) == timedelta(hours=2)
    assert working_hours.add(ki, friday, 2, BERLIN) == monday
    assert working_hours.elapsed(ki, at(2026, 12, 5, 9, 0), at(2026, 12, 6, 18, 0), BERLIN) == timedelta(0)


def test_christmas_is_closed(ki: Office) -> None:
    assert office_hours.is_holiday(at(2026, 12, 25, 0, 0).date()) and office_hours.is_holiday(at(2026, 12, 26).date())
    # Thursday 24 December is an ordinary working day in NRW (open until 17:30); Friday 25 and Saturday 26 are
    # public holidays: half an hour on Thursday, the other half on Monday 28th.
    thursday_evening = at(2026, 12, 24, 17, 0)
    assert working_hours.add(ki, thursday_evening, 1, BERLIN) == at(2026, 12, 28, 9, 0)
    assert working_hours.elapsed(ki, thursday_evening, at(2026, 12, 27, 23, 0), BERLIN) == timedelta(minutes=30)
    # The week before, Friday's morning counts.
    assert working_hours.elapsed(ki, at(2026, 12, 17, 17, 0), at(2026, 12, 20, 23, 0), BERLIN) == timedelta(hours=4)


def test_a_week_of_the_ki_office_is_twenty_five_and_a_half_hours(ki: Office) -> None:
    monday = at(2026, 11, 30, 0, 0)
    assert working_hours.elapsed(ki, monday, monday + timedelta(days=7), BERLIN) == timedelta(hours=25.5)
    # 24 working hours from Monday morning: Monday 5.5, Tuesday 5.5, Wednesday 3.5, Thursday 7.5 – Friday 10:30.
    assert working_hours.add(ki, at(2026, 11, 30, 8, 30), 24, BERLIN) == at(2026, 12, 4, 10, 30)


def test_the_end_of_summer_time_does_not_shift_the_count(ki: Office) -> None:
    # Clocks go back on Sunday 25 October 2026: Friday is UTC+2, Monday UTC+1.
    friday = at(2026, 10, 23, 11, 0)
    due = working_hours.add(ki, friday, 2, BERLIN)
    assert due == at(2026, 10, 26, 9, 30)
    assert due is not None and due.astimezone(UTC) == datetime(2026, 10, 26, 8, 30, tzinfo=UTC)
    assert working_hours.elapsed(ki, friday, due, BERLIN) == timedelta(hours=2)


def test_easter_is_closed(ki: Office) -> None:
    # Good Friday 26 March and Easter Monday 29 March 2027 (summer time starts in between, on the Sunday).
    thursday = at(2027, 3, 25, 17, 0)
    assert working_hours.add(ki, thursday, 1, BERLIN) == at(2027, 3, 30, 9, 0)


@pytest.mark.parametrize("hours", [0.25, 1, 3.5, 7, 24, 48, 100])
def test_add_and_elapsed_agree(ki: Office, hours: float) -> None:
    start = at(2026, 12, 23, 10, 15)  # the week of Christmas and New Year
    due = working_hours.add(ki, start, hours, BERLIN)
    assert due is not None and office_hours.is_open(ki, due - timedelta(seconds=1), BERLIN)
    assert working_hours.elapsed(ki, start, due, BERLIN) == timedelta(hours=hours)


def test_without_opening_hours_the_clock_counts(ki: Office) -> None:
    start = at(2026, 12, 25, 10, 0)
    closed = ki.model_copy(update={"opening_hours": {}})
    for office in (None, closed):
        assert working_hours.add(office, start, 5, BERLIN) == start + timedelta(hours=5)
        assert working_hours.elapsed(office, start, start + timedelta(hours=30), BERLIN) == timedelta(hours=30)


def test_an_office_that_never_opens_enough_gives_no_moment(ki: Office) -> None:
    assert working_hours.add(ki, at(2026, 12, 1, 9, 0), 24 * 400, BERLIN) is None

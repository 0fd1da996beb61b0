"""The interpreter rules without a bot: notice in working days (weekends and NRW holidays do not count), where and
when an interpreter can come, when "with interpreter" is offered at all, and the slot filter against the
`interpreter_bookings` table (staff free but the interpreter taken → no slot)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade_async
from bot.db.models import Client, Staff
from bot.db.models_booking import Appointment
from bot.db.models_interpreters import InterpreterBooking
from bot.services import availability, interpreters
from bot.services.availability import Provider, Slot, SlotQuery
from tests.support import BERLIN

MONDAY = date(2027, 3, 1)


def test_notice_counts_working_days_only() -> None:
    assert interpreters.earliest_day(MONDAY, 0) == MONDAY
    assert interpreters.earliest_day(MONDAY, 2) == date(2027, 3, 3)  # Tuesday, Wednesday
    assert interpreters.earliest_day(date(2027, 3, 5), 1) == date(2027, 3, 8)  # Friday → Monday
    # Ascension Day (Thursday 6 May 2027) does not count: Wednesday + 2 → Friday (1), Monday (2).
    assert interpreters.earliest_day(date(2027, 5, 5), 2) == date(2027, 5, 10)
    assert not interpreters.is_working_day(date(2027, 5, 6))


def _slot(staff_id: int, office: str | None, local: datetime, minutes: int = 45) -> Slot:
    start = local.replace(tzinfo=BERLIN).astimezone(UTC)
    end = start + timedelta(minutes=minutes)
    return Slot(staff_id, office, start, end, start, end)


def _query(county: County, now: datetime, staff_id: int = 1) -> SlotQuery:
    service = county.service("kim-consultation")
    assert service is not None
    anna = county.staff[0]
    return SlotQuery(county, service, (Provider(staff_id, anna, "ki"),), BERLIN, now)


def test_fits_checks_place_hours_and_notice(example_county: County) -> None:
    tesfay = example_county.interpreter("tesfay")
    assert tesfay is not None  # Mon 09–12, Thu 13–17; 2 working days' notice; goes to Euskirchen, not Schleiden
    need = interpreters.Need(example_county, BERLIN, "ti", "in_person", "euskirchen", (tesfay,))
    today = MONDAY
    assert interpreters.fits(tesfay, need, _slot(1, "ki", datetime(2027, 3, 8, 9, 0)), today)
    assert interpreters.fits(tesfay, need, _slot(1, "ki", datetime(2027, 3, 8, 11, 15)), today)
    assert not interpreters.fits(tesfay, need, _slot(1, "ki", datetime(2027, 3, 8, 11, 30)), today)  # ends 12:15
    assert not interpreters.fits(tesfay, need, _slot(1, "ki", datetime(2027, 3, 9, 9, 0)), today)  # Tuesday
    assert not interpreters.fits(tesfay, need, _slot(1, "ki", datetime(2027, 3, 1, 9, 0)), today)  # no notice
    assert interpreters.fits(tesfay, need, _slot(1, "ki", datetime(2027, 3, 4, 13, 0)), today)  # Thursday, 3 days
    assert not interpreters.fits(tesfay, need, _slot(1, "caritas-eifel", datetime(2027, 3, 8, 9, 0)), today)
    by_video = interpreters.Need(example_county, BERLIN, "ti", "video", None, (tesfay,))
    assert interpreters.fits(tesfay, by_video, _slot(1, "caritas-eifel", datetime(2027, 3, 8, 9, 0)), today)


def test_with_interpreter_is_offered_only_when_it_helps(example_county: County) -> None:
    query = _query(example_county, datetime(2027, 3, 1, 8, tzinfo=UTC))  # Anna: de, en, fr
    assert interpreters.offer_needed(example_county, query, "ti")
    assert not interpreters.offer_needed(example_county, query, "en")  # Anna speaks it
    assert not interpreters.offer_needed(example_county, query, "so")  # no Somali interpreter in the county
    assert not interpreters.offer_needed(example_county, query, "fa")  # Mariam: video and phone only
    assert interpreters.offer_needed(example_county, query, "fa", "video")
    other = example_county.service("residence-extension")
    assert other is not None and not other.interpreter
    assert not interpreters.offer_needed(example_county, SlotQuery(**{**query.__dict__, "service": other}), "ti")


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[AsyncSession]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'i.db'}"
    await upgrade_async(url)
    engine = create_engine(url)
    async with create_session_factory(engine)() as session:
        session.add(Staff(id=1, telegram_id=100000001, display_name="Anna", role="case_manager", languages=["de"]))
        session.add(Client(id=1, telegram_id=5, reference="K-T1", locale="ti"))
        await session.flush()
        yield session
    await engine.dispose()


async def test_the_filter_drops_slots_whose_interpreter_is_taken(session: AsyncSession, example_county: County) -> None:
    now = datetime(2027, 3, 1, 7, tzinfo=UTC)  # Monday morning; Tesfay's notice reaches Wednesday
    query = interpreters.with_interpreter(
        _query(example_county, now), language="ti", mode="in_person", municipality="euskirchen"
    )
    monday = date(2027, 3, 8)
    before = await availability.free_slots(session, query, monday, 1)
    assert before and all(s.starts_at.astimezone(BERLIN).hour < 12 for s in before)
    taken = before[0]
    session.add(
        Appointment(
            id=7, client_id=1, staff_id=1, service_key="x", office_key="ki", starts_at=taken.starts_at,
            ends_at=taken.ends_at, busy_from=taken.starts_at, busy_until=taken.ends_at, status="cancelled",
        )
    )  # fmt: skip
    await session.flush()  # the staff member is free (cancelled), but Tesfay is still booked for it:
    session.add(
        InterpreterBooking(
            appointment_id=7, client_id=1, interpreter_key="tesfay", language="ti",
            busy_from=taken.starts_at, busy_until=taken.ends_at, active=True,
        )
    )  # fmt: skip
    await session.flush()
    after = await availability.free_slots(session, query, monday, 1)
    apart = [s for s in before if s.ends_at <= taken.starts_at or s.starts_at >= taken.ends_at]
    assert after == apart and len(after) == len(before) - 2  # 09:00 and 09:30 overlap the booked 09:00–09:45
    without = await availability.free_slots(session, _query(example_county, now), monday, 1)
    assert taken in without  # without an interpreter the time is free
    assert await availability.free_slots(session, query, date(2027, 3, 2), 1) == []  # Tuesday: Tesfay is off

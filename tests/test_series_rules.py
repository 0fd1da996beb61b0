"""The series rules without a bot (bot/services/series.py): the same wall-clock time every n weeks across a
daylight-saving change; each week checked like a single booking (public holiday, absence, another appointment, the
interpreter), beyond the clients' booking horizon; booking the free weeks as one series; cancelling from one on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade_async
from bot.db.models import Client, Staff
from bot.db.models_booking import Absence, Appointment
from bot.db.models_interpreters import AppointmentDetails, InterpreterBooking
from bot.db.models_outbox import OutboxMessage
from bot.services import interpreters, remote_appointments, series
from bot.services.availability import Provider, SlotQuery
from tests.support import BERLIN

NOW = datetime(2027, 3, 1, 7, tzinfo=UTC)  # Monday; the service's horizon (8 weeks) ends on 26 April


def _local(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN).astimezone(UTC)


def _query(county: County) -> SlotQuery:
    service = county.service("kim-consultation")
    assert service is not None
    return SlotQuery(county, service, (Provider(1, county.staff[0], "ki"),), BERLIN, NOW)


def test_the_wall_clock_time_stays_across_summer_time(example_county: County) -> None:
    starts = series.occurrence_starts(_local(date(2027, 3, 22)), 1, 3, BERLIN)
    assert [start for _day, start in starts] == [
        datetime(2027, 3, 22, 9, tzinfo=UTC),  # 10:00 CET
        datetime(2027, 3, 29, 8, tzinfo=UTC),  # 10:00 CEST
        datetime(2027, 4, 5, 8, tzinfo=UTC),
    ]
    assert [day.date() for day, _start in starts] == [date(2027, 3, 22), date(2027, 3, 29), date(2027, 4, 5)]
    with pytest.raises(ValueError):
        series.occurrence_starts(_local(date(2027, 3, 22)), 3, 3, BERLIN)


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[AsyncSession]:
    url = f"sqlite+aiosqlite:///{tmp_path / 's.db'}"
    await upgrade_async(url)
    engine = create_engine(url)
    async with create_session_factory(engine)() as session:
        session.add(Staff(id=1, telegram_id=100000001, display_name="Anna", role="case_manager", languages=["de"]))
        session.add(Client(id=1, telegram_id=5, reference="K-T1", locale="ti"))
        session.add(Client(id=2, telegram_id=6, reference="K-T2", locale="de"))
        await session.flush()
        yield session
    await engine.dispose()


async def test_each_week_is_checked_like_a_single_booking(session: AsyncSession, example_county: County) -> None:
    weeks = [date(2027, 3, 22) + timedelta(weeks=i) for i in range(6)]  # 29 March is Easter Monday
    session.add(Absence(staff_id=1, starts_at=_local(weeks[3], 0), ends_at=_local(weeks[4], 0), reason="away"))
    other = _local(weeks[4], 10)
    session.add(
        Appointment(
            client_id=2, staff_id=1, service_key="kim-consultation", office_key="ki", starts_at=other,
            ends_at=other + timedelta(minutes=45), busy_from=other, busy_until=other + timedelta(minutes=60),
            status="booked",
        )
    )  # fmt: skip
    await session.flush()
    plain = await series.plan(session, _query(example_county), 1, _local(weeks[0]), 1, 6)
    assert [w.conflict for w in plain] == [None, series.HOLIDAY, None, series.STAFF, series.STAFF, None]
    assert [w.slot.starts_at for w in plain if w.slot] == [_local(weeks[i]) for i in (0, 2, 5)]

    # With an interpreter: Tesfay (Mondays 09–12) is already booked on the last Monday.
    interpreted = interpreters.with_interpreter(
        _query(example_county), language="ti", mode="in_person", municipality="euskirchen"
    )
    cancelled = _local(weeks[5])
    session.add(
        Appointment(
            id=90, client_id=2, staff_id=1, service_key="kim-consultation", office_key="ki", starts_at=cancelled,
            ends_at=cancelled, busy_from=cancelled, busy_until=cancelled, status="cancelled",
        )
    )  # fmt: skip
    await session.flush()
    session.add(
        InterpreterBooking(
            appointment_id=90, client_id=2, interpreter_key="tesfay", language="ti", busy_from=cancelled,
            busy_until=cancelled + timedelta(minutes=45), active=True,
        )
    )  # fmt: skip
    await session.flush()
    weeks_with = await series.plan(session, interpreted, 1, _local(weeks[0]), 1, 6)
    assert [w.conflict for w in weeks_with][5] == series.INTERPRETER


async def test_beyond_the_horizon_booked_as_one_series_and_cancelled_from_one_on(
    session: AsyncSession, example_county: County
) -> None:
    first = _local(date(2027, 3, 8))
    weeks = await series.plan(session, _query(example_county), 1, first, 4, 6)  # up to 26 July, far past the horizon
    assert all(w.slot for w in weeks) and weeks[-1].local_day.date() == date(2027, 7, 26)
    result = await series.book(
        session, client_id=1, query=_query(example_county), staff_id=1, first=first, every_weeks=4, count=3,
        booked_by_staff_id=1, arrangement=remote_appointments.Arrangement(),
    )  # fmt: skip
    assert [a.starts_at for a in result.booked] == [first, _local(date(2027, 4, 5)), _local(date(2027, 5, 3))]
    linked = (await session.scalars(select(AppointmentDetails.series_id))).all()
    assert linked == [result.series_id] * 3
    keys = (await session.scalars(select(OutboxMessage.idempotency_key))).all()
    assert f"series:{result.series_id}:client" in keys
    assert sum(k.startswith(f"appointment:{result.booked[1].id}:reminder:") for k in keys) == 2

    later = await series.later_ones(session, 1, result.booked[1].id)
    assert [a.id for a in later] == [a.id for a in result.booked[1:]]
    cancelled = await series.cancel_from(
        session, example_county, client_id=1, appointment_id=result.booked[1].id, hold_minutes=15
    )
    assert [a.status for a in cancelled] == ["cancelled", "cancelled"]
    statuses = (await session.scalars(select(Appointment.status).order_by(Appointment.starts_at))).all()
    assert statuses == ["booked", "cancelled", "cancelled"]
    with pytest.raises(LookupError):  # another client's id finds nothing
        await series.cancel_from(session, example_county, client_id=2, appointment_id=result.booked[0].id,
                                 hold_minutes=15)  # fmt: skip

"""Slots: daylight-saving changes, NRW holidays, overlapping appointments, home visits on outreach days."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade_async
from bot.db.models import Client, Staff
from bot.services import availability, booking
from bot.services.availability import Provider, SlotQuery, candidate_slots, to_utc
from bot.services.booking import SlotTaken
from tests.support import BERLIN

NIGHT = "00:00-05:00"


def _county(**service: object) -> County:
    return County.model_validate(
        {
            "name": "Testkreis",
            "municipalities": [{"key": "north", "name": "North"}, {"key": "south", "name": "South"}],
            "offices": [
                {
                    "key": "o",
                    "name": "Office",
                    "address": "Street 1",
                    "municipality": "north",
                    "opening_hours": {d: "00:00-23:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                }
            ],
            "services": [
                {"key": "s", "name": {"de": "S"}, "duration_minutes": 30, "offices": ["o"], "staff": [1]},
                {"key": "long", "name": {"de": "L"}, "duration_minutes": 90, "offices": ["o"], "staff": [1]},
                {
                    "key": "visit",
                    "name": {"de": "V"},
                    "duration_minutes": 60,
                    "home_visit": True,
                    "staff": [1],
                    "travel_minutes": 30,
                    **service,
                },
            ],
            "staff": [
                {
                    "telegram_id": 1,
                    "display_name": "P",
                    "role": "case_manager",
                    "office": "o",
                    "hours": {d: NIGHT for d in ("sun",)} | {d: "09:00-12:00" for d in ("mon", "tue", "wed", "thu")},
                    "outreach": [{"weekday": "tue", "municipalities": ["south"], "hours": "09:00-13:00"}],
                }
            ],
        }
    )


def _query(county: County, service_key: str, now: datetime, municipality: str | None = None) -> SlotQuery:
    service = county.service(service_key)
    assert service is not None
    office = None if service.home_visit else "o"
    return SlotQuery(
        county=county,
        service=service,
        providers=(Provider(1, county.staff[0], office),),
        tz=BERLIN,
        now=now,
        municipality=municipality,
    )


def _walls(slots: list[availability.Slot]) -> list[str]:
    return [s.starts_at.astimezone(BERLIN).strftime("%H:%M") for s in slots]


def test_no_slot_in_the_skipped_hour_of_march() -> None:
    county = _county()
    day = date(2027, 3, 28)  # last Sunday of March 2027: 02:00 → 03:00
    slots = candidate_slots(
        _query(county, "s", datetime(2027, 3, 1, tzinfo=UTC)), Provider(1, county.staff[0], "o"), day
    )
    walls = _walls(slots)
    assert "02:00" not in walls and "02:30" not in walls
    assert walls == ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30", "04:00", "04:30"]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in slots)
    assert to_utc(day, time(2, 30), BERLIN) is None


def test_no_slot_doubled_in_october() -> None:
    county = _county()
    day = date(2027, 10, 31)  # last Sunday of October 2027: 03:00 → 02:00
    slots = candidate_slots(
        _query(county, "s", datetime(2027, 10, 1, tzinfo=UTC)), Provider(1, county.staff[0], "o"), day
    )
    walls = _walls(slots)
    assert walls.count("02:00") == 1 and walls.count("02:30") == 1
    assert len({s.starts_at for s in slots}) == len(slots)
    # 00:00–05:00 wall time is six real hours that night; every slot is 30 real minutes.
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in slots)


def test_no_slots_on_corpus_christi() -> None:
    county = _county()
    provider = Provider(1, county.staff[0], "o")
    query = _query(county, "s", datetime(2027, 5, 1, tzinfo=UTC))
    assert candidate_slots(query, provider, date(2027, 5, 27)) == []  # Fronleichnam, a holiday in NRW
    assert len(candidate_slots(query, provider, date(2027, 5, 26))) == 6  # the Wednesday before: 09:00–12:00


def test_home_visits_only_on_outreach_days_in_the_clients_municipality() -> None:
    county = _county()
    provider = Provider(1, county.staff[0], None)
    tuesday, wednesday = date(2027, 6, 8), date(2027, 6, 9)
    south = _query(county, "visit", datetime(2027, 6, 1, tzinfo=UTC), municipality="south")
    north = _query(county, "visit", datetime(2027, 6, 1, tzinfo=UTC), municipality="north")
    assert _walls(candidate_slots(south, provider, tuesday)) == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
        "12:00",
    ]
    assert candidate_slots(south, provider, wednesday) == []
    assert candidate_slots(north, provider, tuesday) == []
    first = candidate_slots(south, provider, tuesday)[0]
    assert first.busy_from == first.starts_at - timedelta(minutes=30)  # travel before
    assert first.busy_until == first.ends_at + timedelta(minutes=30)  # and after


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    async with sessions() as s:
        s.add(Staff(id=1, telegram_id=1, display_name="P", role="case_manager", languages=["de"]))
        s.add_all([Client(id=i, telegram_id=100 + i, reference=f"K-{i}", locale="en") for i in (1, 2)])
        await s.commit()
        yield s
    await engine.dispose()


async def test_overlapping_appointments_of_different_lengths_conflict(session: AsyncSession) -> None:
    county = _county()
    day = date(2027, 6, 10)  # a Thursday, 09:00–12:00
    now = datetime(2027, 6, 1, tzinfo=UTC)
    long_query, short_query = _query(county, "long", now), _query(county, "s", now)
    long_service, short_service = county.service("long"), county.service("s")
    assert long_service and short_service
    long_slot = (await availability.free_slots(session, long_query, day, 1))[0]  # 09:00–10:30
    await booking.book(session, client_id=1, slot=long_slot, service=long_service)
    await session.commit()

    free_short = _walls(await availability.free_slots(session, short_query, day, 1))
    assert free_short == ["10:30", "11:00", "11:30"]
    overlapping = next(
        s
        for s in candidate_slots(short_query, Provider(1, county.staff[0], "o"), day)
        if s.starts_at.astimezone(BERLIN).hour == 10 and s.starts_at.minute == 0
    )
    with pytest.raises(SlotTaken):
        await booking.book(session, client_id=2, slot=overlapping, service=short_service)
    await session.rollback()
    adjacent = (await availability.free_slots(session, short_query, day, 1))[0]
    booked = await booking.book(session, client_id=2, slot=adjacent, service=short_service)
    await session.commit()
    assert booked.starts_at.astimezone(BERLIN).strftime("%H:%M") == "10:30"

"""The urgency rules without a bot: which of a day's slots are reserved (a share, rounded down, spread over the
day), who may take them and from when everyone may; the waitlist's order by document expiry, then waiting time;
and, against the database (SQLite or PostgreSQL), the slot filter and the offer of a freed reserved slot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County, Service
from bot.db.base import utcnow
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade_async
from bot.db.models import Client, Staff
from bot.db.models_booking import Appointment, WaitlistEntry
from bot.db.models_documents import Document
from bot.services import availability, booking, urgency
from bot.services.availability import Provider, SlotQuery
from tests.support import BERLIN

OLENA = 100000003  # the immigration office's (abh) case manager in the example county
MONDAY = date(2027, 3, 8)  # abh: 08:00–12:00, 30-minute slots → 8
THURSDAY = date(2027, 3, 11)  # abh: 08:00–12:00 and 14:00–17:30 → 8 + 7


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN).astimezone(UTC)


def _service(county: County) -> Service:
    service = county.service("residence-extension")
    assert service is not None
    return service


def _query(county: County, now: datetime, staff_id: int = 3) -> SlotQuery:
    member = county.staff_member(OLENA)
    assert member is not None
    return SlotQuery(county, _service(county), (Provider(staff_id, member, "abh"),), BERLIN, now)


def test_the_example_reserves_a_quarter_for_a_month_released_two_days_ahead(example_county: County) -> None:
    service = _service(example_county)
    assert service.expiry_documents == ("residence_permit", "duldung", "gestattung", "fiktion")
    assert (service.urgent_share, service.urgent_within_days, service.urgent_release_days) == (0.25, 30, 2)


def test_a_share_of_the_days_slots_rounded_down_and_spread() -> None:
    assert urgency.reserved_positions(8, 0.25) == {3, 7}
    assert urgency.reserved_positions(15, 0.25) == {3, 7, 11}
    assert len(urgency.reserved_positions(10, 0.3)) == 3  # 0.3 · 10 is 3, not 2.999…
    assert len(urgency.reserved_positions(100, 0.29)) == 29
    assert urgency.reserved_positions(3, 0.25) == set()  # ⌊0.75⌋
    assert urgency.reserved_positions(8, 0) == set()
    assert urgency.reserved_positions(4, 1) == {0, 1, 2, 3}


def test_which_times_at_the_immigration_office_are_reserved(example_county: County) -> None:
    query = _query(example_county, _at(MONDAY, 7) - timedelta(days=30))
    monday = [_at(MONDAY, 8) + timedelta(minutes=30 * i) for i in range(8)]
    assert [urgency.is_reserved(query, 3, "abh", s) for s in monday] == [False] * 3 + [True] + [False] * 3 + [True]
    thursday = [_at(THURSDAY, 8) + timedelta(minutes=30 * i) for i in range(8)]
    thursday += [_at(THURSDAY, 14) + timedelta(minutes=30 * i) for i in range(7)]
    reserved = [s.astimezone(BERLIN).strftime("%H:%M") for s in thursday if urgency.is_reserved(query, 3, "abh", s)]
    assert reserved == ["09:30", "11:30", "15:30"]
    assert not urgency.is_reserved(query, 4, "abh", _at(MONDAY, 9, 30))  # not a provider of the query
    assert not urgency.is_reserved(query, 3, None, _at(MONDAY, 9, 30))  # home visits are never reserved
    other = example_county.service("kim-consultation")
    assert other is not None and other.urgent_share == 0
    assert not urgency.is_reserved(SlotQuery(**{**query.__dict__, "service": other}), 3, "abh", _at(MONDAY, 9, 30))


def test_who_may_take_a_reserved_slot_and_from_when_everyone(example_county: County) -> None:
    slot = _at(MONDAY, 9, 30)  # reserved
    far = _query(example_county, slot - timedelta(days=10))
    assert not urgency.open_to(far, 3, "abh", slot, None)  # no document
    assert urgency.open_to(far, 3, "abh", slot, MONDAY + timedelta(days=30))  # within 30 days of the slot
    assert not urgency.open_to(far, 3, "abh", slot, MONDAY + timedelta(days=31))
    assert urgency.open_to(far, 3, "abh", slot, MONDAY - timedelta(days=3))  # expired already: most urgent
    assert urgency.open_to(far, 3, "abh", _at(MONDAY, 9), None)  # an ordinary slot is everyone's
    released = _query(example_county, slot - timedelta(days=2))
    assert urgency.open_to(released, 3, "abh", slot, None)
    almost = _query(example_county, slot - timedelta(days=2, minutes=1))
    assert not urgency.open_to(almost, 3, "abh", slot, None)


def test_the_waitlist_order_is_expiry_then_waiting_time() -> None:
    t0 = datetime(2027, 1, 1, tzinfo=UTC)
    entries = [
        (1, t0, None),
        (2, t0 + timedelta(hours=1), date(2027, 8, 1)),
        (3, t0 + timedelta(hours=2), date(2027, 2, 1)),
        (4, t0 + timedelta(hours=3), date(2027, 2, 1)),
        (5, t0 - timedelta(hours=1), None),
    ]
    ranked = sorted(entries, key=lambda e: urgency.waitlist_order(*e))
    assert [e[0] for e in ranked] == [3, 4, 2, 5, 1]


# ---------------------------------------------------------------------- against the database


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        session.add(Staff(id=3, telegram_id=OLENA, display_name="Olena", role="case_manager", languages=["de"]))
        await session.flush()
        yield session
    await engine.dispose()


async def _client(session: AsyncSession, number: int, *documents: tuple[str, date]) -> int:
    session.add(Client(id=number, telegram_id=9000 + number, reference=f"K-U{number}", locale="en"))
    await session.flush()
    for doc_type, expires_on in documents:
        session.add(Document(client_id=number, doc_type=doc_type, expires_on=expires_on))
    await session.flush()
    return number


def _reserved_monday() -> date:
    """A Monday two weeks or more ahead that is no NRW holiday: its reserved slots are not released yet."""
    day = utcnow().astimezone(BERLIN).date() + timedelta(days=14)
    nrw = holidays.Germany(subdiv="NW", years=range(day.year, day.year + 2))
    while day.weekday() != 0 or day in nrw:
        day += timedelta(days=1)
    return day


async def test_relevant_expiry_and_waitlist_order_from_the_database(
    session: AsyncSession, example_county: County
) -> None:
    service = _service(example_county)
    today = utcnow().date()
    first = await _client(session, 1)
    later = await _client(session, 2, ("residence_permit", today + timedelta(days=150)))
    soonest = await _client(session, 3, ("duldung", today + timedelta(days=200)), ("fiktion", today + timedelta(10)))
    passport = await _client(session, 4, ("passport", today + timedelta(days=1)))  # not a type of this service
    assert await urgency.relevant_expiry(session, service, soonest) == today + timedelta(days=10)
    assert await urgency.relevant_expiry(session, service, passport) is None
    start = utcnow() - timedelta(days=5)
    for hours, client_id in enumerate((first, later, soonest, passport)):
        session.add(
            WaitlistEntry(client_id=client_id, service_key=service.key, created_at=start + timedelta(hours=hours))
        )
    session.add(WaitlistEntry(client_id=later, service_key="kim-consultation", created_at=start))
    await session.flush()
    ranked = await urgency.ranked_waitlist(session, service)
    assert [(e.client_id, expires) for e, expires in ranked] == [
        (soonest, today + timedelta(days=10)),
        (later, today + timedelta(days=150)),
        (first, None),
        (passport, None),
    ]
    assert [e.client_id for e, _ in await urgency.ranked_waitlist(session, service, exclude_client_id=soonest)] == [
        later,
        first,
        passport,
    ]


async def test_the_slot_filter_hides_reserved_times_from_ordinary_clients(
    session: AsyncSession, example_county: County
) -> None:
    monday = _reserved_monday()
    ordinary = await _client(session, 1, ("residence_permit", monday + timedelta(days=120)))
    urgent = await _client(session, 2, ("residence_permit", monday + timedelta(days=20)))
    service = _service(example_county)
    plain = await availability.query_for(
        session, example_county, service, tz=BERLIN, municipality="euskirchen", case_manager_id=None
    )
    everything = await availability.free_slots(session, plain, monday, 1)
    assert len(everything) == 8
    for_ordinary = await availability.free_slots(session, await urgency.for_client(session, plain, ordinary), monday, 1)
    for_urgent = await availability.free_slots(session, await urgency.for_client(session, plain, urgent), monday, 1)
    hidden = [s.starts_at.astimezone(BERLIN).strftime("%H:%M") for s in everything if s not in for_ordinary]
    assert hidden == ["09:30", "11:30"]
    assert for_urgent == everything
    # Two days ahead of the slot, everyone sees it.
    released = SlotQuery(**{**plain.__dict__, "now": _at(monday, 9, 30) - timedelta(days=2)})
    early = await availability.free_slots(session, await urgency.for_client(session, released, ordinary), monday, 1)
    assert "09:30" in [s.starts_at.astimezone(BERLIN).strftime("%H:%M") for s in early]
    assert "11:30" not in [s.starts_at.astimezone(BERLIN).strftime("%H:%M") for s in early]  # two hours later


async def test_a_freed_reserved_slot_goes_only_to_a_client_who_qualifies(
    session: AsyncSession, example_county: County
) -> None:
    monday = _reserved_monday()
    service = _service(example_county)
    leaving = await _client(session, 1)
    ordinary = await _client(session, 2)
    start = _at(monday, 9, 30)
    freed = Appointment(
        client_id=leaving, staff_id=3, service_key=service.key, office_key="abh", starts_at=start,
        ends_at=start + timedelta(minutes=30), busy_from=start, busy_until=start + timedelta(minutes=30),
    )  # fmt: skip
    session.add(WaitlistEntry(client_id=ordinary, service_key=service.key, created_at=utcnow() - timedelta(days=3)))
    await session.flush()
    assert not await booking.offer_freed_slot(session, service, freed, 15, county=example_county)
    assert (await session.scalars(select(Appointment))).all() == []
    urgent = await _client(session, 3, ("gestattung", monday + timedelta(days=5)))
    session.add(WaitlistEntry(client_id=urgent, service_key=service.key, created_at=utcnow()))
    await session.flush()
    assert await booking.offer_freed_slot(session, service, freed, 15, county=example_county)
    held = (await session.scalars(select(Appointment))).all()
    assert [(a.client_id, a.status, a.starts_at) for a in held] == [(urgent, "held", start)]
    statuses = dict((await session.execute(select(WaitlistEntry.client_id, WaitlistEntry.status))).all())
    assert statuses == {ordinary: "waiting", urgent: "offered"}

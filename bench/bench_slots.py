"""Benchmark: "next 10 free slots for a service" with 50 staff and a year of appointments (~100 000 rows), without
and with an interpreter (30 interpreters, a year of their bookings).

    .venv/bin/python bench/bench_slots.py                      # SQLite, and PostgreSQL if reachable
    BENCH_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_slots.py

Seeds a synthetic county (50 case managers, Mon–Fri 08:00–16:00, 30-minute service), books about half of every
working day for a year (half a year back, half ahead), then times `next_free_slots` for random "now" moments in
the coming weeks. Prints p50/p95/max in milliseconds per database. Target: p95 < 20 ms.

With interpreters (bot/services/interpreters.py): 30 interpreters who all speak the client's language (every one is
a candidate for every slot: the worst case), Mon–Fri 08:00–16:00, 2 working days' notice; about 60 % of them are
booked with an appointment at every half hour of the year. The staff speak only German, so every slot needs one.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.county import County
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade_async
from bot.db.models import Client, Staff
from bot.db.models_booking import Appointment
from bot.db.models_interpreters import InterpreterBooking
from bot.services import availability, interpreters

STAFF = 50
INTERPRETERS = 30
TZ = ZoneInfo("Europe/Berlin")
RUNS = 200
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def county() -> County:
    return County.model_validate(
        {
            "name": "Benchkreis",
            "municipalities": [{"key": "m", "name": "M"}],
            "offices": [
                {
                    "key": "o",
                    "name": "Office",
                    "address": "Street 1",
                    "municipality": "m",
                    "opening_hours": {d: "08:00-16:00" for d in WEEKDAYS},
                }
            ],
            "services": [
                {
                    "key": "s",
                    "name": {"de": "S"},
                    "duration_minutes": 30,
                    "offices": ["o"],
                    "min_notice_hours": 2,
                    "horizon_weeks": 8,
                }
            ],
            "staff": [
                {"telegram_id": 1000 + i, "display_name": f"P{i}", "role": "case_manager", "office": "o"}
                for i in range(STAFF)
            ],
            "interpreters": [
                {
                    "key": f"i{i}",
                    "display_name": f"I{i}",
                    "languages": ["ti", ("ar", "fa", "uk")[i % 3]],
                    "availability": {d: "08:00-16:00" for d in WEEKDAYS},
                    "min_notice_working_days": 2,
                    "modes": ["in_person", "video", "phone"],
                }
                for i in range(INTERPRETERS)
            ],
        }
    )


def seed_rows(today: date) -> list[dict[str, object]]:
    """About half of every working slot booked, 182 days back and 182 ahead."""
    rng = random.Random(7)
    rows: list[dict[str, object]] = []
    for offset in range(-182, 183):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for staff in range(1, STAFF + 1):
            for half_hour in range(16):
                if rng.random() < 0.5:
                    start = datetime(day.year, day.month, day.day, 8, tzinfo=TZ) + timedelta(minutes=30 * half_hour)
                    start = start.astimezone(UTC)
                    end = start + timedelta(minutes=30)
                    rows.append(
                        {
                            "id": len(rows) + 1,
                            "client_id": 1,
                            "staff_id": staff,
                            "service_key": "s",
                            "office_key": "o",
                            "starts_at": start,
                            "ends_at": end,
                            "busy_from": start,
                            "busy_until": end,
                            "status": "booked",
                            "sequence": 0,
                        }
                    )
    return rows


def interpreter_rows(appointments: list[dict[str, object]]) -> list[dict[str, object]]:
    """Interpreters for about 60 % of the appointments, each interpreter at most once per half hour."""
    rng = random.Random(13)
    by_time: dict[object, list[dict[str, object]]] = {}
    for row in appointments:
        by_time.setdefault(row["starts_at"], []).append(row)
    rows: list[dict[str, object]] = []
    for same_time in by_time.values():
        free = [f"i{i}" for i in range(INTERPRETERS)]
        rng.shuffle(free)
        for row, key in zip((r for r in same_time if rng.random() < 0.6), free, strict=False):
            rows.append(
                {
                    "appointment_id": row["id"],
                    "client_id": 1,
                    "interpreter_key": key,
                    "language": "ti",
                    "busy_from": row["starts_at"],
                    "busy_until": row["ends_at"],
                    "active": True,
                }
            )
    return rows


MakeQuery = Callable[[AsyncSession, datetime], Awaitable[availability.SlotQuery]]


async def timed(
    sessions: async_sessionmaker[AsyncSession], make_query: MakeQuery, label: str
) -> tuple[float, float, float, int]:
    """p50, p95, max (ms) and n of `next_free_slots` for random "now" moments in the next four weeks."""
    rng = random.Random(11)
    timings: list[float] = []
    async with sessions() as session:
        for i in range(RUNS + 10):
            now = datetime.now(UTC) + timedelta(hours=rng.uniform(0, 24 * 28))
            query = await make_query(session, now)
            t0 = time.perf_counter()
            slots = await availability.next_free_slots(session, query, limit=10)
            elapsed = (time.perf_counter() - t0) * 1000
            assert len(slots) == 10, label
            if i >= 10:  # warm-up
                timings.append(elapsed)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], timings[-1], len(timings)


async def run(url: str, label: str) -> None:
    await upgrade_async(url)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    the_county = county()
    today = datetime.now(TZ).date()
    rows = seed_rows(today)
    helped = interpreter_rows(rows)
    started = time.perf_counter()
    async with sessions() as session, session.begin():
        session.add_all(
            [
                Staff(id=i + 1, telegram_id=1000 + i, display_name=f"P{i}", role="case_manager", languages=["de"])
                for i in range(STAFF)
            ]
        )
        session.add(Client(id=1, telegram_id=1, reference="K-BENCH1", locale="de"))
        await session.flush()
        for chunk in range(0, len(rows), 5000):
            await session.execute(insert(Appointment), rows[chunk : chunk + 5000])
        for chunk in range(0, len(helped), 5000):
            await session.execute(insert(InterpreterBooking), helped[chunk : chunk + 5000])
    seeded = time.perf_counter() - started
    async with sessions() as session:
        if engine.dialect.name == "postgresql":
            await session.execute(text("ANALYZE appointments"))
            await session.execute(text("ANALYZE interpreter_bookings"))
        count = (await session.execute(text("SELECT count(*) FROM appointments"))).scalar_one()
        taken = (await session.execute(text("SELECT count(*) FROM interpreter_bookings"))).scalar_one()
    service = the_county.service("s")
    assert service is not None
    async with sessions() as session:
        providers = await availability.providers_for(session, the_county, service, home_visit=False)

    async def plain(session: AsyncSession, now: datetime) -> availability.SlotQuery:
        return availability.SlotQuery(county=the_county, service=service, providers=providers, tz=TZ, now=now)

    async def with_interpreter(session: AsyncSession, now: datetime) -> availability.SlotQuery:
        query = await plain(session, now)
        return interpreters.with_interpreter(query, language="ti", mode="in_person", municipality="m")

    print(f"{label:<11} appointments={count:>7}  interpreter bookings={taken:>6}  seeded in {seeded:5.1f} s")
    for name, make in (("next 10 free slots", plain), ("... with an interpreter", with_interpreter)):
        p50, p95, worst, n = await timed(sessions, make, name)
        print(
            f"  {name:<24} {STAFF} staff, {INTERPRETERS} interpreters: p50={p50:5.1f} ms  p95={p95:5.1f} ms  "
            f"max={worst:5.1f} ms  (n={n}; target p95 < 20 ms)"
        )
    await engine.dispose()


async def postgres_reachable(url: str) -> bool:
    import asyncpg

    try:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


async def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        await run(f"sqlite+aiosqlite:///{tmp}/bench.db", "SQLite")
    pg = os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    if await postgres_reachable(pg):
        await reset_postgres(pg)
        await run(pg, "PostgreSQL")
    else:
        print(f"PostgreSQL not reachable at {pg}: skipped")


if __name__ == "__main__":
    asyncio.run(main())

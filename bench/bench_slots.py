"""Benchmark: "next 10 free slots for a service" with 50 staff and a year of appointments (~100 000 rows).

    .venv/bin/python bench/bench_slots.py                      # SQLite, and PostgreSQL if reachable
    BENCH_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_slots.py

Seeds a synthetic county (50 case managers, Mon–Fri 08:00–16:00, 30-minute service), books about half of every
working day for a year (half a year back, half ahead), then times `next_free_slots` for random "now" moments in
the coming weeks. Prints p50/p95/max in milliseconds per database. Target: p95 < 20 ms.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text

from bot.core.county import County
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade_async
from bot.db.models import Client, Staff
from bot.db.models_booking import Appointment
from bot.services import availability

STAFF = 50
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


async def run(url: str, label: str) -> None:
    await upgrade_async(url)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    the_county = county()
    today = datetime.now(TZ).date()
    rows = seed_rows(today)
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
    seeded = time.perf_counter() - started
    async with sessions() as session:
        if engine.dialect.name == "postgresql":
            await session.execute(text("ANALYZE appointments"))
        count = (await session.execute(text("SELECT count(*) FROM appointments"))).scalar_one()
    service = the_county.service("s")
    assert service is not None
    rng = random.Random(11)
    timings: list[float] = []
    async with sessions() as session:
        providers = await availability.providers_for(session, the_county, service, home_visit=False)
        for i in range(RUNS + 10):
            now = datetime.now(UTC) + timedelta(hours=rng.uniform(0, 24 * 28))
            query = availability.SlotQuery(county=the_county, service=service, providers=providers, tz=TZ, now=now)
            t0 = time.perf_counter()
            slots = await availability.next_free_slots(session, query, limit=10)
            elapsed = (time.perf_counter() - t0) * 1000
            assert len(slots) == 10
            if i >= 10:  # warm-up
                timings.append(elapsed)
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"{label:<11} rows={count:>7}  seeded in {seeded:5.1f} s  next 10 free slots over {STAFF} staff: "
        f"p50={p50:5.1f} ms  p95={p95:5.1f} ms  max={timings[-1]:5.1f} ms  (n={len(timings)}; target p95 < 20 ms)"
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

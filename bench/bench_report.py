"""Benchmark: the programme report over 100 000 clients and 1 000 000 counted events.

    .venv/bin/python bench/bench_report.py                  # SQLite in a temporary directory
    BENCH_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test_h2 .venv/bin/python bench/bench_report.py

Seeds 100 000 clients (11 municipalities, 13 languages, 4 case managers) and 1 000 000 events spread over 24
months like kimbot counts them (`report_events`: new clients, messages, bookings, outcomes, first answers, …).
Then, in a fresh process so that its peak RSS is the report's own: the year's report straight from the 1 000 000
pending events (the worst case: nothing rolled up yet), the snapshot of active cases over the 100 000 clients,
the roll-up of every event into its cell, and the year's report again from the cells. Each report is the whole
thing: figures, 5 charts (PNG), the workbook (XLSX) and the CSV files. Target: each report < 10 s; RSS bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text

from bot.core.config import Settings
from bot.core.county import load_county
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade_async
from bot.db.models import Client, Staff
from bot.db.models_reporting import ReportEvent
from bot.jobs.reporting import ReportJobs
from bot.services.reporting import build, periods, rollup
from bot.services.reporting.events import DURATION_BUCKETS, month_of

CLIENTS = 100_000
EVENTS = 1_000_000
MONTHS = [periods.shift("2025-01", i) for i in range(24)]
LANGUAGES = ("ar", "uk", "fa", "ps", "ru", "tr", "ku", "ckb", "ti", "so", "fr", "en", "de")
BATCH = 20_000
# (event, service?, details): the mix of what a county counts, roughly by frequency.
EVENT_MIX = (
    ("message", False, ("from_client", "from_staff")),
    ("message", False, ("from_client",)),
    ("first_response", False, (*(f"le_{b}" for b in DURATION_BUCKETS), "le_inf")),
    ("booking", True, ("client", "staff", "waitlist")),
    ("appointment", True, ("attended", "no_show", "cancelled")),
    ("new_client", False, ("",)),
    ("document_reminder", False, ("duldung", "residence_permit", "passport")),
    ("document_renewal", False, ("duldung:before", "duldung:after", "passport:before")),
    ("status_change", False, ("duldung->aufenthaltserlaubnis_25b", "aufenthaltsgestattung->duldung")),
    ("waitlist_offer", True, ("",)),
    ("escalation", False, ("n", "2n")),
)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def seed(url: str) -> None:
    county = load_county(None)
    towns = [m.key for m in county.municipalities]
    services = [s.key for s in county.services]
    await upgrade_async(url)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    rnd = random.Random(22)
    started = time.perf_counter()
    async with sessions() as session, session.begin():
        staff_ids = []
        for n in range(4):
            row = Staff(telegram_id=900_000 + n, display_name=f"CM {n}", role="case_manager", languages=["de"])
            session.add(row)
            await session.flush()
            staff_ids.append(row.id)
        now = datetime.now(UTC)
        for start in range(0, CLIENTS, BATCH):
            rows = [
                {
                    "telegram_id": 10_000_000 + i,
                    "reference": f"K-{i:06d}",
                    "locale": rnd.choice(LANGUAGES),
                    "municipality": rnd.choice(towns),
                    "case_manager_id": rnd.choice(staff_ids),
                    "last_contact_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(start, min(start + BATCH, CLIENTS))
            ]
            await session.execute(insert(Client), rows)
    for start in range(0, EVENTS, BATCH):
        rows = []
        for _ in range(min(BATCH, EVENTS - start)):
            event, with_service, details = rnd.choice(EVENT_MIX)
            rows.append(
                {
                    "month": rnd.choice(MONTHS),
                    "event": event,
                    "municipality": rnd.choice(towns),
                    "language": rnd.choice(LANGUAGES),
                    "service": rnd.choice(services) if with_service else "",
                    "case_manager_id": rnd.choice(staff_ids),
                    "detail": rnd.choice(details),
                    "amount": 1,
                }
            )
        async with sessions() as session, session.begin():
            await session.execute(insert(ReportEvent), rows)
    print(f"seeded {CLIENTS:,} clients and {EVENTS:,} events in {time.perf_counter() - started:.1f} s")
    await engine.dispose()


async def measure(url: str, data_dir: Path) -> dict[str, float]:
    """The report's work, in a process of its own (its peak RSS is what the report costs)."""
    base_rss = rss_mb()
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    settings = Settings(DATABASE_URL=url, KIMBOT_DATA_DIR=data_dir, _env_file=None)  # type: ignore[call-arg]
    jobs = ReportJobs(sessions, settings, load_county(None))
    year = periods.year(2026)
    figures: dict[str, float] = {"rss_start_mb": base_rss}
    jobs.texts  # noqa: B018 - compile the catalog before timing

    async def report(label: str) -> None:
        started = time.perf_counter()
        async with sessions() as session:
            await build.gather(session, year)
        figures[f"{label}_figures_only_s"] = time.perf_counter() - started
        started = time.perf_counter()
        built = await jobs.build(year, now=datetime(2027, 1, 5, tzinfo=UTC))
        built.csv_zip()
        figures[f"{label}_s"] = time.perf_counter() - started
        figures[f"{label}_png_kb"] = sum(len(p) for _, p in built.charts) / 1024
        figures[f"{label}_xlsx_kb"] = len(built.workbook) / 1024

    await report("report_from_events")
    started = time.perf_counter()
    async with sessions() as session, session.begin():
        figures["active_cases"] = await rollup.snapshot_active_cases(session, month_of(datetime.now(UTC)))
    figures["snapshot_s"] = time.perf_counter() - started
    started = time.perf_counter()
    async with sessions() as session, session.begin():
        figures["events_moved"] = await rollup.roll_up(session)
    figures["rollup_s"] = time.perf_counter() - started
    async with sessions() as session:
        figures["cells"] = float(await session.scalar(text("SELECT count(*) FROM report_cells")) or 0)
        figures["events_left"] = float(await session.scalar(select(func.count()).select_from(ReportEvent)) or 0)
    await report("report_from_cells")
    figures["peak_rss_mb"] = rss_mb()
    await engine.dispose()
    return figures


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        print(json.dumps(asyncio.run(measure(sys.argv[2], Path(sys.argv[3])))))
        return
    targets = [("SQLite", None)]
    if os.environ.get("BENCH_POSTGRES_URL"):
        targets.append(("PostgreSQL", os.environ["BENCH_POSTGRES_URL"]))
    for name, url in targets:
        with tempfile.TemporaryDirectory() as tmp:
            if url is None:
                url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            else:
                asyncio.run(_reset_postgres(url))
            print(f"== {name}")
            asyncio.run(seed(url))
            out = subprocess.run(
                [sys.executable, __file__, "--measure", url, str(Path(tmp) / "var")],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            for key, value in figures.items():
                print(f"  {key:34} {value:14,.2f}")
            worst = max(figures["report_from_events_s"], figures["report_from_cells_s"])
            print(f"  target: report < 10 s: {'ok' if worst < 10 else 'MISSED'} ({worst:.1f} s)")


async def _reset_postgres(url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


if __name__ == "__main__":
    main()

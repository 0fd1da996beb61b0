"""A cron job runs in one process at a time on PostgreSQL; on SQLite (one process) it just runs."""

from __future__ import annotations

import asyncio

from bot.db.engine import create_engine, create_session_factory
from bot.jobs.leader import lock_key, run_exclusively


async def test_only_one_of_two_concurrent_runs_does_the_work(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    started = asyncio.Event()
    release = asyncio.Event()
    runs: list[str] = []

    async def slow_job() -> str:
        runs.append("ran")
        started.set()
        await release.wait()
        return "done"

    first = asyncio.create_task(run_exclusively(sessions, "morning-agenda", slow_job))
    await started.wait()
    second = asyncio.create_task(run_exclusively(sessions, "morning-agenda", slow_job))
    await asyncio.sleep(0.2)
    is_postgres = engine.dialect.name == "postgresql"
    if is_postgres:
        assert await second == (False, None)
    release.set()
    assert await first == (True, "done")
    if not is_postgres:
        assert (await second)[0] is True
    assert len(runs) == (1 if is_postgres else 2)
    # After the first run ends, the lock is free again.
    assert (await run_exclusively(sessions, "morning-agenda", slow_job))[0] is True
    await engine.dispose()


def test_lock_keys_are_stable_and_distinct() -> None:
    assert lock_key("morning-agenda") == lock_key("morning-agenda")
    assert lock_key("morning-agenda") != lock_key("retention-purge")
    assert 0 <= lock_key("x") < 2**31

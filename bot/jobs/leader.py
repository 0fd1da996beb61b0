"""Run a cron job in one process only, when several workers share a PostgreSQL database.

PostgreSQL: a transaction-level advisory lock named after the job; a process that cannot take it skips the run
(another one is doing it). SQLite serves a single process, so the job simply runs. The jobs are idempotent
anyway (their outbox keys hold the day); the lock saves the duplicate work and the duplicate log lines.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")


def lock_key(name: str) -> int:
    """A stable 31-bit key for pg_try_advisory_xact_lock (hash() differs between processes)."""
    return zlib.crc32(f"kimbot:{name}".encode()) & 0x7FFFFFFF


async def run_exclusively(
    sessions: async_sessionmaker[AsyncSession], name: str, job: Callable[[], Awaitable[T]]
) -> tuple[bool, T | None]:
    """Run `job` unless another process holds the lock for `name`; returns (ran, result)."""
    async with sessions() as session, session.begin():
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            taken = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": lock_key(name)})
            if not taken:
                return False, None
        # The lock is held until this transaction ends, i.e. while the job runs.
        return True, await job()

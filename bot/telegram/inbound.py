"""Inbound updates, recorded before Telegram is told they arrived, so a crash loses none.

Polling: each batch from getUpdates is written to the `inbound_updates` journal (update_id as key) before the next
getUpdates call confirms it to Telegram. Webhook: the update is written before the HTTP 200. The update's unit of
work marks the row done in its own transaction, so the update's database changes and its done mark commit together
(a handler that failed is marked done after the error handler answered). On start, rows that were never finished
are handled again; an update_id seen before is dropped. What can still happen twice is a Telegram call made by a
handler that the crash cut off between that call and its commit: Telegram has no idempotency key, so a restarted
bot cannot know the reply went out. Idle, that gap is a few milliseconds; with a full backlog (every handler slot
busy) tens of updates can be inside it at once (tests/test_crash_inbound.py prints the count).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import GetUpdates
from aiogram.types import Update
from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.base import utcnow
from bot.db.models import InboundUpdate
from bot.ops import metrics
from bot.telegram.session import BotSession

log = logging.getLogger("kimbot.inbound")

# Updates handled at once by one process. Each holds a database connection until it commits (the pool is sized
# for this in bot.db.engine); with Telegram's ~50 ms per call that is still a few hundred updates per second. More
# buys nothing on the emulator (the process is CPU-bound: 100 → 32 → 16 kept the throughput) and widens what a
# kill -9 can cut off between a reply and its commit.
UPDATE_CONCURRENCY = 16


_JOURNAL = cast(Table, InboundUpdate.__table__)
_MARK_DONE = (
    update(_JOURNAL)
    .where(_JOURNAL.c.update_id == bindparam("id"))
    .values(status="done", payload=None, done_at=bindparam("done_at"))
)


@dataclass
class JournalEntry:
    """Handed to the dispatcher with each update (handler data `journal_entry`): the unit of work marks the update
    done inside its transaction and says so here; otherwise the processor marks it afterwards."""

    update_id: int
    marked: bool = False


async def mark_done(session: AsyncSession, entry: JournalEntry) -> None:
    """Mark the update done in the caller's transaction (see `bot.telegram.middlewares.UnitOfWorkMiddleware`).
    A Core statement on the table: the ORM's bulk update machinery cost twice as much for this one row."""
    await session.execute(_MARK_DONE, {"id": entry.update_id, "done_at": utcnow()})


class UpdateJournal:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], batch_seconds: float = 0.05):
        self._sessions = sessions
        self._batch_seconds = batch_seconds
        self._finished: list[int] = []
        self._flusher: asyncio.Task[None] | None = None

    async def record(self, updates: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Store the updates; return those not seen before (duplicates are dropped here)."""
        if not updates:
            return []
        now = utcnow()
        rows = [
            {"update_id": u["update_id"], "payload": json.dumps(u), "status": "pending", "received_at": now}
            for u in updates
        ]
        async with self._sessions() as session, session.begin():
            dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            # One statement: rows already journalled (Telegram resent the update) are skipped and not returned.
            statement = insert(_JOURNAL).on_conflict_do_nothing(index_elements=["update_id"])
            stored = set((await session.scalars(statement.returning(_JOURNAL.c.update_id), rows)).all())
        fresh = []
        for u in updates:
            if u["update_id"] in stored:
                stored.discard(u["update_id"])  # the same update twice in one batch is handled once
                fresh.append(u)
        if len(fresh) < len(updates):
            metrics.DUPLICATE_UPDATES.inc(len(updates) - len(fresh))
        return fresh

    async def done(self, update_id: int) -> None:
        """Mark handled. Marks are written together every few milliseconds (one transaction for many updates);
        a crash before that only means the update is handled again."""
        self._finished.append(update_id)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._batch_seconds)
        await self.flush()

    async def flush(self) -> None:
        ids, self._finished = self._finished, []
        if not ids:
            return
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(InboundUpdate)
                .where(InboundUpdate.update_id.in_(ids))
                .values(status="done", payload=None, done_at=utcnow())
            )

    async def unfinished(self) -> list[dict[str, Any]]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(InboundUpdate.payload).where(InboundUpdate.status == "pending").order_by(InboundUpdate.update_id)
            )
            return [json.loads(p) for p in rows if p]

    async def prune(self, older_than: timedelta = timedelta(days=2)) -> int:
        """Finished rows are only kept to recognise a resent update; two days is far beyond Telegram's resends."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                delete(InboundUpdate).where(
                    InboundUpdate.status == "done", InboundUpdate.done_at < utcnow() - older_than
                )
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]


class UpdateProcessor:
    """Feeds journalled updates to the dispatcher, at most `concurrency` at a time, and marks them done."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, journal: UpdateJournal, concurrency: int = UPDATE_CONCURRENCY):
        self.dispatcher = dispatcher
        self.bot = bot
        self.journal = journal
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, raw: dict[str, Any] | Update) -> None:
        """Handle an update: a parsed one (polling already has it) or its JSON (webhook, journal on resume)."""
        task = asyncio.create_task(self._handle(raw))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, raw: dict[str, Any] | Update) -> None:
        async with self._slots:
            update_ = raw if isinstance(raw, Update) else Update.model_validate(raw, context={"bot": self.bot})
            kind = update_.event_type
            entry = JournalEntry(update_.update_id)
            started = time.perf_counter()
            try:
                await self.dispatcher.feed_update(self.bot, update_, journal_entry=entry)
            finally:
                metrics.UPDATES.labels(kind).inc()
                metrics.HANDLER_SECONDS.labels(kind).observe(time.perf_counter() - started)
            if not entry.marked:
                # The handler raised (its transaction rolled back) and the error handler answered: the update is
                # done, not retried.
                await self.journal.done(update_.update_id)

    async def room(self) -> int:
        """How many more updates this process takes now: up to twice `concurrency` (the second half waits for a
        slot, so the handlers never run dry while the next batch is fetched and journalled). Polling asks
        Telegram for no more than that, so a backlog stays at Telegram instead of in this process's memory."""
        held = 2 * self.concurrency
        while len(self._tasks) >= held:
            await asyncio.wait(list(self._tasks), return_when=asyncio.FIRST_COMPLETED)
        return held - len(self._tasks)

    async def resume(self) -> int:
        pending = await self.journal.unfinished()
        for raw in pending:
            self.submit(raw)
        if pending:
            log.info("resuming %d update(s) left unfinished by the last run", len(pending))
        return len(pending)

    async def drain(self, timeout: float = 30) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        await self.journal.flush()


def _as_sent(bot: Bot, updates: list[Update]) -> list[dict[str, Any]]:
    """The JSON Telegram sent for these updates: kept by kimbot's session, else dumped from the parsed ones."""
    raw = bot.session.take_raw_updates() if isinstance(bot.session, BotSession) else None
    if raw is not None and [r.get("update_id") for r in raw] == [u.update_id for u in updates]:
        return raw
    return [u.model_dump(mode="json", exclude_none=True, by_alias=True) for u in updates]


async def poll(
    processor: UpdateProcessor,
    allowed_updates: list[str],
    stop: asyncio.Event,
    polling_timeout: int = 25,
) -> None:
    """Long polling that journals every batch before the next getUpdates confirms it."""
    bot = processor.bot
    offset: int | None = None
    backoff = 0.5
    while not stop.is_set():
        limit = min(100, await processor.room())  # 100 is Telegram's maximum
        request = GetUpdates(offset=offset, limit=limit, timeout=polling_timeout, allowed_updates=allowed_updates)
        getter = asyncio.create_task(bot(request, request_timeout=polling_timeout + 10))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if stop.is_set():
            getter.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await getter
            return
        try:
            updates = getter.result()
        except TelegramRetryAfter as error:
            await asyncio.sleep(error.retry_after)
            continue
        except (TelegramNetworkError, TelegramServerError) as error:
            log.warning("getUpdates failed (%s); retrying in %.1f s", type(error).__name__, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30)
            continue
        backoff = 0.5
        if not updates:
            continue
        raw = _as_sent(bot, updates)
        fresh_ids = {r["update_id"] for r in await processor.journal.record(raw)}
        for parsed in updates:  # already parsed by aiogram (and bound to the bot): no second validation
            if parsed.update_id in fresh_ids:
                processor.submit(parsed)
        offset = updates[-1].update_id + 1

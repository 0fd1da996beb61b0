"""Inbound updates, recorded before Telegram is told they arrived, so a crash loses none.

Polling: each batch from getUpdates is written to the `inbound_updates` journal (update_id as key) before the next
getUpdates call confirms it to Telegram. Webhook: the update is written before the HTTP 200. The update's unit of
work marks the row done in its own transaction, so the update's database changes and its done mark commit together
(a handler that failed is marked done after the error handler answered). On start, rows that were never finished
are handled again; an update_id seen before is dropped. What can still happen twice is a Telegram call made by a
handler that the crash cut off between that call and its commit: Telegram has no idempotency key, so a restarted
bot cannot know the reply went out. Idle, that gap is a few milliseconds; with a full backlog (every handler slot
busy) tens of updates can be inside it at once (tests/test_crash_inbound.py prints the count).

Outages. A handler that fails on something passing – Telegram still failing after the session's own retries
(`bot.telegram.session`: 5xx, its nginx's HTML pages, timeouts, reset connections, long 429s), the database
unreachable or locked, Redis unreachable – gets no apology: its transaction rolled back, the update stays pending in
the journal and this process handles it again after a backoff with jitter (1 s doubling to 60 s, `UPDATE_ATTEMPTS`
tries in all, about four minutes). Still failing after that, or when the process stops meanwhile, it stays pending
and is handled at the next start. Meanwhile the same chat's next update may overtake it. Polling does not confirm
(advance the offset past) a batch it could not journal; it retries the journal write, so Telegram keeps those
updates until the database is back. A webhook request that cannot be journalled gets a 503, and Telegram sends it
again. 409 Conflict on getUpdates (another poller, or a webhook) is logged and retried; 401 (the token was revoked)
stops kimbot with `TokenRejected`, which says so.
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

import asyncpg
from aiogram import Bot, Dispatcher, F
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import GetUpdates
from aiogram.types import ErrorEvent, Update
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import Table, and_, bindparam, delete, or_, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.base import utcnow
from bot.db.models import InboundUpdate
from bot.ops import metrics
from bot.telegram.session import BotSession, backoff

log = logging.getLogger("kimbot.inbound")

# Updates handled at once by one process. Each holds a database connection until it commits (the pool is sized
# for this in bot.db.engine); with Telegram's ~50 ms per call that is still a few hundred updates per second. More
# buys nothing on the emulator (the process is CPU-bound: 100 → 32 → 16 kept the throughput) and widens what a
# kill -9 can cut off between a reply and its commit.
UPDATE_CONCURRENCY = 16
UPDATE_ATTEMPTS = 8  # an update failing on an outage is handled again 7 times (1, 2, 4 … 60 s apart), then at start


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
    unfinished: BaseException | None = None  # a passing failure: handle the update again (`register_retries`)


class TokenRejected(SystemExit):
    """Telegram answered 401 Unauthorized: the token was revoked or replaced. Retrying cannot help: kimbot stops."""

    def __init__(self) -> None:
        super().__init__(
            "kimbot: Telegram refused BOT_TOKEN (401 Unauthorized): the token was revoked or replaced in @BotFather. "
            "Set the current token in BOT_TOKEN and start kimbot again."
        )


_PASSING: tuple[type[BaseException], ...] = (
    TelegramServerError,  # 5xx, and a body that is not JSON (bot.telegram.session)
    TelegramNetworkError,  # timeouts, refused or reset connections
    TelegramRetryAfter,  # a 429 longer than the session sits out
    ClientDecodeError,
    TelegramUnauthorizedError,  # not passing, but the update was not handled: kept for the next token
    sa_exc.OperationalError,  # PostgreSQL gone, SQLite locked beyond its busy timeout
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # no connection free in the pool
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,  # "the database system is starting up"
    asyncpg.InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    OSError,  # refused connections (asyncpg's connect raises them unwrapped)
    TimeoutError,
)


def is_passing(error: BaseException) -> bool:
    """A failure of something kimbot depends on that goes away by itself: handling the update again can succeed."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, _PASSING)


async def _leave_unfinished(event: ErrorEvent, journal_entry: JournalEntry | None = None) -> None:
    if journal_entry is None:  # not fed by the processor: the ordinary error handler answers
        raise SkipHandler()
    journal_entry.unfinished = event.exception
    log.warning(
        "update %s failed on an outage (%s); it stays unfinished and is handled again",
        event.update.update_id,
        type(event.exception).__name__,
    )


def register_retries(dispatcher: Dispatcher) -> None:
    """Before the error handler that apologises: an update that failed on an outage is not apologised for and not
    marked done; `UpdateProcessor` handles it again."""
    dispatcher.errors.register(_leave_unfinished, F.exception.func(is_passing))


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
        for attempt in range(1, UPDATE_ATTEMPTS + 1):
            try:
                await self.flush()
                return
            except Exception as error:
                if not is_passing(error):
                    raise
                # Kept for the next try: lost, these updates would be handled again at the next start.
                log.warning("could not mark updates done (%s); trying again", type(error).__name__)
                await asyncio.sleep(backoff(attempt, 1.0, 30.0))

    async def flush(self) -> None:
        ids, self._finished = self._finished, []
        if not ids:
            return
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(InboundUpdate)
                    .where(InboundUpdate.update_id.in_(ids))
                    .values(status="done", payload=None, done_at=utcnow())
                )
        except BaseException:
            self._finished[:0] = ids
            raise

    async def unfinished(self) -> list[dict[str, Any]]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(InboundUpdate.payload).where(InboundUpdate.status == "pending").order_by(InboundUpdate.update_id)
            )
            return [json.loads(p) for p in rows if p]

    async def prune(self, older_than: timedelta = timedelta(days=2)) -> int:
        """Finished rows are only kept to recognise a resent update; two days is far beyond Telegram's resends
        (it keeps an update 24 hours). A row still pending after two days – its handling kept failing – goes too,
        with its payload (message text, names): otherwise it would be replayed at every start, for ever. Run by
        the retention job."""
        cutoff = utcnow() - older_than
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                delete(InboundUpdate).where(
                    or_(
                        and_(InboundUpdate.status == "done", InboundUpdate.done_at < cutoff),
                        and_(InboundUpdate.status != "done", InboundUpdate.received_at < cutoff),
                    )
                )
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]


class UpdateProcessor:
    """Feeds journalled updates to the dispatcher, at most `concurrency` at a time, and marks them done; an update
    that failed on an outage is fed again after a backoff (see the module docstring)."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, journal: UpdateJournal, concurrency: int = UPDATE_CONCURRENCY):
        self.dispatcher = dispatcher
        self.bot = bot
        self.journal = journal
        self.concurrency = concurrency
        self.retry_base = 1.0  # seconds before the first retry of an unfinished update (doubled, at most 60)
        self.token_rejected = asyncio.Event()  # a handler got 401: the process stops (`TokenRejected`)
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    def submit(self, raw: dict[str, Any] | Update) -> None:
        """Handle an update: a parsed one (polling already has it) or its JSON (webhook, journal on resume)."""
        task = asyncio.create_task(self._handle(raw))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, raw: dict[str, Any] | Update) -> None:
        update_ = raw if isinstance(raw, Update) else Update.model_validate(raw, context={"bot": self.bot})
        for attempt in range(1, UPDATE_ATTEMPTS + 1):
            entry = await self._feed(update_)
            if entry.unfinished is None or entry.marked:  # marked: it committed, what failed came after
                break
            if isinstance(entry.unfinished, TelegramUnauthorizedError):
                self.token_rejected.set()  # pending: handled at the next start, with a valid token
                return
            if attempt == UPDATE_ATTEMPTS:
                log.error("update %s still fails after %d tries; left for the next start", update_.update_id, attempt)
                return
            metrics.UPDATE_RETRIES.inc()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), backoff(attempt, self.retry_base, 60.0))
            if self._stopping.is_set():
                return  # pending: handled at the next start
        if not entry.marked:
            # The handler raised (its transaction rolled back) and the error handler answered: the update is
            # done, not retried.
            await self.journal.done(update_.update_id)

    async def _feed(self, update_: Update) -> JournalEntry:
        async with self._slots:
            kind = update_.event_type
            entry = JournalEntry(update_.update_id)
            started = time.perf_counter()
            try:
                await self.dispatcher.feed_update(self.bot, update_, journal_entry=entry)
            finally:
                metrics.UPDATES.labels(kind).inc()
                metrics.HANDLER_SECONDS.labels(kind).observe(time.perf_counter() - started)
            return entry

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
        self._stopping.set()  # updates waiting to be handled again stay pending, for the next start
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        try:
            await self.journal.flush()
        except Exception as error:
            if not is_passing(error):
                raise
            log.warning("could not mark the last updates done (%s): they are handled again at the next start", error)


def _as_sent(bot: Bot, updates: list[Update]) -> list[dict[str, Any]]:
    """The JSON Telegram sent for these updates: kept by kimbot's session, else dumped from the parsed ones."""
    raw = bot.session.take_raw_updates() if isinstance(bot.session, BotSession) else None
    if raw is not None and [r.get("update_id") for r in raw] == [u.update_id for u in updates]:
        return raw
    return [u.model_dump(mode="json", exclude_none=True, by_alias=True) for u in updates]


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _journal(processor: UpdateProcessor, raw: list[dict[str, Any]], stop: asyncio.Event) -> set[int] | None:
    """Journal a batch, trying again while the database is unreachable or locked; the ids not seen before, or None
    if kimbot stops first (the batch was never confirmed: Telegram sends it again)."""
    attempt = 0
    while not stop.is_set():
        try:
            return {r["update_id"] for r in await processor.journal.record(raw)}
        except Exception as error:
            if not is_passing(error):
                raise
            attempt += 1
            delay = backoff(attempt, 0.5, 10.0)
            log.warning(
                "cannot journal %d update(s) (%s); not confirming them to Telegram, trying again in %.1f s",
                len(raw),
                type(error).__name__,
                delay,
            )
            await _pause(stop, delay)
    return None


async def poll(
    processor: UpdateProcessor,
    allowed_updates: list[str],
    stop: asyncio.Event,
    polling_timeout: int = 25,
) -> None:
    """Long polling that journals every batch before the next getUpdates confirms it. Survives every failure but
    a rejected token (`TokenRejected`); also stops when a handler found the token rejected."""
    bot = processor.bot
    offset: int | None = None
    failures = 0
    while not stop.is_set():
        limit = min(100, await processor.room())  # 100 is Telegram's maximum
        request = GetUpdates(offset=offset, limit=limit, timeout=polling_timeout, allowed_updates=allowed_updates)
        getter = asyncio.create_task(bot(request, request_timeout=polling_timeout + 10))
        stoppers = {asyncio.create_task(stop.wait()), asyncio.create_task(processor.token_rejected.wait())}
        await asyncio.wait({getter, *stoppers}, return_when=asyncio.FIRST_COMPLETED)
        for stopper in stoppers:
            stopper.cancel()
        if stop.is_set() or processor.token_rejected.is_set():
            getter.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await getter
            if processor.token_rejected.is_set():
                raise TokenRejected()
            return
        delay: float | None = None
        try:
            updates = getter.result()
        except TelegramUnauthorizedError:
            raise TokenRejected() from None
        except TelegramRetryAfter as error:
            delay = float(error.retry_after)
            log.warning("getUpdates: Telegram asks to wait %s s (429)", error.retry_after)
        except TelegramConflictError as error:
            failures += 1
            delay = backoff(failures, 1.0, 30.0)
            log.warning(
                "getUpdates: conflict (%s): another process polls with this token, or a webhook is set; "
                "retrying in %.1f s",
                error.message,
                delay,
            )
        except Exception as error:  # 5xx, HTML pages, timeouts, resets, anything else: never an exit
            failures += 1
            delay = backoff(failures, 0.5, 30.0)
            log.warning(
                "getUpdates failed (%s); retrying in %.1f s",
                type(error).__name__,
                delay,
                exc_info=not is_passing(error),  # a surprise gets its traceback
            )
        if delay is not None:
            await _pause(stop, delay)
            continue
        failures = 0
        if not updates:
            continue
        raw = _as_sent(bot, updates)
        fresh_ids = await _journal(processor, raw, stop)
        if fresh_ids is None:
            return
        for parsed in updates:  # already parsed by aiogram (and bound to the bot): no second validation
            if parsed.update_id in fresh_ids:
                processor.submit(parsed)
        offset = updates[-1].update_id + 1

"""Engine and session factory for SQLite (embedded default) and PostgreSQL.

Every connection notes whether its transaction has written (`bot.db.unit_of_work.WRITTEN`), so an update commits
what it wrote before it talks to Telegram. (An in-process write lock for SQLite was tried and deadlocked under the
booking race tests; SQLite's busy timeout still queues writers: issue 18.)
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.db.unit_of_work import WRITTEN, UnitSession, writes


def _prepare_sqlite_path(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _watch_transactions(engine: AsyncEngine) -> None:
    """Note each connection's first write; forget it once its transaction has ended (the dialect's commit or
    rollback having returned: SQLAlchemy's `commit` event fires before the COMMIT)."""

    def before_cursor_execute(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if writes(statement):
            conn.info[WRITTEN] = True

    event.listen(engine.sync_engine, "before_cursor_execute", before_cursor_execute)
    dialect: Dialect = engine.sync_engine.dialect
    for name in ("do_commit", "do_rollback", "do_close", "do_terminate"):
        _after_transaction(dialect, name)


def _after_transaction(dialect: Dialect, name: str) -> None:
    ended = getattr(dialect, name)

    def end(connection: Any) -> None:
        try:
            ended(connection)
        finally:
            # (a bare DBAPI connection has no `info`, nor the engine's very first one)
            with contextlib.suppress(AttributeError, NotImplementedError):
                connection.info.pop(WRITTEN, None)

    setattr(dialect, name, end)  # on this engine's dialect only


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine; SQLite gets WAL, foreign keys and a busy timeout."""
    # SQL parameters hold the journalled update JSON, typed addresses and names: keep them out of error messages
    # (and so out of logged tracebacks) and out of SQLAlchemy's own logging.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        _prepare_sqlite_path(url)
        # One writer at a time anyway: a few connections (each with its own thread and page cache) keep the readers
        # going; updates beyond them wait for a connection (a larger pool was slower and bigger: bench/README.md).
        kwargs.setdefault("pool_size", 8)
        kwargs.setdefault("max_overflow", 4)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL syncs at checkpoints, not at every commit: a crashed process loses nothing,
            # only a power cut can lose the last commits (https://www.sqlite.org/pragma.html#pragma_synchronous).
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        _watch_transactions(engine)
        return engine
    # Transactions that write are short (no Telegram call inside them, `bot.db.unit_of_work`), but a session is
    # held for the whole of an update: the pool keeps a connection for each update handled at once
    # (inbound.UPDATE_CONCURRENCY) plus a few for background work.
    # Overflow connections are closed when returned: under load they were opened and closed again for every update
    # (TCP, TLS probe, prepared statements).
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 10)
    # Connections the server closed (a restart, an administrator's pg_terminate_backend) are noticed when they are
    # taken from the pool, for free: asyncpg saw the socket close. SQLAlchemy's pre-ping asked the server instead,
    # three round trips (BEGIN, a ping, ROLLBACK) before every update's first statement.
    # A connection silently cut by the network is not seen that way; pool_recycle bounds how old one can get.
    kwargs.setdefault("pool_recycle", 1800)
    engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine, "checkout", discard_closed)
    _watch_transactions(engine)
    return engine


def discard_closed(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Pool checkout: a connection asyncpg knows to be closed is thrown away and the pool takes another."""
    if record.driver_connection is not None and record.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def insert_for(session: AsyncSession) -> Any:
    """The INSERT of the session's database, with its ON CONFLICT clauses (PostgreSQL's or SQLite's)."""
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    return pg_insert if postgres else sqlite_insert


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=UnitSession)

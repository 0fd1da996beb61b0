"""The PostgreSQL pool without pre-ping: a connection the server closed is replaced when it is taken from the pool."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DisconnectionError

from bot.db.engine import create_engine, discard_closed


def test_a_closed_driver_connection_is_discarded_at_checkout() -> None:
    def record(closed: bool) -> SimpleNamespace:
        return SimpleNamespace(driver_connection=SimpleNamespace(is_closed=lambda: closed))

    discard_closed(None, record(closed=False), None)  # an open one is handed out
    with pytest.raises(DisconnectionError):
        discard_closed(None, record(closed=True), None)


async def test_connections_the_server_terminated_are_replaced(database_url: str) -> None:
    """On PostgreSQL (what `.ci/run` uses): an administrator's pg_terminate_backend, as a server restart does it,
    closes every pooled connection; the next statements get fresh ones instead of an error. (SQLite has no server.)"""
    engine = create_engine(database_url)
    try:
        postgres = engine.dialect.name == "postgresql"
        backend = text("SELECT pg_backend_pid()" if postgres else "SELECT 1")
        async with engine.connect() as conn:  # two connections in the pool
            async with engine.connect() as other:
                pooled = {(await other.execute(backend)).scalar()}
            pooled.add((await conn.execute(backend)).scalar())
        if postgres:
            admin = create_engine(database_url)
            async with admin.connect() as conn:
                for pid in pooled:  # only this engine's connections: the database may be shared
                    await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await admin.dispose()
            await asyncio.sleep(0.2)  # the closed sockets reach asyncpg
        for _ in range(3):
            async with engine.connect() as conn:
                now = (await conn.execute(backend)).scalar()
                assert now is not None and (not postgres or now not in pooled)
    finally:
        await engine.dispose()

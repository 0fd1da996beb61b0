"""The database (and Redis) going away while clients write: nothing is lost, and nothing is answered twice beyond
the updates the journal had to handle again (`kimbot_update_retries_total`).

On PostgreSQL + Redis kimbot's connections run through a TCP proxy (tests/support/tcp_proxy.py) that cuts them for
about ten seconds: polling does not confirm what it could not journal (the updates stay at Telegram), updates cut
off mid-way are handled again, /healthz reports both outages. On SQLite, the other database, another process holds
the write lock for 12 s instead."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.app import build_app
from bot.core.config import Settings
from bot.db.models import InboundUpdate
from bot.emulator import BotAPIEmulator
from bot.ops import metrics
from bot.runtime import health
from tests.support import Running
from tests.support.tcp_proxy import TcpProxy

CLIENTS = (7101, 7102, 7103)
ROUNDS = 4  # each client writes this often during the outage, WRITE_EVERY seconds apart
WRITE_EVERY = 2.5
HELP = "What kimbot can do for you"

# Another process: takes SQLite's write lock, says so, holds it, lets go.
HOLD_WRITE_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
"""


def answers(emulator: BotAPIEmulator, chat_id: int) -> int:
    return sum(1 for m in emulator.bot_messages(chat_id) if HELP in (m.get("text") or ""))


def retries() -> float:
    return float(metrics.UPDATE_RETRIES._value.get())


async def write_for_a_while(emulator: BotAPIEmulator) -> None:
    """The clients go on writing (one /help each, every WRITE_EVERY seconds): the pauses are theirs."""
    for _ in range(ROUNDS):
        for user in CLIENTS:
            await emulator.send_message(user, "/help")
        await asyncio.sleep(WRITE_EVERY)


async def everything_answered(kimbot: Running, emulator: BotAPIEmulator, retried_before: float) -> None:
    await emulator.wait_for(lambda: all(answers(emulator, u) >= 1 + ROUNDS for u in CLIENTS), 150)
    await kimbot.handled.wait(60)
    twice = sum(answers(emulator, u) - (1 + ROUNDS) for u in CLIENTS)
    assert twice <= retries() - retried_before  # an answer twice only for an update handled again
    async with kimbot.app.sessions() as session:
        statuses = (await session.scalars(select(InboundUpdate.status))).all()
    assert len(statuses) == len(CLIENTS) * (1 + ROUNDS) and set(statuses) == {"done"}
    _healthy, report = await health(kimbot.app)
    assert report["database"] == "ok" and report.get("redis", "ok") == "ok", report


async def start(settings: Settings, emulator: BotAPIEmulator) -> Running:
    kimbot = Running(await build_app(settings), emulator)
    await kimbot.start()
    for user in CLIENTS:  # registered, and the connection pools warm, before the outage
        emulator.add_user(user, f"Client {user}")
        await emulator.send_message(user, "/help")
    await emulator.wait_for(lambda: all(answers(emulator, u) == 1 for u in CLIENTS), 30)
    await kimbot.handled.wait()
    return kimbot


async def test_an_outage_of_the_database_and_redis_loses_nothing(settings: Settings, emulator: BotAPIEmulator) -> None:
    if settings.database_url.startswith("postgresql"):
        await cut_postgres_and_redis(settings, emulator)
    else:
        await lock_sqlite(settings, emulator)


async def cut_postgres_and_redis(settings: Settings, emulator: BotAPIEmulator) -> None:
    proxies: list[TcpProxy] = []
    routed: dict[str, Any] = {}
    for field, url in (("database_url", settings.database_url), ("redis_url", settings.redis_url)):
        if url:
            target = make_url(url)
            proxy = TcpProxy(target.host or "127.0.0.1", target.port or (5432 if field == "database_url" else 6379))
            await proxy.start()
            proxies.append(proxy)
            routed[field] = proxy.route(url)
    kimbot = await start(settings.model_copy(update=routed), emulator)
    try:
        retried_before = retries()
        for proxy in proxies:
            proxy.cut()
        healthy, report = await health(kimbot.app)
        assert not healthy and report["database"].startswith("error"), report
        if settings.redis_url:
            assert report["redis"].startswith("error"), report
        await write_for_a_while(emulator)
        # Polling could not journal them, so it has not confirmed them: Telegram still holds them.
        assert emulator.unconfirmed_updates() > 0
        assert all(answers(emulator, u) == 1 for u in CLIENTS)
        for proxy in proxies:
            proxy.restore()
        await everything_answered(kimbot, emulator, retried_before)
    finally:
        await kimbot.stop()
        for proxy in proxies:
            await proxy.stop()


async def lock_sqlite(settings: Settings, emulator: BotAPIEmulator) -> None:
    database = make_url(settings.database_url).database
    assert database
    kimbot = await start(settings, emulator)
    try:
        retried_before = retries()
        locker = await asyncio.create_subprocess_exec(
            sys.executable, "-c", HOLD_WRITE_LOCK, database, "12", stdout=asyncio.subprocess.PIPE
        )
        assert locker.stdout is not None
        assert (await locker.stdout.readline()).strip() == b"locked"
        _healthy, report = await health(kimbot.app)
        assert report["database"] == "ok"  # readers go on while another process writes (WAL)
        await write_for_a_while(emulator)
        assert locker.returncode is None  # still holding the lock: the clients wrote while it was held
        await locker.wait()
        await everything_answered(kimbot, emulator, retried_before)
    finally:
        await kimbot.stop()

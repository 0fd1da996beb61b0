"""The outbox drain in real `kimbot run` processes: killed with SIGKILL mid-drain and restarted, and two processes
draining one database side by side. On PostgreSQL claims use FOR UPDATE SKIP LOCKED, on SQLite a conditional
UPDATE; both must deliver every reminder, and never the same one twice except those in flight at a kill."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select, update

from bot.core.config import Settings
from bot.core.county import load_county
from bot.db.base import utcnow
from bot.db.models import Client
from bot.db.models_outbox import OutboxMessage
from bot.emulator import BotAPIEmulator
from bot.services import documents
from tests.support import ROOT
from tests.support.processes import kimbot_env

FIRST_CHAT = 20_000
COUNT = 1000


async def _queue_due_reminders(settings: Settings, emulator: BotAPIEmulator, count: int) -> None:
    """`count` clients, each with a passport expiring in four months: one reminder each (3 months before),
    made due now."""
    from bot.app import prepare_database

    engine, sessions = await prepare_database(settings, load_county(None))
    try:
        today = utcnow().astimezone(settings.tz).date()
        expires = date(today.year + (today.month + 3) // 12, (today.month + 3) % 12 + 1, 15)
        async with sessions() as session, session.begin():
            for n in range(count):
                telegram_id = FIRST_CHAT + n
                emulator.add_user(telegram_id, f"Client {n}")
                client = Client(telegram_id=telegram_id, reference=f"K-C{n:05d}", locale="en", municipality="kall")
                session.add(client)
                await session.flush()
                await documents.add(
                    session, client_id=client.id, doc_type="passport", expires_on=expires, tz=settings.tz
                )
            await session.execute(update(OutboxMessage).values(due_at=utcnow() - timedelta(seconds=1)))
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == count
    finally:
        await engine.dispose()


async def _start(settings: Settings, emulator: BotAPIEmulator, **env: str) -> asyncio.subprocess.Process:
    environment = kimbot_env(settings, emulator, **env)
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=ROOT, env=environment)


def _delivered(emulator: BotAPIEmulator) -> Counter[int]:
    return Counter(
        c.chat_id
        for c in emulator.calls
        if c.ok and c.method == "sendmessage" and c.chat_id is not None and c.chat_id >= FIRST_CHAT
    )


async def _statuses(settings: Settings) -> dict[str, int]:
    from bot.db.engine import create_engine, create_session_factory
    from bot.delivery import outbox

    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            return await outbox.status_counts(session)
    finally:
        await engine.dispose()


async def test_kill_9_mid_drain_then_restart_delivers_everything(settings: Settings, emulator: BotAPIEmulator) -> None:
    await _queue_due_reminders(settings, emulator, COUNT)
    env = {"DELIVERY_RATE": "100", "OUTBOX_LEASE_SECONDS": "3"}

    first = await _start(settings, emulator, **env)
    try:
        await emulator.wait_for(lambda: len(_delivered(emulator)) >= 300, 120)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    delivered_before = len(_delivered(emulator))
    in_flight = (await _statuses(settings)).get("sending", 0)
    assert delivered_before < COUNT, "the drain had finished before the kill"

    second = await _start(settings, emulator, **env)
    try:
        await emulator.wait_for(lambda: len(_delivered(emulator)) >= COUNT, 120)
        await asyncio.sleep(2)  # anything sent twice would show up now
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 30)

    counts = _delivered(emulator)
    duplicates = sum(n - 1 for n in counts.values())
    print(
        f"\ncrash test: {delivered_before} delivered before kill -9, {in_flight} in flight at the kill, "
        f"{duplicates} delivered twice, {len(counts)} of {COUNT} delivered"
    )
    assert len(counts) == COUNT
    assert duplicates <= in_flight
    assert (await _statuses(settings)) == {"sent": COUNT}


async def test_two_workers_deliver_each_row_once(settings: Settings, emulator: BotAPIEmulator) -> None:
    await _queue_due_reminders(settings, emulator, COUNT)
    env = {"DELIVERY_RATE": "40", "OUTBOX_LEASE_SECONDS": "60"}
    workers = [await _start(settings, emulator, **env) for _ in range(2)]
    try:
        await emulator.wait_for(lambda: len(_delivered(emulator)) >= COUNT, 120)
        await asyncio.sleep(2)
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            await asyncio.wait_for(process.wait(), 30)

    counts = _delivered(emulator)
    assert len(counts) == COUNT
    assert max(counts.values()) == 1, [chat for chat, n in counts.items() if n > 1][:10]
    assert (await _statuses(settings)) == {"sent": COUNT}
    # Both processes took part: each is limited to 40 msg/s, so one alone would need 25 s.
    times = [c.at for c in emulator.calls if c.ok and c.method == "sendmessage" and (c.chat_id or 0) >= FIRST_CHAT]
    print(f"\ntwo workers: {COUNT} delivered once each in {max(times) - min(times):.1f} s")
    assert max(times) - min(times) < 20

"""Benchmark: drain N due reminders through the production delivery path (outbox claim → render → PTB ExtBot with
AIORateLimiter) against the Bot API emulator enforcing Telegram's 30 messages per sliding second.

    .venv/bin/python bench/bench_delivery.py [--count 3000] [--rate 29.5] [--limit 30] [--database-url URL]

Prints messages per second (first to last successful send, and wall time of the drain) and the number of 429s.
Target: >= 28.5 msg/s (95 % of the limit) and no 429.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import update

from bot.app import build_delivery, build_i18n, prepare_database
from bot.core.config import Settings
from bot.core.county import load_county
from bot.db.base import utcnow
from bot.db.models import Client
from bot.db.models_outbox import OutboxMessage
from bot.emulator import BotAPIEmulator
from bot.services import documents

TOKEN = "123456789:BENCH-token-for-the-emulator-only"
FIRST_CHAT = 50_000


async def main(count: int, rate: float, limit: int, database_url: str | None, concurrency: int) -> dict[str, float]:
    emulator = BotAPIEmulator(rate_limit=limit)
    await emulator.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=emulator.base_url,
            DATABASE_URL=database_url or f"sqlite+aiosqlite:///{tmp}/bench.db",
            DELIVERY_RATE=rate,
            KIMBOT_DATA_DIR=Path(tmp) / "var",
            _env_file=None,
        )  # type: ignore[call-arg]
        county = load_county(None)
        engine, sessions = await prepare_database(settings, county)
        today = utcnow().astimezone(settings.tz).date()
        expires = date(today.year + (today.month + 3) // 12, (today.month + 3) % 12 + 1, 15)
        async with sessions() as session, session.begin():
            for n in range(count):
                emulator.add_user(FIRST_CHAT + n, f"Client {n}")
                client = Client(telegram_id=FIRST_CHAT + n, reference=f"K-B{n:05d}", locale="en", municipality="kall")
                session.add(client)
                await session.flush()
                await documents.add(
                    session, client_id=client.id, doc_type="passport", expires_on=expires, tz=settings.tz
                )
            await session.execute(update(OutboxMessage).values(due_at=utcnow() - timedelta(seconds=1)))
        sender, worker = build_delivery(settings, county, sessions, build_i18n(settings))
        if concurrency:
            worker.config.concurrency = concurrency
        await sender.bot.initialize()  # getMe, outside the measurement
        started = time.monotonic()
        stats = await worker.drain_once()
        wall = time.monotonic() - started
        await sender.close()
        await engine.dispose()
    sends = [c.at for c in emulator.calls if c.ok and c.method == "sendmessage"]
    await emulator.stop()
    span = max(sends) - min(sends) if len(sends) > 1 else float("nan")
    result = {
        "sent": stats.sent,
        "msg_per_s": (len(sends) - 1) / span,
        "msg_per_s_wall": stats.sent / wall,
        "too_many_requests": emulator.too_many_requests,
        "seconds": wall,
    }
    print(
        f"{stats.sent} of {count} delivered in {wall:.1f} s: {result['msg_per_s']:.2f} msg/s (first to last send), "
        f"{result['msg_per_s_wall']:.2f} msg/s (wall), {emulator.too_many_requests} × 429 "
        f"[rate {rate}/s, {worker.config.concurrency} in flight, emulator limit {limit}/s]"
    )
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=Settings.model_fields["delivery_rate"].default)
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--concurrency", type=int, default=0, help="sends in flight (default: the worker's)")
    args = parser.parse_args()
    outcome = asyncio.run(main(args.count, args.rate, args.limit, args.database_url, args.concurrency))
    ok = outcome["msg_per_s"] >= 28.5 and outcome["too_many_requests"] == 0 and outcome["sent"] == args.count
    raise SystemExit(0 if ok else 1)

"""Benchmark: kimbot's full update path (journal, database, FSM, i18n) against a bare aiogram echo bot, both
polling the same Bot API emulator, in the same run. Prints throughput, the ratio, p50/p99 latency at a steady
100 updates/s, and peak RSS with 10 000 clients in the database.

    .venv/bin/python bench/bench_throughput.py                    # SQLite
    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test BENCH_REDIS_URL=redis://127.0.0.1:6379/15 \\
        .venv/bin/python bench/bench_throughput.py                # PostgreSQL + Redis

BENCH_ROUNDS (default 3) repeats the three runs; the figures printed last are medians.

Targets (issue 9): throughput ≥ 0.5 × the echo bot's; p99 < 50 ms at 100 updates/s on PostgreSQL; peak RSS
≤ 1.3 × the echo bot's. kimbot is measured twice: `kimbot run` (everything in one process, the embedded default)
and `kimbot run --no-scheduler` (the updates-only `bot` service of docker-compose; a `worker` sends).
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from bot.db.base import utcnow  # noqa: E402
from bot.db.engine import create_engine  # noqa: E402
from bot.db.migrate import upgrade_async  # noqa: E402
from bot.db.models import Client  # noqa: E402
from bot.emulator import BotAPIEmulator  # noqa: E402

TOKEN = "123456789:BENCH-token-for-the-emulator-only"
CLIENTS = 10_000
BURST = 2_000
STEADY_RATE = 100
STEADY_SECONDS = 10
FIRST_USER = 1_000_000


async def seed(url: str) -> None:
    if url.startswith("postgresql"):
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    await upgrade_async(url)
    engine = create_engine(url)
    now = utcnow()
    async with engine.begin() as conn:
        # Onboarded clients who already wrote today: kimbot notes a contact at most once a day, so their /help
        # reads the database (client, FSM) and writes nothing but the journal.
        rows = [
            {
                "telegram_id": FIRST_USER + i,
                "reference": f"K-B{i:06d}",
                "locale": ("ar", "uk", "fa", "de")[i % 4],
                "municipality": "euskirchen",
                "reachable": True,
                "privacy_acknowledged_at": now,
                "last_contact_at": now,
            }
            for i in range(CLIENTS)
        ]
        for chunk in range(0, len(rows), 2000):
            await conn.execute(insert(Client), rows[chunk : chunk + 2000])
        # Fresh statistics, and no dead rows for autovacuum to clean up in the middle of a measurement.
        await conn.execute(text("ANALYZE"))
    await engine.dispose()


async def forget_updates(url: str) -> None:
    """Each run has a new emulator whose update ids start again at 1: clear the journal so none looks resent."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        # TRUNCATE on PostgreSQL: a DELETE would leave dead rows that autovacuum cleans during the next run.
        statement = "TRUNCATE inbound_updates" if url.startswith("postgresql") else "DELETE FROM inbound_updates"
        await conn.execute(text(statement))
    await engine.dispose()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def start(args: list[str], env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *args, cwd=ROOT, env={**os.environ, **env}, stdout=asyncio.subprocess.DEVNULL
    )


async def measure(emulator: BotAPIEmulator, label: str, text_of: str) -> dict[str, float]:
    users = [FIRST_USER + i for i in range(CLIENTS)]
    for user in users:
        emulator.add_user(user, "B", language_code="en")

    def replies() -> int:
        return sum(1 for c in emulator.calls if c.ok and c.method == "sendmessage")

    # Warm-up: the first updates pay for imports and pools.
    base = replies()
    for user in users[:50]:
        await emulator.send_message(user, text_of)
    await emulator.wait_for(lambda: replies() >= base + 50, 120)

    base = replies()
    started = time.perf_counter()
    for i in range(BURST):
        await emulator.send_message(users[i % len(users)], text_of)
    await emulator.wait_for(lambda: replies() >= base + BURST, 300)
    throughput = BURST / (time.perf_counter() - started)

    latencies: list[float] = []
    interval = 1 / STEADY_RATE
    pending: dict[int, float] = {}
    seen = len(emulator.calls)
    t0 = time.perf_counter()
    for i in range(STEADY_RATE * STEADY_SECONDS):
        user = users[(i * 7919) % len(users)]
        while user in pending:
            user += 1
        pending[user] = time.monotonic()
        await emulator.send_message(user, text_of)
        for call in emulator.calls[seen:]:
            if call.ok and call.method == "sendmessage" and call.chat_id in pending:
                latencies.append((call.at - pending.pop(call.chat_id)) * 1000)
        seen = len(emulator.calls)
        await asyncio.sleep(max(0.0, t0 + (i + 1) * interval - time.perf_counter()))
    deadline = time.monotonic() + 30
    while pending and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
        for call in emulator.calls[seen:]:
            if call.ok and call.method == "sendmessage" and call.chat_id in pending:
                latencies.append((call.at - pending.pop(call.chat_id)) * 1000)
        seen = len(emulator.calls)
    latencies.sort()
    return {
        "throughput": throughput,
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "lost": float(len(pending)),
    }


async def run_one(label: str, args: list[str], env: dict[str, str], text_of: str) -> dict[str, float]:
    async with BotAPIEmulator() as emulator:
        process = await start(
            args + ([TOKEN, emulator.base_url] if "echo_bot" in args[-1] else []),
            {**env, "TELEGRAM_API_URL": emulator.base_url},
        )
        try:
            # Ready: aiogram calls getMe before polling; kimbot publishes its commands first.
            await emulator.wait_for(lambda: any(c.method in ("getme", "deletewebhook") for c in emulator.calls), 120)
            await asyncio.sleep(2)
            result = await measure(emulator, label, text_of)
            result["rss"] = peak_rss_mb(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
    return result


def median_of(results: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in results)


async def main() -> None:
    database = os.environ.get("BENCH_DATABASE_URL")
    redis = os.environ.get("BENCH_REDIS_URL", "")
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    labels = ("aiogram echo", "kimbot run", "kimbot bot-only")
    results: dict[str, list[dict[str, float]]] = {label: [] for label in labels}
    where = "PostgreSQL + Redis" if database else "SQLite"
    print(f"database: {where}; {CLIENTS} clients; burst {BURST} updates; steady {STEADY_RATE}/s for {STEADY_SECONDS} s")
    with tempfile.TemporaryDirectory() as tmp:
        url = database or f"sqlite+aiosqlite:///{tmp}/bench.db"
        await seed(url)
        env = {
            "BOT_TOKEN": TOKEN,
            "DATABASE_URL": url,
            "REDIS_URL": redis,
            "KIMBOT_DATA_DIR": tmp,
            "HTTP_PORT": "0",
            "POLLING_TIMEOUT": "1",
            "LOG_LEVEL": "WARNING",
        }
        # The machine is shared and noisy: the three run one after another, `rounds` times, and each round's
        # ratio compares runs minutes apart at most. All in one process (the embedded default: updates,
        # scheduler, outbox delivery), and the updates-only process that docker-compose runs as `bot`.
        for round_ in range(1, rounds + 1):
            echo = await run_one("echo", [sys.executable, str(ROOT / "bench" / "echo_bot.py")], {}, "hello")
            await forget_updates(url)
            whole = await run_one("kimbot", [sys.executable, "-m", "bot", "run"], env, "/help")
            await forget_updates(url)
            only = await run_one("kimbot", [sys.executable, "-m", "bot", "run", "--no-scheduler"], env, "/help")
            for label, r in zip(labels, (echo, whole, only), strict=True):
                results[label].append(r)
                print(
                    f"  round {round_}  {label:<16} {r['throughput']:7.1f} updates/s   p50 {r['p50']:6.1f} ms   "
                    f"p99 {r['p99']:6.1f} ms   peak RSS {r['rss']:6.1f} MB   unanswered {int(r['lost'])}",
                    flush=True,
                )
    print(f"medians of {rounds} rounds:")
    for label in labels:
        print(
            f"  {label:<16} {median_of(results[label], 'throughput'):7.1f} updates/s   "
            f"p99 {median_of(results[label], 'p99'):6.1f} ms   peak RSS {median_of(results[label], 'rss'):6.1f} MB"
        )
    echoes = results[labels[0]]
    for label in labels[1:]:
        mine = results[label]
        speed = statistics.median(k["throughput"] / e["throughput"] for k, e in zip(mine, echoes, strict=True))
        memory = statistics.median(k["rss"] / e["rss"] for k, e in zip(mine, echoes, strict=True))
        print(
            f"  {label}: throughput {speed:.2f} × echo (target ≥ 0.5), peak RSS {memory:.2f} × echo (target ≤ 1.3), "
            f"p99 {median_of(mine, 'p99'):.1f} ms (target < 50)   [median of the rounds' ratios]"
        )


if __name__ == "__main__":
    asyncio.run(main())

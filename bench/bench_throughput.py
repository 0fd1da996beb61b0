"""Benchmark: kimbot's whole update path (journal, database, FSM, i18n, Telegram calls) against a bare aiogram echo
bot, both polling the same Bot API emulator, in the same run. Each scenario injects a burst of updates at once
(throughput: updates until the last one got its first answer, per second) and then a steady rate (p50/p99 time to
the first answer):

- returning: /help from onboarded clients (10 000 in the database), burst 2 000, steady 100/s; peak RSS;
- first: /start from 2 000 people kimbot has never seen (first contact), steady 50 new people/s;
- mixed: the same burst, a third each new people, taps on "Write to my case manager", messages to case managers;
- relay: 1 000 messages from 200 clients whose forum topics exist, steady 20 messages/s (answer: the copy in the
  topic); checks that none is lost or copied twice and that every client's order is kept.

    .venv/bin/python bench/bench_throughput.py                    # SQLite
    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test_h1 BENCH_REDIS_URL=redis://127.0.0.1:6379/1 \\
        .venv/bin/python bench/bench_throughput.py                # PostgreSQL + Redis

BENCH_ROUNDS (default 3) repeats everything; BENCH_SCENARIOS (default "returning,first,mixed,relay") picks. The
figures printed last are medians of the rounds; ratios are medians of each round's ratio to that round's echo bot.
Targets: issue 9 (returning ≥ 0.5 ×, p99 < 50 ms on PostgreSQL, RSS ≤ 1.3 ×) and issue 18 (first contact ≥ 0.25 ×
on SQLite and ≥ 0.4 × on PostgreSQL with p99 < 200 ms at 50/s; relay ≥ 0.35 × with p99 ≤ 25 ms at 20/s).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text, update  # noqa: E402

from bot.db.base import utcnow  # noqa: E402
from bot.db.engine import create_engine  # noqa: E402
from bot.db.migrate import upgrade_async  # noqa: E402
from bot.db.models import Client  # noqa: E402
from bot.db.models_handoff import Conversation  # noqa: E402
from bot.emulator import BotAPIEmulator  # noqa: E402
from bot.telegram.callbacks import MenuCb  # noqa: E402

TOKEN = "123456789:BENCH-token-for-the-emulator-only"
STAFF_GROUP = -1001000000001
CLIENTS = 10_000
TOPIC_CLIENTS = 200  # the first of the clients have a conversation and a topic (relay, mixed)
FIRST_USER = 1_000_000
NEW_USERS = itertools.count(5_000_000, 100_000)  # a fresh block of never-seen people per run
STEADY_SECONDS = 10
LANGUAGES = ("ar", "uk", "fa", "de", "en")

Key = tuple[Any, ...]
Inject = Callable[[BotAPIEmulator], Awaitable[Key]]


def answer_key(call: Any) -> Key | None:
    """What a bot call answers: a chat's message, a tap, or a message copied into a topic."""
    if not call.ok:
        return None
    if call.method == "sendmessage":
        return ("chat", call.chat_id)
    if call.method == "answercallbackquery":
        return ("tap", str(call.params.get("callback_query_id")))
    if call.method == "copymessage":
        return ("copy", int(call.params["from_chat_id"]), int(call.params["message_id"]))
    return None


class Tracker:
    """Matches each injected update with the first bot call that answers it (oldest waiting update first)."""

    def __init__(self, emulator: BotAPIEmulator):
        self.emu, self.seen = emulator, len(emulator.calls)
        self.waiting: dict[Key, collections.deque[float]] = {}
        self.latencies: list[float] = []
        self.last = 0.0
        self.pending = 0

    def expect(self, key: Key, at: float) -> None:
        self.waiting.setdefault(key, collections.deque()).append(at)
        self.pending += 1

    def scan(self) -> int:
        calls = self.emu.calls
        for call in calls[self.seen :]:
            key = answer_key(call)
            queue = self.waiting.get(key) if key else None
            if queue:
                self.latencies.append((call.at - queue.popleft()) * 1000)
                self.last = max(self.last, call.at)
                self.pending -= 1
        self.seen = len(calls)
        return self.pending


async def burst(emulator: BotAPIEmulator, injects: list[Inject]) -> float:
    tracker = Tracker(emulator)
    started = time.monotonic()
    for inject in injects:
        tracker.expect(await inject(emulator), time.monotonic())
    await emulator.wait_for(lambda: tracker.scan() == 0, 600)
    return len(injects) / (tracker.last - started)


async def steady(emulator: BotAPIEmulator, injects: list[Inject], rate: float) -> dict[str, float]:
    tracker = Tracker(emulator)
    t0 = time.perf_counter()
    for i, inject in enumerate(injects):
        tracker.expect(await inject(emulator), time.monotonic())
        tracker.scan()
        await asyncio.sleep(max(0.0, t0 + (i + 1) / rate - time.perf_counter()))
    with contextlib.suppress(TimeoutError):  # what is still unanswered after 30 s counts as lost
        await emulator.wait_for(lambda: tracker.scan() == 0, 30)
    latencies = sorted(tracker.latencies)
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)],
        "lost": float(tracker.scan()),
    }


def says(user: int, words: str) -> Inject:
    async def inject(emulator: BotAPIEmulator) -> Key:
        await emulator.send_message(user, words)
        return ("chat", user)

    return inject


def writes_to_topic(user: int, n: int) -> Inject:
    async def inject(emulator: BotAPIEmulator) -> Key:
        sent = await emulator.send_message(user, f"m{n} from {user}")
        return ("copy", user, sent["message_id"])

    return inject


def taps(user: int) -> Inject:
    """A tap on "Write to my case manager" under a menu the bot sent earlier."""

    async def inject(emulator: BotAPIEmulator) -> Key:
        button = {"text": "Write", "callback_data": MenuCb(action="write").pack()}
        message = {
            "message_id": emulator._next_message_id(user),
            "date": int(time.time()),
            "chat": emulator.chats[user],
            "from": {"id": int(TOKEN.split(":")[0]), "is_bot": True, "first_name": "kimbot"},
            "text": "Menu",
            "reply_markup": {"inline_keyboard": [[button]]},
        }
        emulator.messages[(user, message["message_id"])] = message
        return ("tap", await emulator.press(user, message, data=button["callback_data"]))

    return inject


def newcomers(emulator: BotAPIEmulator, count: int) -> list[Inject]:
    base = next(NEW_USERS)
    for i in range(count):
        emulator.add_user(base + i, "N", language_code=LANGUAGES[i % len(LANGUAGES)])
    return [says(base + i, "/start") for i in range(count)]


def returning(count: int, step: int = 1) -> list[Inject]:
    return [says(FIRST_USER + (i * step) % CLIENTS, "/help") for i in range(count)]


def relay(count: int, offset: int = 0) -> list[Inject]:
    return [writes_to_topic(FIRST_USER + i % TOPIC_CLIENTS, offset + i) for i in range(count)]


def mixed(emulator: BotAPIEmulator, count: int) -> list[Inject]:
    new = iter(newcomers(emulator, count))
    tappers = (FIRST_USER + TOPIC_CLIENTS + i for i in itertools.count())
    writers = iter(relay(count, 10_000))
    return [(next(new) if i % 3 == 0 else taps(next(tappers)) if i % 3 == 1 else next(writers)) for i in range(count)]


def prepare_emulator(emulator: BotAPIEmulator) -> None:
    for i in range(CLIENTS):
        emulator.add_user(FIRST_USER + i, "B", language_code="en")
    emulator.add_group(STAFF_GROUP, "Staff", forum=True)
    for i in range(TOPIC_CLIENTS):  # the topics the database knows (thread ids 1 … 200, as seeded)
        thread = emulator._next_message_id(STAFF_GROUP)
        emulator.topics[(STAFF_GROUP, thread)] = {"message_thread_id": thread, "name": f"K-B{i:06d}", "closed": False}


def check_relay_order(emulator: BotAPIEmulator) -> tuple[int, int]:
    """(messages copied more than once, clients whose copies came out of order) over the whole run."""
    copies: dict[int, list[int]] = collections.defaultdict(list)
    for call in emulator.calls:
        if call.ok and call.method == "copymessage":
            copies[int(call.params["from_chat_id"])].append(int(call.params["message_id"]))
    doubled = sum(len(ids) - len(set(ids)) for ids in copies.values())
    disordered = sum(1 for ids in copies.values() if ids != sorted(ids))
    return doubled, disordered


async def scenario(emulator: BotAPIEmulator, name: str) -> dict[str, float]:
    if name == "first":
        await burst(emulator, newcomers(emulator, 50))  # warm-up: imports, pools, caches
        result = {"throughput": await burst(emulator, newcomers(emulator, 2000))}
        return result | await steady(emulator, newcomers(emulator, 50 * STEADY_SECONDS), 50)
    if name == "mixed":
        await burst(emulator, mixed(emulator, 51))
        result = {"throughput": await burst(emulator, mixed(emulator, 2000))}
        return result | await steady(emulator, mixed(emulator, 50 * STEADY_SECONDS), 50)
    if name == "relay":
        await burst(emulator, relay(TOPIC_CLIENTS, 20_000))  # one message each: warm-up
        result = {"throughput": await burst(emulator, relay(1000))}
        result |= await steady(emulator, relay(20 * STEADY_SECONDS, 30_000), 20)
        doubled, disordered = check_relay_order(emulator)
        return result | {"doubled": doubled, "disordered": disordered}
    await burst(emulator, returning(50))  # "returning", and the echo bot
    result = {"throughput": await burst(emulator, returning(2000))}
    return result | await steady(emulator, returning(100 * STEADY_SECONDS, 7919), 100)


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
        ids = (await conn.scalars(select(Client.id).where(Client.telegram_id < FIRST_USER + TOPIC_CLIENTS))).all()
        by_telegram = {FIRST_USER + i: i for i in range(TOPIC_CLIENTS)}
        tids = dict((await conn.execute(select(Client.id, Client.telegram_id).where(Client.id.in_(ids)))).all())
        # Topics exist and the out-of-hours reply went out already: every message is one copy, whatever the hour.
        conversations = [
            {"client_id": cid, "chat_id": STAFF_GROUP, "thread_id": by_telegram[tids[cid]] + 1, "status": "open"}
            | {"blocked": False, "auto_reply_sent_at": now, "last_client_message_at": now, "intake_message_id": 1}
            for cid in ids
        ]
        await conn.execute(insert(Conversation), conversations)
        # Fresh statistics, and no dead rows for autovacuum to clean up in the middle of a measurement.
        await conn.execute(text("ANALYZE"))
    await engine.dispose()


async def between_runs(url: str, redis: str) -> None:
    """Each run has a new emulator whose update ids start again at 1: clear the journal so none looks resent; and
    the relayed messages, so flood protection sees none from the last run."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        # TRUNCATE on PostgreSQL: a DELETE would leave dead rows that autovacuum cleans during the next run.
        for table in ("inbound_updates", "handoff_messages"):
            await conn.execute(text(f"TRUNCATE {table}" if url.startswith("postgresql") else f"DELETE FROM {table}"))
        await conn.execute(update(Conversation).values(last_client_message_at=utcnow()))
    await engine.dispose()
    if redis:
        from redis.asyncio import Redis

        client = Redis.from_url(redis)
        await client.flushdb()
        await client.aclose()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run_one(args: list[str], env: dict[str, str], name: str) -> dict[str, float]:
    async with BotAPIEmulator() as emulator:
        prepare_emulator(emulator)
        echo = "echo_bot" in args[-1]
        process = await asyncio.create_subprocess_exec(
            *args,
            *([TOKEN, emulator.base_url] if echo else []),
            cwd=ROOT,
            env={**os.environ, **env, "TELEGRAM_API_URL": emulator.base_url},
            stdout=asyncio.subprocess.DEVNULL,
        )
        try:
            # Ready: aiogram calls getMe before polling; kimbot publishes its commands first.
            await emulator.wait_for(lambda: any(c.method in ("getme", "deletewebhook") for c in emulator.calls), 120)
            await asyncio.sleep(2)
            result = await scenario(emulator, name)
            result["rss"] = peak_rss_mb(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
    return result


def line(label: str, r: dict[str, float]) -> str:
    extra = f"   doubled {int(r['doubled'])}   out of order {int(r['disordered'])}" if "doubled" in r else ""
    return (
        f"{label:<22} {r['throughput']:7.1f} updates/s   p50 {r['p50']:6.1f} ms   p99 {r['p99']:6.1f} ms   "
        f"peak RSS {r['rss']:6.1f} MB   unanswered {int(r['lost'])}{extra}"
    )


async def main() -> None:
    database = os.environ.get("BENCH_DATABASE_URL")
    redis = os.environ.get("BENCH_REDIS_URL", "")
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    chosen = os.environ.get("BENCH_SCENARIOS", "returning,first,mixed,relay").split(",")
    runs = [("aiogram echo", "echo")] + [
        (f"kimbot {name}", name) for name in chosen if name in ("returning", "first", "mixed", "relay")
    ]
    if "returning" in chosen:  # the updates-only process that docker-compose runs as `bot`
        runs.insert(2, ("kimbot returning bot-only", "returning"))
    results: dict[str, list[dict[str, float]]] = {label: [] for label, _ in runs}
    print(f"database: {'PostgreSQL + Redis' if database else 'SQLite'}; {CLIENTS} clients; {rounds} rounds")
    with tempfile.TemporaryDirectory() as tmp:
        url = database or f"sqlite+aiosqlite:///{tmp}/bench.db"
        await seed(url)
        env = {
            "BOT_TOKEN": TOKEN,
            "DATABASE_URL": url,
            "REDIS_URL": redis,
            "STAFF_CHAT_ID": str(STAFF_GROUP),
            "KIMBOT_DATA_DIR": tmp,
            "HTTP_PORT": "0",
            "POLLING_TIMEOUT": "1",
            "LOG_LEVEL": "WARNING",
        }
        # The machine is shared and noisy: all runs one after another, `rounds` times; each round's ratios
        # compare runs minutes apart at most. `kimbot run` is everything in one process (the embedded default).
        for round_ in range(1, rounds + 1):
            for label, name in runs:
                await between_runs(url, redis)
                if name == "echo":
                    result = await run_one([sys.executable, str(ROOT / "bench" / "echo_bot.py")], {}, "echo")
                else:
                    only = ["--no-scheduler"] if label.endswith("bot-only") else []
                    result = await run_one([sys.executable, "-m", "bot", "run", *only], env, name)
                results[label].append(result)
                print(f"  round {round_}  {line(label, result)}", flush=True)
    print(f"medians of {rounds} rounds:")
    echoes = results["aiogram echo"]
    for label, _ in runs:
        mine = results[label]
        median = {key: statistics.median(r[key] for r in mine) for key in mine[0]}
        speed = statistics.median(k["throughput"] / e["throughput"] for k, e in zip(mine, echoes, strict=True))
        memory = statistics.median(k["rss"] / e["rss"] for k, e in zip(mine, echoes, strict=True))
        print(f"  {line(label, median)}   {speed:.2f} × echo   RSS {memory:.2f} × echo")


if __name__ == "__main__":
    asyncio.run(main())

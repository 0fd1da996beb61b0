"""Benchmark: a broadcast to N clients through the production path (materialised outbox rows → claim → render
in each client's language → PTB ExtBot with AIORateLimiter) against the Bot API emulator enforcing Telegram's
30 messages per sliding second; an appointment reminder falls due in the middle and must overtake the broadcast.

    .venv/bin/python bench/bench_broadcast.py [--count 3000] [--rate 29.5] [--limit 30] [--reminder-after 30]
                                              [--database-url URL]

Prints messages per second (first to last successful send), the number of 429s and how long after falling due
the reminder was delivered. Target: >= 95 % of the limit, no 429, reminder within 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from bot.app import build_delivery, build_i18n, prepare_database
from bot.core.config import Settings
from bot.core.county import load_county
from bot.db.base import utcnow
from bot.db.models import Client, Staff
from bot.db.models_booking import Appointment
from bot.delivery import outbox
from bot.emulator import BotAPIEmulator
from bot.services import broadcasts

TOKEN = "123456789:BENCH-token-for-the-emulator-only"
FIRST_CHAT = 60_000
LANGUAGES = ("ar", "uk", "fa", "ru", "tr", "en", "de")
REMINDER_CHAT = 59_999


async def main(
    count: int, rate: float, limit: int, reminder_after: float, database_url: str | None
) -> dict[str, float]:
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
        async with sessions() as session, session.begin():
            for n in range(count):
                emulator.add_user(FIRST_CHAT + n, f"Client {n}")
                session.add(
                    Client(telegram_id=FIRST_CHAT + n, reference=f"K-B{n:05d}", locale=LANGUAGES[n % len(LANGUAGES)])
                )
            # The reminder's client has switched announcements off: the only message they get is the reminder.
            emulator.add_user(REMINDER_CHAT, "Reminder client")
            reminded = Client(telegram_id=REMINDER_CHAT, reference="K-REMIND", locale="en", announcements_opt_out=True)
            session.add(reminded)
            admin = await session.scalar(select(Staff).where(Staff.role == "admin"))
            assert admin is not None
            draft = await broadcasts.create_draft(session, author_staff_id=admin.id, german_text="Das Büro ist zu.")
            for code in ("ar", "uk", "en"):
                await broadcasts.set_text(session, draft.id, code, f"Office closed ({code}).")
            await broadcasts.set_fallback(session, draft.id, "en_de")
            started_materialising = time.monotonic()
            plan = await broadcasts.confirm(session, draft.id, settings.tz)
        materialise = time.monotonic() - started_materialising
        sender, worker = build_delivery(settings, county, sessions, build_i18n(settings))
        await sender.bot.initialize()  # getMe, outside the measurement

        async def queue_reminder() -> float:
            """An appointment reminder that falls due mid-broadcast; returns the monotonic time it fell due."""
            await asyncio.sleep(reminder_after)
            async with sessions() as session, session.begin():
                staff = await session.scalar(select(Staff).where(Staff.role == "case_manager"))
                assert staff is not None
                start = utcnow() + timedelta(hours=2)
                appointment = Appointment(
                    client_id=reminded.id, staff_id=staff.id, service_key="kim-consultation", office_key="ki",
                    starts_at=start, ends_at=start + timedelta(minutes=45), busy_from=start,
                    busy_until=start + timedelta(minutes=60), status="booked",
                )  # fmt: skip
                session.add(appointment)
                await session.flush()
                await outbox.enqueue(
                    session,
                    key=f"appointment:{appointment.id}:reminder:2h:bench",
                    chat_id=REMINDER_CHAT,
                    client_id=reminded.id,
                    template="appointment_reminder",
                    params={"appointment_id": appointment.id, "hours": 2},
                    due_at=utcnow(),
                    expires_at=start,
                )
            return time.monotonic()

        reminder_task = asyncio.create_task(queue_reminder())
        started = time.monotonic()
        stats = await worker.drain_once()
        queued_at = await reminder_task
        if not any(c.ok and c.chat_id == REMINDER_CHAT for c in emulator.calls):
            stats += await worker.drain_once()  # the broadcast was over before the reminder fell due
        wall = time.monotonic() - started
        await sender.close()
        await engine.dispose()
    sends = [c for c in emulator.calls if c.ok and c.method == "sendmessage"]
    await emulator.stop()
    times = [c.at for c in sends]
    reminder_at = next((c.at for c in sends if c.chat_id == REMINDER_CHAT), float("nan"))
    span = max(times) - min(times) if len(times) > 1 else float("nan")
    pending_at_reminder = sum(1 for c in sends if c.at > reminder_at)
    result = {
        "sent": stats.sent,
        "recipients": plan.total,
        "msg_per_s": (len(times) - 1) / span,
        "too_many_requests": emulator.too_many_requests,
        "reminder_delay": reminder_at - queued_at,
        "seconds": wall,
    }
    print(
        f"broadcast to {plan.total} clients ({dict(plan.by_locale)}), outbox rows written in {materialise:.2f} s\n"
        f"{stats.sent} delivered in {wall:.1f} s: {result['msg_per_s']:.2f} msg/s (first to last send), "
        f"{emulator.too_many_requests} × 429 [rate {rate}/s, emulator limit {limit}/s]\n"
        f"reminder queued {reminder_after:.0f} s in: delivered {result['reminder_delay']:.2f} s after falling due, "
        f"with {pending_at_reminder} broadcast messages still to go"
    )
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=Settings.model_fields["delivery_rate"].default)
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--reminder-after", type=float, default=30.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    outcome = asyncio.run(main(args.count, args.rate, args.limit, args.reminder_after, args.database_url))
    ok = (
        outcome["msg_per_s"] >= 0.95 * args.limit
        and outcome["too_many_requests"] == 0
        and outcome["sent"] == args.count + 1
        and outcome["reminder_delay"] < 5.0
    )
    raise SystemExit(0 if ok else 1)

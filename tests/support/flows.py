"""What a user does in several test modules, as one call: onboarding, booking, the handoff topic lookups, the
broadcast admin's strings and clients written straight into the database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.db.base import utcnow
from bot.db.models import Client, Staff
from bot.db.models_handoff import Conversation
from bot.emulator import BotAPIEmulator
from bot.services import booking
from bot.services.availability import Slot
from tests.support.constants import ADMIN, ANNA, BERLIN, STAFF_GROUP
from tests.support.running import Running

# Summer time starts on Sunday 28 March 2027 at 02:00; the appointment is on the Monday after, 10:00 office time.
APPOINTMENT = datetime(2027, 3, 29, 10, 0, tzinfo=BERLIN)


def button_texts(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


async def onboard(
    kimbot: Running, emulator: BotAPIEmulator, user_id: int, language: str = "en", town: str = "Euskirchen"
) -> dict[str, Any]:
    """Walk a new client through /start to the main menu; returns the menu message."""
    emulator.add_user(user_id, f"Client {user_id}", language_code=language)
    notice = await kimbot.say(user_id, "/start")
    question = await kimbot.tap(user_id, notice, button_texts(notice)[0])
    return await kimbot.tap(user_id, question, town)


# ---------------------------------------------------------------------- booking


async def book_first_free(
    kimbot: Running, user_id: int, service: str, office: str | None = None, day_index: int = 2
) -> dict[str, Any]:
    """Book the first time on the `day_index`-th offered day (a few days ahead, so a 24 h reminder is due)."""
    menu = kimbot.emu.last_bot_message(user_id)
    services = await kimbot.tap(user_id, menu, "Book an appointment")
    step = await kimbot.tap(user_id, services, service)
    if office is not None:
        step = await kimbot.tap(user_id, step, office)
    days = step
    times = await kimbot.tap(user_id, days, button_texts(days)[day_index])
    summary = await kimbot.tap(user_id, times, button_texts(times)[0])
    assert "Please check your appointment" in summary["text"]
    return await kimbot.tap(user_id, summary, "✅ Confirm")


async def book_appointment(kimbot: Running, telegram_id: int) -> int:
    """Book APPOINTMENT with Anna for the client, straight through the booking service; returns its id."""
    service = kimbot.app.county.service("kim-consultation")
    assert service is not None
    async with kimbot.app.sessions() as session, session.begin():
        client_id = await session.scalar(select(Client.id).where(Client.telegram_id == telegram_id))
        staff_id = await session.scalar(select(Staff.id).where(Staff.telegram_id == ANNA))
        assert client_id is not None and staff_id is not None
        starts = APPOINTMENT.astimezone(UTC)
        ends = starts + timedelta(minutes=service.duration_minutes)
        slot = Slot(
            staff_id=staff_id, office_key="ki", starts_at=starts, ends_at=ends, busy_from=starts, busy_until=ends
        )
        booked = await booking.book(session, client_id=client_id, slot=slot, service=service)
        return booked.id


# ---------------------------------------------------------------------- handoff


async def thread_of(kimbot: Running, telegram_id: int) -> int:
    """The forum topic of the client's conversation, once the update that created it has committed."""

    async def find() -> int | None:
        async with kimbot.app.sessions() as session:
            thread: int | None = await session.scalar(
                select(Conversation.thread_id).join(Client).where(Client.telegram_id == telegram_id)
            )
            return thread

    for _ in range(100):
        if (thread := await find()) is not None:
            return thread
        await asyncio.sleep(0.05)
    raise AssertionError("no topic")


async def in_topic(emulator: BotAPIEmulator, thread: int, predicate: Any) -> dict[str, Any]:
    result: dict[str, Any] = await emulator.wait_for(
        lambda: next((m for m in emulator.topic_messages(STAFF_GROUP, thread) if predicate(m)), None)
    )
    return result


def staff_user(emulator: BotAPIEmulator, user_id: int) -> None:
    emulator.add_user(user_id, "Staff", language_code="de")


# ---------------------------------------------------------------------- broadcasts


def t(kimbot: Running, text: str, locale: str = "de") -> str:
    """A UI string as the admin (German first) sees it."""
    return str(kimbot.app.i18n.gettext(text, locale=locale))


async def add_clients(kimbot: Running, emulator: BotAPIEmulator, specs: list[tuple[int, str]], **extra: Any) -> None:
    """Clients as onboarding leaves them (telegram id, language), written straight into the database."""
    async with kimbot.app.sessions() as session, session.begin():
        for telegram_id, locale in specs:
            emulator.add_user(telegram_id, f"Client {telegram_id}", language_code=locale)
            session.add(
                Client(
                    telegram_id=telegram_id,
                    reference=f"K-T{telegram_id}",
                    locale=locale,
                    municipality=extra.get("municipality", "euskirchen"),
                    privacy_acknowledged_at=utcnow(),
                    reachable=extra.get("reachable", True),
                    announcements_opt_out=extra.get("opted_out", False),
                )
            )


async def send(kimbot: Running, confirmation: dict[str, Any]) -> dict[str, Any]:
    """Tap "Send to N clients"; returns the progress message."""
    button = next(b for b in button_texts(confirmation) if b.startswith(t(kimbot, "Send to {count} clients")[:7]))
    return await kimbot.tap(ADMIN, confirmation, button)

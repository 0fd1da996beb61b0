"""No double booking of an interpreter: 20 Tigrinya clients, each with a case manager of their own (all free at the
time), confirm the one time the county's only Tigrinya interpreter is free – exactly one gets it. Each client is
shown their own case manager's slot, so only the interpreter's constraint stands between them (PostgreSQL: the
exclusion constraint on `interpreter_bookings`; SQLite: the write lock and the check under it)."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import holidays
import pytest
from sqlalchemy import func, select, update

from bot.app import build_app
from bot.core.config import Settings
from bot.core.county import WEEKDAYS, County, example_county_path
from bot.core.county_text import BUTTON
from bot.db.models import Client, Staff
from bot.db.models_booking import Appointment
from bot.db.models_interpreters import InterpreterBooking
from bot.emulator import BotAPIEmulator
from bot.services import clients
from bot.telegram.callbacks import SlotCb
from tests.support import BERLIN, Running, button_texts, t

CLIENTS = 20
FIRST_STAFF = 200000001


def the_day(today: date) -> date:
    """A working day two to four days ahead: the same weekday does not come again within the one-week horizon."""
    nrw = holidays.Germany(subdiv="NW", years=range(today.year, today.year + 2))
    day = today + timedelta(days=2)
    while day.weekday() >= 5 or day in nrw:
        day += timedelta(days=1)
    return day


@pytest.fixture
def race_county() -> County:
    """The example county with 20 German-only case managers at the KI and one Tigrinya interpreter who is free
    on one weekday from 09:00 to 09:45 – one 45-minute appointment within the service's one-week horizon."""
    raw: dict[str, Any] = tomllib.loads(example_county_path().read_text(encoding="utf-8"))
    ids = [FIRST_STAFF + i for i in range(CLIENTS)]
    raw["staff"] += [
        {"telegram_id": i, "display_name": f"CM {i}", "role": "case_manager", "languages": ["de"], "office": "ki"}
        for i in ids
    ]
    service = next(s for s in raw["services"] if s["key"] == "kim-consultation")
    service |= {"staff": ids, "horizon_weeks": 1, "modes": ["in_person"]}
    weekday = WEEKDAYS[the_day(datetime.now(BERLIN).date()).weekday()]
    raw["interpreters"] = [
        {"key": "solo", "display_name": "Solo", "languages": ["ti"], "availability": {weekday: "09:00-09:45"}}
    ]
    return County.model_validate(raw)


@pytest.fixture
async def kimbot(settings: Settings, emulator: BotAPIEmulator, race_county: County) -> AsyncIterator[Running]:
    app = await build_app(settings, race_county)
    running = Running(app, emulator)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def _step(emulator: BotAPIEmulator, user: int, message: dict[str, Any], button: str) -> dict[str, Any]:
    before = emulator.last_message_id(user)
    await emulator.press(user, message, text=button)
    return await emulator.wait_for_message(user, after=before, timeout=60)


async def _to_summary(kimbot: Running, user: int) -> tuple[int, dict[str, Any]]:
    """/book → service → with interpreter → the one day → the one time; the staff id of that time."""
    emulator, service = kimbot.emu, kimbot.app.county.service("kim-consultation")
    assert service is not None
    before = emulator.last_message_id(user)
    await emulator.send_message(user, "/book")
    services = await emulator.wait_for_message(user, after=before, timeout=60)
    # Every case manager is at the KI and the service is in person only: no question where.
    question = await _step(emulator, user, services, kimbot.app.county_texts.text(service.name, "ti", context=BUTTON))
    days = await _step(emulator, user, question, t(kimbot, "With an interpreter", "ti"))
    assert len(button_texts(days)) == 2, "one day (and the waitlist)"
    times = await _step(emulator, user, days, button_texts(days)[0])
    [slot] = [
        b["callback_data"] for r in times["reply_markup"]["inline_keyboard"] for b in r if "bt:" in b["callback_data"]
    ]
    summary = await _step(emulator, user, times, button_texts(times)[0])
    return SlotCb.unpack(slot).staff, summary


async def test_twenty_clients_race_for_the_last_interpreter_slot(kimbot: Running, emulator: BotAPIEmulator) -> None:
    users = list(range(30_001, 30_001 + CLIENTS))
    async with kimbot.app.sessions() as session, session.begin():
        for i, user in enumerate(users):
            emulator.add_user(user, f"C{user}", language_code="ti")
            client = await clients.register(session, user, "ti")
            await clients.acknowledge_privacy(session, client.id)
            await clients.set_municipality(session, client.id, "euskirchen")
            manager = await session.scalar(select(Staff.id).where(Staff.telegram_id == FIRST_STAFF + i))
            await session.execute(update(Client).where(Client.id == client.id).values(case_manager_id=manager))
    walked = await asyncio.gather(*(_to_summary(kimbot, u) for u in users))
    staff_ids = [staff for staff, _summary in walked]
    assert len(set(staff_ids)) == CLIENTS, "each client looks at their own case manager's slot"
    assert len({s["text"] for _staff, s in walked}) == 1, "…at the same time"

    befores = {u: emulator.last_message_id(u) for u in users}
    confirm = t(kimbot, "✅ Confirm", "ti")
    await asyncio.gather(*(emulator.press(u, s, text=confirm) for u, (_staff, s) in zip(users, walked, strict=True)))
    taken_text = t(kimbot, "Sorry, this time was just taken by someone else. Here are the next free times:", "ti")

    async def outcome(user: int) -> str:
        def seen() -> str | None:
            for message in emulator.bot_messages(user):
                if message["message_id"] > befores[user]:
                    if "document" in message:
                        return "booked"
                    if taken_text in (message.get("text") or ""):
                        return "taken"
            return None

        return str(await emulator.wait_for(seen, timeout=90))

    outcomes = await asyncio.gather(*(outcome(u) for u in users))
    await kimbot.handled.wait()
    print(f"\n{CLIENTS} confirms for one interpreter slot: {outcomes.count('booked')} booked")
    assert outcomes.count("booked") == 1 and outcomes.count("taken") == CLIENTS - 1
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 1
        rows = (await session.scalars(select(InterpreterBooking))).all()
        assert [(r.interpreter_key, r.active) for r in rows] == [("solo", True)]
        winner = await session.scalar(select(Appointment.staff_id))
    assert winner in staff_ids

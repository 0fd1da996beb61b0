"""No double booking: 50 clients confirm the same slot at once – exactly one gets it, 49 are offered other times.
Runs on SQLite (BEGIN IMMEDIATE) and PostgreSQL (exclusion constraint) alike."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from bot.db.models_booking import Appointment
from bot.emulator import BotAPIEmulator
from bot.services import clients
from tests.support import OFFICE, Running, button_texts

CLIENTS = 50


async def _step(emulator: BotAPIEmulator, user_id: int, message: dict[str, Any], button: str) -> dict[str, Any]:
    before = emulator.last_message_id(user_id)
    await emulator.press(user_id, message, text=button)
    return await emulator.wait_for_message(user_id, after=before, timeout=30)


async def _to_summary(emulator: BotAPIEmulator, user_id: int) -> dict[str, Any]:
    before = emulator.last_message_id(user_id)
    await emulator.send_message(user_id, "/book")
    services = await emulator.wait_for_message(user_id, after=before, timeout=30)
    offices = await _step(emulator, user_id, services, "Case management consultation")
    days = await _step(emulator, user_id, offices, OFFICE)
    times = await _step(emulator, user_id, days, button_texts(days)[1])
    return await _step(emulator, user_id, times, button_texts(times)[0])


async def _register(kimbot: Running, emulator: BotAPIEmulator, user_id: int) -> None:
    emulator.add_user(user_id, f"C{user_id}", language_code="en")
    async with kimbot.app.sessions() as session, session.begin():
        client = await clients.register(session, user_id, "en")
        await clients.acknowledge_privacy(session, client.id)
        await clients.set_municipality(session, client.id, "euskirchen")


async def test_fifty_clients_one_slot(kimbot: Running, emulator: BotAPIEmulator) -> None:
    users = list(range(10_001, 10_001 + CLIENTS))
    for user_id in users:
        await _register(kimbot, emulator, user_id)
    summaries = await asyncio.gather(*(_to_summary(emulator, u) for u in users))
    assert len({s["text"] for s in summaries}) == 1, "every client should be looking at the same slot"

    befores = {u: emulator.last_message_id(u) for u in users}
    await asyncio.gather(*(emulator.press(u, s, text="✅ Confirm") for u, s in zip(users, summaries, strict=True)))
    answers = await asyncio.gather(*(emulator.wait_for_message(u, after=befores[u], timeout=60) for u in users))
    booked = [a for a in answers if "document" in a]
    taken = [a for a in answers if "just taken by someone else" in a.get("text", "")]
    print(f"\nconcurrent confirms: {CLIENTS}, booked: {len(booked)}, told the slot was taken: {len(taken)}")
    assert len(booked) == 1
    assert len(taken) == CLIENTS - 1
    assert all(button_texts(a) for a in taken), "the 49 are offered the next free times"
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 1


async def test_double_tap_on_confirm_books_once(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await _register(kimbot, emulator, 10_500)
    summary = await _to_summary(emulator, 10_500)
    before = emulator.last_message_id(10_500)
    await asyncio.gather(*(emulator.press(10_500, summary, text="✅ Confirm") for _ in range(2)))
    await emulator.wait_for_message(10_500, after=before, timeout=30)
    await kimbot.settle(10_500)
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 1
    documents = [m for m in emulator.bot_messages(10_500) if "document" in m]
    assert len(documents) == 1

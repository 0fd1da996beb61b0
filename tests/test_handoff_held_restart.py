"""Messages held back by flood protection when kimbot stops are passed on when it starts again (the routers'
startup hook, which kimbot's own runtime fires)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.app import build_app
from bot.core.config import Settings
from bot.db.models_handoff import RelayMessage
from bot.emulator import BotAPIEmulator
from bot.services import office_hours
from handlers.handoff import client_side
from tests.support import STAFF_GROUP, Running, onboard, thread_of

TUESDAY_MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # the offices are open: no automatic reply


def _texts(emulator: BotAPIEmulator, thread: int) -> list[str]:
    return [
        m["text"] for m in emulator.topic_messages(STAFF_GROUP, thread) if (m.get("text") or "").startswith("message ")
    ]


async def test_messages_held_at_a_stop_are_passed_on_at_the_next_start(
    settings: Settings, emulator: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: TUESDAY_MORNING)
    monkeypatch.setattr(client_side, "FLOOD_DELAY_SECONDS", 3600.0)  # held for longer than kimbot runs
    first = Running(await build_app(settings), emulator)
    await first.start()
    try:
        limit = first.app.settings.flood_limit
        await onboard(first, emulator, 851, language="en")
        sent = [await emulator.send_message(851, f"message {i}") for i in range(limit + 3)]
        thread = await thread_of(first, 851)
        await first.settle(851)
        assert len(_texts(emulator, thread)) == limit  # the last three are held
        async with first.app.sessions() as session:
            held = await session.scalar(select(func.count()).where(RelayMessage.status == "held"))
        assert held == 3
    finally:
        await first.stop()

    second = Running(await build_app(settings), emulator)
    await second.start()
    try:
        await emulator.wait_for(lambda: len(_texts(emulator, thread)) == len(sent), timeout=15)
        assert _texts(emulator, thread) == [m["text"] for m in sent]  # every one, once, in order
    finally:
        await second.stop()

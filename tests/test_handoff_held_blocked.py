"""Messages held by flood protection are checked again when they go out: a client whom staff blocked meanwhile
gets none of them into the staff group."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.db.models_handoff import RelayMessage
from bot.emulator import BotAPIEmulator
from bot.services import office_hours
from handlers.handoff import client_side
from tests.support import ANNA, STAFF_GROUP, Running, onboard, staff_user, thread_of

TUESDAY_MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # the offices are open: no automatic reply


async def test_a_held_batch_of_a_client_blocked_meanwhile_is_dropped(
    kimbot: Running, emulator: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: TUESDAY_MORNING)
    monkeypatch.setattr(client_side, "FLOOD_DELAY_SECONDS", 1.0)
    held_delivery = kimbot.app.held_delivery
    assert held_delivery is not None
    limit = kimbot.app.settings.flood_limit
    await onboard(kimbot, emulator, 861, language="en")
    staff_user(emulator, ANNA)
    for i in range(limit + 3):
        await emulator.send_message(861, f"message {i}")
    thread = await thread_of(kimbot, 861)
    await kimbot.settle(861)
    await kimbot.say(ANNA, "/block", chat_id=STAFF_GROUP, thread_id=thread)
    await emulator.wait_for(lambda: held_delivery.scheduled == 0, timeout=15)  # the held batch's turn has come

    passed_on = [
        m for m in emulator.topic_messages(STAFF_GROUP, thread) if (m.get("text") or "").startswith("message ")
    ]
    assert len(passed_on) == limit  # the three held ones stayed out
    async with kimbot.app.sessions() as session:
        statuses = (await session.scalars(select(RelayMessage.status).where(RelayMessage.status != "delivered"))).all()
    assert sorted(statuses) == ["dropped"] * 3

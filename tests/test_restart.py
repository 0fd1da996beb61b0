"""A client mid-conversation keeps their place when the kimbot process is killed and started again."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from bot.core.config import Settings
from bot.emulator import BotAPIEmulator
from tests.support import button_texts, start_polling_process


async def _reply(emulator: BotAPIEmulator, chat_id: int, after: int) -> dict[str, Any]:
    await emulator.wait_for_message(chat_id, after=after, timeout=20)
    await asyncio.sleep(0.5)
    return emulator.last_bot_message(chat_id)


async def test_client_resumes_after_kill_and_restart(settings: Settings, emulator: BotAPIEmulator) -> None:
    emulator.add_user(801, "Dawit", language_code="ti")
    first = await start_polling_process(settings, emulator)
    try:
        await emulator.send_message(801, "/start")
        notice = await _reply(emulator, 801, 1)
        assert "kimbot" in notice["text"] and button_texts(notice)
        # Let the poller confirm the update (the next getUpdates carries the new offset), then kill -9.
        await emulator.wait_for(lambda: emulator.unconfirmed_updates() == 0, 5)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()

    second = await start_polling_process(settings, emulator)
    try:
        before = emulator.last_message_id(801)
        await emulator.press(801, notice, text=button_texts(notice)[0])
        question = await _reply(emulator, 801, before)
        assert "Hellenthal" in button_texts(question), question
        before = emulator.last_message_id(801)
        await emulator.press(801, question, text="Hellenthal")
        menu = await _reply(emulator, 801, before)
        assert len(button_texts(menu)) == 6
        # welcome, privacy notice | restart | municipality question, menu: /start was not handled twice.
        assert len(emulator.bot_messages(801)) == 4
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 20)

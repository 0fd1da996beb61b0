"""A client mid-conversation keeps their place when the kimbot process is killed and started again."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.core.config import Settings
from bot.emulator import BotAPIEmulator
from tests.helpers import button_texts

ROOT = Path(__file__).resolve().parent.parent


async def _start_kimbot(settings: Settings, emulator: BotAPIEmulator) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "BOT_TOKEN": settings.bot_token.get_secret_value() if settings.bot_token else "",
        "TELEGRAM_API_URL": emulator.base_url,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url or "",
        "KIMBOT_DATA_DIR": str(settings.data_dir),
        "LOG_LEVEL": "WARNING",
        "HTTP_PORT": "0",
        "POLLING_TIMEOUT": "1",
    }
    polls = sum(1 for c in emulator.calls if c.method == "setmycommands")
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=ROOT, env=env)
    # Ready once it has published its commands (13 languages) – it polls right after.
    await emulator.wait_for(lambda: sum(1 for c in emulator.calls if c.method == "setmycommands") >= polls + 13, 60)
    await asyncio.sleep(0.5)
    return process


async def _reply(emulator: BotAPIEmulator, chat_id: int, after: int) -> dict:  # type: ignore[type-arg]
    await emulator.wait_for_message(chat_id, after=after, timeout=20)
    await asyncio.sleep(0.5)
    return emulator.last_bot_message(chat_id)


async def test_client_resumes_after_kill_and_restart(settings: Settings, emulator: BotAPIEmulator) -> None:
    emulator.add_user(801, "Dawit", language_code="ti")
    first = await _start_kimbot(settings, emulator)
    try:
        await emulator.send_message(801, "/start")
        notice = await _reply(emulator, 801, 1)
        assert "kimbot" in notice["text"] and button_texts(notice)
        # Let the poller confirm the update (the next getUpdates carries the new offset), then kill -9.
        await emulator.wait_for(lambda: emulator.unconfirmed_updates() == 0, 5)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()

    second = await _start_kimbot(settings, emulator)
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

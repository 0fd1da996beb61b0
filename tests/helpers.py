"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

from typing import Any

from bot.emulator import BotAPIEmulator
from tests.conftest import Running


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

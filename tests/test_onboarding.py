"""A new client's first conversation, end to end through the emulator."""

from __future__ import annotations

from sqlalchemy import select

from bot.core.i18n import LRI, SUPPORTED_LOCALES, native_name
from bot.db.models import Client
from bot.emulator import BotAPIEmulator
from tests.support import Running


async def test_arabic_client_from_start_to_menu_then_ukrainian(kimbot: Running, emulator: BotAPIEmulator) -> None:
    emulator.add_user(501, "Amal", language_code="ar")

    notice = await kimbot.say(501, "/start")
    assert "kimbot" in emulator.bot_messages(501)[0]["text"]
    # Language was detected from Telegram: no language question, the privacy notice comes in Arabic.
    assert "بيانات" in notice["text"], notice["text"]
    assert not any("Please choose your language" in m.get("text", "") for m in emulator.bot_messages(501))

    buttons = [b["text"] for row in notice["reply_markup"]["inline_keyboard"] for b in row]
    question = await kimbot.tap(501, notice, buttons[0])
    assert "Euskirchen" in str(question["reply_markup"])
    menu = await kimbot.tap(501, question, "Hellenthal")
    labels = [b["text"] for row in menu["reply_markup"]["inline_keyboard"] for b in row]
    assert len(labels) == 6
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in label) for label in labels), labels

    async with kimbot.app.sessions() as session:
        client = await session.scalar(select(Client).where(Client.telegram_id == 501))
    assert client is not None
    assert (client.locale, client.municipality) == ("ar", "hellenthal")
    assert client.privacy_acknowledged_at is not None

    chooser = await kimbot.say(501, "/language")
    confirmation = await kimbot.tap(501, chooser, "Українська")
    assert "українськ" in confirmation["text"].lower()
    labels = [b["text"] for row in confirmation["reply_markup"]["inline_keyboard"] for b in row]
    assert "Записатися на прийом" in labels or any("\u0400" <= ch <= "\u04ff" for ch in labels[0]), labels
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(Client.locale).where(Client.telegram_id == 501)) == "uk"
    assert LRI not in confirmation["text"]


async def test_unknown_language_is_asked_first(kimbot: Running, emulator: BotAPIEmulator) -> None:
    emulator.add_user(502, "Li", language_code="zh-hans")
    chooser = await kimbot.say(502, "/start")
    names = [b["text"] for row in chooser["reply_markup"]["inline_keyboard"] for b in row]
    assert names == [native_name(code) for code in SUPPORTED_LOCALES]  # one button, one tap, per language
    assert "العربية" in names and "Deutsch" in names and "دری" in names and len(names) >= 20

    notice = await kimbot.tap(502, chooser, "Deutsch")
    assert "Ihre Daten" in notice["text"]


async def test_typing_during_onboarding_repeats_the_question(kimbot: Running, emulator: BotAPIEmulator) -> None:
    emulator.add_user(503, "Sam", language_code="en")
    await kimbot.say(503, "/start")
    before = emulator.last_message_id(503)
    again = await kimbot.say(503, "hello?")
    reminder = emulator.bot_messages(503)[-2]
    assert reminder["message_id"] > before and "buttons" in reminder["text"]
    assert "Your data at kimbot" in again["text"]

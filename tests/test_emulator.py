"""The Bot API emulator answers like Telegram – checked with the real aiogram and python-telegram-bot clients."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import telegram.error
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import build_bot
from bot.core.config import Settings
from bot.delivery.sender import create_delivery_bot
from bot.emulator import BotAPIEmulator


@pytest.fixture
async def aiogram_bot(settings: Settings) -> AsyncIterator[Bot]:
    bot = build_bot(settings)
    bot.session.attempts = 1  # type: ignore[attr-defined]  # the emulator's answers as they are, without retries
    yield bot
    await bot.session.close()


async def test_validation_like_telegram(aiogram_bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.add_user(1, "A")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await aiogram_bot.send_message(1, "x" * 4097)
    await aiogram_bot.send_message(1, "x" * 4096)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await aiogram_bot.send_message(1, "<b>unclosed")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await aiogram_bot.send_message(1, "Straße <Nr. 5>")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await aiogram_bot.send_message(424242, "hello")
    too_long = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="é" * 33)]])
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await aiogram_bot.send_message(1, "pick", reply_markup=too_long)
    sent = await aiogram_bot.send_message(1, "<b>bold</b> &amp; plain")
    assert emulator.messages[(1, sent.message_id)]["text"] == "bold & plain"
    with pytest.raises(TelegramBadRequest, match="not modified"):
        await aiogram_bot.edit_message_text("<b>bold</b> &amp; plain", chat_id=1, message_id=sent.message_id)
    emulator.block(1)
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await aiogram_bot.send_message(1, "hello")


async def test_injected_faults(aiogram_bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.add_user(2, "B")
    emulator.fail("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    with pytest.raises(TelegramRetryAfter) as retry:
        await aiogram_bot.send_message(2, "hi")
    assert retry.value.retry_after == 3
    emulator.fail("sendMessage", 502, "Bad Gateway", times=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await aiogram_bot.send_message(2, "hi")
    await aiogram_bot.send_message(2, "now it works")
    emulator.slow("sendMessage", 0.3)
    started = time.monotonic()
    await aiogram_bot.send_message(2, "slow")
    assert time.monotonic() - started >= 0.3
    failed = [c for c in emulator.calls if not c.ok]
    assert [c.error_code for c in failed] == [429, 502, 502]


async def test_get_updates_offset_and_long_poll(aiogram_bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.add_user(3, "C")
    await aiogram_bot.get_me()
    first = await emulator.send_message(3, "one")
    await emulator.send_message(3, "two")
    updates = await aiogram_bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["one", "two"]
    again = await aiogram_bot.get_updates(offset=updates[0].update_id + 1, timeout=0)
    assert [u.message.text for u in again if u.message] == ["two"]
    assert emulator.unconfirmed_updates() == 1
    assert first["message_id"] == 1

    waiting = asyncio.create_task(aiogram_bot.get_updates(offset=again[0].update_id + 1, timeout=5))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await emulator.send_message(3, "three")
    late = await asyncio.wait_for(waiting, 2)
    assert [u.message.text for u in late if u.message] == ["three"]


async def test_python_telegram_bot_delivery_honours_api_url(settings: Settings, emulator: BotAPIEmulator) -> None:
    emulator.add_user(4, "D")
    bot = create_delivery_bot(settings)
    async with bot:
        message = await bot.send_message(4, "<i>Erinnerung</i>", parse_mode="HTML")
        assert message.text == "Erinnerung"
        emulator.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
        with pytest.raises(telegram.error.Forbidden):
            await bot.send_message(4, "again")
        emulator.fail("sendMessage", 400, "Bad Request: chat not found")
        with pytest.raises(telegram.error.BadRequest, match=r"[Cc]hat not found"):
            await bot.send_message(4, "again")
    assert [c.method for c in emulator.calls if c.chat_id == 4] == ["sendmessage"] * 3


async def test_forum_topics(aiogram_bot: Bot, emulator: BotAPIEmulator, settings: Settings) -> None:
    group = settings.staff_chat_id
    assert group is not None
    topic = await aiogram_bot.create_forum_topic(group, "K-ABC123 · ar")
    await aiogram_bot.send_message(group, "header", message_thread_id=topic.message_thread_id)
    emulator.delete_topic(group, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="thread not found"):
        await aiogram_bot.send_message(group, "lost", message_thread_id=topic.message_thread_id)


async def test_rate_limit_answers_429(aiogram_bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.rate_limit = 5
    emulator.add_user(5, "E")
    for _ in range(5):
        await aiogram_bot.send_message(5, "ok")
    with pytest.raises(TelegramRetryAfter):
        await aiogram_bot.send_message(5, "one too many")
    assert emulator.too_many_requests == 1

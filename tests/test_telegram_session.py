"""kimbot's aiogram session: the journal gets the JSON Telegram sent, and parsed response types stay cached."""

from __future__ import annotations

import gc

from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import GetUpdates, Response
from aiogram.types import Message

from bot.emulator import BotAPIEmulator
from bot.telegram.inbound import _as_sent
from bot.telegram.session import BotSession
from tests.support import TOKEN


async def test_getupdates_json_is_kept_for_the_journal(emulator: BotAPIEmulator) -> None:
    session = BotSession(api=TelegramAPIServer.from_base(emulator.base_url))
    bot = Bot(TOKEN, session=session)
    try:
        await bot.get_me()  # the emulator learns which bot it serves
        emulator.add_user(4242, "Amina", language_code="ar")
        await emulator.send_message(4242, "مرحبا")
        updates = await bot(GetUpdates(timeout=0))
        assert len(updates) == 1
        raw = _as_sent(bot, updates)
        assert raw[0]["message"]["text"] == "مرحبا"
        assert raw[0]["update_id"] == updates[0].update_id
        assert session.take_raw_updates() is None  # taken once
        # Without kept JSON (another session, or already taken) the parsed updates are dumped instead.
        assert _as_sent(bot, updates)[0]["message"]["from"]["id"] == 4242

        await bot.send_message(4242, "hello")
        gc.collect()
        assert Response[Message] is session._response_types[Message]  # pydantic's weak cache still holds it
    finally:
        await bot.session.close()

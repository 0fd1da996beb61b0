"""Fixtures: a database (SQLite by default, PostgreSQL when DATABASE_URL says so), Redis when REDIS_URL is set,
the Bot API emulator on 127.0.0.1, and kimbot itself – built by the production factories, polling the emulator."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import App, build_app
from bot.core.config import Settings
from bot.emulator import BotAPIEmulator
from bot.runtime import run

TOKEN = "123456789:TEST-token-for-the-emulator-only"
STAFF_GROUP = -1001000000001


def _env_database_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def _reset_redis(url: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    url = _env_database_url()
    if url and url.startswith("postgresql"):
        await _reset_postgres(url)
        return url
    return f"sqlite+aiosqlite:///{tmp_path / 'kimbot.db'}"


@pytest.fixture
async def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL") or None
    if url:
        await _reset_redis(url)
    return url


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    emu = BotAPIEmulator()
    await emu.start()
    emu.add_group(STAFF_GROUP, "KIM Euskirchen – Team")
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
def settings(emulator: BotAPIEmulator, database_url: str, redis_url: str | None, tmp_path: Path) -> Settings:
    return Settings(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=emulator.base_url,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url or "",
        STAFF_CHAT_ID=STAFF_GROUP,
        KIMBOT_DATA_DIR=tmp_path / "var",
        HTTP_PORT=0,
        POLLING_TIMEOUT=1,
        _env_file=None,
    )  # type: ignore[call-arg]


class Running:
    """kimbot polling the emulator in this event loop, through the same `bot.runtime.run` as `kimbot run`
    (the scheduler is not started: tests drive time-based jobs themselves)."""

    def __init__(self, app: App, emulator: BotAPIEmulator):
        self.app = app
        self.emu = emulator
        self.task: asyncio.Task[None] | None = None
        self.stopping = asyncio.Event()

    async def start(self) -> None:
        self.task = asyncio.create_task(run(self.app, stop=self.stopping, start_scheduler=False))
        await self.emu.wait_for(lambda: any(c.method == "deletewebhook" for c in self.emu.calls))

    async def stop(self) -> None:
        if self.task is not None:
            self.stopping.set()
            await asyncio.wait_for(self.task, 15)
        await self.app.close()

    async def say(self, user_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        """The user sends text; returns the bot's newest message in the chat once it has answered and gone quiet."""
        chat_id = kwargs.get("chat_id", user_id)
        before = self.emu.last_message_id(chat_id)
        await self.emu.send_message(user_id, text, **kwargs)
        await self.emu.wait_for_message(chat_id, after=before + 1)
        return await self.settle(chat_id)

    async def tap(self, user_id: int, message: dict[str, Any], button: str, *, edits: bool = False) -> dict[str, Any]:
        """The user taps a button by its text. Returns the bot's newest message once it has gone quiet: a new one,
        or with edits=True the tapped message as edited."""
        chat_id = message["chat"]["id"]
        before = self.emu.last_message_id(chat_id)
        callback_id = await self.emu.press(user_id, message, text=button)
        await self.emu.wait_for(lambda: self.emu.callback_answers.get(callback_id) is not None)
        if edits:
            await self.settle(chat_id)
            return self.emu.messages[(chat_id, message["message_id"])]
        await self.emu.wait_for_message(chat_id, after=before)
        return await self.settle(chat_id)

    async def settle(self, chat_id: int, quiet: float = 0.3) -> dict[str, Any]:
        """Wait until the bot has made no call for `quiet` seconds; return its newest message in the chat."""
        count = -1
        while count != len(self.emu.calls):
            count = len(self.emu.calls)
            await asyncio.sleep(quiet)
        return self.emu.last_bot_message(chat_id)


@pytest.fixture
async def kimbot(settings: Settings, emulator: BotAPIEmulator) -> AsyncIterator[Running]:
    app = await build_app(settings)
    running = Running(app, emulator)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()

"""Webhook mode: the secret header is required, a resent update is handled once; /healthz and /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession

from bot.app import App, build_app
from bot.core.config import Settings
from bot.emulator import BotAPIEmulator
from bot.runtime import WEBHOOK_PATH, run
from tests.support import STAFF_GROUP, TOKEN, Handled, free_port

SECRET = "s3cret-webhook-token-0123456789abcdef"


@pytest.fixture
async def webhook_app(
    emulator: BotAPIEmulator, database_url: str, redis_url: str | None, tmp_path: Path
) -> AsyncIterator[tuple[App, str]]:
    port = free_port()
    settings = Settings(
        BOT_TOKEN=TOKEN,  # type: ignore[arg-type]  # pydantic turns it into a SecretStr
        TELEGRAM_API_URL=emulator.base_url,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url or "",
        STAFF_CHAT_ID=STAFF_GROUP,
        KIMBOT_DATA_DIR=tmp_path / "var",
        HTTP_PORT=port,
        WEBHOOK_URL=f"http://127.0.0.1:{port}",
        WEBHOOK_SECRET=SECRET,  # type: ignore[arg-type]  # pydantic turns it into a SecretStr
        _env_file=None,
    )  # type: ignore[call-arg]
    app = await build_app(settings, webhook=True)
    stop = asyncio.Event()
    task = asyncio.create_task(run(app, webhook=True, stop=stop))
    await emulator.wait_for(lambda: any(c.method == "setwebhook" for c in emulator.calls), 30)
    await asyncio.sleep(0.2)
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await app.close()


async def test_webhook_requires_the_secret_and_drops_resent_updates(
    webhook_app: tuple[App, str], emulator: BotAPIEmulator
) -> None:
    app, base = webhook_app
    registered = next(c for c in emulator.calls if c.method == "setwebhook")
    assert registered.params["secret_token"] == SECRET
    assert registered.params["url"] == base + WEBHOOK_PATH
    assert set(registered.params["allowed_updates"]) >= {"message", "callback_query"}

    emulator.add_user(1401, "W", language_code="en")
    await emulator.send_message(1401, "/help")  # the emulator POSTs it to the webhook, with the secret
    reply = await emulator.wait_for_message(1401, contains="What kimbot can do")
    assert reply is not None

    update = {
        "update_id": 777_001,
        "message": {
            "message_id": 99,
            "date": 0,
            "chat": {"id": 1401, "type": "private"},
            "from": emulator.users[1401],
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    async with ClientSession() as http:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong-secret-wrong-secret-wrong"}):
            async with http.post(base + WEBHOOK_PATH, json=update, headers=headers) as response:
                assert response.status == 403
        before = len(emulator.sent(chat_id=1401))
        for _ in range(3):  # Telegram resends when it did not get a 200 in time
            async with http.post(
                base + WEBHOOK_PATH, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            ) as response:
                assert response.status == 200
        await emulator.wait_for(lambda: len(emulator.sent(chat_id=1401)) > before)
        await Handled(app.sessions, emulator, TOKEN).wait()  # the resent ones too, had any got through
        assert len(emulator.sent(chat_id=1401)) == before + 1

        async with http.get(base + "/healthz") as response:
            body = await response.json()
            # The scheduler runs in webhook mode as in production.
            assert response.status == 200, body
            assert body["database"] == "ok" and body["scheduler"] == "running"
            assert "outbox_lag_seconds" in body
        async with http.get(base + "/metrics") as response:
            metrics_text = await response.text()
            assert response.status == 200
            assert 'kimbot_updates_total{type="message"}' in metrics_text
            assert "kimbot_handler_seconds_bucket" in metrics_text
            assert "kimbot_duplicate_updates_total" in metrics_text

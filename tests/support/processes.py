"""kimbot as a separate process (`python -m bot run`), as production runs it: polling, or behind a webhook on a
port of its own, talking to the test's emulator and database; and the free ports such tests need."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

from aiohttp import ClientSession

from bot.core.config import Settings
from bot.emulator import BotAPIEmulator
from tests.support.constants import ROOT

WEBHOOK_SECRET = "two-instances-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kimbot_env(settings: Settings, emulator: BotAPIEmulator, **overrides: str) -> dict[str, str]:
    """The environment of a kimbot process talking to the test's emulator and database."""
    return {
        **os.environ,
        "BOT_TOKEN": settings.bot_token.get_secret_value() if settings.bot_token else "",
        "TELEGRAM_API_URL": emulator.base_url,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url or "",
        "STAFF_CHAT_ID": str(settings.staff_chat_id),
        "KIMBOT_DATA_DIR": str(settings.data_dir),
        "LOG_LEVEL": "WARNING",
        "HTTP_PORT": "0",  # several processes on one machine: each its own port for /healthz
        **overrides,
    }


async def start_polling_process(settings: Settings, emulator: BotAPIEmulator) -> asyncio.subprocess.Process:
    """`kimbot run` polling the emulator; returns once it polls."""
    env = kimbot_env(settings, emulator, POLLING_TIMEOUT="1")
    polls = sum(1 for c in emulator.calls if c.method == "setmycommands")
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=ROOT, env=env)
    # Ready once it has published its commands (13 languages) – it polls right after.
    await emulator.wait_for(lambda: sum(1 for c in emulator.calls if c.method == "setmycommands") >= polls + 13, 60)
    await asyncio.sleep(0.5)
    return process


async def start_webhook_process(
    settings: Settings, emulator: BotAPIEmulator, http_port: int, public: int
) -> asyncio.subprocess.Process:
    """`kimbot run --webhook --no-scheduler` on `http_port`, registering the webhook on port `public`."""
    env = kimbot_env(
        settings,
        emulator,
        HTTP_PORT=str(http_port),
        WEBHOOK_URL=f"http://127.0.0.1:{public}",
        WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--webhook", "--no-scheduler", cwd=ROOT, env=env
    )


async def wait_healthy(port: int) -> None:
    """Until the process on `port` answers /healthz (healthy or not)."""
    async with ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status in (200, 503):
                        return
            except OSError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"kimbot on port {port} did not come up")

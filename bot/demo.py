"""The offline demo: the bundled Bot API emulator, kimbot polling it, and a web page that plays Telegram.

`kimbot demo` (or `kimbot run` without BOT_TOKEN) starts, in one process, the emulator on 127.0.0.1 with the demo
page mounted (bot/emulator/web.py), then kimbot exactly as `kimbot run` builds it – `build_app` and `runtime.run`,
scheduler included – pointed at the emulator with a demo token, a fresh SQLite file under KIMBOT_DATA_DIR and the
county file's staff as members of an emulated staff forum group. Nothing in kimbot is special-cased for the demo.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bot.app import build_app
from bot.core.config import Settings
from bot.core.county import County, load_county
from bot.emulator import BotAPIEmulator
from bot.emulator.web import DemoPage, StaffMember
from bot.runtime import run

log = logging.getLogger("kimbot.demo")

DEMO_TOKEN = "123456789:DEMO-token-for-the-offline-demo"
DEMO_STAFF_CHAT_ID = -1001000000042
DEMO_CLIENT_ID = 5001
DEMO_CLIENT_NAME = "Amal"
READY_TIMEOUT = 120.0


class DemoStartError(Exception):
    """The demo cannot start; the message is meant for a person."""


@dataclass
class DemoParts:
    emulator: BotAPIEmulator
    page: DemoPage
    settings: Settings
    county: County


def demo_database(data_dir: Path) -> Path:
    return data_dir / "demo.db"


def demo_settings(settings: Settings, api_url: str) -> Settings:
    """The user's settings, pointed at the emulator: demo token, embedded SQLite, emulated staff group.

    The health server gets a free port so it never takes the page's (both default to 8080)."""
    database = demo_database(settings.data_dir).resolve()
    return settings.model_copy(
        update={
            "bot_token": SecretStr(DEMO_TOKEN),
            "telegram_api_url": api_url,
            "database_url": f"sqlite+aiosqlite:///{database}",
            "redis_url": None,
            "staff_chat_id": DEMO_STAFF_CHAT_ID,
            "webhook_url": None,
            "webhook_secret": None,
            "translate_url": None,
            "http_port": 0,
        }
    )


def _fresh_database(data_dir: Path) -> None:
    """Every demo starts empty: the emulator forgets its chats when it stops, so old rows would point nowhere."""
    data_dir.mkdir(parents=True, exist_ok=True)
    database = demo_database(data_dir)
    for leftover in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        leftover.unlink(missing_ok=True)


def prepare(settings: Settings) -> DemoParts:
    """The emulator with the staff group, its members and the client, and the page mounted (not started yet)."""
    county = load_county(settings.county_file)
    emulator = BotAPIEmulator(host="127.0.0.1", port=settings.demo_port)
    emulator.add_group(DEMO_STAFF_CHAT_ID, f"KIM {county.name} – Team")
    staff = []
    for member in county.staff:
        emulator.add_user(member.telegram_id, member.display_name, language_code=member.languages[0])
        staff.append(StaffMember(member.telegram_id, member.display_name))
    page = DemoPage(
        emulator,
        staff_chat_id=DEMO_STAFF_CHAT_ID,
        staff=staff,
        client_id=DEMO_CLIENT_ID,
        client_name=DEMO_CLIENT_NAME,
        title=county.name,
    )
    page.mount()
    return DemoParts(emulator=emulator, page=page, settings=settings, county=county)


async def run_demo(
    settings: Settings, *, stop: asyncio.Event | None = None, announce: Callable[[str], None] = print
) -> None:
    """Run the demo until `stop` is set or SIGINT/SIGTERM arrives; `announce` gets the page's address."""
    _fresh_database(settings.data_dir)
    parts = prepare(settings)
    emulator = parts.emulator
    try:
        await emulator.start()
    except OSError as exc:
        raise DemoStartError(
            f"the demo page cannot listen on 127.0.0.1:{settings.demo_port} ({exc.strerror or exc}); "
            "set DEMO_PORT to a free port"
        ) from None
    try:
        app = await build_app(demo_settings(settings, emulator.base_url), parts.county)
        try:
            stop = stop or asyncio.Event()
            bot = asyncio.create_task(run(app, stop=stop))
            # kimbot is polling once it has dropped any webhook (runtime.run does that right before polling).
            ready = asyncio.create_task(
                emulator.wait_for(lambda: any(c.method == "deletewebhook" for c in emulator.calls), READY_TIMEOUT)
            )
            await asyncio.wait({bot, ready}, return_when=asyncio.FIRST_COMPLETED)
            if bot.done():
                ready.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ready
            else:
                await ready
                announce(
                    f"kimbot demo for {parts.county.name} is running: open {emulator.base_url}/ in your browser.\n"
                    f"Database: {demo_database(settings.data_dir)} (started empty). Stop with Ctrl+C."
                )
            await bot
        finally:
            await app.close()
    finally:
        await emulator.stop()

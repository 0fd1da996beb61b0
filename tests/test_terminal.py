"""What a person running kimbot sees in the terminal: the real health address and where the database is, and no
third-party INFO chatter unless they ask for DEBUG."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator

import pytest
from aiohttp import ClientSession
from sqlalchemy import make_url

from bot.app import build_app
from bot.core.config import Settings
from bot.emulator import BotAPIEmulator
from bot.ops.logs import configure_logging
from bot.runtime import run


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_third_party_info_lines_show_only_at_debug(
    level: str, restore_root_logger: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(level)
    logging.getLogger("apscheduler.scheduler").info("Adding job tentatively")
    logging.getLogger("kimbot").info("kimbot is running")
    logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
    err = capsys.readouterr().err
    assert "INFO kimbot: kimbot is running" in err
    assert "WARNING apscheduler.scheduler: Run time of job was missed" in err
    if level == "INFO":
        assert "Adding job tentatively" not in err
    else:
        assert "DEBUG apscheduler.scheduler: Adding job tentatively" in err


async def test_the_start_line_names_the_real_health_address_and_the_database(
    settings: Settings, emulator: BotAPIEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    assert settings.http_port == 0  # a free port is picked, as in the demo
    app = await build_app(settings, scheduler=False)  # updates only: healthy without a running scheduler
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="kimbot"):
        task = asyncio.create_task(run(app, stop=stop, start_scheduler=False))
        try:
            await emulator.wait_for(lambda: any("is running" in r.getMessage() for r in caplog.records))
            line = next(r.getMessage() for r in caplog.records if "is running" in r.getMessage())
            found = re.search(r"health on (http://127\.0\.0\.1:(\d+)/healthz)", line)
            assert found is not None and found.group(2) != "0", line
            database = make_url(settings.database_url).render_as_string(hide_password=True)
            assert f"database {database}." in line and "Stop with Ctrl+C" in line
            async with ClientSession() as http, http.get(found.group(1)) as response:
                assert response.status == 200
                assert (await response.json())["database"] == "ok"
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
            await app.close()

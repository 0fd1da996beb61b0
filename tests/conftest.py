"""Fixtures: a database (SQLite by default, PostgreSQL when DATABASE_URL says so), Redis when REDIS_URL is set,
the Bot API emulator on 127.0.0.1, and kimbot itself – built by the production factories, polling the emulator."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import build_app
from bot.core.config import Settings
from bot.core.county import County, load_county
from bot.core.county_text import CountyTexts, catalog_dir
from bot.core.i18n import DEFAULT_LOCALE, DOMAIN, ensure_compiled, source_catalog_dir
from bot.db.migrate import upgrade
from bot.emulator import BotAPIEmulator
from tests.support import STAFF_GROUP, TOKEN, Running
from tests.support.fake_libretranslate import ARGOS, FakeLibreTranslate
from tests.support.fake_llm import FakeChatCompletions


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


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database migrated to the newest schema once per run: kimbot's start-up finds it there and skips
    Alembic, which otherwise took about half a second of every test that starts kimbot."""
    path = tmp_path_factory.mktemp("template") / "kimbot.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def settings(
    emulator: BotAPIEmulator, database_url: str, redis_url: str | None, tmp_path: Path, migrated_sqlite: Path
) -> Settings:
    """kimbot's settings for the test's emulator and database. A new SQLite database starts as a copy of the
    migrated one (`database_url` alone stays empty, for the tests of the migrations themselves)."""
    database = tmp_path / "kimbot.db"
    if database_url == f"sqlite+aiosqlite:///{database}" and not database.exists():
        for suffix in ("", "-wal", "-shm"):
            if (source := Path(f"{migrated_sqlite}{suffix}")).exists():
                shutil.copyfile(source, f"{database}{suffix}")
    return Settings(
        BOT_TOKEN=TOKEN,  # type: ignore[arg-type]  # pydantic turns it into a SecretStr
        TELEGRAM_API_URL=emulator.base_url,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url or "",
        STAFF_CHAT_ID=STAFF_GROUP,
        KIMBOT_DATA_DIR=tmp_path / "var",
        HTTP_PORT=0,
        POLLING_TIMEOUT=1,
        _env_file=None,
    )  # type: ignore[call-arg]


@pytest.fixture
async def kimbot(settings: Settings, emulator: BotAPIEmulator) -> AsyncIterator[Running]:
    app = await build_app(settings)
    running = Running(app, emulator)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


# ------------------------------------------------------------------ the unit tests of views


@pytest.fixture(scope="session")
def catalogs(tmp_path_factory: pytest.TempPathFactory) -> I18n:
    """kimbot's catalogs, built like bot.app.build_i18n, for views rendered without a bot."""
    path = ensure_compiled(source_catalog_dir(), tmp_path_factory.mktemp("locales"))
    return I18n(path=path, default_locale=DEFAULT_LOCALE, domain=DOMAIN)


@pytest.fixture
def german(catalogs: I18n) -> Iterator[I18n]:
    with catalogs.context(), catalogs.use_locale("de"):
        yield catalogs


@pytest.fixture
def english(catalogs: I18n) -> Iterator[I18n]:
    with catalogs.context(), catalogs.use_locale("en"):
        yield catalogs


@pytest.fixture(scope="session")
def example_county() -> County:
    """The example county file (Kreis Euskirchen)."""
    return load_county(None)


@pytest.fixture(scope="session")
def county_texts(tmp_path_factory: pytest.TempPathFactory) -> CountyTexts:
    """The example county's texts in every language, built like bot.app.build_county_texts."""
    return CountyTexts.load(catalog_dir(None), tmp_path_factory.mktemp("county-locales"))


# The fake language services (tests/support): LibreTranslate as the older tests know it (`translator`), or listing
# what a server with the published models lists (`libre`), and a chat-completions server (`llm`).
@pytest.fixture
async def translator() -> AsyncIterator[FakeLibreTranslate]:
    async with FakeLibreTranslate() as fake:
        yield fake


@pytest.fixture
async def libre() -> AsyncIterator[FakeLibreTranslate]:
    async with FakeLibreTranslate(ARGOS) as fake:
        yield fake


@pytest.fixture
async def llm() -> AsyncIterator[FakeChatCompletions]:
    async with FakeChatCompletions() as fake:
        yield fake

"""Run Alembic migrations from code (`kimbot db upgrade`, and on start).

Alembic is imported only when the database is behind: a bot started against a migrated database (production runs
`kimbot db upgrade` before it) does not carry the migration tool, about 10 MB of its memory.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision; tests/test_migrations.py checks it is Alembic's one head.
HEAD = "0015"


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


async def current_revisions(database_url: str) -> set[str]:
    """The revisions the database says it is at (empty for a new database)."""
    from bot.db.engine import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    except DBAPIError:  # no alembic_version table yet
        return set()
    finally:
        await engine.dispose()


async def upgrade_async(database_url: str) -> None:
    """Migrate to HEAD unless the database is there already. Alembic's env runs its own event loop, so it gets a
    thread of its own."""
    if await current_revisions(database_url) == {HEAD}:
        return
    await asyncio.to_thread(upgrade, database_url)

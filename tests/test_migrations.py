"""The migrations form one line of history and build exactly the schema the models describe."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bot.db.base import Base
from bot.db.engine import create_engine
from bot.db.migrate import HEAD, alembic_config, upgrade_async
from tests.support import ROOT


def test_one_head_and_it_is_the_one_kimbot_checks_for() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    assert script.get_heads() == [HEAD]


async def test_a_migrated_database_starts_without_alembic(database_url: str) -> None:
    await upgrade_async(database_url)
    probe = (
        "import asyncio, sys\n"
        "from bot.db.migrate import upgrade_async\n"
        f"asyncio.run(upgrade_async({database_url!r}))\n"
        "print('alembic' in sys.modules)\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", probe, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    assert out.decode().strip() == "False"


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    await upgrade_async(database_url)
    engine = create_engine(database_url)

    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    await engine.dispose()
    assert differences == [], differences

"""The migrations form one line of history and build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.db.base import Base
from bot.db.engine import create_engine
from bot.db.migrate import alembic_config, upgrade_async


def test_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    assert len(script.get_heads()) == 1, script.get_heads()


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    await upgrade_async(database_url)
    engine = create_engine(database_url)

    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    await engine.dispose()
    assert differences == [], differences

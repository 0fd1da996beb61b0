"""`bot.services.privacy` on its own: the export holds every capability's part and audits itself, the erasure
leaves only the fact that it happened, and an unknown client is an error before anything is deleted."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.db.models import AuditEntry, Client
from bot.services import clients, privacy
from tests.support import Running


async def test_export_holds_every_part_and_is_audited(kimbot: Running) -> None:
    async with kimbot.app.sessions() as session, session.begin():
        client = await clients.register(session, 4101, "de")
        data = await privacy.export(session, client.id)
    assert set(data) == {*privacy.EXPORT_PARTS, "exported_at"}
    assert {"client", "appointments", "waitlist", "no_shows", "documents", "case_manager_chat"} <= set(data)
    assert {"messages", "activity", "conversation_state"} <= set(data)
    assert data["client"]["telegram_id"] == 4101 and data["client"]["language"] == "de"
    assert [a["action"] for a in data["activity"]] == ["client_registered"]  # not the export itself
    async with kimbot.app.sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action).where(AuditEntry.client_id == client.id))).all()
    assert actions == ["client_registered", "data_exported"]


async def test_erase_leaves_only_that_it_happened(kimbot: Running) -> None:
    async with kimbot.app.sessions() as session, session.begin():
        client = await clients.register(session, 4102, "en")
        await clients.acknowledge_privacy(session, client.id)
    async with kimbot.app.sessions() as session, session.begin():
        await privacy.erase(session, client.id)
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Client)) == 0
        rows = (await session.execute(select(AuditEntry.action, AuditEntry.client_id))).all()
    assert [tuple(r) for r in rows] == [("client_erased", None)]


async def test_erasing_an_unknown_client_deletes_nothing(kimbot: Running) -> None:
    async with kimbot.app.sessions() as session, session.begin():
        client = await clients.register(session, 4103, "en")
    async with kimbot.app.sessions() as session:
        with pytest.raises(LookupError):
            await privacy.erase(session, client.id + 1000)
        await session.rollback()
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 1

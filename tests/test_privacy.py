"""/privacy: export everything the bot holds, erase everything, and nothing remains in the database."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import func, select, text, update

from bot.db.base import utcnow
from bot.db.models import AuditEntry, Client, FsmRecord, InboundUpdate
from bot.emulator import BotAPIEmulator
from tests.support import Running, button_texts, onboard


async def test_export_then_erase_leaves_nothing(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 601, language="de", town="Mechernich")

    rights = await kimbot.say(601, "/privacy")
    assert "Ihre Daten" in rights["text"]
    assert button_texts(rights)[:2] == ["Meine Daten zuschicken", "Alle meine Daten löschen"]

    export = await kimbot.tap(601, rights, "Meine Daten zuschicken")
    document = export["document"]
    assert document["file_name"].startswith("kimbot-K-")
    data = json.loads(emulator.file_content(document["file_id"]))
    assert data["client"]["telegram_id"] == 601
    assert data["client"]["language"] == "de"
    assert data["client"]["municipality"] == "mechernich"
    assert {"client_registered", "privacy_acknowledged"} <= {a["action"] for a in data["activity"]}

    question = await kimbot.tap(601, rights, "Alle meine Daten löschen")
    assert button_texts(question) == ["Ja, alles löschen", "Nein, meine Daten behalten"]
    done = await kimbot.tap(601, question, "Ja, alles löschen", edits=True)
    assert "gelöscht" in done["text"]

    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Client)) == 0
        assert await session.scalar(select(func.count()).select_from(FsmRecord)) == 0
        assert await session.scalar(select(func.count()).where(AuditEntry.client_id.is_not(None))) == 0
        actions = (await session.scalars(select(AuditEntry.action))).all()
        assert actions == ["client_erased"]
        erased = await session.scalar(select(AuditEntry).where(AuditEntry.action == "client_erased"))
        assert erased is not None and erased.details == {} and erased.actor_id is None
        # No column anywhere still holds the client's Telegram id.
        for table in ("clients", "audit_log", "fsm_state"):
            rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
            assert not any("601" in str(value) for row in rows for value in row), table


async def test_keeping_data_deletes_nothing(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 602)
    rights = await kimbot.say(602, "/privacy")
    question = await kimbot.tap(602, rights, "Delete all my data")
    kept = await kimbot.tap(602, question, "No, keep my data", edits=True)
    assert kept["text"] == "Nothing was deleted."
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Client)) == 1


async def _handled(kimbot: Running) -> int:
    async with kimbot.app.sessions() as session:
        return int(await session.scalar(select(func.count()).where(InboundUpdate.status == "done")) or 0)


async def test_blocking_the_bot_registers_nobody_and_is_no_contact(kimbot: Running, emulator: BotAPIEmulator) -> None:
    """Blocking kimbot in the app (`my_chat_member`) is not writing to it: a stranger who blocks it leaves no data
    behind, and a client's block neither restarts their retention period nor marks them reachable."""
    await onboard(kimbot, emulator, 611, language="de", town="Mechernich")
    long_ago = utcnow() - timedelta(days=30)
    async with kimbot.app.sessions() as session, session.begin():
        await session.execute(
            update(Client).where(Client.telegram_id == 611).values(last_contact_at=long_ago, reachable=False)
        )
    emulator.add_user(612, "Stranger", language_code="de")
    handled, calls = await _handled(kimbot), len(emulator.calls)

    await emulator.set_blocked(611)
    await emulator.set_blocked(612)
    for _ in range(200):
        if await _handled(kimbot) >= handled + 2:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the two blocks were not handled")

    async with kimbot.app.sessions() as session:
        stored = {c.telegram_id: c for c in await session.scalars(select(Client))}
    assert set(stored) == {611}, "a stranger who blocked the bot was registered"
    assert stored[611].reachable is False
    assert stored[611].last_contact_at is not None and stored[611].last_contact_at < utcnow() - timedelta(days=29)
    assert not [c for c in emulator.calls[calls:] if c.method == "sendmessage"], "kimbot wrote to a blocked chat"

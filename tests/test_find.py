"""`/find` for staff in a private chat: what it understands (a reference or a part of one, `expiring [days]`, a
name part), and end to end: hits link to the client's forum topic, documents expiring within N days are found
(a case manager's own clients; an admin's all), a name is found only where names are stored (HANDOFF_TOPIC_NAMES),
and in the staff group the command is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.app import build_app
from bot.core.config import Settings
from bot.db.models import Client, Staff
from bot.db.models_casework import ClientName
from bot.emulator import BotAPIEmulator
from bot.services import documents, office_hours
from bot.services.casework import Query, parse_query, reference_part
from tests.support import (
    ADMIN,
    ANNA,
    BERLIN,
    STAFF_GROUP,
    YUSUF,
    Running,
    in_topic,
    onboard,
    staff_user,
    t,
    thread_of,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_what_find_understands() -> None:
    assert parse_query("K-4F7Q2") == Query("reference", "4F7Q2")
    assert parse_query("k-4f7") == Query("reference", "4F7")
    assert parse_query("4F7") == Query("text", "4F7")
    assert parse_query("expiring") == Query("expiring", days=30)
    assert parse_query("ablaufend 60") == Query("expiring", days=60)
    assert parse_query("expiring 999") == Query("expiring", days=366)
    assert parse_query("  Ali  ") == Query("text", "Ali")
    assert parse_query("") is None and parse_query("x") is None
    assert reference_part("4f7") == "4F7" and reference_part("Ali") == "ALI"
    assert reference_part("Ümit") is None and reference_part("Ali Reza") == "ALIREZA"


async def _client(kimbot: Running, telegram_id: int) -> Client:
    async with kimbot.app.sessions() as session:
        row = await session.scalar(select(Client).where(Client.telegram_id == telegram_id))
    assert row is not None
    return row


async def _assign(kimbot: Running, telegram_id: int, staff_telegram_id: int) -> None:
    async with kimbot.app.sessions() as session, session.begin():
        staff_id = await session.scalar(select(Staff.id).where(Staff.telegram_id == staff_telegram_id))
        row = await session.scalar(select(Client).where(Client.telegram_id == telegram_id))
        assert row is not None
        row.case_manager_id = staff_id


async def test_find_by_reference_and_expiring_documents_links_the_topic(
    kimbot: Running, emulator: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: NOW)
    for member in (ANNA, YUSUF, ADMIN):
        staff_user(emulator, member)
    await onboard(kimbot, emulator, 9601, language="ps")
    await onboard(kimbot, emulator, 9602, language="so")
    await emulator.send_message(9601, "سلام")
    thread = await thread_of(kimbot, 9601)
    await in_topic(emulator, thread, lambda m: m.get("text") == "سلام")
    await kimbot.settle(STAFF_GROUP)
    first, second = await _client(kimbot, 9601), await _client(kimbot, 9602)
    await _assign(kimbot, 9601, ANNA)
    await _assign(kimbot, 9602, YUSUF)
    async with kimbot.app.sessions() as session, session.begin():
        for row, expires in ((first, date(2026, 12, 20)), (second, date(2027, 2, 1))):
            await documents.add(session, client_id=row.id, doc_type="duldung", expires_on=expires, tz=BERLIN, now=NOW)

    hit = await kimbot.say(ANNA, f"/find {first.reference}")
    link = f"https://t.me/c/{str(STAFF_GROUP).removeprefix('-100')}/{thread}"
    assert first.reference in hit["text"] and second.reference not in hit["text"]
    sent = emulator.sent(ANNA, "sendMessage")[-1].params["text"]  # as kimbot sent it, before the HTML is parsed
    assert f'<a href="{link}">' in sent
    part = await kimbot.say(ANNA, f"/find {second.reference.removeprefix('K-')[:4]}")
    assert second.reference in part["text"] and t(kimbot, "no topic yet") in part["text"]

    soon = await kimbot.say(ANNA, "/find expiring 30")
    assert first.reference in soon["text"] and "20.12.2026" in soon["text"] and second.reference not in soon["text"]
    theirs = await kimbot.say(ANNA, "/find expiring 90")
    assert second.reference not in theirs["text"]  # Yusuf's client: not in Anna's list
    everyone = await kimbot.say(ADMIN, "/find expiring 90")
    assert first.reference in everyone["text"] and second.reference in everyone["text"]

    nothing = await kimbot.say(ANNA, "/find ZZZZZZ")
    assert nothing["text"] == t(kimbot, "No client found.")
    usage = await kimbot.say(ANNA, "/find")
    assert (
        t(kimbot, "Names are not stored (HANDOFF_TOPIC_NAMES is off), so there is no search by name.") in usage["text"]
    )
    refused = await kimbot.say(ANNA, f"/find {first.reference}", chat_id=STAFF_GROUP)
    assert refused["text"] == t(kimbot, "Please use a private chat with me for this command.")
    assert first.reference not in refused["text"]


@pytest.fixture
async def named_kimbot(settings: Settings, emulator: BotAPIEmulator) -> AsyncIterator[Running]:
    """kimbot with HANDOFF_TOPIC_NAMES=true: topics carry the client's first name, so /find can search it."""
    app = await build_app(settings.model_copy(update={"topic_names": True}))
    running = Running(app, emulator)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def test_a_name_is_found_where_names_are_stored(named_kimbot: Running, emulator: BotAPIEmulator) -> None:
    kimbot = named_kimbot
    staff_user(emulator, ANNA)
    await onboard(kimbot, emulator, 9603, language="tr")  # the emulator's first name: "Client 9603"
    await emulator.send_message(9603, "Merhaba")
    thread = await thread_of(kimbot, 9603)
    await in_topic(emulator, thread, lambda m: m.get("text") == "Merhaba")
    await kimbot.settle(STAFF_GROUP)
    client = await _client(kimbot, 9603)
    assert emulator.topics[(STAFF_GROUP, thread)]["name"].endswith("Client 9603")
    async with kimbot.app.sessions() as session:
        stored = await session.get(ClientName, client.id)
    assert stored is not None and stored.first_name == "Client 9603"

    found = await kimbot.say(ANNA, "/find client 96")
    assert client.reference in found["text"] and "Client 9603" in found["text"]
    assert t(kimbot, "/find Ali – by a part of the first name") in (await kimbot.say(ANNA, "/find"))["text"]

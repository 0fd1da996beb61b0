"""Erasure that is true: "Delete all my data" and the retention purge leave no row, no conversation state (checked
in Redis itself when REDIS_URL is set) and no forum topic or Intake card of the client; when Telegram refuses to
delete them, staff are told what to delete by hand and the client is told so. Plus the retention job's pruning:
unfinished onboarding after 30 days, conversation state after 7 days, the journal after 2."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aiogram.fsm.storage.redis import RedisStorage
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import build_fsm_storage
from bot.db.base import Base, utcnow
from bot.db.models import AuditEntry, Client, FsmRecord, InboundUpdate
from bot.db.models_handoff import Conversation
from bot.delivery import outbox
from bot.emulator import BotAPIEmulator
from bot.jobs.scheduler import Jobs
from bot.services import handoff
from bot.telegram import fsm_storage
from bot.telegram.topics import ForumTopics
from tests.support import STAFF_GROUP, Running, book_appointment, in_topic, onboard, t, thread_of

ADDRESS = "Hauptstraße 5, 53879 Euskirchen"
ERASED_NOTE = "🗑 A client has erased their data. Their topic and Intake card, if there were any, are deleted."
REFUSED_NOTE = (
    "⚠️ A client's data has been erased, but Telegram did not let kimbot delete their topic or Intake card. "
    "Please delete by hand: {links}"
)
ALL_DELETED = "All your data has been deleted. If you write to me again, we start afresh with /start."
NOT_ALL_DELETED = (
    "Your data has been deleted from kimbot. Your conversation in the staff group could not be deleted "
    "automatically; the staff have been asked to delete it by hand. If you write to me again, we start "
    "afresh with /start."
)


def _key(kimbot: Running, telegram_id: int) -> Any:
    return fsm_storage.client_keys(kimbot.app.bot.id, telegram_id)[0]


async def _redis_keys_of(kimbot: Running, telegram_id: int) -> list[str]:
    """Every Redis key naming the user (read from Redis itself, not through kimbot); [] without Redis."""
    storage = kimbot.app.storage
    if not isinstance(storage, RedisStorage):
        return []
    keys = [k.decode() if isinstance(k, bytes) else str(k) for k in await storage.redis.keys("*")]
    return [k for k in keys if f":{telegram_id}:" in k]


async def _rows_about(session: AsyncSession, client_id: int, telegram_id: int) -> dict[str, int]:
    """Rows of every table with a client column that point at the client, and journal payloads of the user."""
    found: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "clients" for fk in column.foreign_keys):
                count = await session.scalar(select(func.count()).select_from(table).where(column == client_id))
                if count:
                    found[f"{table.name}.{column.name}"] = int(count)
    if await session.get(Client, client_id) is not None:
        found["clients"] = 1
    payloads = (await session.scalars(select(InboundUpdate.payload).where(InboundUpdate.payload.is_not(None)))).all()
    mine = [p for p in payloads if p and f'"id": {telegram_id}' in json.dumps(json.loads(p))]
    if mine:
        found["inbound_updates.payload"] = len(mine)
    fsm = await session.scalar(
        select(func.count()).select_from(FsmRecord).where(FsmRecord.key.contains(f":{telegram_id}:"))
    )
    if fsm:
        found["fsm_state"] = int(fsm)
    return found


async def _erase_through_the_menu(kimbot: Running, telegram_id: int, stuck_update: int | None = None) -> dict[str, Any]:
    rights = await kimbot.say(telegram_id, "/privacy")
    question = await kimbot.tap(telegram_id, rights, t(kimbot, "Delete all my data", "en"))
    if stuck_update is not None:  # an update of theirs that kept failing: still pending, with its payload
        payload = {"update_id": stuck_update, "message": {"from": {"id": telegram_id}, "text": ADDRESS}}
        async with kimbot.app.sessions() as session, session.begin():
            session.add(InboundUpdate(update_id=stuck_update, payload=json.dumps(payload)))
    return await kimbot.tap(telegram_id, question, t(kimbot, "Yes, delete everything", "en"), edits=True)


async def _client_with_topic(kimbot: Running, emulator: BotAPIEmulator, telegram_id: int) -> tuple[Client, int]:
    """An onboarded client who wrote to staff (their topic, and an Intake card: no case manager yet)."""
    await onboard(kimbot, emulator, telegram_id)
    await emulator.send_message(telegram_id, "I need help with a letter")
    thread = await thread_of(kimbot, telegram_id)
    await in_topic(emulator, thread, lambda m: m.get("text") == "I need help with a letter")
    await kimbot.settle(STAFF_GROUP)
    async with kimbot.app.sessions() as session:
        client = await session.scalar(select(Client).where(Client.telegram_id == telegram_id))
    assert client is not None
    return client, thread


async def _intake_texts(kimbot: Running, emulator: BotAPIEmulator) -> list[str]:
    async with kimbot.app.sessions() as session:
        intake = await handoff.staff_topic(session, handoff.INTAKE, STAFF_GROUP)
    assert intake is not None
    return [m.get("text") or "" for m in emulator.topic_messages(STAFF_GROUP, intake)]


async def test_delete_all_my_data_leaves_no_row_no_state_and_no_topic(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    client, thread = await _client_with_topic(kimbot, emulator, 701)
    await book_appointment(kimbot, 701)  # a reminder for the client, a note for the case manager (no client_id)
    async with kimbot.app.sessions() as session, session.begin():
        card = await session.scalar(select(Conversation.intake_message_id).where(Conversation.client_id == client.id))
        await outbox.enqueue(  # an "unreachable" alert to staff about the client
            session, key=f"client:{client.id}:unreachable:1", chat_id=STAFF_GROUP, template="x", due_at=utcnow()
        )
    assert card is not None and (STAFF_GROUP, card) in emulator.messages
    # An abandoned home-visit booking: the typed address in the conversation state.
    await kimbot.app.storage.set_state(_key(kimbot, 701), "Booking:address")
    await kimbot.app.storage.set_data(_key(kimbot, 701), {"home_address": ADDRESS})
    async with kimbot.app.sessions() as session:
        before = await _rows_about(session, client.id, 701)
    assert {"appointments.client_id", "outbox.client_id"} <= set(before)
    if isinstance(kimbot.app.storage, RedisStorage):
        assert await _redis_keys_of(kimbot, 701), "the test would not see a Redis key"
    else:
        assert "fsm_state" in before

    done = await _erase_through_the_menu(kimbot, 701, stuck_update=10**9)

    assert done["text"] == t(kimbot, ALL_DELETED, "en")
    async with kimbot.app.sessions() as session:
        assert await _rows_about(session, client.id, 701) == {}
        assert await session.scalar(select(func.count()).select_from(outbox.OutboxMessage)) == 0  # staff notes too
        assert (await session.scalars(select(AuditEntry.action))).all() == ["client_erased"]
    assert await kimbot.app.storage.get_data(_key(kimbot, 701)) == {}
    assert await _redis_keys_of(kimbot, 701) == []
    # The topic with every copy in it, and the Intake card, are gone from the staff group.
    assert [c.params["message_thread_id"] for c in emulator.sent(STAFF_GROUP, "deleteForumTopic")] == [thread]
    assert (STAFF_GROUP, thread) not in emulator.topics
    assert emulator.topic_messages(STAFF_GROUP, thread) == []
    assert (STAFF_GROUP, card) not in emulator.messages
    notes = await _intake_texts(kimbot, emulator)
    assert t(kimbot, ERASED_NOTE) in notes
    assert not any(client.reference in text for text in notes)


async def test_when_telegram_refuses_staff_are_asked_and_the_client_is_told(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    client, thread = await _client_with_topic(kimbot, emulator, 702)
    emulator.fail("deleteForumTopic", 400, "Bad Request: not enough rights to manage topics")

    done = await _erase_through_the_menu(kimbot, 702)

    assert done["text"] == t(kimbot, NOT_ALL_DELETED, "en")
    assert (STAFF_GROUP, thread) in emulator.topics  # Telegram kept it
    link = f"https://t.me/c/{str(STAFF_GROUP).removeprefix('-100')}/{thread}"
    notes = await _intake_texts(kimbot, emulator)
    assert t(kimbot, REFUSED_NOTE).format(links=link) in notes
    assert not any(client.reference in text for text in notes)
    async with kimbot.app.sessions() as session:
        assert await _rows_about(session, client.id, 702) == {}


def _jobs(kimbot: Running) -> Jobs:
    app = kimbot.app
    assert app.worker is not None
    topics = app.dispatcher["topics"]
    assert isinstance(topics, ForumTopics)
    return Jobs(app.settings, app.sessions, app.worker, app.county, bot=app.bot, storage=app.storage, topics=topics)


async def _last_contact(kimbot: Running, telegram_id: int, days_ago: int) -> None:
    async with kimbot.app.sessions() as session, session.begin():
        await session.execute(
            update(Client)
            .where(Client.telegram_id == telegram_id)
            .values(last_contact_at=utcnow() - timedelta(days=days_ago))
        )


async def test_the_purge_erases_unfinished_onboarding_after_30_days_and_inactive_clients_with_their_topic(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    for user_id in (703, 704):  # stop at the privacy notice: not onboarded, a conversation state in the storage
        emulator.add_user(user_id, f"Client {user_id}", language_code="en")
        await kimbot.say(user_id, "/start")
        assert await kimbot.app.storage.get_state(_key(kimbot, user_id)) is not None
    await onboard(kimbot, emulator, 705)
    inactive, thread = await _client_with_topic(kimbot, emulator, 706)
    await _last_contact(kimbot, 703, 31)
    await _last_contact(kimbot, 704, 20)
    await _last_contact(kimbot, 705, 40)  # onboarded: kept for RETENTION_MONTHS
    await _last_contact(kimbot, 706, 31 * 13)

    await _jobs(kimbot).purge()

    async with kimbot.app.sessions() as session:
        left = set((await session.scalars(select(Client.telegram_id))).all())
        purged = await session.scalar(select(AuditEntry).where(AuditEntry.action == "clients_purged"))
        assert await _rows_about(session, inactive.id, 706) == {}
    assert left == {704, 705}
    assert purged is not None and purged.details == {"count": 2}
    assert await kimbot.app.storage.get_state(_key(kimbot, 703)) is None
    assert await kimbot.app.storage.get_state(_key(kimbot, 704)) is not None
    assert await _redis_keys_of(kimbot, 703) == []
    assert (STAFF_GROUP, thread) not in emulator.topics
    assert [c.params["message_thread_id"] for c in emulator.sent(STAFF_GROUP, "deleteForumTopic")] == [thread]
    assert t(kimbot, ERASED_NOTE) not in await _intake_texts(kimbot, emulator)  # the purge does not announce


async def test_the_purge_prunes_stale_conversation_state_and_the_journal(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    emulator.add_user(708, "Client 708", language_code="en")
    await kimbot.say(708, "/start")  # kimbot polls: it has read the journal's unfinished rows before the ones below
    old, fresh = utcnow() - timedelta(days=8), utcnow() - timedelta(days=1)
    async with kimbot.app.sessions() as session, session.begin():
        session.add(FsmRecord(key="stale", state="Booking:address", data=json.dumps({"a": ADDRESS}), updated_at=old))
        session.add(FsmRecord(key="recent", state="Booking:address", data="{}", updated_at=fresh))
        stuck = json.dumps({"update_id": 10**9 + 1, "message": {"text": ADDRESS}})
        session.add(InboundUpdate(update_id=10**9 + 1, payload=stuck, status="pending", received_at=old))
        session.add(InboundUpdate(update_id=10**9 + 2, status="done", received_at=old, done_at=old))
        session.add(InboundUpdate(update_id=10**9 + 3, status="done", received_at=fresh, done_at=fresh))

    await _jobs(kimbot).purge()

    async with kimbot.app.sessions() as session:
        assert set((await session.scalars(select(FsmRecord.key))).all()) & {"stale", "recent"} == {"recent"}
        journal = set(await session.scalars(select(InboundUpdate.update_id).where(InboundUpdate.update_id > 10**9)))
    assert journal == {10**9 + 3}


async def test_redis_conversation_state_expires_after_seven_days(kimbot: Running) -> None:
    storage, isolation = build_fsm_storage(
        kimbot.app.settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}), kimbot.app.sessions
    )
    assert isinstance(storage, RedisStorage)
    assert storage.state_ttl == storage.data_ttl == timedelta(days=7) == fsm_storage.FSM_TTL
    await storage.close()
    await isolation.close()
    if isinstance(kimbot.app.storage, RedisStorage):  # the real thing: the keys in Redis carry the TTL
        await kimbot.app.storage.set_state(_key(kimbot, 707), "Booking:address")
        await kimbot.app.storage.set_data(_key(kimbot, 707), {"home_address": ADDRESS})
        keys = await _redis_keys_of(kimbot, 707)
        assert len(keys) == 2
        for key in keys:
            assert 6 * 86400 < await kimbot.app.storage.redis.ttl(key) <= 7 * 86400

"""Updates that overlap with a slow commit: the next message of the same client, and a staff answer in a topic
whose creating update has not committed yet. The commit is slowed down by delaying the journal's done mark, which
the unit of work writes after the handler returned and before it commits.

On SQLite the staff answer of the second test cannot even be journalled before that commit (the client's update
holds the write lock); on PostgreSQL it is handled at once and has to wait for the topic."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from sqlalchemy import select, update

from bot.app import build_app, build_fsm_storage
from bot.core.config import Settings
from bot.db.engine import create_engine, create_session_factory
from bot.db.models import Client
from bot.db.models_handoff import Conversation
from bot.emulator import BotAPIEmulator
from bot.services import office_hours
from bot.telegram import middlewares, topics
from bot.telegram.isolation import OrderedEventIsolation
from tests.support import ANNA, STAFF_GROUP, Running, onboard

SLOW_COMMIT_SECONDS = 2.0  # longer than the staff side's grace for a topic nobody in this process is creating
# The per-chat lock of polling (in the process), and with Redis also the one behind a webhook (through Redis).
LOCKS = ["polling", "webhook"] if os.environ.get("REDIS_URL") else ["polling"]


@pytest.fixture(params=LOCKS)
async def kimbot(
    request: pytest.FixtureRequest, settings: Settings, emulator: BotAPIEmulator
) -> AsyncIterator[Running]:
    """The suite's running kimbot, with the per-chat lock the parameter's mode uses (updates still come by polling)."""
    running = Running(await build_app(settings, webhook=request.param == "webhook"), emulator)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture(autouse=True)
def office_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


def slow_commits(monkeypatch: pytest.MonkeyPatch, user_id: int) -> None:
    """Updates from `user_id` take SLOW_COMMIT_SECONDS between their handler's end and their commit. The journal
    entry does not know who sent the update, so the unit of work notes it on the entry first."""
    mark_done = middlewares.mark_done
    unit_of_work = middlewares.UnitOfWorkMiddleware.__call__

    async def noting_sender(self: Any, handler: Any, event: Any, data: dict[str, Any]) -> Any:
        entry, user = data.get("journal_entry"), data.get("event_from_user")
        if entry is not None:
            entry.user_id = user.id if user is not None else None
        return await unit_of_work(self, handler, event, data)

    async def slow_mark_done(session: Any, entry: Any) -> None:
        if entry.user_id == user_id:
            await asyncio.sleep(SLOW_COMMIT_SECONDS)
        await mark_done(session, entry)

    monkeypatch.setattr(middlewares.UnitOfWorkMiddleware, "__call__", noting_sender)
    monkeypatch.setattr(middlewares, "mark_done", slow_mark_done)


def client_topics(emulator: BotAPIEmulator) -> list[int]:
    return [
        thread for (chat, thread), t in emulator.topics.items() if chat == STAFF_GROUP and t["name"].startswith("K-")
    ]


async def test_the_second_message_waits_for_the_first_to_commit(
    kimbot: Running, emulator: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    await onboard(kimbot, emulator, 901, language="uk")
    await kimbot.settle(901)
    slow_commits(monkeypatch, 901)
    await emulator.send_message(901, "перше")
    await emulator.send_message(901, "друге")
    await emulator.wait_for(
        lambda: sum(
            1 for m in emulator.messages.values() if m["chat"]["id"] == STAFF_GROUP and m.get("text") == "друге"
        ),
        timeout=15,
    )
    assert len(client_topics(emulator)) == 1  # the second message found the topic the first one created
    (thread,) = client_topics(emulator)
    texts = [m.get("text") for m in emulator.topic_messages(STAFF_GROUP, thread) if m["from"]["is_bot"]]
    assert texts[-2:] == ["перше", "друге"]


async def test_a_staff_answer_before_the_topic_is_committed_reaches_the_client(
    kimbot: Running, emulator: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    await onboard(kimbot, emulator, 902, language="ar")
    await kimbot.settle(902)
    emulator.add_user(ANNA, "Anna", language_code="de")
    slow_commits(monkeypatch, 902)
    await emulator.send_message(902, "مرحبا")
    await emulator.wait_for(lambda: client_topics(emulator), timeout=10)
    (thread,) = client_topics(emulator)
    async with kimbot.app.sessions() as session:  # the creating update is still running
        stored = await session.scalar(
            select(Conversation.thread_id)
            .join(Client, Client.id == Conversation.client_id)
            .where(Client.telegram_id == 902)
        )
    assert stored is None
    await emulator.send_message(ANNA, "Guten Tag", chat_id=STAFF_GROUP, thread_id=thread)
    answer = await emulator.wait_for(
        lambda: next((m for m in emulator.bot_messages(902) if m.get("text") == "Guten Tag"), None), timeout=15
    )
    assert answer["chat"]["id"] == 902


async def test_an_early_commit_in_the_creating_update_does_not_end_the_wait_for_the_topic(
    kimbot: Running, emulator: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The creating update commits what it wrote before each Bot API call: one that writes before the header card
    commits before the topic's row exists. A staff answer meanwhile must still wait for the row, not give up."""
    await onboard(kimbot, emulator, 903, language="fa")
    await kimbot.settle(903)
    emulator.add_user(ANNA, "Anna", language_code="de")
    slow_commits(monkeypatch, 903)
    post_header = topics.Forum._post_header

    post_intake_card = topics.Forum.post_intake_card

    async def writing_first(self: topics.Forum, client: Any, thread: int) -> int:
        await self.session.execute(update(Client).where(Client.id == client.id).values(reachable=True))
        return await post_header(self, client, thread)

    async def slowly(self: topics.Forum, client: Any) -> int:  # a slow Telegram, longer than the staff side's grace
        await asyncio.sleep(SLOW_COMMIT_SECONDS)
        return await post_intake_card(self, client)

    monkeypatch.setattr(topics.Forum, "_post_header", writing_first)
    monkeypatch.setattr(topics.Forum, "post_intake_card", slowly)
    await emulator.send_message(903, "سلام")
    await emulator.wait_for(lambda: client_topics(emulator), timeout=10)
    (thread,) = client_topics(emulator)
    await emulator.wait_for(
        lambda: emulator.topic_messages(STAFF_GROUP, thread), timeout=10
    )  # the header: committed once
    await emulator.send_message(ANNA, "Guten Tag", chat_id=STAFF_GROUP, thread_id=thread)
    answer = await emulator.wait_for(
        lambda: next((m for m in emulator.bot_messages(903) if m.get("text") == "Guten Tag"), None), timeout=15
    )
    assert answer["chat"]["id"] == 903


async def test_per_chat_lock_is_shared_through_redis_only_behind_a_webhook(database_url: str) -> None:
    """Polling has one receiver (Telegram refuses a second getUpdates caller): a lock in the process orders a
    chat's updates. Behind a webhook several processes receive them, so the lock goes through Redis as well."""
    settings = Settings(REDIS_URL="redis://127.0.0.1:6379/15", DATABASE_URL=database_url, _env_file=None)  # type: ignore[call-arg]
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    polling_storage, polling_lock = build_fsm_storage(settings, sessions, webhook=False)
    webhook_storage, webhook_lock = build_fsm_storage(settings, sessions, webhook=True)
    try:
        assert isinstance(polling_storage, RedisStorage) and isinstance(webhook_storage, RedisStorage)
        assert isinstance(polling_lock, SimpleEventIsolation)
        assert isinstance(webhook_lock, OrderedEventIsolation)
        assert isinstance(webhook_lock.shared, RedisEventIsolation)
    finally:
        for closable in (polling_storage, webhook_storage, polling_lock, webhook_lock):
            await closable.close()
        await engine.dispose()

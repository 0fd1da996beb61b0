"""Load: many clients each send 10 messages while staff answer in their topics. Every message arrives exactly once,
in order per client, and every answer reaches its client (counts printed; run with -s to see them).

The suite runs 40 clients (about 10 s); the full 200 clients × 10 messages of issue 7 takes about a minute on
SQLite and lives in bench/bench_handoff_load.py, which runs this same test with RELAY_LOAD_CLIENTS=200.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.db.models import Client
from bot.db.models_handoff import RelayMessage
from bot.emulator import BotAPIEmulator
from bot.services import clients, office_hours
from tests.support import ANNA, STAFF_GROUP, Running

CLIENTS = int(os.environ.get("RELAY_LOAD_CLIENTS", "40"))
MESSAGES = 10
FIRST = 20_000


@pytest.fixture(autouse=True)
def office_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


async def _register(kimbot: Running, emulator: BotAPIEmulator) -> dict[str, int]:
    """Onboarded clients, created through the services (onboarding itself is tested elsewhere)."""
    references: dict[str, int] = {}
    async with kimbot.app.sessions() as session, session.begin():
        for n in range(CLIENTS):
            user_id = FIRST + n
            locale = ("ar", "uk", "fa", "tr")[n % 4]
            emulator.add_user(user_id, f"Client {n}", language_code=locale)
            client = await clients.register(session, user_id, locale)
            await clients.acknowledge_privacy(session, client.id)
            await clients.set_municipality(session, client.id, "euskirchen")
            references[client.reference] = user_id
    return references


async def test_200_clients_10_messages_each_while_staff_answer(kimbot: Running, emulator: BotAPIEmulator) -> None:
    references = await _register(kimbot, emulator)
    emulator.add_user(ANNA, "Anna", language_code="de")
    started = time.monotonic()

    async def clients_write() -> None:
        for i in range(MESSAGES):
            for n in range(CLIENTS):
                await emulator.send_message(FIRST + n, f"c{FIRST + n} m{i}")
            await asyncio.sleep(0)

    answered: set[int] = set()

    async def staff_answer() -> None:
        """Answer in each topic as soon as it exists, while clients are still writing."""
        while len(answered) < CLIENTS:
            for (chat, thread), topic in list(emulator.topics.items()):
                user_id = references.get(topic["name"].split(" · ")[0])
                if chat != STAFF_GROUP or user_id is None or user_id in answered:
                    continue
                answered.add(user_id)
                await emulator.send_message(ANNA, f"r{user_id}", chat_id=STAFF_GROUP, thread_id=thread)
            await asyncio.sleep(0.05)

    await asyncio.wait_for(asyncio.gather(clients_write(), staff_answer()), 300)

    def copies_in_topics() -> int:
        return sum(
            1
            for m in emulator.messages.values()
            if m["chat"]["id"] == STAFF_GROUP and m["from"]["is_bot"] and (m.get("text") or "").startswith("c")
        )

    def answers_delivered() -> int:
        return sum(
            1
            for m in emulator.messages.values()
            if m["chat"]["id"] >= FIRST and m["from"]["is_bot"] and (m.get("text") or "").startswith("r")
        )

    # Polled (not checked after every call): the test shares the event loop with kimbot and the emulator.
    deadline = time.monotonic() + float(os.environ.get("RELAY_LOAD_TIMEOUT", "60"))
    while copies_in_topics() < CLIENTS * MESSAGES or answers_delivered() < CLIENTS:
        assert time.monotonic() < deadline, (copies_in_topics(), answers_delivered())
        await asyncio.sleep(0.2)
    elapsed = time.monotonic() - started
    await kimbot.settle(STAFF_GROUP)

    threads = {
        references[t["name"].split(" · ")[0]]: thread
        for (chat, thread), t in emulator.topics.items()
        if chat == STAFF_GROUP and t["name"].split(" · ")[0] in references
    }
    assert len(threads) == CLIENTS  # one topic per client, none doubled
    for n in range(CLIENTS):
        user_id = FIRST + n
        in_topic = [
            m["text"]
            for m in emulator.topic_messages(STAFF_GROUP, threads[user_id])
            if m["from"]["is_bot"] and (m.get("text") or "").startswith("c")
        ]
        assert in_topic == [f"c{user_id} m{i}" for i in range(MESSAGES)], user_id  # once each, in order
        replies = [m["text"] for m in emulator.bot_messages(user_id)]
        assert replies == [f"r{user_id}"], user_id

    async with kimbot.app.sessions() as session:
        pairs = (await session.scalars(select(RelayMessage.direction))).all()
        stored_clients = len((await session.scalars(select(Client.id))).all())
    assert pairs.count("in") == CLIENTS * MESSAGES and pairs.count("out") == CLIENTS
    print(
        f"\nrelay load: {stored_clients} clients, {copies_in_topics()} client messages in topics "
        f"(expected {CLIENTS * MESSAGES}), {answers_delivered()} staff answers delivered (expected {CLIENTS}), "
        f"{len(threads)} topics, {elapsed:.1f} s, {CLIENTS * MESSAGES / elapsed:.0f} client messages/s"
    )

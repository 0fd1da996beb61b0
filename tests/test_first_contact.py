"""First contact, the busiest day's path: a new person's /start is one registration, one FSM write and the done
mark, in few statements (counted on the bot's engine, per update); and many new people at once are all greeted,
each registered once with a reference of their own."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.models import AuditEntry, Client, InboundUpdate
from bot.emulator import BotAPIEmulator
from bot.telegram import fsm_storage
from tests.support import Running, onboard

# What a first /start costs in the update's own tasks (the journal's batch insert comes on top, one per batch):
# the FSM row and the client read once, the client and its audit row inserted, the reporting counter, the FSM
# upsert, the done mark. Before issue 18: nine, in one transaction holding the write lock across both sends. Three
# commits: the registration before the welcome, the conversation state before the privacy notice (the client's
# tap on it may reach another instance), the done mark.
MAX_STATEMENTS = 7
MAX_COMMITS = 3


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[Counter[str]]:
    """Statements and commits of the tasks that handle updates (`UpdateProcessor._handle`), not the test's own
    queries or the polling loop's journal insert."""
    seen: Counter[str] = Counter()

    def handling() -> bool:
        task = asyncio.current_task()
        return task is not None and "_handle" in getattr(task.get_coro(), "__qualname__", "")

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if handling():
            seen["statements"] += 1
            seen[statement.split()[0].upper()] += 1

    def on_commit(_conn: Any) -> None:
        if handling():
            seen["commits"] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", on_statement)
    event.listen(engine.sync_engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", on_statement)
        event.remove(engine.sync_engine, "commit", on_commit)


async def test_a_first_start_takes_few_statements(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await first_start(kimbot, emulator, 60_000)  # warm: the first update of a process pays for more
    emulator.add_user(60_001, "Nour", language_code="ar")
    with counting(kimbot.app.engine) as seen:
        notice = await kimbot.say(60_001, "/start")
    print(f"\nfirst contact: {dict(seen)}")
    texts = [m["text"] for m in emulator.bot_messages(60_001)]
    assert len(texts) == 2 and "kimbot" in texts[0] and notice["text"] == texts[1]
    assert notice["reply_markup"]["inline_keyboard"]  # the acknowledge button
    assert seen["statements"] <= MAX_STATEMENTS, dict(seen)
    assert seen["commits"] <= MAX_COMMITS, dict(seen)
    async with kimbot.app.sessions() as session:
        client = await session.scalar(select(Client).where(Client.telegram_id == 60_001))
        assert client is not None and client.locale == "ar" and client.reference.startswith("K-")
        actions = (await session.scalars(select(AuditEntry.action).where(AuditEntry.client_id == client.id))).all()
        assert actions == ["client_registered"]
        pending = await session.scalar(
            select(func.count()).select_from(InboundUpdate).where(InboundUpdate.status != "done")
        )
        assert pending == 0
    key = fsm_storage.client_keys(kimbot.app.bot.id, 60_001)[0]
    assert await kimbot.app.storage.get_state(key) == "Onboarding:privacy"


async def test_a_returning_help_writes_only_its_done_mark(kimbot: Running, emulator: BotAPIEmulator) -> None:
    """The client read (and the conversation state, when it lives in the database, not in Redis) and the journal's
    done mark, in one transaction."""
    await onboard(kimbot, emulator, 60_002)
    with counting(kimbot.app.engine) as seen:
        await kimbot.say(60_002, "/help")
    reads = 1 if kimbot.app.settings.redis_url else 2
    assert seen["statements"] == reads + 1 and seen["INSERT"] == 0 and seen["UPDATE"] == 1, dict(seen)
    assert seen["commits"] == 1, dict(seen)
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(func.count()).where(InboundUpdate.status != "done")) == 0


async def test_three_hundred_new_people_at_once_are_greeted_and_registered_once(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    people = range(61_000, 61_300)
    for user_id in people:
        emulator.add_user(user_id, "New", language_code=("uk", "fa", "de", "en", "tr")[user_id % 5])
    for user_id in people:
        await emulator.send_message(user_id, "/start")
    await emulator.wait_for(lambda: all(len(emulator.bot_messages(u)) >= 2 for u in people), 120)
    await kimbot.handled.wait()
    for user_id in people:
        welcome, notice = emulator.bot_messages(user_id)
        assert "kimbot" in welcome["text"] and notice["reply_markup"]["inline_keyboard"]
    async with kimbot.app.sessions() as session:
        rows = (await session.execute(select(Client.telegram_id, Client.reference))).all()
        registered = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "client_registered")
        )
    assert sorted(t for t, _ in rows) == list(people)
    assert len({reference for _, reference in rows}) == len(people)
    assert registered == len(people)


async def first_start(kimbot: Running, emulator: BotAPIEmulator, user_id: int) -> None:
    emulator.add_user(user_id, "Warm", language_code="en")
    await kimbot.say(user_id, "/start")

"""No Bot API request while the bot's database has a write transaction open (issue 18): the emulator itself looks
at the database on every request – SQLite: can another connection take the write lock right now? PostgreSQL: does
any backend of the bot's database hold a transaction id (one that wrote or locked rows)? – so the check does not
trust kimbot's own bookkeeping. A client goes through every path that writes and talks to Telegram: first contact,
both onboarding taps, a message that creates their topic (forum topic, header card, Intake card, copy), a second
message, a staff answer, and erasure (topic and card deleted, staff told), with a contact to note first.

Updates go one at a time, so a write transaction seen during a request can only be the one of the update making it.
(Before issue 18 the first request already failed: the welcome went out while the new client's INSERT held the
write lock.)"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import make_url

from bot.db.base import utcnow
from bot.db.engine import create_engine
from bot.db.models import AuditEntry, Client
from bot.emulator import BotAPIEmulator
from bot.services import office_hours
from tests.support import ANNA, STAFF_GROUP, Running, button_texts, in_topic, t, thread_of


class ProbingEmulator(BotAPIEmulator):
    """The emulator, noting for every request whether the database had a write transaction open."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.database_url = database_url
        self.observed: list[tuple[str, bool]] = []
        self._postgres: asyncpg.Connection | None = None

    async def writer_open(self) -> bool:
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite":
            probe = sqlite3.connect(str(url.database), timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")  # refused at once while another connection holds the write lock
            except sqlite3.OperationalError as error:
                if "locked" in str(error) or "busy" in str(error):
                    return True
                raise
            else:
                probe.execute("ROLLBACK")
                return False
            finally:
                probe.close()
        if self._postgres is None:
            self._postgres = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
        writers = await self._postgres.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
        )
        return bool(writers)

    async def _apply_faults(self, method: str, params: dict[str, Any]) -> None:
        if method != "getupdates":
            self.observed.append((method, await self.writer_open()))
        await super()._apply_faults(method, params)

    async def stop(self) -> None:
        if self._postgres is not None:
            await self._postgres.close()
            self._postgres = None
        await super().stop()


@pytest.fixture
async def emulator(database_url: str) -> AsyncIterator[ProbingEmulator]:
    emu = ProbingEmulator(database_url)
    await emu.start()
    emu.add_group(STAFF_GROUP, "KIM Euskirchen – Team")
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture(autouse=True)
def office_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


async def test_the_probe_sees_a_write_transaction(kimbot: Running, emulator: ProbingEmulator) -> None:
    """The check can fail: a transaction that has written, left open by another connection, is seen."""
    engine = create_engine(kimbot.app.settings.database_url)
    try:
        assert not await emulator.writer_open()
        async with engine.connect() as conn:
            await conn.execute(insert(AuditEntry).values(actor="system", action="probe"))  # left uncommitted
            assert await emulator.writer_open()
            await conn.rollback()
        assert not await emulator.writer_open()
    finally:
        await engine.dispose()


async def test_no_bot_api_request_while_a_write_transaction_is_open(kimbot: Running, emulator: ProbingEmulator) -> None:
    user = 62_001
    emulator.add_user(user, "Amira", language_code="en")
    emulator.add_user(ANNA, "Anna", language_code="de")
    notice = await kimbot.say(user, "/start")  # registration, welcome, privacy notice
    question = await kimbot.tap(user, notice, button_texts(notice)[0])
    menu = await kimbot.tap(user, question, "Euskirchen")
    assert "Book an appointment" in button_texts(menu)

    await emulator.send_message(user, "I need help with a letter")  # topic, header, Intake card, copy
    thread = await thread_of(kimbot, user)
    await in_topic(emulator, thread, lambda m: m.get("text") == "I need help with a letter")
    await kimbot.settle(user)
    await emulator.send_message(user, "It is from the Ausländerbehörde")
    await in_topic(emulator, thread, lambda m: m.get("text") == "It is from the Ausländerbehörde")
    await kimbot.settle(user)
    await emulator.send_message(ANNA, "Bringen Sie ihn bitte mit.", chat_id=STAFF_GROUP, thread_id=thread)
    answer = "Bringen Sie ihn bitte mit."
    await emulator.wait_for(lambda: any(m.get("text") == answer for m in emulator.bot_messages(user)))
    await kimbot.settle(STAFF_GROUP)

    async with kimbot.app.sessions() as session, session.begin():  # so the erasure notes a contact first
        await session.execute(
            update(Client).where(Client.telegram_id == user).values(last_contact_at=utcnow() - timedelta(days=3))
        )
    rights = await kimbot.say(user, "/privacy")
    confirm = await kimbot.tap(user, rights, t(kimbot, "Delete all my data", "en"))
    done = await kimbot.tap(user, confirm, t(kimbot, "Yes, delete everything", "en"), edits=True)
    assert done["text"].startswith("All your data has been deleted")
    assert (STAFF_GROUP, thread) not in emulator.topics

    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Client)) == 0
    methods = {method for method, _ in emulator.observed}
    expected = {"sendmessage", "answercallbackquery", "editmessagetext", "createforumtopic", "copymessage"}
    assert expected | {"pinchatmessage", "deleteforumtopic", "deletemessage"} <= methods, methods
    during_writes = [method for method, open_ in emulator.observed if open_]
    assert during_writes == [], f"Bot API requests while a write transaction was open: {during_writes}"

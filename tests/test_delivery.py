"""The outbox drain against the Bot API emulator: python-telegram-bot with AIORateLimiter sends, faults are
injected by the emulator, and the database tells what happened to each row."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db.base import utcnow
from bot.db.models import Client
from bot.db.models_outbox import OutboxMessage
from bot.delivery import outbox
from bot.delivery.renderer import MessageRenderer
from bot.delivery.worker import Rendered, split_html
from bot.emulator import BotAPIEmulator
from bot.emulator.markup import html_to_text
from tests.support import STAFF_GROUP, Running

TEST_TEMPLATE = "test_text"


async def _render_test_text(ctx: Any, session: Any, message: outbox.ClaimedMessage) -> Rendered:
    """A plain template for fault tests: the text comes from the row's parameters."""
    return Rendered(message.params["text"])


async def add_client(kimbot: Running, emulator: BotAPIEmulator, telegram_id: int, *, in_emulator: bool = True) -> int:
    if in_emulator:
        emulator.add_user(telegram_id, f"Client {telegram_id}")
    async with kimbot.app.sessions() as session, session.begin():
        row = Client(telegram_id=telegram_id, reference=f"K-T{telegram_id}", locale="en", municipality="kall")
        session.add(row)
        await session.flush()
        return row.id


async def queue(kimbot: Running, client_id: int | None, chat_id: int, key: str, text: str, **kwargs: Any) -> None:
    async with kimbot.app.sessions() as session, session.begin():
        await outbox.enqueue(
            session,
            key=key,
            chat_id=chat_id,
            client_id=client_id,
            template=TEST_TEMPLATE,
            params={"text": text},
            due_at=kwargs.pop("due_at", utcnow()),
            **kwargs,
        )


async def row(kimbot: Running, key: str) -> OutboxMessage:
    async with kimbot.app.sessions() as session:
        found = await session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        assert found is not None
        return found


def sends_to(emulator: BotAPIEmulator, chat_id: int) -> list[Any]:
    return [c for c in emulator.calls if c.method == "sendmessage" and c.chat_id == chat_id]


async def test_429_retry_after_waits_then_delivers(kimbot: Running, emulator: BotAPIEmulator) -> None:
    client_id = await add_client(kimbot, emulator, 901)
    await queue(kimbot, client_id, 901, "t:429", "Hello after a pause")
    emulator.fail("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2, chat_id=901)

    assert kimbot.app.worker is not None
    stats = await kimbot.app.worker.drain_once()

    calls = sends_to(emulator, 901)
    assert [c.error_code for c in calls] == [429, None]
    assert calls[1].at - calls[0].at >= 2.0  # retry_after honoured
    assert emulator.last_bot_message(901)["text"] == "Hello after a pause"
    sent = await row(kimbot, "t:429")
    assert (sent.status, sent.attempts, stats.sent) == ("sent", 1, 1)
    assert sent.telegram_message_id == emulator.last_bot_message(901)["message_id"]


async def test_403_marks_unreachable_alerts_staff_once_and_stops(kimbot: Running, emulator: BotAPIEmulator) -> None:
    client_id = await add_client(kimbot, emulator, 902)
    emulator.block(902)
    await queue(kimbot, client_id, 902, "t:403:a", "First")
    await queue(kimbot, client_id, 902, "t:403:b", "Second")
    await queue(kimbot, client_id, 902, "t:403:later", "Tomorrow", due_at=utcnow() + timedelta(days=1))
    assert kimbot.app.worker is not None

    for _ in range(3):
        await kimbot.app.worker.drain_once()

    assert len(sends_to(emulator, 902)) <= 2  # each due row tried once, no retry loop
    assert {(await row(kimbot, k)).status for k in ("t:403:a", "t:403:b")} == {"unreachable"}
    assert (await row(kimbot, "t:403:later")).status == "cancelled"
    alerts = [m for m in emulator.bot_messages(STAFF_GROUP) if "K-T902" in m["text"]]
    assert len(alerts) == 1, alerts
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(Client.reachable).where(Client.id == client_id)) is False

    # Something new for the client later: tried once, no second alert.
    await queue(kimbot, client_id, 902, "t:403:c", "Third")
    await kimbot.app.worker.drain_once()
    assert (await row(kimbot, "t:403:c")).status == "unreachable"
    assert len([m for m in emulator.bot_messages(STAFF_GROUP) if "K-T902" in m["text"]]) == 1


async def test_400_chat_not_found_fails_permanently(kimbot: Running, emulator: BotAPIEmulator) -> None:
    client_id = await add_client(kimbot, emulator, 903, in_emulator=False)
    await queue(kimbot, client_id, 903, "t:400", "Nobody there")
    assert kimbot.app.worker is not None
    await kimbot.app.worker.drain_once()
    await kimbot.app.worker.drain_once(now=utcnow() + timedelta(hours=1))

    failed = await row(kimbot, "t:400")
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "chat not found" in (failed.last_error or "").lower()
    assert len(sends_to(emulator, 903)) == 1


async def test_5xx_is_retried_with_backoff_then_delivered(kimbot: Running, emulator: BotAPIEmulator) -> None:
    client_id = await add_client(kimbot, emulator, 904)
    await queue(kimbot, client_id, 904, "t:5xx", "Eventually")
    emulator.fail("sendMessage", 500, "Internal Server Error", chat_id=904)
    emulator.fail("sendMessage", 502, "Bad Gateway", chat_id=904)
    worker = kimbot.app.worker
    assert worker is not None

    await worker.drain_once()
    first = await row(kimbot, "t:5xx")
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.due_at > utcnow()  # backoff, not a hot loop

    started = time.monotonic()
    while (await row(kimbot, "t:5xx")).status != "sent":
        assert time.monotonic() - started < 15, "not delivered after the 5xx errors"
        await asyncio.sleep(0.2)
        await worker.drain_once()
    done = await row(kimbot, "t:5xx")
    assert done.attempts == 3 and done.last_error is None
    assert [c.error_code for c in sends_to(emulator, 904)] == [500, 502, None]
    assert emulator.last_bot_message(904)["text"] == "Eventually"


async def test_long_message_is_split_in_order(kimbot: Running, emulator: BotAPIEmulator) -> None:
    client_id = await add_client(kimbot, emulator, 905)
    paragraphs = [f"<b>Part {i}</b> " + ("word &amp; more " * 40).strip() for i in range(30)]
    text = "\n\n".join(paragraphs)
    assert len(html_to_text(text)) > 4096 * 2
    await queue(kimbot, client_id, 905, "t:long", text)
    assert kimbot.app.worker is not None
    await kimbot.app.worker.drain_once()

    messages = emulator.bot_messages(905)
    assert len(messages) == len(split_html(text)) >= 3
    joined = "\n\n".join(m["text"] for m in messages)
    assert joined == html_to_text(text)
    assert all(len(m["text"]) <= 4096 for m in messages)
    sent = await row(kimbot, "t:long")
    assert sent.status == "sent" and sent.telegram_message_id == messages[-1]["message_id"]


async def test_expired_rows_are_dropped_with_reason(kimbot: Running, emulator: BotAPIEmulator) -> None:
    client_id = await add_client(kimbot, emulator, 906)
    await queue(
        kimbot,
        client_id,
        906,
        "t:late",
        "Your appointment starts in 2 hours",
        due_at=utcnow() - timedelta(hours=3),
        expires_at=utcnow() - timedelta(minutes=5),
    )
    assert kimbot.app.worker is not None
    await kimbot.app.worker.drain_once()
    dropped = await row(kimbot, "t:late")
    assert dropped.status == "dropped" and "expired" in (dropped.last_error or "")
    assert sends_to(emulator, 906) == []


async def test_claims_do_not_overlap(kimbot: Running, emulator: BotAPIEmulator) -> None:
    """Concurrent claims (separate sessions) never lease the same row twice."""
    client_id = await add_client(kimbot, emulator, 907)
    for i in range(40):
        await queue(kimbot, client_id, 907, f"t:claim:{i}", f"n{i}")

    async def claim() -> list[int]:
        async with kimbot.app.sessions() as session, session.begin():
            return [m.id for m in await outbox.claim(session, now=utcnow(), limit=15, lease_seconds=60)]

    batches = await asyncio.gather(*(claim() for _ in range(4)))
    ids = [i for batch in batches for i in batch]
    assert len(ids) == len(set(ids)) == 40
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(func.count()).where(OutboxMessage.status == "sending")) == 40


async def _render_broken(ctx: Any, session: Any, message: outbox.ClaimedMessage) -> Rendered:
    raise KeyError("a parameter the template needs")


@pytest.fixture(autouse=True)
def _test_templates(request: pytest.FixtureRequest) -> None:
    """The fault tests' own templates, registered like the capabilities' are in the composition root."""
    if "kimbot" not in request.fixturenames:
        return
    kimbot: Running = request.getfixturevalue("kimbot")
    assert kimbot.app.worker is not None and isinstance(kimbot.app.worker.renderer, MessageRenderer)
    kimbot.app.worker.renderer.templates.update({TEST_TEMPLATE: _render_test_text, "test_broken": _render_broken})


async def test_broken_template_fails_its_row_and_the_drain_goes_on(kimbot: Running, emulator: BotAPIEmulator) -> None:
    client_id = await add_client(kimbot, emulator, 908)
    async with kimbot.app.sessions() as session, session.begin():
        await outbox.enqueue(
            session, key="t:broken", chat_id=908, client_id=client_id, template="test_broken", due_at=utcnow()
        )
        await outbox.enqueue(
            session, key="t:missing", chat_id=908, client_id=client_id, template="no_such_template", due_at=utcnow()
        )
    await queue(kimbot, client_id, 908, "t:fine", "Still delivered")
    assert kimbot.app.worker is not None
    stats = await kimbot.app.worker.drain_once()
    assert (stats.sent, stats.failed) == (1, 2)
    assert (await row(kimbot, "t:broken")).last_error == "render: KeyError"
    assert (await row(kimbot, "t:missing")).status == "failed"
    assert [m["text"] for m in emulator.bot_messages(908)] == ["Still delivered"]

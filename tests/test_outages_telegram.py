"""Telegram failing, through the emulator's fault injection: its nginx's HTML 502/504 pages, JSON 500s, connections
cut without an answer, 429 with retry_after, 409 and 401. kimbot stays up and every client message is answered
(bot.telegram.session retries a call; bot.telegram.inbound handles an update again and keeps polling)."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.db.base import utcnow
from bot.db.models import InboundUpdate
from bot.delivery import outbox
from bot.delivery.worker import Rendered
from bot.emulator import BotAPIEmulator
from bot.ops import metrics
from tests.support import ROOT, STAFF_GROUP, Running, in_topic, onboard, thread_of
from tests.support.constants import TOKEN
from tests.support.processes import kimbot_env

HELP = "What kimbot can do for you"
SORRY = "Sorry, something went wrong"


def answers(emulator: BotAPIEmulator, chat_id: int, text: str = HELP) -> list[dict[str, Any]]:
    return [m for m in emulator.bot_messages(chat_id) if text in (m.get("text") or "")]


def failed_calls(emulator: BotAPIEmulator, method: str) -> int:
    return sum(1 for c in emulator.calls if c.method == method.lower() and not c.ok)


async def ask_for_help(kimbot: Running, emulator: BotAPIEmulator, user_id: int) -> None:
    """The user sends /help; returns once it is answered (and the update is done in the journal)."""
    emulator.add_user(user_id, f"Client {user_id}")
    before = len(answers(emulator, user_id))
    await emulator.send_message(user_id, "/help")
    await emulator.wait_for(lambda: len(answers(emulator, user_id)) > before, 30)
    await kimbot.settle(user_id)


async def test_html_502_and_504_on_getupdates_do_not_stop_polling(kimbot: Running, emulator: BotAPIEmulator) -> None:
    emulator.fail_html("getUpdates", 502, times=2)
    emulator.fail_html("getUpdates", 504)
    await emulator.wait_for(lambda: failed_calls(emulator, "getUpdates") == 3, 30)
    await ask_for_help(kimbot, emulator, 7001)
    assert kimbot.task is not None and not kimbot.task.done()


async def test_json_500_and_dropped_connections_on_getupdates(kimbot: Running, emulator: BotAPIEmulator) -> None:
    emulator.fail("getUpdates", 500, "Internal Server Error")
    emulator.drop("getUpdates", times=2)
    await emulator.wait_for(lambda: failed_calls(emulator, "getUpdates") == 3, 30)
    await ask_for_help(kimbot, emulator, 7002)
    assert kimbot.task is not None and not kimbot.task.done()


async def test_429_and_409_on_getupdates_wait_and_retry(kimbot: Running, emulator: BotAPIEmulator, caplog: Any) -> None:
    emulator.fail("getUpdates", 429, "Too Many Requests: retry after 1", retry_after=1)
    emulator.fail("getUpdates", 409, "Conflict: terminated by other getUpdates request")
    await emulator.wait_for(lambda: failed_calls(emulator, "getUpdates") == 2, 30)
    await ask_for_help(kimbot, emulator, 7003)
    assert "another process polls with this token" in caplog.text


async def test_failing_replies_are_retried_without_duplicates(kimbot: Running, emulator: BotAPIEmulator) -> None:
    user = 7004
    emulator.fail_html("sendMessage", 502, chat_id=user)
    emulator.fail_html("sendMessage", 504, chat_id=user)
    emulator.fail("sendMessage", 500, "Internal Server Error", chat_id=user)
    await ask_for_help(kimbot, emulator, user)
    emulator.drop("sendMessage", chat_id=user)
    emulator.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=user)
    await ask_for_help(kimbot, emulator, user)

    sends = [(c.ok, c.error_code) for c in emulator.calls if c.method == "sendmessage" and c.chat_id == user]
    assert sends == [(False, 502), (False, 504), (False, 500), (True, None), (False, None), (False, 429), (True, None)]
    assert len(answers(emulator, user)) == 2  # each once: the failed calls had no effect
    assert not answers(emulator, user, SORRY)


async def test_a_reply_still_failing_after_its_retries_is_handled_again(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    """The session gives up after 4 tries; the update stays unfinished in the journal and is handled again."""
    user = 7005
    retried = metrics.UPDATE_RETRIES._value.get()
    emulator.fail_html("sendMessage", 502, times=6, chat_id=user)
    await ask_for_help(kimbot, emulator, user)
    assert metrics.UPDATE_RETRIES._value.get() == retried + 1
    assert len(answers(emulator, user)) == 1
    assert not answers(emulator, user, SORRY)  # an outage is not apologised for: the real answer comes
    async with kimbot.app.sessions() as session:
        statuses = (await session.scalars(select(InboundUpdate.status))).all()
    assert statuses and set(statuses) == {"done"}


async def test_forum_operations_survive_a_bad_gateway(kimbot: Running, emulator: BotAPIEmulator) -> None:
    user = 7006
    await onboard(kimbot, emulator, user)
    emulator.fail_html("createForumTopic", 502)
    emulator.drop("copyMessage")
    sent = await emulator.send_message(user, "Ich brauche Hilfe mit einem Brief")
    thread = await thread_of(kimbot, user)
    await in_topic(emulator, thread, lambda m: m.get("text") == sent["text"])
    await kimbot.settle(user)
    assert failed_calls(emulator, "createForumTopic") == 1 and failed_calls(emulator, "copyMessage") == 1
    assert len([t for (chat, _), t in emulator.topics.items() if chat == STAFF_GROUP and t["name"].endswith("EN")]) == 1


async def _render_text(ctx: Any, session: Any, message: outbox.ClaimedMessage) -> Rendered:
    return Rendered(message.params["text"])


async def test_outbox_delivery_retries_html_502_and_dropped_connections(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    user = 7007
    emulator.add_user(user)
    worker = kimbot.app.worker
    assert worker is not None
    worker.renderer.templates["outage_text"] = _render_text  # type: ignore[attr-defined]
    async with kimbot.app.sessions() as session, session.begin():
        await outbox.enqueue(
            session, key="outage:1", chat_id=user, client_id=None, template="outage_text", params={"text": "Hallo"},
            due_at=utcnow(),
        )  # fmt: skip
    emulator.fail_html("sendMessage", 502, chat_id=user)
    emulator.drop("sendMessage", chat_id=user)
    for minutes in range(1, 30):
        await worker.drain_once(now=utcnow() + timedelta(minutes=minutes))
        if emulator.bot_messages(user):
            break
    assert [m["text"] for m in emulator.bot_messages(user)] == ["Hallo"]
    assert failed_calls(emulator, "sendMessage") == 2


async def test_a_revoked_token_stops_kimbot_with_a_clear_message(
    settings: Any, emulator: BotAPIEmulator, kimbot: Running
) -> None:
    """401 on getUpdates (the token was revoked in @BotFather): `kimbot run` exits 1 and says why; a 401 is not
    retried forever. (The in-process kimbot of the fixture only prepares the database and the emulator's bot.)"""
    env = kimbot_env(settings, emulator, BOT_TOKEN=TOKEN, POLLING_TIMEOUT="1")
    await kimbot.stop()  # one poller per token
    emulator.fail("getUpdates", 401, "Unauthorized", times=1000)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    assert b"Telegram refused BOT_TOKEN (401 Unauthorized)" in stderr
    assert b"Traceback" not in stderr

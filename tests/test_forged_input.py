"""Forged and abusive input changes nothing: a forged identity-documents "send" (blocked, not onboarded, another
message than the notice's), a flood of 150 messages, hostile callback data, staff commands that list clients in
the staff group, and the audit of a staff member acting for a client."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import AuditEntry, Client
from bot.db.models_handoff import RelayMessage
from bot.emulator import BotAPIEmulator
from bot.services import handoff, office_hours
from bot.services import handoff_rules as rules
from bot.services.handoff import ConversationDTO
from bot.telegram.callbacks import IdNoticeCb
from bot.telegram.throttle import TokenBuckets
from handlers.handoff import client_side as relay
from tests.support import ADMIN, ANNA, OFFICE, STAFF_GROUP, Running, button_texts, onboard, thread_of

TUESDAY_MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # the offices are open: no out-of-hours reply
NO_LONGER = "This is no longer possible."
TOO_MANY = "Too many messages at once: the last ones were not passed on. Please wait a minute and send them again."
PRIVATE_CHAT = "Please use a private chat with me for this command."


@pytest.fixture(autouse=True)
def office_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: TUESDAY_MORNING)


async def _client(kimbot: Running, telegram_id: int) -> Client:
    async with kimbot.app.sessions() as session:
        row = await session.scalar(select(Client).where(Client.telegram_id == telegram_id))
        assert row is not None
        return row


async def _press(kimbot: Running, user_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
    """A forged tap; returns Telegram's answer to it once the bot has handled it."""
    callback_id = await kimbot.emu.press(user_id, message, data=data, forge=True)
    await kimbot.handled.wait()
    answer = await kimbot.emu.wait_for(lambda: kimbot.emu.callback_answers.get(callback_id))
    assert isinstance(answer, dict)
    return answer


def _staff_group_calls(emulator: BotAPIEmulator) -> list[Any]:
    return [c for c in emulator.calls if c.chat_id == STAFF_GROUP and c.error_code is None]


# ---------------------------------------------------------------------- the identity-documents notice


async def test_a_blocked_client_cannot_send_through_the_notice(kimbot: Running, emulator: BotAPIEmulator) -> None:
    """Blocked by staff after the notice was issued: neither its real button nor a forged one passes anything on."""
    await onboard(kimbot, emulator, 1701)
    await emulator.send_message(1701, "Hello")
    await thread_of(kimbot, 1701)
    photo = await emulator.send_media(1701, "photo", caption="my passport")
    notice = await emulator.wait_for_message(1701, after=photo["message_id"])
    await kimbot.settle(1701)
    client = await _client(kimbot, 1701)
    async with kimbot.app.sessions() as session, session.begin():
        await handoff.set_blocked(session, client.id, True, staff_id=1)
    before = len(_staff_group_calls(emulator))

    real = IdNoticeCb(action="send", message=photo["message_id"], kind="photo").pack()
    answer = await _press(kimbot, 1701, notice, real)
    assert answer["text"] == NO_LONGER
    forged = IdNoticeCb(action="send", message=photo["message_id"] - 1, kind="text").pack()
    assert (await _press(kimbot, 1701, notice, forged))["text"] == NO_LONGER
    assert _staff_group_calls(emulator)[before:] == []


async def test_a_client_who_has_not_onboarded_gets_nothing_to_staff(kimbot: Running, emulator: BotAPIEmulator) -> None:
    """Before the privacy notice is acknowledged: no topic, no Intake card, whatever the callback data says."""
    emulator.add_user(1702, "Not yet", language_code="en")
    notice = await kimbot.say(1702, "/start")
    sent = await emulator.send_message(1702, "secret words")
    for data in (
        IdNoticeCb(action="send", message=sent["message_id"], kind="text").pack(),
        IdNoticeCb(action="send", message=notice["message_id"], kind="photo").pack(),
    ):
        await _press(kimbot, 1702, notice, data)
    await kimbot.settle(1702)
    assert _staff_group_calls(emulator) == []
    assert not [c for c in emulator.calls if c.method == "createforumtopic"]


async def test_the_notice_passes_on_only_the_message_it_was_issued_for(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    await onboard(kimbot, emulator, 1703)
    earlier = await emulator.send_message(1703, "an earlier message")
    thread = await thread_of(kimbot, 1703)
    photo = await emulator.send_media(1703, "photo", caption="a letter")
    notice = await emulator.wait_for_message(1703, after=photo["message_id"])
    await kimbot.settle(1703)
    in_topic = len(emulator.topic_messages(STAFF_GROUP, thread))

    other = IdNoticeCb(action="send", message=earlier["message_id"], kind="photo").pack()
    assert (await _press(kimbot, 1703, notice, other))["text"] == NO_LONGER
    assert len(emulator.topic_messages(STAFF_GROUP, thread)) == in_topic  # the earlier text was not copied again

    await kimbot.tap(1703, notice, "Yes, send it", edits=True)
    copies = [m for m in emulator.topic_messages(STAFF_GROUP, thread) if "photo" in m]
    assert [m["caption"] for m in copies] == ["a letter"]
    again = IdNoticeCb(action="send", message=photo["message_id"], kind="photo").pack()
    assert (await _press(kimbot, 1703, notice, again))["text"] == NO_LONGER  # a notice answers once
    assert len([m for m in emulator.topic_messages(STAFF_GROUP, thread) if "photo" in m]) == 1


# ---------------------------------------------------------------------- floods


async def _flood(
    kimbot: Running, emulator: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch, user_id: int, count: int
) -> tuple[int, list[str]]:
    """`count` messages at once; returns the topic and the copies of them there once the held batch went out (the
    batch is sent here, not by its timer, so the test does not depend on how fast the flood is handled)."""
    monkeypatch.setattr(relay, "FLOOD_DELAY_SECONDS", 3600.0)
    await onboard(kimbot, emulator, user_id)
    for i in range(count):
        await emulator.send_message(user_id, f"message {i}")
    await kimbot.settle(user_id)
    client = await _client(kimbot, user_id)
    assert kimbot.app.held_delivery is not None
    await kimbot.app.held_delivery.deliver(client.id, kimbot.app.bot)
    thread = await thread_of(kimbot, user_id)
    texts = [m.get("text") or "" for m in emulator.topic_messages(STAFF_GROUP, thread)]
    return thread, [t for t in texts if t.startswith("message ")]


async def test_a_flood_of_150_messages_is_stopped_by_the_throttle(
    kimbot: Running, emulator: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttle = kimbot.app.dispatcher["throttle"]
    default = throttle.messages  # its capacity and rate, on a clock that stands still while the flood lasts
    throttle.messages = TokenBuckets(default.capacity, default.per_second, clock=lambda: 0.0)
    copies = (await _flood(kimbot, emulator, monkeypatch, 1710, 150))[1]
    # 30 messages get through – /start and the first 29 of the flood (20 at once, 9 in the held batch); the rest
    # never reach the handoff.
    assert copies == [f"message {i}" for i in range(int(default.capacity) - 1)]
    told = [m for m in emulator.bot_messages(1710) if m.get("text") == TOO_MANY]
    assert len(told) == 1


async def test_a_flood_past_the_throttle_is_capped_at_one_batch(
    kimbot: Running, emulator: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the throttle out of the way (say, a slower flood): `limit` copies at once, one held batch of `limit`,
    the rest dropped – and the client and staff are told, once."""
    throttle = kimbot.app.dispatcher["throttle"]
    throttle.messages = TokenBuckets(1000, 100)
    limit = kimbot.app.settings.flood_limit
    thread, copies = await _flood(kimbot, emulator, monkeypatch, 1711, 150)
    assert copies == [f"message {i}" for i in range(2 * limit)]
    told = [m for m in emulator.bot_messages(1711) if m.get("text") == TOO_MANY]
    assert len(told) == 1
    notes = [m for m in emulator.topic_messages(STAFF_GROUP, thread) if "⚠️" in (m.get("text") or "")]
    assert len(notes) == 1
    async with kimbot.app.sessions() as session:
        rows = (await session.scalars(select(RelayMessage.status).where(RelayMessage.direction == "in"))).all()
    assert len(rows) == 2 * limit and set(rows) == {"delivered"}


# ---------------------------------------------------------------------- hostile callback data

HUGE = "9" * 30
CLIENT_SIDE = [
    f"ap:cancel_yes:{HUGE}",
    f"ap:cancel:{'9' * 5000}",
    "ap:cancel_yes:abc",
    "ap:cancel_yes:1:extra",
    "ap:cancel_yes:-1",
    f"rm:come:{HUGE}",
    f"dm:del_yes:{HUGE}:",
    "dc:nav:9999:12:0",
    "dc:day:9999:12:31",
    "dc:nav:2027:99:0",
    f"bt:1:{HUGE}",
    f"bt:{HUGE}:1",
    f"hi:send:{HUGE}:text",
    "hi:send:1:text",
    "hi:drop:1:photo",
    "an:maybe",
    "lg:" + "x" * 200,
]
STAFF_SIDE = [f"hc:{HUGE}", f"ha:1:{HUGE}", f"ha:{HUGE}:0", f"ag:attended:{HUGE}", f"br:pause:{HUGE}", "zz:nothing"]


async def test_hostile_callback_data_is_answered_and_logs_no_error(
    kimbot: Running, emulator: BotAPIEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    menu = await onboard(kimbot, emulator, 1720)
    emulator.add_user(ADMIN, "Büro", language_code="de")
    await emulator.send_message(1720, "Hello")
    await thread_of(kimbot, 1720)
    await kimbot.settle(STAFF_GROUP)
    card = emulator.bot_messages(STAFF_GROUP)[-1]
    with caplog.at_level(logging.WARNING):
        for data in CLIENT_SIDE:
            await _press(kimbot, 1720, menu, data)
        for data in STAFF_SIDE:
            await _press(kimbot, ADMIN, card, data)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


# ---------------------------------------------------------------------- staff commands in the staff group


async def test_staff_commands_that_list_clients_ask_for_a_private_chat_in_the_group(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    await onboard(kimbot, emulator, 1730)
    emulator.add_user(ADMIN, "Büro", language_code="de")
    expected = kimbot.app.i18n.gettext(PRIVATE_CHAT, locale="de")
    for command in ("/expiring", "/agenda", "/stats"):
        answer = await kimbot.say(ADMIN, command, chat_id=STAFF_GROUP)
        assert answer["text"] == expected, command
    in_private = await kimbot.say(ADMIN, "/stats")
    assert in_private["text"] != expected


# ---------------------------------------------------------------------- audit


async def test_a_staff_member_cancelling_for_a_client_is_audited_as_staff(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    await onboard(kimbot, emulator, 1740)
    client = await _client(kimbot, 1740)
    emulator.add_user(ANNA, "Anna", language_code="de")
    services = await kimbot.say(ANNA, f"/bookfor {client.reference}")
    offices = await kimbot.tap(ANNA, services, "Beratung im Case-Management")
    days = await kimbot.tap(ANNA, offices, OFFICE)
    times = await kimbot.tap(ANNA, days, button_texts(days)[1])
    summary = await kimbot.tap(ANNA, times, button_texts(times)[0])
    await kimbot.tap(ANNA, summary, next(b for b in button_texts(summary) if b.startswith("✅")))
    await kimbot.say(ANNA, f"/bookfor {client.reference}")
    listed = await kimbot.say(ANNA, "/appointments")
    question = await kimbot.tap(ANNA, listed, button_texts(listed)[1])  # "Cancel appointment"
    await kimbot.tap(ANNA, question, button_texts(question)[0])  # "Yes, cancel it"
    async with kimbot.app.sessions() as session:
        anna = await session.scalar(select(AuditEntry.actor_id).where(AuditEntry.action == "appointment_booked"))
        entries = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.actor, AuditEntry.actor_id).where(
                    AuditEntry.action.in_(("appointment_booked", "appointment_cancelled"))
                )
            )
        ).all()
    assert sorted(entries) == [("appointment_booked", "staff", anna), ("appointment_cancelled", "staff", anna)]


# ---------------------------------------------------------------------- the rules and the buckets, without a bot


def test_the_gate_admits_only_onboarded_unblocked_clients_with_a_staff_group() -> None:
    conv = ConversationDTO.blank(7)
    assert rules.admit(conv, onboarded=True, staff_chat=True) == "pass"
    assert rules.admit(conv, onboarded=False, staff_chat=True) == "ignore"
    assert rules.admit(replace(conv, blocked=True), onboarded=True, staff_chat=True) == "ignore"
    assert rules.admit(conv, onboarded=True, staff_chat=False) == "not_available"


def test_flood_protection_drops_beyond_a_full_batch() -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert rules.flood(held=4, recent=9, limit=5, flood_notice_at=None, now=now).hold
    full = rules.flood(held=5, recent=9, limit=5, flood_notice_at=None, now=now)
    assert full.drop and not full.hold
    assert rules.flood(held=5, recent=9, limit=5, flood_notice_at=None, now=now, cap=10).hold


def test_token_buckets_refill_at_their_rate() -> None:
    clock = [0.0]
    buckets = TokenBuckets(3, 0.5, lambda: clock[0])
    assert [buckets.take(1) for _ in range(4)] == [True, True, True, False]
    assert buckets.take(2)  # one bucket per user
    clock[0] = 2.0  # one token back
    assert [buckets.take(1) for _ in range(2)] == [True, False]

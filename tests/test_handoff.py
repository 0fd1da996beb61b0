"""Handoff end to end, through the emulator: a client's messages reach their forum topic in the staff group and
staff answers reach the client – copied, threaded, edits mirrored, notes kept internal, topics recreated,
office hours, absence and blocked clients."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.i18n import fmt_datetime
from bot.db.models import Client
from bot.db.models_handoff import Conversation, RelayMessage
from bot.emulator import BotAPIEmulator
from bot.services import documents, office_hours, privacy
from bot.telegram.callbacks import ClaimCb, IdNoticeCb
from handlers.handoff import client_side as relay
from tests.support import ANNA, STAFF_GROUP, YUSUF, Running, in_topic, onboard, staff_user, thread_of

TUESDAY_MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 10:00 in Euskirchen: the offices are open
SATURDAY = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def office_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: TUESDAY_MORNING)
    monkeypatch.setattr(relay, "FLOOD_DELAY_SECONDS", 0.5)


async def client_row(kimbot: Running, telegram_id: int) -> Client:
    async with kimbot.app.sessions() as session:
        row = await session.scalar(select(Client).where(Client.telegram_id == telegram_id))
        assert row is not None
        return row


async def test_arabic_text_photo_and_voice_arrive_in_the_clients_topic(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    await onboard(kimbot, emulator, 801, language="ar")
    text = await emulator.send_message(801, "مرحبا، أحتاج مساعدة في رسالة من مكتب الأجانب")
    client = await client_row(kimbot, 801)
    thread = await thread_of(kimbot, 801)
    copy = await in_topic(emulator, thread, lambda m: m.get("text") == text["text"])
    assert not copy.get("forward_origin") and copy["from"]["is_bot"]  # copied, not forwarded

    topic = emulator.topics[(STAFF_GROUP, thread)]
    assert topic["name"] == f"{client.reference} · AR"
    assert "Client 801" not in topic["name"]
    header = emulator.topic_messages(STAFF_GROUP, thread)[0]
    assert client.reference in header["text"] and "ar)" in header["text"] and header.get("pinned")
    intake_cards = [m for m in emulator.bot_messages(STAFF_GROUP) if client.reference in (m.get("text") or "")]
    intake = next(m for m in intake_cards if ClaimCb(client=client.id).pack() in str(m.get("reply_markup")))
    assert intake["message_thread_id"] != thread
    assert ClaimCb(client=client.id).pack() in str(intake["reply_markup"])

    # The first photo: the client is asked not to send identity documents, and it is held until they confirm.
    photo = await emulator.send_media(801, "photo", caption="صورة")
    notice = await emulator.wait_for_message(801, after=photo["message_id"])
    assert notice.get("reply_markup")
    assert not [m for m in emulator.topic_messages(STAFF_GROUP, thread) if "photo" in m]
    await emulator.press(801, notice, data=IdNoticeCb(action="send", message=photo["message_id"], kind="photo").pack())
    copied_photo = await in_topic(emulator, thread, lambda m: "photo" in m)
    assert copied_photo["caption"] == "صورة"

    voice = await emulator.send_media(801, "voice")
    await in_topic(emulator, thread, lambda m: "voice" in m)
    for kind in ("document", "video", "location", "contact"):
        await emulator.send_media(801, kind)
        await in_topic(emulator, thread, lambda m, kind=kind: kind in m)
    await kimbot.settle(STAFF_GROUP)

    async with kimbot.app.sessions() as session:
        pairs = (await session.scalars(select(RelayMessage).where(RelayMessage.client_id == client.id))).all()
    assert [p.kind for p in pairs] == ["text", "photo", "voice", "document", "video", "location", "contact"]
    assert all(p.direction == "in" and p.staff_message_id for p in pairs)
    assert pairs[2].client_message_id == voice["message_id"]
    assert all(p.transcript is None for p in pairs)  # no message text in the database by default


async def test_staff_reply_is_threaded_edits_mirrored_notes_stay(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 802, language="ar")
    staff_user(emulator, ANNA)
    question = await emulator.send_message(802, "متى موعدي؟")
    thread = await thread_of(kimbot, 802)
    copy = await in_topic(emulator, thread, lambda m: m.get("text") == question["text"])

    before = emulator.last_message_id(802)
    answer = await emulator.send_message(
        ANNA, "Ihr Termin ist am Montag.", chat_id=STAFF_GROUP, thread_id=thread, reply_to=copy["message_id"]
    )
    delivered = await emulator.wait_for_message(802, after=before, contains="Montag")
    assert delivered["reply_to_message"]["message_id"] == question["message_id"]
    assert delivered["from"]["is_bot"] and "forward_origin" not in delivered
    await kimbot.settle(802)  # the pair is stored when the update commits

    # The client answers the copy: the answer lands in the topic as a reply to the staff member's message.
    reply = await emulator.send_message(802, "شكرا", reply_to=delivered["message_id"])
    threaded = await in_topic(emulator, thread, lambda m: m.get("text") == "شكرا")
    assert threaded["reply_to_message"]["message_id"] == answer["message_id"]
    assert reply["reply_to_message"]["message_id"] == delivered["message_id"]
    await kimbot.settle(802)

    await emulator.edit_user_message(answer, "Ihr Termin ist am Dienstag.")
    await emulator.wait_for(lambda: emulator.messages[(802, delivered["message_id"])]["text"].endswith("Dienstag."))
    await emulator.edit_user_message(question, "متى موعدي بالضبط؟")
    await emulator.wait_for(lambda: emulator.messages[(STAFF_GROUP, copy["message_id"])]["text"] == "متى موعدي بالضبط؟")

    before = emulator.last_message_id(802)
    await emulator.send_message(ANNA, "! Klientin wirkt besorgt", chat_id=STAFF_GROUP, thread_id=thread)
    await emulator.send_message(ANNA, "/note Rückruf morgen", chat_id=STAFF_GROUP, thread_id=thread)
    await emulator.send_message(ANNA, "/unknowncommand", chat_id=STAFF_GROUP, thread_id=thread)
    await emulator.send_message(ANNA, "Bis Dienstag!", chat_id=STAFF_GROUP, thread_id=thread)
    last = await emulator.wait_for_message(802, after=before, contains="Bis Dienstag")
    await kimbot.settle(802)
    shown = [m.get("text") for m in emulator.bot_messages(802) if m["message_id"] > before]
    assert shown == ["Bis Dienstag!"] and last["text"] == "Bis Dienstag!"


async def test_deleted_topic_is_recreated_with_a_note(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 803, language="uk")
    await emulator.send_message(803, "Добрий день")
    old = await thread_of(kimbot, 803)
    await in_topic(emulator, old, lambda m: m.get("text") == "Добрий день")

    emulator.delete_topic(STAFF_GROUP, old)
    await emulator.send_message(803, "Ви тут?")

    await emulator.wait_for(
        lambda: any(
            m.get("text") == "Ви тут?" and m.get("message_thread_id") not in (None, old)
            for m in emulator.bot_messages(STAFF_GROUP)
        )
    )
    await kimbot.settle(STAFF_GROUP)
    thread = await thread_of(kimbot, 803)
    assert thread != old
    messages = await emulator.wait_for(
        lambda: (
            (ms := emulator.topic_messages(STAFF_GROUP, thread)) and any(m.get("text") == "Ви тут?" for m in ms) and ms
        )
    )
    note = kimbot.app.i18n.gettext(
        "⚠️ The previous topic of this client was deleted or could not be used, so this one was created. "
        "Messages from before are not shown here.",
        locale="de",  # the staff group speaks the office language
    )
    assert any(m.get("text") == note for m in messages)
    client = await client_row(kimbot, 803)
    assert emulator.topics[(STAFF_GROUP, thread)]["name"].startswith(client.reference)

    # A closed topic is reopened, not replaced.
    emulator.close_topic(STAFF_GROUP, thread)
    await emulator.send_message(803, "Ще одне питання")
    await in_topic(emulator, thread, lambda m: m.get("text") == "Ще одне питання")
    assert not emulator.topics[(STAFF_GROUP, thread)]["closed"]


async def test_out_of_hours_auto_reply_is_sent_once(
    kimbot: Running, emulator: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: SATURDAY)
    await onboard(kimbot, emulator, 804, language="ar")
    before = emulator.last_message_id(804)
    await emulator.send_message(804, "مرحبا")
    await emulator.send_message(804, "هل أنتم هناك؟")
    thread = await thread_of(kimbot, 804)
    await in_topic(emulator, thread, lambda m: m.get("text") == "هل أنتم هناك؟")
    await kimbot.settle(804)
    replies = [m for m in emulator.bot_messages(804) if m["message_id"] > before]
    assert len(replies) == 1
    office = kimbot.app.county.offices[0]  # no case manager yet: the client's municipality's office (Euskirchen)
    opens = office_hours.next_opening(office, SATURDAY, kimbot.app.settings.tz)
    assert opens is not None and opens.weekday() == 0  # Monday
    expected = kimbot.app.i18n.gettext(
        "Thank you for your message. Our office is closed right now; your case manager will answer from {when}.",
        locale="ar",
    ).format(when=fmt_datetime(opens, "ar", kimbot.app.settings.tz))
    assert replies[0]["text"] == expected

    # Inside office hours nobody gets an auto reply.
    monkeypatch.setattr(office_hours, "now", lambda: TUESDAY_MORNING)
    await onboard(kimbot, emulator, 805, language="ar")
    before = emulator.last_message_id(805)
    await emulator.send_message(805, "مرحبا")
    await in_topic(emulator, await thread_of(kimbot, 805), lambda m: m.get("text") == "مرحبا")
    await kimbot.settle(805)
    assert [m for m in emulator.bot_messages(805) if m["message_id"] > before] == []


async def test_claim_mentions_and_absence_routes_to_the_deputy(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 806, language="fa")
    staff_user(emulator, ANNA)
    staff_user(emulator, YUSUF)
    await emulator.send_message(806, "سلام")
    thread = await thread_of(kimbot, 806)
    client = await client_row(kimbot, 806)
    card = await emulator.wait_for(
        lambda: next(
            (
                m
                for m in emulator.bot_messages(STAFF_GROUP)
                if ClaimCb(client=client.id).pack() in str(m.get("reply_markup"))
            ),
            None,
        )
    )
    callback = await emulator.press(ANNA, card, data=ClaimCb(client=client.id).pack())
    await emulator.wait_for(lambda: emulator.callback_answers.get(callback) is not None)
    await kimbot.settle(STAFF_GROUP)
    assert (await client_row(kimbot, 806)).case_manager_id is not None
    header = emulator.topic_messages(STAFF_GROUP, thread)[0]
    assert "Anna Becker" in header["text"]

    # A second claim loses.
    other = await emulator.press(YUSUF, card, data=ClaimCb(client=client.id).pack(), forge=True)
    await emulator.wait_for(lambda: emulator.callback_answers.get(other) is not None)
    assert emulator.callback_answers[other]["show_alert"]  # type: ignore[index]

    await emulator.send_message(806, "سؤال")
    await in_topic(emulator, thread, lambda m: m.get("text") == "سؤال")
    await kimbot.settle(STAFF_GROUP)
    mentions = [
        c for c in emulator.sent(STAFF_GROUP, "sendMessage") if f"tg://user?id={ANNA}" in c.params.get("text", "")
    ]
    assert mentions, "the case manager is mentioned when their client writes"

    # Anna's deputy comes from the county file (deputy = 100000002); "/away until DATE <id>" would name another.
    away = await kimbot.say(ANNA, "/away until 2027-01-07", chat_id=STAFF_GROUP)
    assert "Yusuf Demir" in away["text"]
    before = emulator.last_message_id(806)
    await emulator.send_message(806, "هل يمكن أن تساعدني؟")
    told = await emulator.wait_for_message(806, after=before)
    assert "Yusuf Demir" in told["text"]
    await in_topic(emulator, thread, lambda m: m.get("text") == "هل يمكن أن تساعدني؟")
    await kimbot.settle(STAFF_GROUP)
    deputy_alerts = [
        c for c in emulator.sent(STAFF_GROUP, "sendMessage") if f"tg://user?id={YUSUF}" in c.params.get("text", "")
    ]
    assert deputy_alerts and deputy_alerts[-1].params["message_thread_id"] == thread

    back = await kimbot.say(ANNA, "/back", chat_id=STAFF_GROUP)
    assert back["text"]


async def test_blocked_bot_shows_not_delivered_at_once(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 807, language="tr")
    staff_user(emulator, ANNA)
    await emulator.send_message(807, "Merhaba")
    thread = await thread_of(kimbot, 807)
    await in_topic(emulator, thread, lambda m: m.get("text") == "Merhaba")
    emulator.block(807)
    attempt = await emulator.send_message(ANNA, "Guten Tag!", chat_id=STAFF_GROUP, thread_id=thread)
    warning = await in_topic(
        emulator, thread, lambda m: (m.get("reply_to_message") or {}).get("message_id") == attempt["message_id"]
    )
    assert warning["text"] == kimbot.app.i18n.gettext(
        "⚠️ Not delivered – the client is unreachable (they blocked the bot or left Telegram).", locale="de"
    )
    await kimbot.settle(STAFF_GROUP)
    assert not (await client_row(kimbot, 807)).reachable
    header = emulator.topic_messages(STAFF_GROUP, thread)[0]
    assert kimbot.app.i18n.gettext("Reachable: no – the client blocked the bot", locale="de") in header["text"]


async def test_staff_commands_close_lang_block(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 808, language="ru")
    staff_user(emulator, ANNA)
    await emulator.send_message(808, "Здравствуйте")
    thread = await thread_of(kimbot, 808)
    await in_topic(emulator, thread, lambda m: m.get("text") == "Здравствуйте")

    lang = await kimbot.say(ANNA, "/lang", chat_id=STAFF_GROUP, thread_id=thread)
    assert "(ru)" in lang["text"]

    before = emulator.last_message_id(808)
    await kimbot.say(ANNA, "/close", chat_id=STAFF_GROUP, thread_id=thread)
    goodbye = await emulator.wait_for_message(808, after=before)
    assert goodbye["text"] == kimbot.app.i18n.gettext(
        "Your case manager has closed this conversation. Thank you! If you need anything else, just write here again.",
        locale="ru",
    )
    assert emulator.topics[(STAFF_GROUP, thread)]["closed"]
    await emulator.send_message(808, "Ещё вопрос")
    await in_topic(emulator, thread, lambda m: m.get("text") == "Ещё вопрос")

    await kimbot.say(ANNA, "/block", chat_id=STAFF_GROUP, thread_id=thread)
    await emulator.send_message(808, "spam spam")
    await kimbot.settle(STAFF_GROUP)
    assert not any(m.get("text") == "spam spam" for m in emulator.topic_messages(STAFF_GROUP, thread))
    await kimbot.say(ANNA, "/unblock", chat_id=STAFF_GROUP, thread_id=thread)
    await emulator.send_message(808, "sorry")
    await in_topic(emulator, thread, lambda m: m.get("text") == "sorry")

    # A client typing /close closes nothing.
    await kimbot.say(808, "/close")
    assert not emulator.topics[(STAFF_GROUP, thread)]["closed"]


async def test_flood_is_held_and_delivered_as_one_batch(
    kimbot: Running, emulator: BotAPIEmulator, settings: Any
) -> None:
    limit = kimbot.app.settings.flood_limit
    await onboard(kimbot, emulator, 809, language="en")
    before = emulator.last_message_id(809)
    sent = [await emulator.send_message(809, f"message {i}") for i in range(limit + 5)]
    thread = await thread_of(kimbot, 809)
    await emulator.wait_for(
        lambda: (
            len(
                [
                    m
                    for m in emulator.topic_messages(STAFF_GROUP, thread)
                    if (m.get("text") or "").startswith("message ")
                ]
            )
            == len(sent)
        ),
        timeout=15,
    )
    texts = [
        m["text"] for m in emulator.topic_messages(STAFF_GROUP, thread) if (m.get("text") or "").startswith("message ")
    ]
    assert texts == [m["text"] for m in sent]  # every one, once, in order
    batches = [c for c in emulator.sent(STAFF_GROUP, "copyMessages")]
    assert len(batches) == 1 and len(batches[0].params["message_ids"]) == 5
    told = [m for m in emulator.bot_messages(809) if m["message_id"] > before]
    assert len(told) == 1  # the client is told once


async def test_export_lists_the_conversation_without_text_and_erase_removes_it(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    await onboard(kimbot, emulator, 810, language="de")
    await emulator.send_message(810, "Hallo, ich habe eine Frage")
    thread = await thread_of(kimbot, 810)
    await in_topic(emulator, thread, lambda m: m.get("text") == "Hallo, ich habe eine Frage")
    await kimbot.settle(STAFF_GROUP)
    client = await client_row(kimbot, 810)
    async with kimbot.app.sessions() as session, session.begin():
        data = await privacy.export(session, client.id)
    chat = data["case_manager_chat"]
    assert chat["conversation"]["status"] == "open"
    assert [(m["direction"], m["type"]) for m in chat["messages"]] == [("to_case_manager", "text")]
    assert "Frage" not in json.dumps(data, ensure_ascii=False)

    async with kimbot.app.sessions() as session, session.begin():
        await privacy.erase(session, client.id)
    async with kimbot.app.sessions() as session:
        for model in (Conversation, RelayMessage):
            assert await session.scalar(select(func.count()).select_from(model)) == 0


async def test_a_caption_over_1024_characters_is_split_not_lost(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 811, language="en")
    await emulator.send_message(811, "hello")
    thread = await thread_of(kimbot, 811)
    first = await emulator.send_media(811, "document")
    notice = await emulator.wait_for_message(811, after=first["message_id"])
    await emulator.press(
        811, notice, data=IdNoticeCb(action="send", message=first["message_id"], kind="document").pack()
    )
    await in_topic(emulator, thread, lambda m: "document" in m)

    caption = " ".join(f"word{i}" for i in range(400))  # about 3 000 characters, as Telegram Premium allows
    await emulator.send_media(811, "photo", caption=caption)
    photo = await in_topic(emulator, thread, lambda m: "photo" in m)
    await kimbot.settle(STAFF_GROUP)
    parts = [
        m["text"]
        for m in emulator.topic_messages(STAFF_GROUP, thread)
        if (m.get("reply_to_message") or {}).get("message_id") == photo["message_id"]
    ]
    assert len(photo["caption"]) <= 1024 and len(parts) == 1
    assert f"{photo['caption']} {parts[0]}" == caption  # nothing lost

    long_caption = " ".join(f"w{i:05d}" for i in range(1200))  # 8 399 characters: caption and two text parts
    await emulator.send_media(811, "video", caption=long_caption)
    video = await in_topic(emulator, thread, lambda m: "video" in m)
    await kimbot.settle(STAFF_GROUP)
    parts = [
        m["text"]
        for m in emulator.topic_messages(STAFF_GROUP, thread)
        if (m.get("reply_to_message") or {}).get("message_id") == video["message_id"]
    ]
    assert len(parts) == 2 and " ".join([video["caption"], *parts]) == long_caption


async def test_header_card_shows_documents_expiring_soon(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 812, language="so")
    client = await client_row(kimbot, 812)
    async with kimbot.app.sessions() as session, session.begin():
        await documents.add(
            session,
            client_id=client.id,
            doc_type="residence_permit",
            expires_on=date(2027, 1, 15),
            tz=kimbot.app.settings.tz,
            now=TUESDAY_MORNING,
        )
    await emulator.send_message(812, "Salaan")
    thread = await thread_of(kimbot, 812)
    await in_topic(emulator, thread, lambda m: m.get("text") == "Salaan")
    header = emulator.topic_messages(STAFF_GROUP, thread)[0]["text"]
    assert "residence_permit" in header and "15.01.2027" in header
    assert "Somali" in header or "Soomaali" in header

"""The handoff's texts and buttons without a chat: the translation layouts both ways, mentions, the notes after a
client message, the keyboards (handlers/handoff/views.py), and the pure parts of the forum adapter
(bot/telegram/topics.py): splitting long texts, topic names, the header and Intake cards."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from aiogram.types import Chat, Message

from bot.services.dto import ClientDTO, StaffDTO
from bot.services.handoff import AbsenceDTO, ConversationDTO
from bot.telegram import topics
from bot.telegram.callbacks import AssignCb, ClaimCb, IdNoticeCb
from handlers.handoff import views
from tests.support.constants import BERLIN
from tests.support.views import buttons

CLIENT = ClientDTO(
    id=7,
    telegram_id=9007,
    reference="K-ABC123",
    locale="uk",
    municipality="euskirchen",
    case_manager_id=1,
    reachable=True,
    privacy_acknowledged_at=datetime(2026, 11, 1, tzinfo=UTC),
    created_at=datetime(2026, 11, 1, tzinfo=UTC),
)
ANNA_DTO = StaffDTO(
    id=1, telegram_id=1001, display_name="Anna <Team>", role="case_manager", languages=(), office_key=None
)
BEN_DTO = StaffDTO(id=2, telegram_id=1002, display_name="Ben", role="admin", languages=(), office_key=None)
CONV = replace(ConversationDTO.blank(7), chat_id=-100, thread_id=5, header_message_id=6)


pytestmark = pytest.mark.usefixtures("english")


def test_split_text_keeps_every_part_within_the_limit_and_breaks_at_spaces() -> None:
    text = "word " * 2000
    parts = topics.split_text(text, 100)
    assert all(len(p) <= 100 for p in parts)
    assert " ".join(parts).split() == text.split()
    assert all(set(p.split()) == {"word"} and not p.startswith(" ") for p in parts)  # no word cut in two
    assert topics.split_text("short") == ["short"]


def test_split_text_counts_utf16_units_like_telegram() -> None:
    emoji = "😀" * 60  # 120 UTF-16 units
    parts = topics.split_text(emoji, 100)
    assert parts == ["😀" * 50, "😀" * 10]


def test_kind_of_names_what_can_be_copied() -> None:
    chat = Chat(id=5, type="private")
    text = Message.model_validate({"message_id": 1, "date": 0, "chat": chat, "text": "hi"})
    empty = Message.model_validate({"message_id": 2, "date": 0, "chat": chat})
    assert topics.kind_of(text) == "text"
    assert topics.kind_of(empty) is None


def test_topic_name_has_reference_and_language_and_the_first_name_only_when_allowed() -> None:
    assert topics.topic_name(CLIENT, "Olena", with_first_name=False) == "K-ABC123 · UK"
    assert topics.topic_name(CLIENT, "Olena", with_first_name=True) == "K-ABC123 · UK · Olena"
    assert len(topics.topic_name(CLIENT, "x" * 300, with_first_name=True)) == 128


def test_incoming_text_shows_the_original_then_the_translation_or_a_notice() -> None:
    assert views.incoming_text("Привіт", None, False, "uk") == "Привіт"
    shown = views.incoming_text("Привіт", "Hallo", False, "uk")
    assert shown == "Привіт\n\n🌐 Machine translation (uk → de):\nHallo"
    failed = views.incoming_text("Привіт", None, True, "uk")
    assert failed.startswith("Привіт\n\n⚠️ ") and "original" in failed


def test_outgoing_text_puts_the_clients_language_first() -> None:
    assert views.outgoing_text("Hallo", None, False) == "Hallo"
    assert views.outgoing_text("Hallo", "Привіт", False) == "Привіт\n\n— Hallo\n\nℹ️ Translated automatically."
    assert views.outgoing_text("Hallo", None, True).startswith("Hallo\n\nℹ️ ")


def test_mentions_are_by_numeric_id_and_escaped() -> None:
    assert views.mention(ANNA_DTO) == '<a href="tg://user?id=1001">Anna &lt;Team&gt;</a>'
    assert views.manager_alert(ANNA_DTO) == f"🔔 {views.mention(ANNA_DTO)}: your client wrote."
    alert = views.deputy_alert(BEN_DTO, ANNA_DTO, date(2026, 12, 4))
    assert alert.startswith(f"🔔 {views.mention(BEN_DTO)}: Anna &lt;Team&gt; is away until ")


def test_the_client_is_told_who_answers_and_when_the_office_opens() -> None:
    assert views.away_notice(BEN_DTO, date(2026, 12, 4), "en").endswith("Ben will answer you in the meantime.")
    opens = datetime(2026, 12, 8, 8, 30, tzinfo=BERLIN)
    assert "will answer from" in views.out_of_hours_reply(opens, "en", BERLIN)
    assert views.out_of_hours_reply(None, "en", BERLIN).endswith("as soon as possible.")


def test_the_keyboards_carry_the_callback_data() -> None:
    notice = buttons(views.id_notice_keyboard(42, "photo"))
    assert [data for _, data in notice] == [
        IdNoticeCb(action="send", message=42, kind="photo").pack(),
        IdNoticeCb(action="drop", message=42, kind="photo").pack(),
    ]
    assign = buttons(views.assign_keyboard(7, [ANNA_DTO, BEN_DTO]))
    assert assign == [
        ("Anna <Team>", AssignCb(client=7, staff=1).pack()),
        ("Ben", AssignCb(client=7, staff=2).pack()),
    ]


def test_the_intake_card_offers_claim_and_assign() -> None:
    text, markup = topics.intake_card(CLIENT, "Euskirchen")
    assert "K-ABC123" in text and "Euskirchen" in text
    assert [data for _, data in buttons(markup)] == [
        ClaimCb(client=7).pack(),
        AssignCb(client=7, staff=0).pack(),
    ]


def test_the_header_card_lists_the_case_the_absence_and_the_status() -> None:
    facts = topics.HeaderFacts(
        client=CLIENT,
        conv=CONV,
        manager=ANNA_DTO,
        away=AbsenceDTO(staff_id=1, until=date(2026, 12, 4), deputy=BEN_DTO),
        town="Euskirchen",
        next_appointment=(datetime(2026, 12, 3, 9, 0, tzinfo=UTC), "Beratung"),
        expiring=(("passport", date(2027, 1, 10)),),
        tz=BERLIN,
    )
    card = topics.header_card(facts)
    lines = card.splitlines()
    assert lines[0] == "🗂 <b>K-ABC123</b>"
    assert "Case manager: Anna &lt;Team&gt;" in lines
    assert any(line.startswith("Away until") and "Ben" in line for line in lines)
    assert any(line.startswith("Next appointment:") and "Beratung" in line for line in lines)
    assert any(line.startswith("Documents expiring soon: passport") for line in lines)
    assert "Status: open" in lines and "Reachable: yes" in lines
    bare = topics.header_card(topics.HeaderFacts(CLIENT, CONV, None, None, None, None, (), BERLIN)).splitlines()
    assert "Case manager: none yet – see the Intake topic" in bare
    assert "Next appointment: none" in bare and "Municipality: –" in bare

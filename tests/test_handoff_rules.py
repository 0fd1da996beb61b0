"""The handoff's rules around a client message, without a bot or a database: who is let through, when flood
protection holds, and what happens after a message went into the topic (mention, absence notice, auto reply)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.county import Office
from bot.services import handoff_rules as rules
from bot.services.dto import StaffDTO
from bot.services.handoff import AbsenceDTO, ConversationDTO

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Euskirchen
OFFICE = Office.model_validate(
    {
        "key": "ki",
        "name": "KI",
        "address": "Jülicher Ring 32",
        "municipality": "euskirchen",
        "opening_hours": {"tue": "08:30-12:00"},
    }
)
MANAGER = StaffDTO(id=1, telegram_id=1001, display_name="Anna", role="case_manager", languages=(), office_key="ki")
DEPUTY = StaffDTO(id=2, telegram_id=1002, display_name="Ben", role="admin", languages=(), office_key="ki")
AWAY = AbsenceDTO(staff_id=1, until=date(2026, 12, 4), deputy=DEPUTY)

BLANK = ConversationDTO.blank(7)


def facts(conv: ConversationDTO = BLANK, **changes: object) -> rules.ClientMessageFacts:
    base = rules.ClientMessageFacts(conv, MANAGER, None, OFFICE, NOW, NOW, TZ)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_gate_ignores_blocked_clients_refuses_unknown_kinds_and_asks_before_the_first_file() -> None:
    assert rules.gate(replace(BLANK, blocked=True), "text") == "ignore"
    assert rules.gate(BLANK, None) == "unsupported"
    assert rules.gate(BLANK, "photo") == "id_notice"
    assert rules.gate(BLANK, "document") == "id_notice"
    assert rules.gate(replace(BLANK, id_notice_sent_at=NOW), "photo") == "pass"
    assert rules.gate(BLANK, "voice") == "pass"


def test_flood_holds_at_the_limit_or_while_messages_are_held_and_tells_the_client_once_a_minute() -> None:
    assert rules.flood(held=0, recent=4, limit=5, flood_notice_at=None, now=NOW) == rules.Flood(False, False)
    assert rules.flood(held=0, recent=5, limit=5, flood_notice_at=None, now=NOW) == rules.Flood(True, True)
    assert rules.flood(held=2, recent=0, limit=5, flood_notice_at=None, now=NOW).hold
    told_just_now = rules.flood(held=1, recent=9, limit=5, flood_notice_at=NOW - timedelta(seconds=30), now=NOW)
    assert told_just_now == rules.Flood(hold=True, tell_client=False)
    told_long_ago = rules.flood(held=1, recent=9, limit=5, flood_notice_at=NOW - timedelta(minutes=2), now=NOW)
    assert told_long_ago.tell_client


def test_the_case_manager_is_mentioned_once_per_turn() -> None:
    assert rules.should_mention(BLANK, NOW)
    mentioned = replace(BLANK, mentioned_at=NOW - timedelta(minutes=5))
    assert not rules.should_mention(mentioned, NOW)
    assert rules.should_mention(replace(mentioned, last_staff_message_at=NOW - timedelta(minutes=1)), NOW)
    assert rules.should_mention(replace(BLANK, mentioned_at=NOW - timedelta(hours=5)), NOW)


def test_first_message_in_office_hours_mentions_the_case_manager_only() -> None:
    decision = rules.after_client_message(facts())
    assert decision == rules.AfterMessage(mention="manager")
    assert decision.marks == ["mentioned_at"]
    again = rules.after_client_message(facts(replace(BLANK, mentioned_at=NOW - timedelta(minutes=1))))
    assert again == rules.AfterMessage() and again.marks == []


def test_no_case_manager_no_mention() -> None:
    assert rules.after_client_message(facts(manager=None)).mention is None


def test_an_absent_case_manager_brings_in_the_deputy_and_the_client_is_told_once() -> None:
    decision = rules.after_client_message(facts(away=AWAY))
    assert decision.mention == "deputy" and decision.away_notice
    assert decision.marks == ["mentioned_at", "away_notice_sent_at"]
    # Told already, and mentioned this turn: nothing again.
    told = replace(BLANK, away_notice_sent_at=NOW, mentioned_at=NOW)
    assert rules.after_client_message(facts(told, away=AWAY)) == rules.AfterMessage()
    # Not told yet: the deputy is mentioned even within the turn.
    within_turn = replace(BLANK, mentioned_at=NOW - timedelta(minutes=1))
    assert rules.after_client_message(facts(within_turn, away=AWAY)).mention == "deputy"
    # An absence without a deputy: the case manager is mentioned and nobody told.
    alone = rules.after_client_message(facts(away=replace(AWAY, deputy=None)))
    assert alone.mention == "manager" and not alone.away_notice


def test_out_of_hours_the_client_gets_the_next_opening_once() -> None:
    evening = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    decision = rules.after_client_message(facts(moment=evening))
    assert decision.auto_reply
    assert decision.opens == datetime(2026, 12, 8, 8, 30, tzinfo=TZ)  # the office only opens on Tuesdays
    assert decision.marks == ["mentioned_at", "auto_reply_sent_at"]
    replied = replace(BLANK, auto_reply_sent_at=evening, mentioned_at=NOW)
    assert not rules.after_client_message(facts(replied, moment=evening)).auto_reply
    assert not rules.after_client_message(facts(office=None, moment=evening)).auto_reply


def test_an_office_that_never_opens_promises_an_answer_as_soon_as_possible() -> None:
    closed = Office(key="x", name="X", address="-", municipality="euskirchen")
    decision = rules.after_client_message(facts(office=closed))
    assert decision.auto_reply and decision.opens is None


def test_the_header_card_is_refreshed_for_returning_or_unreachable_clients() -> None:
    recent = replace(BLANK, last_client_message_at=NOW - timedelta(hours=1))
    assert not rules.refresh_header(recent, True, NOW)
    assert rules.refresh_header(recent, False, NOW)
    assert rules.refresh_header(replace(recent, status="closed"), True, NOW)
    assert rules.refresh_header(replace(BLANK, last_client_message_at=NOW - timedelta(hours=7)), True, NOW)
    assert not rules.refresh_header(BLANK, True, NOW)

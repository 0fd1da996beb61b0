"""Staff commands are for staff only; errors reach the client as a kind apology, never as a traceback."""

from __future__ import annotations

import logging

import pytest

from bot.emulator import BotAPIEmulator
from bot.services import clients, privacy
from bot.telegram.callbacks import ClaimCb
from handlers.staff.commands import STAFF_COMMANDS
from tests.support import ADMIN, STAFF_GROUP, Running, onboard

STRANGER = 999001  # in the staff group, not in the county file


async def test_staff_command_refused_for_clients(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 701, language="tr")
    expected = kimbot.app.i18n.gettext("This command is only for staff of the integration management.", locale="tr")
    for command in STAFF_COMMANDS:  # every staff command of every feature, /t and /case included
        refusal = await kimbot.say(701, f"/{command}")
        assert refusal["text"] == expected, command
    assert "Türkçe" not in refusal["text"]


async def test_staff_sees_stats_without_personal_data(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 702, language="ar", town="Zülpich")
    await onboard(kimbot, emulator, 703, language="ar", town="Kall")
    emulator.add_user(ADMIN, "Büro", language_code="de")
    stats = await kimbot.say(ADMIN, "/stats")
    assert "Klientinnen und Klienten nach Sprache" in stats["text"] or "Sprache" in stats["text"]
    assert "العربية: 2" in stats["text"]
    assert "Zülpich: 1" in stats["text"] and "Kall: 1" in stats["text"]
    assert "702" not in stats["text"]


async def test_a_failing_handler_sends_an_apology_and_logs_no_text(
    kimbot: Running, emulator: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await onboard(kimbot, emulator, 704, language="uk")

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail: Олена, Hauptstraße 5")

    monkeypatch.setattr(privacy, "export", broken)
    rights = await kimbot.say(704, "/privacy")
    with caplog.at_level(logging.ERROR):
        apology = await kimbot.tap(704, rights, "Надіслати мені мої дані")
    assert apology["text"] == kimbot.app.i18n.gettext(
        "Sorry, something went wrong on our side. Please try again in a moment.", locale="uk"
    )
    assert "Traceback" not in apology["text"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged
    assert "Олена" not in logged and "Hauptstraße" not in logged


async def test_stale_or_forged_button_gets_a_polite_answer(kimbot: Running, emulator: BotAPIEmulator) -> None:
    menu = await onboard(kimbot, emulator, 705)
    callback_id = await emulator.press(705, menu, data="zz:forged", forge=True)
    await emulator.wait_for(lambda: emulator.callback_answers.get(callback_id) is not None)
    answer = emulator.callback_answers[callback_id]
    assert answer is not None and answer["show_alert"] and "/menu" in answer["text"]


async def test_in_the_staff_group_help_answers_staff_and_strangers_are_refused(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    """Group chats reach no client feature: staff get /help with their commands; someone in the group who is not
    staff (an intern not yet in the county file) is refused staff commands and the claim button."""
    await onboard(kimbot, emulator, 707)
    emulator.add_user(ADMIN, "Büro", language_code="de")
    emulator.add_user(STRANGER, "Praktikant", language_code="en")
    help_text = await kimbot.say(ADMIN, "/help", chat_id=STAFF_GROUP)
    assert "/broadcast" in help_text["text"]

    refusal = await kimbot.say(STRANGER, "/stats", chat_id=STAFF_GROUP)
    assert refusal["text"] == "This command is only for staff of the integration management."

    await emulator.send_message(707, "Hallo, ich brauche Hilfe")
    async with kimbot.app.sessions() as session:
        client = await clients.find_by_telegram_id(session, 707)
    assert client is not None
    claim = ClaimCb(client=client.id).pack()
    card = await emulator.wait_for(
        lambda: next((m for m in emulator.bot_messages(STAFF_GROUP) if claim in str(m.get("reply_markup"))), None)
    )
    callback_id = await emulator.press(STRANGER, card, data=claim)
    await emulator.wait_for(lambda: emulator.callback_answers.get(callback_id) is not None)
    answer = emulator.callback_answers[callback_id]
    assert answer is not None and answer["show_alert"]
    assert answer["text"] == "This button is only for staff of the integration management."
    async with kimbot.app.sessions() as session:
        unclaimed = await clients.find_by_telegram_id(session, 707)
    assert unclaimed is not None and unclaimed.case_manager_id is None

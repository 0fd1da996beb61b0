"""Machine translation in the handoff, against a fake LibreTranslate on 127.0.0.1: staff see the original and the
German translation, the client sees their language with the German original below; when the translator is down,
messages still go through, with a notice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.config import Settings
from bot.emulator import BotAPIEmulator
from bot.services import office_hours
from tests.support import ANNA, STAFF_GROUP, FakeLibreTranslate, Running, in_topic, onboard, staff_user, thread_of


@pytest.fixture(autouse=True)
def office_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def settings(settings: Settings, translator: FakeLibreTranslate) -> Settings:
    return settings.model_copy(update={"translate_url": translator.url})


async def test_both_directions_show_original_and_translation(
    kimbot: Running, emulator: BotAPIEmulator, translator: FakeLibreTranslate
) -> None:
    await onboard(kimbot, emulator, 901, language="ar")
    staff_user(emulator, ANNA)
    await emulator.send_message(901, "أحتاج موعدا")
    thread = await thread_of(kimbot, 901)
    shown = await in_topic(emulator, thread, lambda m: "أحتاج موعدا" in (m.get("text") or ""))
    assert shown["text"].startswith("أحتاج موعدا")
    assert FakeLibreTranslate.render("أحتاج موعدا", "de") in shown["text"]
    assert {"q": "أحتاج موعدا", "source": "ar", "target": "de", "format": "text"}.items() <= translator.requests[
        0
    ].items()

    before = emulator.last_message_id(901)
    await emulator.send_message(ANNA, "Morgen um 10 Uhr.", chat_id=STAFF_GROUP, thread_id=thread)
    answer = await emulator.wait_for_message(901, after=before)
    translated = FakeLibreTranslate.render("Morgen um 10 Uhr.", "ar")
    assert answer["text"].startswith(translated)  # the client's language first …
    assert answer["text"].index("Morgen um 10 Uhr.", len(translated)) > 0  # … the German original below
    assert answer["text"].rstrip().endswith(kimbot.app.i18n.gettext("Translated automatically.", locale="ar"))


async def test_translator_down_still_delivers(
    kimbot: Running, emulator: BotAPIEmulator, translator: FakeLibreTranslate
) -> None:
    translator.status = 500
    await onboard(kimbot, emulator, 902, language="uk")
    staff_user(emulator, ANNA)
    await emulator.send_message(902, "Доброго дня")
    thread = await thread_of(kimbot, 902)
    shown = await in_topic(emulator, thread, lambda m: "Доброго дня" in (m.get("text") or ""))
    assert "[de]" not in shown["text"] and "⚠️" in shown["text"]

    before = emulator.last_message_id(902)
    await emulator.send_message(ANNA, "Bitte bringen Sie den Bescheid mit.", chat_id=STAFF_GROUP, thread_id=thread)
    answer = await emulator.wait_for_message(902, after=before)
    assert answer["text"].startswith("Bitte bringen Sie den Bescheid mit.")
    assert (
        kimbot.app.i18n.gettext("The automatic translation is not available right now.", locale="uk") in answer["text"]
    )


async def test_slow_translator_gives_up_after_the_timeout(
    kimbot: Running, emulator: BotAPIEmulator, translator: FakeLibreTranslate, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setattr(kimbot.app.dispatcher["translator"], "timeout", 0.3)
    translator.delay = 2.0
    await onboard(kimbot, emulator, 903, language="fa")
    await emulator.send_message(903, "سلام")
    thread = await thread_of(kimbot, 903)
    shown = await in_topic(emulator, thread, lambda m: "سلام" in (m.get("text") or ""))
    assert "[de]" not in shown["text"] and "⚠️" in shown["text"]

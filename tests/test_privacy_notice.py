"""The privacy notice (GDPR Art. 13) says what happens: every part of the data export is named in it, the copies in
the staff group and Telegram's own copies are mentioned, the translation server only when there is one, and the
lines stay short enough for people who read little."""

from __future__ import annotations

import json
import re

from aiogram.utils.i18n import I18n

from bot.core.config import Settings
from bot.core.county import County
from bot.emulator import BotAPIEmulator
from bot.emulator.markup import html_to_text
from bot.services.data_categories import CATEGORIES, labels_for
from handlers.texts import privacy_notice
from tests.support import Running, onboard

TRANSLATION = "go to a translation server"


async def test_every_part_of_the_export_is_named_in_the_notice(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 890)
    notice = await kimbot.say(890, "/privacy")
    sent = await kimbot.tap(890, notice, "Send me my data")
    export = json.loads(emulator.file_content(sent["document"]["file_id"]))

    parts = set(export) - {"exported_at"}
    assert {"client", "activity", "documents"} <= parts  # the export really was read
    unnamed = sorted(part for part in parts if not labels_for(part))
    assert not unnamed, f"export parts the privacy notice does not name (bot/services/data_categories.py): {unnamed}"
    for part in parts:
        for label in labels_for(part):
            assert label in notice["text"], f"{part}: {label!r} is not in the notice"

    assert "copied into a Telegram group" in notice["text"]
    assert "Telegram keeps your chats too" in notice["text"]
    assert TRANSLATION not in notice["text"]  # no TRANSLATE_URL in the tests' settings
    assert "12 months after your last contact" in notice["text"] and "30 days" in notice["text"]
    assert "Responsible: Kreis Euskirchen" in notice["text"]


def _settings(**changes: object) -> Settings:
    return Settings(_env_file=None).model_copy(update=changes)  # type: ignore[call-arg]


def test_the_translation_server_is_named_only_when_there_is_one(english: I18n, example_county: County) -> None:
    assert TRANSLATION not in privacy_notice(example_county, _settings(translate_url=None))
    assert TRANSLATION in privacy_notice(example_county, _settings(translate_url="http://libretranslate:5000"))


def test_a_kept_transcript_is_told(english: I18n, example_county: County) -> None:
    told = "also keeps the text of your messages"
    assert told not in privacy_notice(example_county, _settings(keep_transcript=False))
    assert told in privacy_notice(example_county, _settings(keep_transcript=True))


def test_the_countys_data_protection_contact_is_shown_when_the_county_file_has_one(
    english: I18n, example_county: County
) -> None:
    assert "Data protection contact" not in privacy_notice(example_county, _settings())
    county = example_county.model_copy(update={"privacy_contact": "Jülicher Ring 32 <datenschutz@example.org>"})
    text = privacy_notice(county, _settings())
    assert "Data protection contact: Jülicher Ring 32 &lt;datenschutz@example.org&gt;" in text
    assert "Jülicher Ring 32 <datenschutz@example.org>" in html_to_text(text)


def test_one_short_line_per_point(english: I18n, example_county: County) -> None:
    text = html_to_text(privacy_notice(example_county, _settings(translate_url="http://lt:5000")))
    lines = [line for line in text.splitlines() if line.strip()]
    assert all(len(line) <= 120 for line in lines), [line for line in lines if len(line) > 120]
    sentences = [s for line in lines for s in re.split(r"(?<=[.:])\s+", line) if s]
    assert all(len(s.split()) <= 16 for s in sentences), [s for s in sentences if len(s.split()) > 16]
    for category in CATEGORIES:
        assert sum(category.label in line for line in lines) == 1, category.label

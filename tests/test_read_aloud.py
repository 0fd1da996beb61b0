"""Read aloud, end to end with the real espeak-ng and ffmpeg: a client taps 🔊 under the booking summary and gets an
OGG/Opus voice note (checked with ffprobe) of that summary in their language; the privacy notice has the button
only in languages with a voice; a translated staff answer gets it too, and a forged tap reads nothing."""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.config import Settings
from bot.emulator import BotAPIEmulator
from bot.services import office_hours
from bot.services.speech import Speaker
from bot.telegram.callbacks import ReadAloudCb
from tests.support import (
    ANNA,
    OFFICE,
    SERVICE,
    STAFF_GROUP,
    FakeLibreTranslate,
    Running,
    button_texts,
    onboard,
    staff_user,
    t,
    thread_of,
)

READ_ALOUD = "🔊 Read aloud"


def probe(audio: bytes, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "voice.ogg"
    path.write_bytes(audio)
    shown = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,channels:format=format_name,duration", "-of",
         "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    result: dict[str, Any] = json.loads(shown)
    return result


async def voice_reply(emulator: BotAPIEmulator, chat: int, to: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = await emulator.wait_for(
        lambda: next(
            (
                m
                for m in emulator.bot_messages(chat)
                if "voice" in m and (m.get("reply_to_message") or {}).get("message_id") == to["message_id"]
            ),
            None,
        ),
        timeout=20,
    )
    return found


async def test_the_booking_summary_is_read_aloud_as_an_ogg_opus_voice_note(
    kimbot: Running, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    menu = await onboard(kimbot, emulator, 951, language="en")
    services = await kimbot.tap(951, menu, "Book an appointment")
    offices = await kimbot.tap(951, services, SERVICE)
    days = await kimbot.tap(951, offices, OFFICE)
    times = await kimbot.tap(951, days, button_texts(days)[2])
    summary = await kimbot.tap(951, times, button_texts(times)[0])
    assert "Please check your appointment" in summary["text"] and READ_ALOUD in button_texts(summary)

    speaker: Speaker = kimbot.app.dispatcher["speaker"]
    await kimbot.tap(951, summary, READ_ALOUD)
    voice = await voice_reply(emulator, 951, summary)
    audio = emulator.file_content(voice["voice"]["file_id"])
    shown = probe(audio, tmp_path)
    assert shown["format"]["format_name"] == "ogg" and float(shown["format"]["duration"]) > 3
    assert [(s["codec_name"], s["channels"]) for s in shown["streams"]] == [("opus", 1)]
    # What was spoken is the summary in English: saying it again comes from the cache, byte for byte.
    misses = speaker.misses
    assert await speaker.voice_note(summary["text"], "en") == audio and speaker.misses == misses
    assert kimbot.emu.messages[(951, summary["message_id"])]["text"] == summary["text"]  # the summary stays


async def test_the_privacy_notice_has_the_button_only_where_a_voice_speaks(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    await onboard(kimbot, emulator, 952, language="uk")
    await onboard(kimbot, emulator, 953, language="ps")  # no Pashto voice in espeak-ng
    ukrainian = await kimbot.say(952, "/privacy")
    pashto = await kimbot.say(953, "/privacy")
    label = "🔊 " + t(kimbot, "Read aloud", "uk")
    assert label in button_texts(ukrainian)
    assert not any(b.startswith("🔊") for b in button_texts(pashto))
    await kimbot.tap(952, ukrainian, label)
    voice = await voice_reply(emulator, 952, ukrainian)
    assert emulator.file_content(voice["voice"]["file_id"]).startswith(b"OggS")


async def test_a_forged_tap_reads_nothing(kimbot: Running, emulator: BotAPIEmulator) -> None:
    menu = await onboard(kimbot, emulator, 954, language="en")
    callback = await emulator.press(954, menu, data=ReadAloudCb(what="answer").pack(), forge=True)
    await emulator.wait_for(lambda: emulator.callback_answers.get(callback) is not None)
    assert emulator.callback_answers[callback]["show_alert"]  # type: ignore[index]
    callback = await emulator.press(954, menu, data=ReadAloudCb(what="summary").pack(), forge=True)
    await emulator.wait_for(lambda: emulator.callback_answers.get(callback) is not None)
    await kimbot.settle(954)
    assert not [m for m in emulator.bot_messages(954) if "voice" in m]


@pytest.fixture
async def libre() -> Any:
    fake = FakeLibreTranslate()
    await fake.start()
    yield fake
    await fake.stop()


async def test_a_translated_staff_answer_is_read_in_the_clients_language(
    kimbot: Running, emulator: BotAPIEmulator, libre: FakeLibreTranslate, settings: Settings, monkeypatch: Any
) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    kimbot.app.dispatcher["translator"] = None
    from bot.services.translator import build_translator

    kimbot.app.dispatcher["translator"] = build_translator(libre.url, detect=False)
    await onboard(kimbot, emulator, 955, language="ru")
    staff_user(emulator, ANNA)
    await emulator.send_message(955, "Здравствуйте")
    thread = await thread_of(kimbot, 955)
    before = emulator.last_message_id(955)
    await emulator.send_message(ANNA, "Morgen um 10:30 Uhr.", chat_id=STAFF_GROUP, thread_id=thread)
    answer = await emulator.wait_for_message(955, after=before)
    await kimbot.settle(955)
    answer = emulator.messages[(955, answer["message_id"])]
    assert "🔊 " + t(kimbot, "Read aloud", "ru") in button_texts(answer)
    await kimbot.tap(955, answer, button_texts(answer)[0])
    voice = await voice_reply(emulator, 955, answer)
    speaker: Speaker = kimbot.app.dispatcher["speaker"]
    spoken_text = FakeLibreTranslate.render("Morgen um 10:30 Uhr.", "ru")
    assert await speaker.voice_note(spoken_text, "ru") == emulator.file_content(voice["voice"]["file_id"])
    await asyncio.sleep(0)

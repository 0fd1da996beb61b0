"""How kimbot reads its texts out (`bot.services.speech`): references letter by letter, times as times, phone
numbers in pairs, no markup or emoji; which languages have a voice; Piper voices found in a folder; the cache's
size cap; and real espeak-ng + ffmpeg output in a language other than English."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.services.speech import ESPEAK_VOICES, Speaker, piper_voices, spoken


def test_codes_times_and_numbers_are_read_as_a_person_would() -> None:
    said = spoken("<b>Your reference</b>: K-4F7Q2. Come at 10:30 or 9:00 📅, call +4922511234.", "en")
    assert "K 4 F 7 Q 2." in said and "<b>" not in said and "📅" not in said
    assert "10 30" in said and "9 o'clock" in said and "+ 49 22 51 12 34" in said
    assert spoken("Termin um 10:30 Uhr", "de").startswith("Termin um 10 Uhr 30")
    assert spoken("à 14:00", "fr") == "à 14 heures"
    assert spoken("в 10:05", "ru") == "в 10 5"
    assert spoken("Tom &amp; Jerry", "en") == "Tom & Jerry"


def test_languages_without_a_voice_get_no_button() -> None:
    speaker = Speaker()
    assert {"ar", "uk", "fa", "prs", "ru", "tr", "ku", "de", "en", "ka"} <= set(speaker.voices)
    for locale in ("ps", "so", "ti", "ckb"):
        assert not speaker.speaks(locale) and locale not in ESPEAK_VOICES
    assert not speaker.speaks(None)


def test_piper_voices_are_found_by_the_language_their_config_names(tmp_path: Path) -> None:
    (tmp_path / "de_DE-thorsten-medium.onnx").write_bytes(b"model")
    (tmp_path / "de_DE-thorsten-medium.onnx.json").write_text(json.dumps({"language": {"code": "de_DE"}}))
    (tmp_path / "fa_IR-amir-medium.onnx").write_bytes(b"model")
    (tmp_path / "fa_IR-amir-medium.onnx.json").write_text(json.dumps({"language": {"code": "fa_IR"}}))
    (tmp_path / "broken.onnx").write_bytes(b"model")  # no config: not a voice
    found = piper_voices(tmp_path)
    assert set(found) == {"de", "fa", "prs"} and found["de"].engine == "piper"
    assert found["prs"].name.endswith("fa_IR-amir-medium.onnx")


async def test_a_ukrainian_voice_note_is_ogg_opus_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    speaker = Speaker(cache_bytes=10_000_000)
    audio = await speaker.voice_note("Ваш запис на понеділок о 10:30.", "uk")
    assert audio.startswith(b"OggS") and b"OpusHead" in audio[:200]
    assert await speaker.voice_note("Ваш запис на понеділок о 10:30.", "uk") == audio and speaker.misses == 1
    other = await speaker.voice_note("Ваш запис на вівторок.", "uk")
    assert other != audio and speaker.misses == 2


async def test_the_cache_keeps_under_its_cap() -> None:
    speaker = Speaker(cache_bytes=1)  # nothing fits: every voice note is synthesised again
    first = await speaker.voice_note("Guten Tag", "de")
    await speaker.voice_note("Guten Tag", "de")
    assert speaker.misses == 2 and first.startswith(b"OggS")

"""Voice notes transcribed for staff, end to end: the copy reaches the client's topic as before and, replying to it,
the transcript in the language heard with its German translation – from a fake OpenAI-compatible transcription
server that the file is streamed to (getFile, file download through the emulator). Tigrinya gets the "no
transcript" line; the server down or slow gives staff a note and the job survives, a restart included."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build_app
from bot.core.config import Settings
from bot.db.models import Client
from bot.db.models_handoff import RelayMessage
from bot.db.models_transcription import TranscriptionJob
from bot.emulator import BotAPIEmulator
from bot.jobs import transcription as queue
from bot.services import office_hours
from bot.services.transcription import Transcript, covers, parse
from tests.support import STAFF_GROUP, FakeLibreTranslate, Running, in_topic, onboard, thread_of
from tests.support.fake_llm import FakeChatCompletions
from tests.support.fake_speech import FakeSpeech

PASHTO = "زه سبا نشم راتلای، زما زوی ناروغ دی"


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(queue, "POLL_SECONDS", 0.2)
    monkeypatch.setattr(queue, "RETRY_DELAYS", (0.3, 0.3))


@pytest.fixture
async def speech() -> AsyncIterator[FakeSpeech]:
    async with FakeSpeech() as fake:
        yield fake


@pytest.fixture
def servers(libre: FakeLibreTranslate, llm: FakeChatCompletions) -> tuple[FakeLibreTranslate, FakeChatCompletions]:
    return libre, llm


@pytest.fixture
def settings(
    settings: Settings, speech: FakeSpeech, servers: tuple[FakeLibreTranslate, FakeChatCompletions]
) -> Settings:
    libre, llm = servers
    return settings.model_copy(
        update={
            "speech_url": speech.url,
            "speech_model": speech.model,
            "speech_timeout": 2.0,
            "translate_url": libre.url,
            "translate_llm_url": llm.url,
            "translate_llm_model": llm.model,
        }
    )


async def voice_in_topic(
    kimbot: Running, emulator: BotAPIEmulator, user: int, audio: bytes, kind: str = "voice", duration: int = 4
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """The client sends a voice note; returns the topic, the message sent and its copy there."""
    sent = await emulator.send_media(user, kind, content=audio, duration=duration)
    thread = await thread_of(kimbot, user)
    copy = await in_topic(emulator, thread, lambda m: kind in m and m["from"]["is_bot"])
    return thread, sent, copy


async def reply_under(emulator: BotAPIEmulator, thread: int, copy: dict[str, Any], contains: str) -> dict[str, Any]:
    def found(m: dict[str, Any]) -> bool:
        replied = (m.get("reply_to_message") or {}).get("message_id")
        return replied == copy["message_id"] and contains in (m.get("text") or "")

    return await in_topic(emulator, thread, found)


async def jobs(kimbot: Running) -> list[TranscriptionJob]:
    async with kimbot.app.sessions() as session:
        return list((await session.scalars(select(TranscriptionJob))).all())


async def no_jobs_left(kimbot: Running) -> None:
    """The job is done once the reply's transaction has committed, a moment after Telegram took the reply."""
    for _ in range(100):
        if not await jobs(kimbot):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("a transcription job is still queued")


def de(kimbot: Running, text: str) -> str:
    return str(kimbot.app.i18n.gettext(text, locale="de"))


async def test_a_pashto_voice_note_gets_its_transcript_and_a_german_translation(
    kimbot: Running, emulator: BotAPIEmulator, speech: FakeSpeech, servers: tuple[FakeLibreTranslate, Any]
) -> None:
    audio = b"OggS pashto voice note " * 200
    speech.hear(audio, PASHTO, "pashto")  # OpenAI's API names the language; speaches gives the code
    await onboard(kimbot, emulator, 941, language="ps")
    thread, sent, copy = await voice_in_topic(kimbot, emulator, 941, audio)
    shown = await reply_under(emulator, thread, copy, PASHTO)
    assert "Paschtu (ps)" in shown["text"] and "95 %" not in shown["text"]
    assert FakeChatCompletions.render(PASHTO) in shown["text"]  # LibreTranslate lists no Pashto: the model
    assert de(kimbot, "Machine translation ({source} → {target})").format(source="ps", target="de") in shown["text"]
    assert "⚠️" not in shown["text"]
    [received] = speech.received
    assert (received.model, received.response_format, received.filename) == (speech.model, "verbose_json", "voice.ogg")
    assert received.size == len(audio) and received.chunked  # streamed through, not buffered into one body
    assert emulator.downloads == [sent["voice"]["file_id"]]
    await no_jobs_left(kimbot)
    async with kimbot.app.sessions() as session:
        pair = await session.scalar(select(RelayMessage).where(RelayMessage.kind == "voice"))
    assert pair is not None and pair.transcript is None and pair.staff_message_id == copy["message_id"]


async def test_a_tigrinya_voice_note_gets_the_no_transcript_line(
    kimbot: Running, emulator: BotAPIEmulator, speech: FakeSpeech
) -> None:
    await onboard(kimbot, emulator, 942, language="ti")
    thread, _, copy = await voice_in_topic(kimbot, emulator, 942, b"OggS tigrinya")
    line = de(kimbot, "No transcript for this language ({language}) – ask an interpreter.")
    shown = await reply_under(emulator, thread, copy, line.format(language="Tigrinya (ti)"))
    assert shown["text"].startswith("🎙")
    assert speech.received == [] and emulator.downloads == []
    await no_jobs_left(kimbot)


async def test_a_voice_note_over_the_length_cap_is_not_fetched(
    kimbot: Running, emulator: BotAPIEmulator, speech: FakeSpeech
) -> None:
    await onboard(kimbot, emulator, 943, language="ar")
    thread, _, copy = await voice_in_topic(kimbot, emulator, 943, b"OggS long", kind="audio", duration=3600)
    line = de(kimbot, "No transcript: the voice message is longer than {minutes} minutes.").format(minutes=5)
    await reply_under(emulator, thread, copy, line)
    assert speech.received == [] and emulator.downloads == []


async def test_the_speech_server_down_gives_a_note_and_the_transcript_follows(
    kimbot: Running, emulator: BotAPIEmulator, speech: FakeSpeech
) -> None:
    port = speech.port
    await speech.stop()
    audio = b"OggS arabic"
    speech.hear(audio, "أحتاج موعدا غدا", "ar")
    await onboard(kimbot, emulator, 944, language="ar")
    thread, _, copy = await voice_in_topic(kimbot, emulator, 944, audio)
    delayed = de(kimbot, "Transcript delayed: the speech server did not answer. kimbot will try again.")
    await reply_under(emulator, thread, copy, delayed)
    for _ in range(50):  # the note and the retry commit together, just after Telegram took the note
        [job] = await jobs(kimbot)
        if job.notified:
            break
        await asyncio.sleep(0.02)
    assert job.notified and job.attempts >= 1 and job.last_error == "ClientConnectorError"

    await speech.start(port)
    shown = await reply_under(emulator, thread, copy, "أحتاج موعدا غدا")
    assert FakeLibreTranslate.render("أحتاج موعدا غدا", "de") in shown["text"]
    notes = [m for m in emulator.topic_messages(STAFF_GROUP, thread) if delayed in (m.get("text") or "")]
    assert len(notes) == 1  # told once, not at every attempt
    await no_jobs_left(kimbot)


async def test_a_slow_speech_server_never_holds_up_text_messages(
    kimbot: Running, emulator: BotAPIEmulator, speech: FakeSpeech
) -> None:
    audio = b"OggS slow"
    speech.hear(audio, "Добрий день", "uk")
    await onboard(kimbot, emulator, 945, language="uk")
    await onboard(kimbot, emulator, 946, language="uk")
    speech.delay = 10.0  # over SPEECH_TIMEOUT (2 s here)
    thread, _, copy = await voice_in_topic(kimbot, emulator, 945, audio)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await emulator.send_message(946, "Коли мій термін?")
    other = await thread_of(kimbot, 946)
    await in_topic(emulator, other, lambda m: "Коли мій термін?" in (m.get("text") or ""))
    assert loop.time() - started < 1.5  # the transcription waiting on the server blocks no update
    delayed = de(kimbot, "Transcript delayed: the speech server did not answer. kimbot will try again.")
    await reply_under(emulator, thread, copy, delayed)
    speech.delay = 0.0
    await reply_under(emulator, thread, copy, "Добрий день")


async def test_a_restart_loses_no_voice_note(
    kimbot: Running, emulator: BotAPIEmulator, speech: FakeSpeech, settings: Settings
) -> None:
    speech.status = 503
    audio = b"OggS before the restart"
    speech.hear(audio, "Bonjour, j'ai besoin d'aide", "fr")
    await onboard(kimbot, emulator, 947, language="fr")
    thread, _, copy = await voice_in_topic(kimbot, emulator, 947, audio)
    await reply_under(emulator, thread, copy, "⏳")
    await kimbot.stop()
    assert len(await jobs(kimbot)) == 1  # the job outlived the process

    speech.status = 200
    again = Running(await build_app(settings), emulator)
    await again.start()
    try:
        await reply_under(emulator, thread, copy, "Bonjour, j'ai besoin d'aide")
    finally:
        await again.stop()


async def test_with_the_transcript_kept_it_is_in_the_relay_pair(
    kimbot: Running, emulator: BotAPIEmulator, speech: FakeSpeech, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kimbot.app.settings, "keep_transcript", True)
    audio = b"OggS kept"
    speech.hear(audio, "Ich komme morgen.", "de", logprob=-1.2)
    await onboard(kimbot, emulator, 948, language="de")
    thread, _, copy = await voice_in_topic(kimbot, emulator, 948, audio)
    shown = await reply_under(emulator, thread, copy, "Ich komme morgen.")
    assert "⚠️" in shown["text"] and "🌐" not in shown["text"]  # unsure; German needs no translation
    await no_jobs_left(kimbot)
    async with kimbot.app.sessions() as session:
        client_id = await session.scalar(select(Client.id).where(Client.telegram_id == 948))
        pair = await session.scalar(select(RelayMessage).where(RelayMessage.client_id == client_id))
    assert pair is not None and pair.transcript == "Ich komme morgen."


def test_confidence_comes_from_the_segments() -> None:
    sure = parse({"text": "hallo", "language": "german", "segments": [{"start": 0, "end": 2, "avg_logprob": -0.1}]})
    assert sure == Transcript("hallo", "de", 0.9, False)
    unsure = parse({"text": "x", "language": "ps", "segments": [{"start": 0, "end": 1, "avg_logprob": -1.4}]})
    assert unsure.low and unsure.language == "ps"
    silent = parse({"text": "", "language": "en", "segments": []})
    assert silent.low and silent.confidence == 0.0
    assert covers("prs") and covers("so") and covers("ka")
    assert not covers("ti") and not covers("ku") and not covers("ckb")

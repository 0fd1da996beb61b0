"""Benchmark of the speech features:

1. synthesis: seconds per 100 words per language with espeak-ng and ffmpeg (OGG/Opus), median of 3, no cache;
2. the transcription queue under a burst of 50 voice notes (a fake speech server taking 0.5 s each, one at a time,
   as SPEECH_CONCURRENCY=1): 30 text messages from other clients at 20/s during the burst – p50/p99 time until
   their copy is in the topic – with transcription off (SPEECH_URL empty) and on, and how long until all 50
   transcripts are posted.

    .venv/bin/python bench/bench_speech.py [--skip-synthesis] [--skip-queue]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_app  # noqa: E402
from bot.core.config import Settings  # noqa: E402
from bot.db.migrate import upgrade_async  # noqa: E402
from bot.emulator import BotAPIEmulator  # noqa: E402
from bot.services.speech import Speaker  # noqa: E402
from tests.support import STAFF_GROUP, TOKEN, Running, add_clients  # noqa: E402
from tests.support.fake_speech import FakeSpeech  # noqa: E402
from tests.support.language_samples import SAMPLES  # noqa: E402

WORDS = 100


def hundred_words(locale: str) -> str:
    words: list[str] = []
    while len(words) < WORDS:
        for sentence in SAMPLES[locale]:
            words.extend(sentence.split())
    return " ".join(words[:WORDS])


async def synthesis() -> None:
    speaker = Speaker(cache_bytes=0)
    print(f"synthesis, seconds per {WORDS} words (espeak-ng → ffmpeg libopus), median of 3:")
    for locale in sorted(speaker.voices):
        text = hundred_words(locale if locale in SAMPLES else "en")
        times, size = [], 0
        for _ in range(3):
            started = time.perf_counter()
            audio = await speaker.voice_note(text, locale)
            times.append(time.perf_counter() - started)
            size = len(audio)
        print(f"  {locale:4} {statistics.median(times):5.2f} s   {size / 1024:6.1f} KiB")


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def _texts(emu: BotAPIEmulator, senders: list[int], tag: str, rate: float) -> list[float]:
    """One message from each sender at `rate` per second; each one's time until its copy is in a topic."""

    async def one(user: int, at: float) -> float:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        text, sent = f"{tag} {user}", time.perf_counter()
        await emu.send_message(user, text)
        await emu.wait_for(lambda: any(m.get("text") == text for m in emu.bot_messages(STAFF_GROUP)))
        return time.perf_counter() - sent

    start = time.perf_counter()
    return list(await asyncio.gather(*(one(u, start + i / rate) for i, u in enumerate(senders))))


async def queue(transcribe: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/kimbot.db"
        await upgrade_async(url)
        emu, speech = BotAPIEmulator(), FakeSpeech()
        await emu.start()
        await speech.start()
        emu.add_group(STAFF_GROUP, "Team")
        speech.delay = 0.5
        settings = Settings(
            BOT_TOKEN=TOKEN, TELEGRAM_API_URL=emu.base_url, DATABASE_URL=url, STAFF_CHAT_ID=STAFF_GROUP,  # type: ignore[arg-type]
            KIMBOT_DATA_DIR=Path(tmp) / "var", HTTP_PORT=0, POLLING_TIMEOUT=1, SPEECH_CONCURRENCY=1,
            SPEECH_URL=speech.url if transcribe else "", _env_file=None,
        )  # type: ignore[call-arg]  # fmt: skip
        kimbot = Running(await build_app(settings), emu)
        await kimbot.start()
        try:
            voices, texts = list(range(5000, 5050)), list(range(6000, 6060))
            await add_clients(kimbot, emu, [(u, "uk") for u in voices + texts])
            await _texts(emu, voices + texts, "hello", 50)  # everyone's topic exists before measuring
            for user in voices:
                speech.hear(f"OggS {user}".encode(), f"Голос {user}", "uk")
            started = time.perf_counter()
            for user in voices:  # the burst: 50 voice notes at once
                await emu.send_media(user, "voice", content=f"OggS {user}".encode())
            busy = await _texts(emu, texts[30:], "busy", 20)

            def done() -> bool:
                heard = [m for m in emu.bot_messages(STAFF_GROUP) if "Голос" in (m.get("text") or "")]
                return len(heard) == len(voices)

            if transcribe:
                await emu.wait_for(done, timeout=120)
            drained = time.perf_counter() - started
        finally:
            await kimbot.stop()
            await speech.stop()
            await emu.stop()
    label = "on " if transcribe else "off"
    print(f"transcription {label}: text copies during the burst of 50 voice notes: p50 {p(busy, 0.5):6.1f} ms"
          f"  p99 {p(busy, 0.99):6.1f} ms (n={len(busy)})")
    if transcribe:
        print(f"  all 50 transcripts posted after {drained:.1f} s (0.5 s each at the server, one at a time)")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-synthesis", action="store_true")
    parser.add_argument("--skip-queue", action="store_true")
    args = parser.parse_args()
    if not args.skip_synthesis:
        await synthesis()
    if not args.skip_queue:
        for transcribe in (False, True, False, True):
            await queue(transcribe)


if __name__ == "__main__":
    asyncio.run(main())

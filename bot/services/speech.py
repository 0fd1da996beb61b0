"""Read aloud: kimbot's longer messages as a voice note in the client's language, synthesised on this machine –
Piper voices when the operator put them in PIPER_VOICES_DIR (and the `piper` program is installed), else espeak-ng –
and encoded as OGG/Opus (what Telegram plays as a voice note) with ffmpeg. Nothing is fetched at run time; a
language without a voice gets no button.

Before synthesis the text is put the way a person reads it: markup and emoji go, a reference such as K-4F7Q2 is
spelled letter by letter, 10:30 is a time, long digit runs are read in pairs. Audio is cached in memory by the hash
of text, language and voice, up to a size cap (least recently used goes first)."""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import re
import shutil
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

# kimbot locale → espeak-ng voice (Debian 12's espeak-ng: no Pashto, Somali, Tigrinya or Sorani voice).
ESPEAK_VOICES = {
    "ar": "ar", "fa": "fa", "prs": "fa", "uk": "uk", "ru": "ru", "tr": "tr", "ku": "ku", "fr": "fr-fr",
    "de": "de", "en": "en-gb", "es": "es", "pl": "pl", "ro": "ro", "bg": "bg", "sq": "sq", "ka": "ka",
}  # fmt: skip
# How a clock time is said, per language ({h} hours, {m} minutes); others say the two numbers.
_TIMES = {"de": "{h} Uhr {m}", "fr": "{h} heures {m}", "en": "{h} {m}"}
_FULL_HOURS = {"de": "{h} Uhr", "fr": "{h} heures", "en": "{h} o'clock"}

_TAG = re.compile(r"<[^>]+>")
_REFERENCE = re.compile(r"\b([A-Z])-([A-Z0-9]{4,8})\b")
_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")
_DIGITS = re.compile(r"\+?\d{5,}")
_SYMBOLS = re.compile(r"[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F•—–]")


class SpeechError(Exception):
    """Synthesis or encoding failed (a missing program, a voice that does not load)."""


@dataclass(frozen=True, slots=True)
class Voice:
    engine: str  # espeak | piper
    name: str  # the espeak voice, or the Piper model file


def spoken(text: str, locale: str) -> str:
    """The text as a person reads it out (see the module docstring)."""
    text = html.unescape(_TAG.sub("", text))
    text = _REFERENCE.sub(lambda m: " ".join([m.group(1), *m.group(2)]) + " ,", text)

    def time(match: re.Match[str]) -> str:
        hours, minutes = int(match.group(1)), match.group(2)
        if minutes == "00":
            return _FULL_HOURS.get(locale, "{h}").format(h=hours)
        return _TIMES.get(locale, "{h} {m}").format(h=hours, m=int(minutes))

    text = _TIME.sub(time, text)
    text = _DIGITS.sub(_in_pairs, text)
    text = _SYMBOLS.sub(" ", text)
    text = re.sub(r" ,(\s*[,.;:!?])", r"\1", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def _in_pairs(match: re.Match[str]) -> str:
    """A phone number or long number, read two digits at a time ("+" as a plus sign)."""
    digits = match.group(0).lstrip("+")
    pairs = " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))
    return ("+ " if match.group(0).startswith("+") else "") + pairs


class Speaker:
    """The voices found at start, synthesis with a concurrency limit, and the cache."""

    def __init__(self, *, piper_dir: Path | None = None, cache_bytes: int = 64 * 2**20, concurrency: int = 2):
        self.voices: dict[str, Voice] = {}
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cached = 0
        self._slots = asyncio.Semaphore(concurrency)
        self.misses = 0
        espeak, encoder = shutil.which("espeak-ng"), shutil.which("ffmpeg")
        if encoder is None:
            return  # nothing can be encoded as OGG/Opus: no button anywhere
        if espeak is not None:
            installed = _espeak_voices()
            self.voices = {loc: Voice("espeak", v) for loc, v in ESPEAK_VOICES.items() if v.split("-")[0] in installed}
        if piper_dir is not None and shutil.which("piper"):
            self.voices.update(piper_voices(piper_dir))

    def speaks(self, locale: str | None) -> bool:
        return locale is not None and locale in self.voices

    async def voice_note(self, text: str, locale: str) -> bytes:
        """The text as OGG/Opus in the locale's voice (from the cache when said before)."""
        voice = self.voices.get(locale)
        if voice is None:
            raise SpeechError(f"no voice for {locale}")
        said = spoken(text, locale)
        key = hashlib.sha256(f"{voice.engine}:{voice.name}:{locale}:{said}".encode()).hexdigest()
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        async with self._slots:
            audio = await _synthesise(voice, said)
        self.misses += 1
        self._remember(key, audio)
        return audio

    def _remember(self, key: str, audio: bytes) -> None:
        if len(audio) > self.cache_bytes:
            return
        self._cache[key] = audio
        self._cached += len(audio)
        while self._cached > self.cache_bytes:
            _, dropped = self._cache.popitem(last=False)
            self._cached -= len(dropped)


def _espeak_voices() -> set[str]:
    import subprocess

    listed = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True, check=False).stdout
    return {line.split()[1].split("-")[0] for line in listed.splitlines()[1:] if len(line.split()) > 1}


def piper_voices(folder: Path) -> dict[str, Voice]:
    """Piper models in the folder (`*.onnx` next to `*.onnx.json`), by the language their config names."""
    found: dict[str, Voice] = {}
    for model in sorted(folder.glob("*.onnx")):
        config = model.with_suffix(".onnx.json")
        try:
            language = json.loads(config.read_text(encoding="utf-8"))["language"]["code"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        code = str(language).split("_")[0].lower()
        found.setdefault(code, Voice("piper", str(model)))
        if code == "fa":
            found.setdefault("prs", Voice("piper", str(model)))
    return found


async def _synthesise(voice: Voice, text: str) -> bytes:
    """WAV from the voice on a pipe into ffmpeg, OGG/Opus out (mono, 24 kb/s, as Telegram's own voice notes)."""
    if voice.engine == "piper":
        synth = ["piper", "--model", voice.name, "--output_file", "-"]
        stdin: bytes | None = text.encode()
    else:
        synth, stdin = ["espeak-ng", "-v", voice.name, "--stdout", text], None
    encode = ["ffmpeg", "-loglevel", "error", "-i", "pipe:0", "-ac", "1", "-c:a", "libopus", "-b:a", "24k"]
    encode += ["-application", "voip", "-f", "ogg", "pipe:1"]
    wav = await _run(synth, stdin)
    ogg = await _run(encode, wav)
    if not ogg.startswith(b"OggS"):
        raise SpeechError("the encoder wrote no OGG")
    return ogg


async def _run(command: list[str], stdin: bytes | None) -> bytes:
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError as exc:
        raise SpeechError(f"{command[0]} did not start") from exc
    out, _ = await process.communicate(stdin)
    if process.returncode != 0 or not out:
        raise SpeechError(f"{command[0]} failed ({process.returncode})")
    return out

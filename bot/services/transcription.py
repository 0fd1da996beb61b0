"""Voice notes transcribed for staff, Telegram-free: the client of an OpenAI-compatible `/v1/audio/transcriptions`
server (speaches and other faster-whisper servers, whisper.cpp's server, LocalAI), which languages its model covers,
how sure a transcript is, and the queue table (`transcription_jobs`) the job in bot/jobs/transcription.py works.

The audio is streamed to the server as it arrives (multipart, chunked), never written anywhere; the transcript is
returned to the caller, who posts it and keeps it only with HANDOFF_TRANSCRIPT=true.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp.payload import AsyncIterablePayload
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models_handoff import RelayMessage
from bot.db.models_transcription import TranscriptionJob

log = logging.getLogger("kimbot.transcription")

KINDS = ("voice", "video_note", "audio")
# Whisper's languages among kimbot's client languages (its tokenizer's table: no Tigrinya, no Kurdish); Dari is
# recognised as Persian. A server that lists its model's languages (speaches: `language` in /v1/models) wins.
WHISPER_LANGUAGES = frozenset(
    ("ar", "fa", "ps", "uk", "ru", "tr", "so", "fr", "de", "en", "es", "pl", "ro", "bg", "sq", "ka")
)
_WHISPER_NAMES = {
    "arabic": "ar", "persian": "fa", "pashto": "ps", "ukrainian": "uk", "russian": "ru", "turkish": "tr",
    "somali": "so", "french": "fr", "german": "de", "english": "en", "spanish": "es", "polish": "pl",
    "romanian": "ro", "bulgarian": "bg", "albanian": "sq", "georgian": "ka", "amharic": "am", "urdu": "ur",
}  # fmt: skip
LOW_CONFIDENCE = 0.45  # exp(mean avg_logprob): below it the transcript is likely wrong in places
NO_SPEECH = 0.6  # mean no_speech_prob above it: probably no speech at all


class TranscriptionError(Exception):
    """The speech server is unreachable, slow, refused the file or heard nothing; `reason` is a short code."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    language: str | None  # the language the model heard (an ISO code where known)
    confidence: float  # 0..1
    low: bool  # warn staff: the transcript may be wrong


def spoken_language(locale: str | None) -> str | None:
    """The code a speech model knows a kimbot locale by (Dari is Persian)."""
    return "fa" if locale == "prs" else locale


def covers(locale: str | None, languages: frozenset[str] = WHISPER_LANGUAGES) -> bool:
    """Whether the model can transcribe the client's language; without one, kimbot posts no transcript at all
    rather than a wrong one in a language the model does not know (Tigrinya, Kurmanji, Sorani)."""
    return spoken_language(locale) in languages


def parse(body: dict[str, Any]) -> Transcript:
    """A verbose_json answer → the text, the language heard and how sure the model was (from its segments)."""
    text = str(body.get("text") or "").strip()
    raw = str(body.get("language") or "").strip().lower()
    language = _WHISPER_NAMES.get(raw, raw) or None
    segments = [s for s in body.get("segments") or [] if isinstance(s, dict)]
    weights = [max(float(s.get("end", 0)) - float(s.get("start", 0)), 0.01) for s in segments]
    if segments:
        logprob = sum(float(s.get("avg_logprob", 0)) * w for s, w in zip(segments, weights, strict=True))
        confidence = math.exp(logprob / sum(weights))
        silent = sum(float(s.get("no_speech_prob", 0)) * w for s, w in zip(segments, weights, strict=True))
        no_speech = silent / sum(weights)
    else:
        confidence, no_speech = (1.0 if text else 0.0), 0.0
    if isinstance(body.get("language_probability"), int | float):
        confidence = min(confidence, float(body["language_probability"]))
    low = not text or confidence < LOW_CONFIDENCE or no_speech > NO_SPEECH
    return Transcript(text, language, round(confidence, 2), low)


class SpeechClient:
    """One OpenAI-compatible transcription server and model."""

    def __init__(self, url: str, model: str, *, api_key: str | None = None, timeout: float = 120.0):
        base = url.rstrip("/")
        self.base = base if base.endswith("/v1") else f"{base}/v1"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    async def languages(self) -> frozenset[str]:
        """The model's languages as the server lists them (speaches does), else Whisper's table."""
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10), headers=self._headers()) as http,
                http.get(f"{self.base}/models") as response,
            ):
                body = await response.json(content_type=None) if response.status == 200 else {}
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return WHISPER_LANGUAGES
        models = body.get("data") if isinstance(body, dict) else None
        found = next((m for m in models or [] if isinstance(m, dict) and m.get("id") == self.model), None)
        listed = found.get("language") if found else None
        return frozenset(map(str, listed)) if isinstance(listed, list) and listed else WHISPER_LANGUAGES

    async def transcribe(self, audio: AsyncIterable[bytes], *, filename: str, content_type: str) -> Transcript:
        """Stream `audio` to the server; the language is left to the model, which says what it heard."""
        with aiohttp.MultipartWriter("form-data") as form:
            for name, value in (("model", self.model), ("response_format", "verbose_json")):
                form.append(value).set_content_disposition("form-data", name=name)
            payload = AsyncIterablePayload(audio, content_type=content_type)
            payload.set_content_disposition("form-data", name="file", filename=filename)
            form.append_payload(payload)
            try:
                async with (
                    aiohttp.ClientSession(
                        timeout=aiohttp.ClientTimeout(total=self.timeout), headers=self._headers()
                    ) as http,
                    http.post(f"{self.base}/audio/transcriptions", data=form) as response,
                ):
                    if response.status != 200:
                        raise TranscriptionError(f"http {response.status}")
                    body = await response.json(content_type=None)
            except TimeoutError as exc:
                raise TranscriptionError("timeout") from exc
            except (aiohttp.ClientError, ValueError) as exc:
                raise TranscriptionError(type(exc).__name__) from exc
        if not isinstance(body, dict):
            raise TranscriptionError("no transcript")
        return parse(body)


# ---------------------------------------------------------------------- the queue table


@dataclass(frozen=True, slots=True)
class JobDTO:
    id: int
    client_id: int
    kind: str
    file_id: str
    file_size: int | None
    duration: int | None
    client_message_id: int
    staff_chat_id: int
    staff_message_id: int
    attempts: int
    notified: bool


def too_large(job: JobDTO, max_seconds: int, max_bytes: int) -> str | None:
    """"too_long" or "too_big" when the file is over a cap (checked before anything is downloaded)."""
    if job.duration is not None and job.duration > max_seconds:
        return "too_long"
    if job.file_size is not None and job.file_size > max_bytes:
        return "too_big"
    return None


async def enqueue(session: AsyncSession, **fields: Any) -> None:
    """Queue a voice note in the caller's transaction (with the update that copied it into the topic)."""
    session.add(TranscriptionJob(**fields))
    await session.flush()


def _due(now: datetime) -> Any:
    return or_(
        and_(TranscriptionJob.status == "pending", TranscriptionJob.due_at <= now),
        and_(TranscriptionJob.status == "working", TranscriptionJob.lease_until < now),
    )


async def claim(session: AsyncSession, *, now: datetime, limit: int, lease_seconds: float) -> list[JobDTO]:
    """Lease up to `limit` due jobs. Each is taken by a conditional UPDATE that re-checks it is still due, so two
    processes never hold the same job (on PostgreSQL and SQLite alike); commit right after."""
    ids = (
        await session.scalars(
            select(TranscriptionJob.id).where(_due(now)).order_by(TranscriptionJob.due_at).limit(limit)
        )
    ).all()
    taken = []
    for job_id in ids:
        result = await session.execute(
            update(TranscriptionJob)
            .where(TranscriptionJob.id == job_id, _due(now))
            .values(
                status="working",
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=TranscriptionJob.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            taken.append(job_id)
    rows = (await session.scalars(select(TranscriptionJob).where(TranscriptionJob.id.in_(taken)))).all()
    return [_dto(row) for row in sorted(rows, key=lambda r: r.id)]


def _dto(row: TranscriptionJob) -> JobDTO:
    return JobDTO(
        row.id, row.client_id, row.kind, row.file_id, row.file_size, row.duration, row.client_message_id,
        row.staff_chat_id, row.staff_message_id, row.attempts, row.notified,
    )  # fmt: skip


async def finish(session: AsyncSession, job_id: int) -> None:
    """Done (transcript or note posted): the row goes."""
    await session.execute(delete(TranscriptionJob).where(TranscriptionJob.id == job_id))


async def retry(session: AsyncSession, job_id: int, *, due_at: datetime, error: str, notified: bool) -> None:
    await session.execute(
        update(TranscriptionJob)
        .where(TranscriptionJob.id == job_id)
        .values(status="pending", lease_until=None, due_at=due_at, last_error=error[:64], notified=notified)
    )


async def release(session: AsyncSession, job_id: int) -> None:
    """Give a leased job back (a graceful stop): due at once, the attempt not counted."""
    await session.execute(
        update(TranscriptionJob)
        .where(TranscriptionJob.id == job_id, TranscriptionJob.status == "working")
        .values(status="pending", lease_until=None, attempts=TranscriptionJob.attempts - 1)
    )


async def waiting(session: AsyncSession) -> int:
    """Jobs not finished yet (pending or being worked on)."""
    return len((await session.scalars(select(TranscriptionJob.id))).all())


async def keep(session: AsyncSession, client_id: int, client_message_id: int, text: str) -> None:
    """With HANDOFF_TRANSCRIPT=true: the transcript goes into the voice note's relay pair (and its export)."""
    await session.execute(
        update(RelayMessage)
        .where(RelayMessage.client_id == client_id, RelayMessage.client_message_id == client_message_id)
        .values(transcript=text)
    )

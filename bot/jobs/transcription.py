"""The transcription queue: voice notes, video notes and audio files from clients, transcribed off the update path
and posted in the client's topic as a reply to the copy – the transcript in the language heard, its German
translation, the language and a warning when the model was unsure; or a short note why there is none (a language
the model does not know, over the caps, the speech server down or slow).

Jobs are rows (`transcription_jobs`, written in the update's transaction), so a crash or restart loses none: each
process that answers updates runs one loop that leases due rows, at most SPEECH_CONCURRENCY at once, and wakes when
an update commits a new one. The file is streamed from Telegram (getFile, then the file URL) to the speech server;
neither audio nor transcript is stored (the transcript only in the relay pair, with HANDOFF_TRANSCRIPT=true).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator
from datetime import timedelta
from html import escape
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.exceptions import AiogramError, TelegramBadRequest
from aiogram.utils.i18n import gettext as _
from babel import Locale
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import Settings
from bot.core.i18n import OFFICE_LOCALE
from bot.db.base import utcnow
from bot.services import handoff, transcription
from bot.services.dto import ClientDTO
from bot.services.transcription import JobDTO, SpeechClient, Transcript, TranscriptionError
from bot.services.translator import RoutedTranslator, TranslationError, Translator
from bot.telegram.topics import ForumTopics

log = logging.getLogger("kimbot.transcription")

POLL_SECONDS = 5.0  # a job another process queued (or a retry that fell due) is found at the latest after this
RETRY_DELAYS = (30.0, 300.0)  # seconds before the 2nd and 3rd attempt; after the 3rd failure staff get a note
CHUNK = 64 * 1024

_WAKE: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Event] = weakref.WeakKeyDictionary()


def _wake_event() -> asyncio.Event:
    loop = asyncio.get_running_loop()
    if loop not in _WAKE:
        _WAKE[loop] = asyncio.Event()
    return _WAKE[loop]


def wake_after_commit(session: AsyncSession) -> None:
    """Once the update that queued a job has committed, this process's queue looks for it at once."""
    wake = _wake_event()
    event.listen(session.sync_session, "after_commit", lambda _session: wake.set(), once=True)


class TranscriptionQueue:
    """Built once per dispatcher when SPEECH_URL is set; `start` at start-up, `close` at shutdown."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        topics: ForumTopics,
        translator: Translator | None,
        speech: SpeechClient,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.topics = topics
        self.translator = translator
        self.speech = speech
        self.languages = transcription.WHISPER_LANGUAGES
        self._slots = asyncio.Semaphore(settings.speech_concurrency)
        self._busy: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None

    async def start(self, bot: Bot) -> None:
        """Ask the server which languages its model covers, then work the queue (leftovers from before first)."""
        self.languages = await self.speech.languages()
        self._loop = asyncio.create_task(self._run(bot))

    async def close(self) -> None:
        tasks = [t for t in (self._loop, *self._busy) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, bot: Bot) -> None:
        wake = _wake_event()
        while True:
            wake.clear()
            try:
                await self.run_once(bot)
            except Exception as exc:  # the database away for a moment: the next round tries again
                log.warning("transcription queue: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), POLL_SECONDS)

    async def run_once(self, bot: Bot) -> int:
        """Lease as many due jobs as there are free slots and start them; returns how many were started."""
        free = self.settings.speech_concurrency - len(self._busy)
        if free <= 0:
            return 0
        lease = self.settings.speech_timeout + 60
        async with self.sessions() as session, session.begin():
            jobs = await transcription.claim(session, now=utcnow(), limit=free, lease_seconds=lease)
        for job in jobs:
            task = asyncio.create_task(self._guarded(job, bot))
            self._busy.add(task)
            task.add_done_callback(self._done)
        return len(jobs)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._busy.discard(task)
        _wake_event().set()  # a slot is free: look for the next job

    async def idle(self) -> None:
        """Wait until no job of this process is running (tests and the benchmark)."""
        while self._busy:
            await asyncio.gather(*self._busy, return_exceptions=True)

    async def _guarded(self, job: JobDTO, bot: Bot) -> None:
        async with self._slots:
            try:
                await self.work(job, bot)
            except asyncio.CancelledError:  # shutting down: the next start takes the job at once, not after the lease
                with contextlib.suppress(Exception):
                    async with self.sessions() as session, session.begin():
                        await transcription.release(session, job.id)
                raise
            except Exception as exc:  # Telegram or the database failed while posting: the job is tried again
                log.warning("transcription job %d failed: %s", job.id, type(exc).__name__)
                await self._retry(job, bot, type(exc).__name__, tell_staff=False)

    # ------------------------------------------------------------------ one job

    async def work(self, job: JobDTO, bot: Bot) -> None:
        async with self.sessions() as session:
            client = await handoff.client(session, job.client_id)
        if client is None:
            return  # erased meanwhile: the row went with them
        refused = transcription.too_large(job, self.settings.speech_max_seconds, self.settings.speech_max_bytes)
        if refused is None and not transcription.covers(client.locale, self.languages):
            refused = "language"
        if refused is not None:
            await self._post(job, bot, client, self._office(refusal, refused, client.locale, self.settings))
            return
        try:
            heard = await self._transcribe(job, bot)
        except TranscriptionError as exc:
            if exc.reason in ("too_big", "too_long"):
                await self._post(job, bot, client, self._office(refusal, exc.reason, client.locale, self.settings))
                return
            log.warning("transcription failed: %s", exc.reason)
            await self._retry(job, bot, exc.reason, tell_staff=True)
            return
        translation, failed = await self._translate(heard, client)
        text = self._office(transcript_text, heard, client.locale, translation, failed)
        await self._post(job, bot, client, text, keep=heard.text)

    def _office(self, view: Any, *args: Any) -> str:
        """A text for the staff group, in the office language (jobs run outside any update's locale)."""
        with self.topics.i18n.context(), self.topics.office():
            return str(view(*args))

    async def _transcribe(self, job: JobDTO, bot: Bot) -> Transcript:
        """getFile, then stream the file URL's body to the speech server, stopping at the size cap."""
        try:
            file = await bot.get_file(job.file_id)
        except TelegramBadRequest as exc:
            raise TranscriptionError("too_big" if "too big" in exc.message.lower() else "file gone") from exc
        if not file.file_path:
            raise TranscriptionError("file gone")
        url = bot.session.api.file_url(bot.token, file.file_path)
        filename = {"voice": "voice.ogg", "video_note": "video.mp4", "audio": "audio"}[job.kind]
        content_type = {"voice": "audio/ogg", "video_note": "video/mp4"}.get(job.kind, "application/octet-stream")
        timeout = aiohttp.ClientTimeout(total=self.settings.speech_timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http, http.get(url) as response:
                if response.status != 200:
                    raise TranscriptionError("file gone")
                audio = _capped(response.content.iter_chunked(CHUNK), self.settings.speech_max_bytes)
                return await self.speech.transcribe(audio, filename=filename, content_type=content_type)
        except aiohttp.ClientError as exc:
            raise TranscriptionError(type(exc).__name__) from exc

    async def _translate(self, heard: Transcript, client: ClientDTO) -> tuple[str | None, bool]:
        source = heard.language or transcription.spoken_language(client.locale) or "auto"
        if self.translator is None or not heard.text or source == OFFICE_LOCALE:
            return None, False
        try:
            if isinstance(self.translator, RoutedTranslator):
                return (await self.translator.translated(heard.text, source, OFFICE_LOCALE)).text, False
            return await self.translator.translate(heard.text, source, OFFICE_LOCALE), False
        except TranslationError:
            return None, True

    async def _post(self, job: JobDTO, bot: Bot, client: ClientDTO, text: str, keep: str | None = None) -> None:
        """The reply under the copy, and the job done – in one transaction."""
        async with self.sessions() as session, session.begin():
            forum = self.topics.bind(bot, session)
            await forum.say_in_topic(client, text, reply_to=job.staff_message_id)
            if keep and self.settings.keep_transcript:
                await transcription.keep(session, job.client_id, job.client_message_id, keep)
            await transcription.finish(session, job.id)

    async def _retry(self, job: JobDTO, bot: Bot, error: str, *, tell_staff: bool) -> None:
        """Try again later; staff hear of a delay once, and of the failure after the last attempt."""
        last = job.attempts > len(RETRY_DELAYS)
        async with self.sessions() as session:
            client = await handoff.client(session, job.client_id)
        if client is None:
            return
        if last:
            with self.topics.i18n.context(), self.topics.office():
                note = "⚠️ " + _("No transcript: the speech server did not answer. Please listen to the voice message.")
            try:
                await self._post(job, bot, client, note)
            except AiogramError as exc:
                log.error("transcription job %d given up: %s", job.id, type(exc).__name__)
                async with self.sessions() as session, session.begin():
                    await transcription.finish(session, job.id)
            return
        notify = tell_staff and not job.notified
        due = utcnow() + timedelta(seconds=RETRY_DELAYS[job.attempts - 1])
        async with self.sessions() as session, session.begin():  # the note and the retry commit together
            if notify:
                with self.topics.i18n.context(), self.topics.office():
                    note = "⏳ " + _("Transcript delayed: the speech server did not answer. kimbot will try again.")
                try:
                    await self.topics.bind(bot, session).say_in_topic(client, note, reply_to=job.staff_message_id)
                except AiogramError:
                    notify = False
            await transcription.retry(session, job.id, due_at=due, error=error, notified=job.notified or notify)


async def _capped(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise TranscriptionError("too_big")
        yield chunk


# ---------------------------------------------------------------------- what staff read (office language)


def language_label(code: str | None) -> str:
    if not code:
        return "?"
    name = Locale.parse(OFFICE_LOCALE).languages.get(code)
    return f"{name} ({code})" if name else code


def transcript_text(heard: Transcript, setting: str | None, translation: str | None, failed: bool) -> str:
    if not heard.text:
        return "🎙 " + _("No speech was recognised in this voice message.")
    lines = [
        "📝 "
        + _("Transcript – language heard: {language}, confidence {percent} %").format(
            language=language_label(heard.language), percent=round(heard.confidence * 100)
        ),
        escape(heard.text),
    ]
    spoken = transcription.spoken_language(setting)
    if heard.language and spoken and heard.language != spoken:
        lines.append("ℹ️ " + _("The client's language setting is {language}.").format(language=language_label(setting)))
    if heard.low:
        lines.append("⚠️ " + _("Low confidence: the transcript may be wrong in places – check with the voice message."))
    if translation is not None:
        label = _("Machine translation ({source} → {target})").format(
            source=heard.language or "?", target=OFFICE_LOCALE
        )
        lines += ["", f"🌐 {label}:", escape(translation)]
    elif failed:
        lines += ["", "⚠️ " + _("Automatic translation is not available right now; this is the original.")]
    return "\n".join(lines)


def refusal(reason: str, locale: str | None, settings: Settings) -> str:
    """Why there is no transcript, in a line (call it in the office language)."""
    if reason == "language":
        text = _("No transcript for this language ({language}) – ask an interpreter.")
        return "🎙 " + text.format(language=language_label(locale))
    if reason == "too_long":
        text = _("No transcript: the voice message is longer than {minutes} minutes.")
        return "🎙 " + text.format(minutes=max(1, settings.speech_max_seconds // 60))
    return "🎙 " + _("No transcript: the file is too large to transcribe.")

"""The broadcast progress job: edits each running broadcast's progress message in its author's chat at most every
few seconds, and turns it into the report when the broadcast is over. The texts live here too, as the compose
handlers show the same message when a broadcast starts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from babel.dates import format_timedelta
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import Settings
from bot.core.i18n import OFFICE_LOCALE, SUPPORTED_LOCALES, babel_locale, fmt_datetime, fmt_number, native_name
from bot.db.base import utcnow
from bot.services import broadcasts
from bot.services import staff as staff_service
from bot.services.broadcasts import BroadcastDTO, Progress
from bot.telegram.callbacks import BcRunCb

log = logging.getLogger("kimbot.broadcasts")

PROGRESS_JOB_ID = "broadcast-progress"
PROGRESS_EVERY_SECONDS = 3.0


def excluded_lines(opted_out: int, unreachable: int, skipped: int) -> list[str]:
    locale = get_i18n().current_locale
    return [
        _("Opted out of announcements: {count}").format(count=fmt_number(opted_out, locale)),
        _("Unreachable (blocked the bot): {count}").format(count=fmt_number(unreachable, locale)),
        _("Left out (no text in their language): {count}").format(count=fmt_number(skipped, locale)),
    ]


def _status_label(status: str) -> str:
    return {
        "scheduled": _("scheduled"),
        "running": _("sending"),
        "paused": _("paused"),
        "cancelled": _("cancelled"),
        "done": _("finished"),
    }.get(status, status)


def progress_text(broadcast: BroadcastDTO, progress: Progress, rate: float, tz: tzinfo) -> str:
    """The progress message while a broadcast runs, and its final report when it is over."""
    locale = get_i18n().current_locale
    counts = progress.counts
    n = lambda value: fmt_number(value, locale)  # noqa: E731
    lines = [
        _("<b>Broadcast #{number}</b> – {status}").format(number=broadcast.id, status=_status_label(broadcast.status))
    ]
    if broadcast.status == "scheduled" and broadcast.scheduled_at is not None:
        lines.append(_("Starts {when}").format(when=fmt_datetime(broadcast.scheduled_at, locale, tz)))
    lines.append(
        _("Sent: {sent} · pending: {pending} · unreachable: {unreachable} · failed: {failed}").format(
            sent=n(counts["sent"]),
            pending=n(counts["pending"]),
            unreachable=n(counts["unreachable"]),
            failed=n(counts["failed"]),
        )
    )
    if counts["cancelled"]:
        lines.append(_("Not sent (cancelled): {count}").format(count=n(counts["cancelled"])))
    if broadcast.status == "running" and counts["pending"]:
        left = timedelta(seconds=counts["pending"] / rate)
        lines.append(
            _("Estimated time left: {duration}").format(
                duration=format_timedelta(max(left, timedelta(seconds=1)), locale=babel_locale(locale))
            )
        )
    if broadcast.status in ("done", "cancelled"):
        lines += ["", _("<b>Report by language</b>")]
        for lang, outcomes in progress.by_language.items():
            lines.append(
                _("{language}: sent {sent}, unreachable {unreachable}, failed {failed}, not sent {cancelled}").format(
                    language=native_name(lang) if lang in SUPPORTED_LOCALES else lang,
                    sent=n(outcomes.get("sent", 0)),
                    unreachable=n(outcomes.get("unreachable", 0)),
                    failed=n(outcomes.get("failed", 0)),
                    cancelled=n(outcomes.get("cancelled", 0) + outcomes.get("pending", 0)),
                )
            )
        excluded = progress.excluded
        lines += [
            "",
            *excluded_lines(excluded.get("opted_out", 0), excluded.get("unreachable", 0), excluded.get("skipped", 0)),
        ]
    return "\n".join(lines)


def progress_keyboard(broadcast: BroadcastDTO) -> InlineKeyboardMarkup | None:
    kb = InlineKeyboardBuilder()
    if broadcast.status in ("scheduled", "running"):
        kb.button(text=_("Pause"), callback_data=BcRunCb(action="pause", id=broadcast.id))
    elif broadcast.status == "paused":
        kb.button(text=_("Resume"), callback_data=BcRunCb(action="resume", id=broadcast.id))
    else:
        return None
    kb.button(text=_("Cancel broadcast"), callback_data=BcRunCb(action="cancel", id=broadcast.id))
    return kb.as_markup()


@dataclass
class BroadcastProgress:
    """Edits each running broadcast's progress message at most every PROGRESS_EVERY_SECONDS; turns it into the
    report when the broadcast is over. Runs as a fixed-id scheduler job; tests call `tick()` themselves."""

    bot: Bot
    sessions: async_sessionmaker[AsyncSession]
    i18n: I18n
    settings: Settings
    every: float = PROGRESS_EVERY_SECONDS

    async def tick(self, now: datetime | None = None) -> int:
        """Update what is due; returns how many progress messages were edited."""
        now = now or utcnow()
        edited = 0
        async with self.sessions() as session, session.begin():
            ids = [b.id for b in await broadcasts.active(session)]
        for broadcast_id in ids:
            async with self.sessions() as session, session.begin():
                before = await broadcasts.get(session, broadcast_id)
                draft = await broadcasts.advance(session, broadcast_id, now)
                progress = await broadcasts.progress(session, broadcast_id)
                author = await staff_service.get(session, draft.author_staff_id) if draft.author_staff_id else None
                finished = draft.status != before.status and draft.status == "done"
                recent = draft.progress_updated_at is not None and now - draft.progress_updated_at < timedelta(
                    seconds=self.every
                )
                if draft.progress_chat_id is None or draft.progress_message_id is None or (recent and not finished):
                    continue
                languages = list(author.languages) if author is not None else []
                locale = next((c for c in languages if c in self.i18n.available_locales), OFFICE_LOCALE)
                with self.i18n.context(), self.i18n.use_locale(locale):
                    text = progress_text(draft, progress, self.settings.delivery_rate, self.settings.tz)
                    markup = progress_keyboard(draft)
                try:
                    await self.bot.edit_message_text(
                        text=text,
                        chat_id=draft.progress_chat_id,
                        message_id=draft.progress_message_id,
                        reply_markup=markup,
                    )
                    edited += 1
                except TelegramBadRequest as exc:  # "message is not modified" and the like
                    log.debug("broadcast %s: progress not edited (%s)", broadcast_id, exc.message)
                except TelegramAPIError as exc:
                    log.warning("broadcast %s: progress edit failed (%s)", broadcast_id, type(exc).__name__)
                await broadcasts.touch_progress(session, broadcast_id, now)
        return edited


def register_progress_job(scheduler: AsyncIOScheduler, progress: BroadcastProgress) -> None:
    scheduler.add_job(
        progress.tick,
        "interval",
        seconds=progress.every,
        id=PROGRESS_JOB_ID,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
    )

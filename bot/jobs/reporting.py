"""The programme report's work off the update path: building a report an admin asked for (with a progress
message when it takes more than a few seconds), the monthly report to every admin, the roll-up of counted events
and the monthly snapshot of active cases. Scheduler jobs run under the leader lock (bot/jobs/leader.py); the
monthly message is recorded per admin and month, so a restart or a second worker never sends it twice.

The figures are read in the event loop; the drawing (matplotlib) and the workbook (openpyxl) are CPU work and run
in a worker thread, so the bot keeps answering while a report is built.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import Settings
from bot.core.county import County
from bot.db.base import utcnow
from bot.jobs.leader import run_exclusively
from bot.services import documents, staff
from bot.services.reporting import hooks, periods, rollup
from bot.services.reporting.events import REPORT_ZONE
from bot.services.reporting.labels import period_name
from bot.services.reporting.periods import Period
from bot.services.reporting.texts import Texts, load
from bot.telegram.callbacks import ReportCb

if TYPE_CHECKING:
    from bot.services.reporting.build import Report

log = logging.getLogger("kimbot.reporting")

ROLLUP_JOB_ID = "report-rollup"
MONTHLY_JOB_ID = "report-monthly"
ROLLUP_EVERY_SECONDS = 300
MONTHLY_AT = (6, 30)  # every day at 06:30: on the 1st it sends the month before; later days catch up a missed 1st
PROGRESS_AFTER_SECONDS = 3.0
# Document reminders are counted from the outbox a little after they went out (the sender commits right away).
REMINDER_LAG = timedelta(minutes=1)
REMINDER_WATERMARK = "watermark:reminders"


def period_keyboard(today: date, t: Texts) -> InlineKeyboardMarkup:
    this_month = periods.month_key(today.year, today.month)
    choices = [
        (t.t("Last month"), periods.previous_month(today)),
        (t.t("This month so far"), Period(this_month, this_month, "month")),
        (t.t("Last quarter"), periods.previous_quarter(today)),
        (t.t("This year so far"), Period(periods.month_key(today.year, 1), this_month, "year")),
        (t.t("Last year"), periods.year(today.year - 1)),
    ]
    kb = InlineKeyboardBuilder()
    for label, period in choices:
        kb.button(
            text=label, callback_data=ReportCb(action="make", first=period.first, last=period.last, kind=period.kind)
        )
    kb.adjust(2)
    return kb.as_markup()


def csv_keyboard(period: Period, t: Texts) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=t.t("CSV files"),
        callback_data=ReportCb(action="csv", first=period.first, last=period.last, kind=period.kind),
    )
    return kb.as_markup()


def today_in_zone(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(REPORT_ZONE).date()


@dataclass
class ReportJobs:
    """Built once by the composition root; handlers reach it as `report_jobs`, the scheduler through
    `register_reporting_jobs`."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    county: County
    progress_after: float = PROGRESS_AFTER_SECONDS
    _tasks: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    # One monthly run at a time in this process too (on SQLite the leader lock does not lock).
    _monthly: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def texts(self) -> Texts:
        return load(self.settings.data_dir / "locales")

    async def build(self, period: Period, *, with_charts: bool = True, now: datetime | None = None) -> Report:
        # matplotlib and openpyxl (about 40 MB and a second of start-up) are loaded with the first report only.
        from bot.services.reporting import build

        async with self.sessions() as session:
            found = await build.gather(session, period)
        return await asyncio.to_thread(
            build.render, found, self.county, self.texts, today_in_zone(now), with_charts=with_charts
        )

    # ------------------------------------------------------------------ on request

    def busy(self, chat_id: int) -> bool:
        task = self._tasks.get(chat_id)
        return task is not None and not task.done()

    def start(self, bot: Bot, chat_id: int, period: Period, *, csv: bool = False) -> None:
        """Build and send the report in a task of its own (the update is answered meanwhile)."""
        task = asyncio.create_task(self._deliver(bot, chat_id, period, csv))
        self._tasks[chat_id] = task
        task.add_done_callback(
            lambda done: self._tasks.pop(chat_id, None) if self._tasks.get(chat_id) is done else None
        )

    async def wait(self) -> None:
        """Until every report being built is sent (tests; shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def _deliver(self, bot: Bot, chat_id: int, period: Period, csv: bool) -> None:
        t = self.texts
        job = asyncio.ensure_future(self.build(period, with_charts=not csv))
        progress = None
        try:
            done, _ = await asyncio.wait({job}, timeout=self.progress_after)
            if not done:
                text = t.t("Building the report for {period} … this takes a moment.")
                progress = await bot.send_message(chat_id, text.format(period=period_name(period, t)))
            report = await job
            if csv:
                await send_csv(bot, chat_id, report, t)
            else:
                await send_report(bot, chat_id, report, t)
            if progress is not None:
                await bot.delete_message(chat_id, progress.message_id)
        except TelegramAPIError as exc:
            log.warning("report: sending failed (%s)", type(exc).__name__)
        except Exception:
            log.exception("report: building failed")
            await bot.send_message(chat_id, t.t("The report could not be built. Please try again later."))

    # ------------------------------------------------------------------ scheduled

    async def roll_up(self, now: datetime | None = None) -> int:
        """Move counted events into their cells, and count the document reminders sent since the last run."""
        until = (now or utcnow()) - REMINDER_LAG
        async with self.sessions() as session, session.begin():
            since = await rollup.watermark(session, REMINDER_WATERMARK, until)
            sent = await documents.reminders_sent(session, since, until) if since < until else []
            await hooks.document_reminders_sent(session, sent)
            moved = await rollup.roll_up(session)
        return moved

    async def monthly(self, bot: Bot, now: datetime | None = None) -> int:
        """The month before `now`: its active cases counted, and the report sent to every admin who has not had it
        yet. Returns how many admins got it."""
        async with self._monthly:
            return await self._monthly_report(bot, now)

    async def _monthly_report(self, bot: Bot, now: datetime | None) -> int:
        period = periods.previous_month(today_in_zone(now))
        async with self.sessions() as session, session.begin():
            await rollup.snapshot_active_cases(session, period.first)
            admins = [await staff.find_active(session, m.telegram_id) for m in self.county.staff if m.role == "admin"]
            waiting = [
                a for a in admins if a is not None and not await rollup.done(session, _monthly_key(period, a.id))
            ]
        if not waiting:
            return 0
        report = await self.build(period, now=now)
        sent = 0
        for admin in waiting:
            try:
                await bot.send_message(admin.telegram_id, self.texts.t("Your monthly programme report."))
                await send_report(bot, admin.telegram_id, report, self.texts)
            except TelegramAPIError as exc:
                log.warning("monthly report: not sent to an admin (%s); the next run tries again", type(exc).__name__)
                continue
            async with self.sessions() as session, session.begin():
                await rollup.claim(session, _monthly_key(period, admin.id))
            sent += 1
        log.info("monthly report for %s sent to %d admin(s)", period.key, sent)
        return sent


def _monthly_key(period: Period, staff_id: int) -> str:
    return f"monthly:{period.first}:{staff_id}"


async def send_report(bot: Bot, chat_id: int, report: Report, t: Texts) -> None:
    await bot.send_message(chat_id, report.summary)
    for name, image in report.charts:
        await bot.send_photo(chat_id, BufferedInputFile(image, f"{report.stem}-{name}.png"))
    await bot.send_document(
        chat_id,
        BufferedInputFile(report.workbook, f"{report.stem}.xlsx"),
        caption=t.t("Workbook with every figure and its definition."),
        reply_markup=csv_keyboard(report.period, t),
    )


async def send_csv(bot: Bot, chat_id: int, report: Report, t: Texts) -> None:
    await bot.send_document(
        chat_id,
        BufferedInputFile(report.csv_zip(), f"{report.stem}-csv.zip"),
        caption=t.t("One CSV file per sheet (semicolons, decimal commas)."),
    )


def register_reporting_jobs(scheduler: AsyncIOScheduler, jobs: ReportJobs, bot: Bot) -> None:
    """The roll-up every few minutes and the monthly report each morning, each in one worker at a time."""

    async def roll_up() -> None:
        await run_exclusively(jobs.sessions, ROLLUP_JOB_ID, jobs.roll_up)

    async def monthly() -> None:
        await run_exclusively(jobs.sessions, MONTHLY_JOB_ID, lambda: jobs.monthly(bot))

    scheduler.add_job(
        roll_up, "interval", seconds=ROLLUP_EVERY_SECONDS, id=ROLLUP_JOB_ID, replace_existing=True, coalesce=True
    )
    hour, minute = MONTHLY_AT
    scheduler.add_job(monthly, "cron", hour=hour, minute=minute, id=MONTHLY_JOB_ID, replace_existing=True)

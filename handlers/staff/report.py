"""/report: the programme report for admins, in a private chat. The admin picks a period with a button (or types
one: `/report 2026-03`, `/report 2026-Q1`, `/report 2026`, `/report 2025-11 2026-02`); the report is built off the
update path (bot/jobs/reporting.py) and arrives as a summary, charts and a workbook; "CSV files" sends the sheets
as CSV. The texts are German by specification (the `reporting` gettext domain); the role is checked on every
command and button from the staff table.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.jobs.reporting import ReportJobs, period_keyboard, today_in_zone
from bot.services.dto import StaffDTO
from bot.services.reporting import periods
from bot.services.reporting.labels import period_name
from bot.services.reporting.periods import Period
from bot.telegram.callbacks import ReportCb
from handlers.filters import from_private_chat, in_private_chat


async def ask_period(
    message: Message, command: CommandObject, staff: StaffDTO | None, report_jobs: ReportJobs, bot: Bot
) -> None:
    t = report_jobs.texts
    if staff is None or not staff.is_admin:
        await message.answer(t.t("Only administrators can see the programme report."))
        return
    if command.args:
        period = periods.parse(command.args)
        if period is None:
            await message.answer(
                t.t("Unknown period. Examples: /report 2026-03, /report 2026-Q1, /report 2026, /report 2025-11 2026-02")
            )
            return
        await _start(message, report_jobs, bot, period, csv=False)
        return
    await message.answer(
        t.t("Which period? For a range of months type e.g. /report 2025-11 2026-02."),
        reply_markup=period_keyboard(today_in_zone(), t),
    )


async def pick_period(
    callback: CallbackQuery, callback_data: ReportCb, staff: StaffDTO | None, report_jobs: ReportJobs, bot: Bot
) -> None:
    t = report_jobs.texts
    if staff is None or not staff.is_admin or not isinstance(callback.message, Message):
        await callback.answer(t.t("Only administrators can see the programme report."), show_alert=True)
        return
    try:
        period = Period(callback_data.first, callback_data.last, callback_data.kind)
    except ValueError:
        await callback.answer()
        return
    await callback.answer()
    await _start(callback.message, report_jobs, bot, period, csv=callback_data.action == "csv")


async def _start(message: Message, report_jobs: ReportJobs, bot: Bot, period: Period, *, csv: bool) -> None:
    t = report_jobs.texts
    if report_jobs.busy(message.chat.id):
        await message.answer(t.t("A report is being built already; it comes in a moment."))
        return
    if not csv:
        await message.answer(t.t("The report for {period} is on its way.").format(period=period_name(period, t)))
    report_jobs.start(bot, message.chat.id, period, csv=csv)


def build_router() -> Router:
    """Mounted in the staff area (staff only) by handlers.staff.commands."""
    router = Router(name="staff_report")
    router.message.register(ask_period, Command("report"), in_private_chat)
    router.callback_query.register(pick_period, ReportCb.filter(F.action.in_({"make", "csv"})), from_private_chat)
    return router

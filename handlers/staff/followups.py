"""Follow-ups: `/followup 3d call about the Fiktionsbescheinigung` in a client's topic makes a task for the staff
member who wrote it; when it falls due they – or their deputy while they are away – get a message with Done /
+1 day / +1 week (queued by `bot/jobs/followups.py`); `/agenda` lists the tasks due today and tomorrow.

Staff only. A tap on a due message is checked again in the database: only the task's owner, whoever stands in for
them, or an admin may act on it (`bot.services.followups.act`).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.services import followup_due, followups, office_hours
from bot.services.dto import ClientDTO, StaffDTO
from bot.telegram.callbacks import FollowupCb
from handlers.handoff.filters import in_client_topic, in_staff_group
from handlers.staff import casework_views as views
from handlers.staff.commands import IsStaff


async def add_followup(
    message: Message,
    command: CommandObject,
    topic_client: ClientDTO,
    session: AsyncSession,
    staff: StaffDTO,
    county: County,
    settings: Settings,
) -> None:
    now, tz = office_hours.now(), settings.tz
    request = followup_due.parse_request(command.args or "", now.astimezone(tz).date())
    if request is None:
        await message.reply(views.followup_usage())
        return
    calendar = await followups.calendar_for(session, county, tz, owner_id=staff.id, client_id=topic_client.id)
    task = await followups.create(
        session,
        client_id=topic_client.id,
        owner_id=staff.id,
        text=request.text,
        due_at=followup_due.place(request, now, calendar),
    )
    await message.reply(views.followup_created(task, get_i18n().current_locale, tz))


async def act_on_followup(
    callback: CallbackQuery,
    callback_data: FollowupCb,
    session: AsyncSession,
    staff: StaffDTO,
    county: County,
    settings: Settings,
) -> None:
    try:
        task = await followups.act(
            session,
            callback_data.id,
            staff,
            callback_data.action,
            now=office_hours.now(),
            county=county,
            tz=settings.tz,
        )
    except followups.FollowupNotFound:
        await callback.answer(_("This follow-up is done already or no longer exists."), show_alert=True)
        return
    except followups.NotAllowed:
        await callback.answer(
            _("Only the staff member whose task this is, their deputy or an admin can do this."), show_alert=True
        )
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(
            views.followup_result(task, staff.display_name, get_i18n().current_locale, settings.tz)
        )


async def show_due(message: Message, session: AsyncSession, settings: Settings, staff: StaffDTO) -> None:
    """For /agenda: the staff member's follow-ups due by the end of tomorrow (overdue ones too), theirs and those
    of colleagues they stand in for."""
    tz = settings.tz
    today = office_hours.now().astimezone(tz).date()
    until = datetime.combine(today + timedelta(days=2), time(0), tzinfo=tz)
    items = await followups.routed_to(session, staff.id, until, today)
    if items:
        await message.answer(views.agenda_followups(items, get_i18n().current_locale, tz))


def build_router() -> Router:
    router = Router(name="staff_followups")
    router.message.filter(IsStaff())
    router.callback_query.filter(IsStaff())
    router.message.register(add_followup, Command("followup"), in_staff_group, in_client_topic)
    router.callback_query.register(act_on_followup, FollowupCb.filter())
    return router

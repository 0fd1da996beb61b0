"""`/status` in a client's topic: staff record the client's residence status and its changes with buttons (the
status; for an Aufenthaltserlaubnis then the paragraph), effective today or on the date typed after the command
(`/status 15.01.2027`). The history is in `/case` and in the client's data export; the client is told nothing.

Staff only, in the staff group. A tap is checked again against the topic it was tapped in, and the codes by
`bot.services.residence_status`.
"""

from __future__ import annotations

from datetime import date, datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.services import office_hours, residence_status
from bot.services.documents import parse_date
from bot.services.dto import ClientDTO, StaffDTO
from bot.services.residence_status import AUFENTHALTSERLAUBNIS, InvalidStatus
from bot.telegram.callbacks import StatusCb
from handlers.handoff.filters import in_client_topic, in_staff_group
from handlers.staff import casework_views as views
from handlers.staff.case import topic_client_of
from handlers.staff.commands import IsStaff


def _today(settings: Settings) -> date:
    return office_hours.now().astimezone(settings.tz).date()


async def ask_status(
    message: Message, command: CommandObject, topic_client: ClientDTO, session: AsyncSession, settings: Settings
) -> None:
    day = parse_date(command.args) if command.args else None
    if command.args and (day is None or day > _today(settings)):
        await message.reply(views.status_refused())
        return
    current = await residence_status.current(session, topic_client.id)
    await message.reply(
        views.status_question(topic_client.reference, current, day, get_i18n().current_locale),
        reply_markup=views.status_keyboard(topic_client.id, day),
    )


async def choose_status(
    callback: CallbackQuery, callback_data: StatusCb, session: AsyncSession, staff: StaffDTO, settings: Settings
) -> None:
    client = await topic_client_of(callback, callback_data.client, session)
    if client is None or not isinstance(callback.message, Message):
        return
    try:
        day = datetime.strptime(callback_data.day, "%Y%m%d").date() if callback_data.day else None
    except ValueError:  # forged: a day that does not exist
        await callback.answer(views.status_refused(), show_alert=True)
        return
    if callback_data.code == AUFENTHALTSERLAUBNIS and not callback_data.para:
        await callback.answer()
        await callback.message.edit_text(
            views.paragraph_question(client.reference), reply_markup=views.paragraph_keyboard(client.id, day)
        )
        return
    try:
        before, after = await residence_status.record_change(
            session,
            client,
            status=callback_data.code,
            paragraph=callback_data.para or None,
            since=day or _today(settings),
            staff_id=staff.id,
            tz=settings.tz,
            today=_today(settings),
        )
    except InvalidStatus:
        await callback.answer(views.status_refused(), show_alert=True)
        return
    await callback.answer()
    await callback.message.edit_text(views.status_recorded(client.reference, before, after, get_i18n().current_locale))


def build_router() -> Router:
    router = Router(name="staff_status")
    router.message.filter(IsStaff())
    router.callback_query.filter(IsStaff())
    router.message.register(ask_status, Command("status"), in_staff_group, in_client_topic)
    router.callback_query.register(choose_status, StatusCb.filter(), in_staff_group)
    return router

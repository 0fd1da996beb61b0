"""Buttons on appointment reminders: "I will come" and "Cancel / reschedule".

The appointment id in the callback data is never trusted: confirming goes through the appointments service,
which selects the appointment together with the caller's client id.
"""

from __future__ import annotations

import contextlib

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import booking
from bot.services.dto import ClientDTO
from bot.telegram.callbacks import ReminderCb
from handlers.booking import views


async def confirm_attendance(
    callback: CallbackQuery, callback_data: ReminderCb, session: AsyncSession, client: ClientDTO | None
) -> None:
    if client is None:
        await callback.answer(_("This button is no longer active. Please use /menu."), show_alert=True)
        return
    try:
        await booking.confirm_attendance(session, client_id=client.id, appointment_id=callback_data.appointment_id)
    except LookupError:
        await callback.answer(_("This appointment is no longer active. Please use /menu."), show_alert=True)
        return
    await callback.answer(_("Thank you! We look forward to seeing you."))
    if isinstance(callback.message, Message):
        keyboard = views.after_attendance_keyboard(callback_data.appointment_id)
        with contextlib.suppress(TelegramBadRequest):  # the reminder keeps only the button that still makes sense
            await callback.message.edit_reply_markup(reply_markup=keyboard)


async def offer_change(callback: CallbackQuery, client: ClientDTO | None) -> None:
    """Cancelling and moving live in "My appointments", where the appointment is shown with its options."""
    await callback.answer()
    if client is None or not isinstance(callback.message, Message):
        return
    await callback.message.answer(
        _("You can cancel or move the appointment in “My appointments”."),
        reply_markup=views.my_appointments_keyboard(),
    )


def register(private: Router) -> None:
    private.callback_query.register(confirm_attendance, ReminderCb.filter(F.action == "come"))
    private.callback_query.register(offer_change, ReminderCb.filter(F.action == "change"))

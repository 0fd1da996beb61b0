"""My appointments: the client's upcoming appointments with cancel and reschedule, and the answers to a waitlist
offer ("Yes, book it" / "No, thanks"). Diagram: docs/flows/booking.mmd.

Every button re-loads the appointment with the caller's client id (`owned_appointment`): a forged id finds nothing.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.db.base import utcnow
from bot.services import booking, remote_appointments
from bot.services.booking import AppointmentDTO, AppointmentNotFound
from bot.services.dto import ClientDTO, StaffDTO
from bot.telegram.callbacks import ApptCb, MenuCb
from handlers import keyboards
from handlers.booking import series, series_views, views
from handlers.booking.conversation import BOOKING, BookingConversation


async def list_appointments(message: Message, conversation: BookingConversation, client: ClientDTO | None) -> None:
    if client is None:
        return
    upcoming = await booking.upcoming(conversation.session, client.id)
    if not upcoming:
        await message.answer(_("You have no upcoming appointments."), reply_markup=keyboards.main_menu())
        return
    for appt in upcoming:
        await message.answer(
            views.appointment_text(
                conversation.county, appt, conversation.locale, conversation.settings.tz, conversation.texts
            ),
            reply_markup=views.appointment_keyboard(appt.id),
        )


async def list_appointments_from_menu(
    callback: CallbackQuery, conversation: BookingConversation, client: ClientDTO | None
) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await list_appointments(callback.message, conversation, client)


async def owned_appointment(
    callback: CallbackQuery, callback_data: ApptCb, conversation: BookingConversation, client: ClientDTO | None
) -> tuple[Message, AppointmentDTO] | None:
    """The caller's appointment with this id and the message to answer on; else None, the callback answered."""
    if client is None or not isinstance(callback.message, Message):
        await callback.answer()
        return None
    try:
        appt = await booking.get_for_client(conversation.session, client.id, callback_data.id)
    except AppointmentNotFound:
        await callback.answer(_("This appointment was not found."), show_alert=True)
        return None
    await callback.answer()
    return callback.message, appt


async def ask_cancel(
    callback: CallbackQuery, callback_data: ApptCb, conversation: BookingConversation, client: ClientDTO | None
) -> None:
    if (found := await owned_appointment(callback, callback_data, conversation, client)) is None:
        return
    message, appt = found
    in_series = await series.has_later_ones(conversation, appt.id)
    await message.answer(
        views.cancel_question(appt.starts_at, conversation.locale, conversation.settings.tz),
        reply_markup=series_views.cancel_keyboard(appt.id) if in_series else views.cancel_keyboard(appt.id),
    )


async def cancel_appointment(
    callback: CallbackQuery,
    callback_data: ApptCb,
    conversation: BookingConversation,
    client: ClientDTO | None,
    staff: StaffDTO | None = None,
) -> None:
    if (found := await owned_appointment(callback, callback_data, conversation, client)) is None:
        return
    message, appt = found
    county, settings = conversation.county, conversation.settings
    try:
        cancelled = await booking.cancel(
            conversation.session,
            county,
            client_id=appt.client_id,
            appointment_id=appt.id,
            hold_minutes=settings.waitlist_hold_minutes,
            by_staff_id=staff.id if staff is not None else None,  # a staff member acting for the client (/bookfor)
        )
    except AppointmentNotFound:
        await message.answer(_("This appointment was not found."))
        return
    await message.edit_reply_markup(reply_markup=None)
    await message.answer_document(
        views.calendar_file(county, cancelled, conversation.locale, utcnow(), cancelled=True, texts=conversation.texts),
        caption=views.cancelled_caption(appt.starts_at, conversation.locale, settings.tz),
        reply_markup=keyboards.main_menu(),
    )


async def keep_appointment(
    callback: CallbackQuery, callback_data: ApptCb, conversation: BookingConversation, client: ClientDTO | None
) -> None:
    if (found := await owned_appointment(callback, callback_data, conversation, client)) is None:
        return
    message, _appt = found
    await message.edit_text(_("Your appointment stays as it is."))


async def move_appointment(
    callback: CallbackQuery, callback_data: ApptCb, conversation: BookingConversation, client: ClientDTO | None
) -> None:
    if (found := await owned_appointment(callback, callback_data, conversation, client)) is None:
        return
    message, appt = found
    data = {"service": appt.service_key, "office": appt.office_key, "reschedule": appt.id}
    await conversation.state.set_data(data | await remote_appointments.draft_data(conversation.session, appt.id))
    await conversation.ask_day(message)


async def accept_offer(
    callback: CallbackQuery, callback_data: ApptCb, conversation: BookingConversation, client: ClientDTO | None
) -> None:
    if (found := await owned_appointment(callback, callback_data, conversation, client)) is None:
        return
    message, appt = found
    county = conversation.county
    try:
        booked = await booking.accept_offer(
            conversation.session, county, client_id=appt.client_id, appointment_id=appt.id
        )
    except AppointmentNotFound:
        await message.answer(_("This appointment was not found."))
        return
    await message.edit_reply_markup(reply_markup=None)
    await message.answer_document(
        views.calendar_file(county, booked, conversation.locale, utcnow(), texts=conversation.texts),
        caption=views.offer_booked_caption(booked.starts_at, conversation.locale, conversation.settings.tz),
        reply_markup=keyboards.main_menu(),
    )


async def decline_offer(
    callback: CallbackQuery, callback_data: ApptCb, conversation: BookingConversation, client: ClientDTO | None
) -> None:
    if (found := await owned_appointment(callback, callback_data, conversation, client)) is None:
        return
    message, appt = found
    try:
        await booking.decline_offer(
            conversation.session,
            conversation.county,
            client_id=appt.client_id,
            appointment_id=appt.id,
            hold_minutes=conversation.settings.waitlist_hold_minutes,
        )
    except AppointmentNotFound:
        await message.answer(_("This appointment was not found."))
        return
    await message.edit_text(_("All right, the appointment goes to the next person."))


def register(private: Router) -> None:
    flags = {BOOKING: True}
    cb = private.callback_query
    private.message.register(list_appointments, Command("appointments"), flags=flags)
    cb.register(list_appointments_from_menu, MenuCb.filter(F.action == "appointments"), flags=flags)
    cb.register(ask_cancel, ApptCb.filter(F.action == "cancel"), flags=flags)
    cb.register(cancel_appointment, ApptCb.filter(F.action == "cancel_yes"), flags=flags)
    cb.register(keep_appointment, ApptCb.filter(F.action == "keep"), flags=flags)
    cb.register(move_appointment, ApptCb.filter(F.action == "move"), flags=flags)
    cb.register(accept_offer, ApptCb.filter(F.action == "accept"), flags=flags)
    cb.register(decline_offer, ApptCb.filter(F.action == "decline"), flags=flags)

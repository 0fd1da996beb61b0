"""How an appointment takes place: at an office, by video or by phone (then: which number to call), and with an
interpreter when the client's language is not one the staff member speaks; the interpreter's calendar file; and
/interpreter K-ABC123, with which a case manager adds or changes the interpreter of a booked appointment.
Diagram: docs/flows/booking.mmd; the rules are in bot/services/interpreters.py and remote_appointments.py.
"""

from __future__ import annotations

import html
from dataclasses import replace

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County, Interpreter
from bot.core.county_text import CountyTexts
from bot.core.i18n import fmt_datetime
from bot.db.base import utcnow
from bot.services import booking, clients, interpreters, remote_appointments
from bot.services.booking import AppointmentDTO
from bot.services.dto import StaffDTO
from bot.services.interpreters import InterpreterBookingDTO, InterpreterTaken, NotManageable
from bot.telegram.callbacks import InterpreterCb, InterpreterIcsCb, ModeCb, WithInterpreterCb
from handlers.booking import views
from handlers.booking.conversation import BOOKING, BookingConversation
from handlers.filters import from_private_chat, has_text, in_private_chat
from handlers.staff.commands import IsStaff


class RemoteBooking(StatesGroup):
    phone = State()


# ---------------------------------------------------------------- the client's (or /bookfor's) choices


async def choose_interpreter(
    callback: CallbackQuery, callback_data: WithInterpreterCb, conversation: BookingConversation
) -> None:
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    await conversation.state.update_data(interp=1 if callback_data.want else 0)
    await callback.message.edit_text(_("With an interpreter.") if callback_data.want else _("Without an interpreter."))
    await conversation.ask_day(callback.message)


async def choose_mode(callback: CallbackQuery, callback_data: ModeCb, conversation: BookingConversation) -> None:
    service = conversation.county.service((await conversation.draft()).service_key)
    video = remote_appointments.video_service(conversation.settings)
    if service is None or callback_data.mode not in remote_appointments.modes_offered(service, video):
        await callback.answer(_("This button is no longer active. Please use /menu."), show_alert=True)
        return
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    await conversation.state.update_data(mode=callback_data.mode, office=None, phone=None)
    phone = callback_data.mode == remote_appointments.PHONE
    await callback.message.edit_text(_("By phone.") if phone else _("By video."))
    if phone:
        await conversation.state.set_state(RemoteBooking.phone)
        await callback.message.answer(_("Which phone number should we call you on?"))
        return
    await conversation.ask_day(callback.message)


async def receive_phone(message: Message, conversation: BookingConversation) -> None:
    phone = remote_appointments.clean_phone(message.text or "")
    if phone is None:
        await message.answer(_("Please write the phone number with its digits, for example 0151 23456789."))
        return
    await conversation.state.update_data(phone=phone)
    await conversation.ask_day(message)


# ---------------------------------------------------------------- the interpreter's calendar file


async def send_calendar(
    callback: CallbackQuery,
    callback_data: InterpreterIcsCb,
    session: AsyncSession,
    county: County,
    county_texts: CountyTexts,
) -> None:
    """Only the interpreter of that booking (by Telegram id) gets it; the client's number is left out."""
    taken = await interpreters.get(session, callback_data.booking)
    note = await booking.staff_note(session, taken.appointment_id) if taken is not None else None
    if taken is None or note is None or taken.telegram_id != callback.from_user.id:
        await callback.answer(_("This button is no longer active. Please use /menu."), show_alert=True)
        return
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    details = await remote_appointments.details(session, note.appointment.id)
    cancelled = not taken.active or note.appointment.status == "cancelled"
    await callback.message.answer_document(
        views.calendar_file(
            county,
            note.appointment,
            get_i18n().current_locale,
            utcnow(),
            cancelled=cancelled,
            texts=county_texts,
            details=replace(details, phone=None) if details is not None else None,
        )
    )


# ---------------------------------------------------------------- /interpreter for case managers


def card_text(
    appt: AppointmentDTO, current: Interpreter | None, county: County, locale: str, settings: Settings
) -> str:
    service = county.service(appt.service_key)
    name = html.escape(service.name if service else appt.service_key)
    who = html.escape(current.display_name) if current else _("none")
    when = fmt_datetime(appt.starts_at, locale, settings.tz)
    return f"<b>{name}</b>\n{when}\n" + _("Interpreter: {name}").format(name=who)


def card_keyboard(appointment_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Add or change interpreter"), callback_data=InterpreterCb(action="pick", id=appointment_id))
    return kb.as_markup()


def choices_keyboard(appointment_id: int, free: list[Interpreter]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for person in free:
        label = f"{person.display_name} ({', '.join(person.languages)})"
        kb.button(text=label, callback_data=InterpreterCb(action="set", id=appointment_id, key=person.key))
    kb.button(text=_("No interpreter"), callback_data=InterpreterCb(action="set", id=appointment_id, key=""))
    kb.adjust(1)
    return kb.as_markup()


def _named(county: County, taken: InterpreterBookingDTO | None) -> Interpreter | None:
    return county.interpreter(taken.interpreter_key) if taken is not None else None


async def list_appointments(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    county: County,
    settings: Settings,
    staff: StaffDTO,
) -> None:
    reference = (command.args or "").strip().upper()
    target = await clients.find_by_reference(session, reference) if reference else None
    if target is None:
        await message.answer(_("No client with this reference. Usage: /interpreter K-ABC123"))
        return
    upcoming = await booking.upcoming(session, target.id)
    if not upcoming:
        await message.answer(_("{reference} has no upcoming appointments.").format(reference=html.escape(reference)))
        return
    locale = get_i18n().current_locale
    for appt in upcoming:
        current = _named(county, await interpreters.active_for(session, appt.id))
        await message.answer(card_text(appt, current, county, locale, settings), reply_markup=card_keyboard(appt.id))


async def offer_interpreters(
    callback: CallbackQuery,
    callback_data: InterpreterCb,
    session: AsyncSession,
    county: County,
    settings: Settings,
    staff: StaffDTO,
) -> None:
    try:
        _current, free = await interpreters.options_for(
            session, county, settings.tz, callback_data.id, staff_id=staff.id, admin=staff.role == "admin"
        )
    except NotManageable:
        await callback.answer(_("This appointment was not found."), show_alert=True)
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        text = _("Free then:") if free else _("No interpreter is free then.")
        await callback.message.answer(text, reply_markup=choices_keyboard(callback_data.id, free))


async def set_interpreter(
    callback: CallbackQuery,
    callback_data: InterpreterCb,
    session: AsyncSession,
    county: County,
    settings: Settings,
    staff: StaffDTO,
) -> None:
    try:
        taken = await interpreters.change_for(
            session,
            county,
            settings.tz,
            callback_data.id,
            callback_data.key or None,
            staff_id=staff.id,
            admin=staff.role == "admin",
        )
    except NotManageable:
        await callback.answer(_("This appointment was not found."), show_alert=True)
        return
    except InterpreterTaken:
        await callback.answer(_("This interpreter is not free then any more."), show_alert=True)
        return
    await callback.answer()
    person = _named(county, taken)
    if isinstance(callback.message, Message):
        text = _("Interpreter: {name}").format(name=html.escape(person.display_name) if person else _("none"))
        await callback.message.edit_text(text)


# ---------------------------------------------------------------- registration


def register(private: Router) -> None:
    """The client's steps, on the private area (with the booking conversation); the calendar button for
    interpreters, who need no client record."""
    flags = {BOOKING: True}
    cb = private.callback_query
    cb.register(choose_interpreter, WithInterpreterCb.filter(), flags=flags)
    cb.register(choose_mode, ModeCb.filter(), flags=flags)
    private.message.register(receive_phone, StateFilter(RemoteBooking.phone), has_text, flags=flags)
    cb.register(send_calendar, InterpreterIcsCb.filter(), from_private_chat)


def build_staff_router() -> Router:
    router = Router(name="booking_interpreter_staff")
    router.message.filter(IsStaff())
    router.callback_query.filter(IsStaff())
    router.message.register(list_appointments, Command("interpreter"), in_private_chat)
    router.callback_query.register(offer_interpreters, InterpreterCb.filter(F.action == "pick"))
    router.callback_query.register(set_interpreter, InterpreterCb.filter(F.action == "set"))
    return router

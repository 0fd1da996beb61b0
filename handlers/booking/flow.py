"""Booking: Book → service → place (office, or the address for a home visit) → day → time → summary → confirm, or
the waitlist when no day suits. Diagram: docs/flows/booking.mmd.

Callback data carries ids and times only as hints: every step re-reads the slot from the database with the
caller's client id. The steps shared with "My appointments" (which day, which time) are in `conversation.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.core.county import County
from bot.core.county_text import CountyTexts
from bot.db.base import utcnow
from bot.services import availability, booking, interpreters, remote_appointments
from bot.services.booking import AppointmentDTO, AppointmentNotFound, SlotTaken
from bot.services.dto import ClientDTO, StaffDTO
from bot.services.speech import Speaker
from bot.telegram.callbacks import ConfirmCb, DayCb, MenuCb, OfficeCb, ServiceCb, SlotCb, WaitCb
from handlers import keyboards
from handlers.booking import views
from handlers.booking.conversation import BOOKING, Booking, BookingConversation
from handlers.filters import has_text


async def start_booking(
    message: Message, state: FSMContext, county: County, county_texts: CountyTexts, client: ClientDTO | None
) -> None:
    if client is None:
        return
    await state.set_state(Booking.service)
    locale, services = get_i18n().current_locale, county.services
    await message.answer(
        views.services_text(services, locale, county_texts),
        reply_markup=views.services_keyboard(services, locale, county_texts),
    )


async def start_booking_from_menu(
    callback: CallbackQuery, state: FSMContext, county: County, county_texts: CountyTexts, client: ClientDTO | None
) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await state.update_data(reschedule=None, office=None, address=None)
        await start_booking(callback.message, state, county, county_texts, client)


async def choose_service(callback: CallbackQuery, callback_data: ServiceCb, conversation: BookingConversation) -> None:
    service = conversation.county.service(callback_data.key)
    if service is None or not isinstance(callback.message, Message):
        await callback.answer(_("This button is no longer active. Please use /menu."), show_alert=True)
        return
    await callback.answer()
    await conversation.state.update_data(service=service.key, office=None, mode=None, phone=None, interp=None)
    await callback.message.edit_text(
        _("Appointment: {service}").format(service=views.service_name(service, conversation.locale, conversation.texts))
    )
    if service.home_visit:
        await ask_address(callback.message, conversation)
        return
    offices = await availability.offices_for(conversation.session, conversation.county, service)
    modes = remote_appointments.modes_offered(service, remote_appointments.video_service(conversation.settings))
    if len(offices) > 1 or set(modes) - {"in_person"}:
        await conversation.state.set_state(Booking.office)
        offices = offices if "in_person" in modes else []
        keyboard = views.offices_keyboard(conversation.county, offices, modes)
        await callback.message.answer(_("Where would you like to come?"), reply_markup=keyboard)
        return
    await conversation.ask_day(callback.message)


async def ask_address(message: Message, conversation: BookingConversation) -> None:
    if not conversation.client.municipality:
        await message.answer(_("Please tell me your municipality first: /start"))
        return
    await conversation.state.set_state(Booking.address)
    await message.answer(
        _(
            "Where should we visit you? Please write your address (street, house number, town). "
            "It is kept only until the visit and is not shared in any group chat."
        )
    )


async def choose_office(callback: CallbackQuery, callback_data: OfficeCb, conversation: BookingConversation) -> None:
    office = conversation.county.office(callback_data.key)
    if office is None or not isinstance(callback.message, Message):
        await callback.answer(_("This button is no longer active. Please use /menu."), show_alert=True)
        return
    await callback.answer()
    await conversation.state.update_data(office=office.key, mode=None, phone=None)
    where = views.place(conversation.county, office.key, conversation.locale, conversation.texts)
    await callback.message.edit_text(_("Place: {place}").format(place=where))
    await conversation.ask_day(callback.message)


async def receive_address(message: Message, conversation: BookingConversation) -> None:
    address = (message.text or "").strip()
    if not 5 <= len(address) <= 200:
        await message.answer(_("Please write the address as text: street, house number and town."))
        return
    await conversation.state.update_data(address=address)
    await conversation.ask_day(message)


async def show_other_day(callback: CallbackQuery, conversation: BookingConversation) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await conversation.ask_day(callback.message)


async def show_later_days(callback: CallbackQuery, callback_data: DayCb, conversation: BookingConversation) -> None:
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    try:
        after = datetime.strptime(callback_data.after, "%Y%m%d").date()
    except ValueError:
        await callback.message.answer(_("This button is no longer active. Please use /menu."))
        return
    await conversation.ask_day(callback.message, after=after)


async def choose_day(callback: CallbackQuery, callback_data: DayCb, conversation: BookingConversation) -> None:
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    try:
        day = datetime.strptime(callback_data.day, "%Y%m%d").date()
    except ValueError:
        await callback.message.answer(_("This button is no longer active. Please use /menu."))
        return
    await conversation.ask_time(callback.message, day)


async def choose_time(
    callback: CallbackQuery, callback_data: SlotCb, conversation: BookingConversation, speaker: Speaker | None = None
) -> None:
    if not isinstance(callback.message, Message):
        return
    starts_at = datetime.fromtimestamp(callback_data.ts, UTC)
    query, slot = await conversation.find_slot(callback_data.staff, starts_at)
    await callback.answer()
    if query is None or slot is None:
        intro = _("Sorry, this time was just taken.")
        await conversation.ask_time(callback.message, conversation.local_day(starts_at), intro=intro)
        return
    await conversation.state.update_data(staff=slot.staff_id, ts=callback_data.ts)
    await conversation.state.set_state(Booking.summary)
    draft, need = await conversation.draft(), interpreters.need_of(query)
    await callback.message.answer(
        views.summary_text(
            conversation.county,
            query.service,
            slot,
            draft.address,
            conversation.locale,
            conversation.settings.tz,
            conversation.texts,
            views.home_visit_note(query, slot, conversation.settings.tz),
            views.remote_place(draft.mode, draft.phone, conversation.locale),
            need is not None and slot.staff_id not in need.speakers,
        ),
        reply_markup=views.summary_keyboard(
            read_aloud=speaker is not None and speaker.speaks(conversation.locale),
            repeat=draft.on_behalf is not None and draft.reschedule_id is None,
        ),
    )


async def confirm_booking(
    callback: CallbackQuery, conversation: BookingConversation, staff: StaffDTO | None = None
) -> None:
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    draft = await conversation.draft()
    booked_by = staff.id if staff is not None and draft.on_behalf else None
    query, slot = await conversation.find_slot(draft.staff_id, draft.starts_at)
    if query is None:
        await callback.message.answer(_("This button is no longer active. Please use /menu."))
        return
    try:
        if slot is None:
            raise SlotTaken
        appt = await conversation.take(draft, query, slot, booked_by)
    except SlotTaken:
        await callback.message.edit_reply_markup(reply_markup=None)
        intro = _("Sorry, this time was just taken by someone else. Here are the next free times:")
        await conversation.ask_time(callback.message, conversation.local_day(draft.starts_at), intro=intro)
        return
    except AppointmentNotFound:
        await conversation.state.clear()
        await callback.message.answer(_("This appointment was not found."), reply_markup=keyboards.main_menu())
        return
    await conversation.state.clear()
    await send_confirmation(callback.message, conversation, appt, moved=draft.reschedule_id is not None)


async def send_confirmation(
    message: Message, conversation: BookingConversation, appt: AppointmentDTO, moved: bool
) -> None:
    """The summary loses its buttons; the confirmation comes with the calendar file and the menu."""
    await message.edit_reply_markup(reply_markup=None)
    county, locale, details = conversation.county, conversation.locale, await conversation.details(appt.id)
    caption = views.booked_caption(appt.starts_at, moved, locale, conversation.settings.tz)
    await message.answer_document(
        views.calendar_file(county, appt, locale, utcnow(), texts=conversation.texts, details=details),
        caption="\n".join([caption, *views.remote_lines(details, locale)]),
        reply_markup=keyboards.main_menu(),
    )


async def choose_other_time(callback: CallbackQuery, conversation: BookingConversation) -> None:
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    draft = await conversation.draft()
    await conversation.ask_time(callback.message, conversation.local_day(draft.starts_at))


async def stop_booking(callback: CallbackQuery, conversation: BookingConversation) -> None:
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    await conversation.state.clear()
    await callback.message.edit_text(_("Nothing was booked."), reply_markup=keyboards.main_menu())


async def join_waitlist(callback: CallbackQuery, callback_data: WaitCb, conversation: BookingConversation) -> None:
    service = conversation.county.service(callback_data.key)
    if service is None or not isinstance(callback.message, Message):
        await callback.answer(_("This button is no longer active. Please use /menu."), show_alert=True)
        return
    await callback.answer()
    session, client_id = conversation.session, conversation.client.id
    before, replaces = None, (await conversation.draft()).reschedule_id
    if replaces is not None:
        try:
            before = (await booking.get_for_client(session, client_id, replaces)).starts_at
        except AppointmentNotFound:
            replaces = None
    await booking.join_waitlist(
        session, client_id=client_id, service_key=service.key, before=before, replaces_appointment_id=replaces
    )
    await conversation.state.clear()
    text = views.waitlist_text(service, conversation.locale, conversation.texts)
    await callback.message.answer(text, reply_markup=keyboards.main_menu())


def register(private: Router) -> None:
    flags = {BOOKING: True}
    cb = private.callback_query
    private.message.register(start_booking, Command("book"), flags=flags)
    cb.register(start_booking_from_menu, MenuCb.filter(F.action == "book"), flags=flags)
    cb.register(choose_service, ServiceCb.filter(), flags=flags)
    cb.register(choose_office, OfficeCb.filter(), flags=flags)
    private.message.register(receive_address, StateFilter(Booking.address), has_text, flags=flags)
    cb.register(show_other_day, DayCb.filter((F.day == "") & (F.after == "")), flags=flags)
    cb.register(show_later_days, DayCb.filter(F.day == ""), flags=flags)
    cb.register(choose_day, DayCb.filter(), flags=flags)
    cb.register(choose_time, SlotCb.filter(), flags=flags)
    summary = StateFilter(Booking.summary)
    cb.register(confirm_booking, summary, ConfirmCb.filter(F.action == "yes"), flags=flags)
    cb.register(choose_other_time, summary, ConfirmCb.filter(F.action == "other"), flags=flags)
    cb.register(stop_booking, summary, ConfirmCb.filter(F.action == "stop"), flags=flags)
    cb.register(join_waitlist, WaitCb.filter(), flags=flags)

"""Booking: Book → service → place (office, or the address for a home visit) → day → time → summary → confirm;
"My appointments" with cancel and reschedule; the waitlist and its offers. Diagram: docs/flows/booking.mmd.

Callback data carries ids and times only as hints: every step re-reads the slot or the appointment from the
database with the caller's client id.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.dispatcher.flags import get_flag
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County, Service
from bot.core.i18n import fmt_date, fmt_datetime, fmt_time
from bot.db.base import utcnow
from bot.services import availability, booking, clients
from bot.services.availability import SlotQuery
from bot.services.booking import AppointmentDTO, AppointmentNotFound, SlotTaken
from bot.services.dto import ClientDTO, StaffDTO
from bot.services.ics import build_ics
from bot.telegram.callbacks import ApptCb, ConfirmCb, DayCb, MenuCb, OfficeCb, ServiceCb, SlotCb, WaitCb
from bot.telegram.middlewares import Handler
from handlers import keyboards
from handlers.filters import has_text

DAYS_PER_PAGE = 5


class Booking(StatesGroup):
    service = State()
    office = State()
    address = State()
    day = State()
    time = State()
    summary = State()


def _locale() -> str:
    return get_i18n().current_locale


def _service_line(service: Service, locale: str) -> str:
    description = service.description_for(locale)
    name = html.escape(service.name_for(locale))
    return f"• <b>{name}</b> – {html.escape(description)}" if description else f"• <b>{name}</b>"


def _place(county: County, appointment_office: str | None) -> str:
    office = county.office(appointment_office) if appointment_office else None
    if office is None:
        return _("Home visit at your address")
    return f"{html.escape(office.name)}, {html.escape(office.address)}"


def _ics(county: County, settings: Settings, appt: AppointmentDTO, cancelled: bool = False) -> BufferedInputFile:
    service = county.service(appt.service_key)
    office = county.office(appt.office_key) if appt.office_key else None
    content = build_ics(
        appointment_id=appt.id,
        domain="kimbot." + county.name.lower().replace(" ", "-"),
        summary=service.name_for(_locale()) if service else appt.service_key,
        location=f"{office.name}, {office.address}" if office else "",
        description=service.documents_for(_locale()) if service else "",
        starts_at=appt.starts_at,
        ends_at=appt.ends_at,
        sequence=appt.sequence,
        cancelled=cancelled,
        stamp=utcnow(),
    )
    return BufferedInputFile(content, filename=f"appointment-{appt.id}.ics")


async def _query(
    session: AsyncSession, county: County, settings: Settings, client: ClientDTO, state: FSMContext
) -> tuple[Service, SlotQuery] | None:
    data = await state.get_data()
    service = county.service(data.get("service", ""))
    if service is None:
        return None
    query = await availability.query_for(
        session,
        county,
        service,
        tz=settings.tz,
        municipality=client.municipality,
        case_manager_id=client.case_manager_id,
        office_key=data.get("office"),
    )
    return service, query


# ---------------------------------------------------------------- the booking conversation


async def start_booking(message: Message, state: FSMContext, county: County, client: ClientDTO | None) -> None:
    if client is None:
        return
    await state.set_state(Booking.service)
    locale = _locale()
    kb = InlineKeyboardBuilder()
    for service in county.services:
        kb.button(text=service.name_for(locale), callback_data=ServiceCb(key=service.key))
    kb.adjust(1)
    lines = [_("Which appointment do you need?"), ""] + [_service_line(s, locale) for s in county.services]
    await message.answer("\n".join(lines), reply_markup=kb.as_markup())


async def start_booking_from_menu(
    callback: CallbackQuery, state: FSMContext, county: County, client: ClientDTO | None
) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await state.update_data(reschedule=None, office=None, address=None)
        await start_booking(callback.message, state, county, client)


async def choose_service(
    callback: CallbackQuery,
    callback_data: ServiceCb,
    state: FSMContext,
    session: AsyncSession,
    county: County,
    settings: Settings,
    client: ClientDTO,
) -> None:
    service = county.service(callback_data.key)
    if service is None or not isinstance(callback.message, Message):
        await callback.answer(_("This button is no longer active. Please use /menu."), show_alert=True)
        return
    await callback.answer()
    await state.update_data(service=service.key, office=None)
    await callback.message.edit_text(
        _("Appointment: {service}").format(service=html.escape(service.name_for(_locale())))
    )
    if service.home_visit:
        if not client.municipality:
            await callback.message.answer(_("Please tell me your municipality first: /start"))
            return
        await state.set_state(Booking.address)
        await callback.message.answer(
            _(
                "Where should we visit you? Please write your address (street, house number, town). "
                "It is kept only until the visit and is not shared in any group chat."
            )
        )
        return
    providers = await availability.providers_for(session, county, service, home_visit=False)
    offices = list(dict.fromkeys(p.office_key for p in providers if p.office_key))
    if len(offices) > 1:
        await state.set_state(Booking.office)
        kb = InlineKeyboardBuilder()
        for key in offices:
            office = county.office(key)
            if office is not None:
                kb.button(text=office.name, callback_data=OfficeCb(key=key))
        kb.adjust(1)
        await callback.message.answer(_("Where would you like to come?"), reply_markup=kb.as_markup())
        return
    await ask_day(callback.message, state, session, county, settings, client)


async def choose_office(
    callback: CallbackQuery,
    callback_data: OfficeCb,
    state: FSMContext,
    session: AsyncSession,
    county: County,
    settings: Settings,
    client: ClientDTO,
) -> None:
    office = county.office(callback_data.key)
    if office is None or not isinstance(callback.message, Message):
        await callback.answer(_("This button is no longer active. Please use /menu."), show_alert=True)
        return
    await callback.answer()
    await state.update_data(office=office.key)
    await callback.message.edit_text(_("Place: {place}").format(place=html.escape(f"{office.name}, {office.address}")))
    await ask_day(callback.message, state, session, county, settings, client)


async def receive_address(
    message: Message, state: FSMContext, session: AsyncSession, county: County, settings: Settings, client: ClientDTO
) -> None:
    address = (message.text or "").strip()
    if not 5 <= len(address) <= 200:
        await message.answer(_("Please write the address as text: street, house number and town."))
        return
    await state.update_data(address=address)
    await ask_day(message, state, session, county, settings, client)


def _days_keyboard(days: list[date], service: Service, more: bool) -> InlineKeyboardMarkup:
    locale = _locale()
    kb = InlineKeyboardBuilder()
    for day in days:
        kb.button(text=fmt_date(day, locale, "EEEE, d MMMM"), callback_data=DayCb(day=day.strftime("%Y%m%d")))
    if more and days:
        kb.button(text=_("Later days »"), callback_data=DayCb(day="", after=days[-1].strftime("%Y%m%d")))
    kb.button(text=_("None suits me – put me on the waitlist"), callback_data=WaitCb(key=service.key))
    kb.adjust(1)
    return kb.as_markup()


async def ask_day(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    county: County,
    settings: Settings,
    client: ClientDTO,
    after: date | None = None,
) -> None:
    found = await _query(session, county, settings, client, state)
    if found is None:
        await message.answer(_("This button is no longer active. Please use /menu."))
        return
    service, query = found
    days = await availability.available_days(session, query, after=after, limit=DAYS_PER_PAGE + 1)
    await state.set_state(Booking.day)
    if not days:
        await message.answer(
            _("There are no free appointments for this at the moment."),
            reply_markup=_days_keyboard([], service, more=False),
        )
        return
    await message.answer(
        _("Which day suits you?"), reply_markup=_days_keyboard(days[:DAYS_PER_PAGE], service, len(days) > DAYS_PER_PAGE)
    )


async def choose_day(
    callback: CallbackQuery,
    callback_data: DayCb,
    state: FSMContext,
    session: AsyncSession,
    county: County,
    settings: Settings,
    client: ClientDTO,
) -> None:
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    try:
        if not callback_data.day:
            after = datetime.strptime(callback_data.after, "%Y%m%d").date()
            await ask_day(callback.message, state, session, county, settings, client, after=after)
            return
        day = datetime.strptime(callback_data.day, "%Y%m%d").date()
    except ValueError:
        await callback.message.answer(_("This button is no longer active. Please use /menu."))
        return
    await ask_time(callback.message, state, session, county, settings, client, day)


async def ask_time(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    county: County,
    settings: Settings,
    client: ClientDTO,
    day: date,
    intro: str | None = None,
) -> None:
    found = await _query(session, county, settings, client, state)
    if found is None:
        return
    _service, query = found
    slots = await availability.free_slots(session, query, day, 1)
    locale = _locale()
    if not slots:
        await message.answer(intro or _("That day is fully booked now."))
        await ask_day(message, state, session, county, settings, client)
        return
    await state.set_state(Booking.time)
    kb = InlineKeyboardBuilder()
    seen: set[datetime] = set()
    for slot in slots:
        if slot.starts_at in seen:  # the same time with another staff member: show once
            continue
        seen.add(slot.starts_at)
        kb.button(
            text=fmt_time(slot.starts_at, locale, settings.tz),
            callback_data=SlotCb(staff=slot.staff_id, ts=int(slot.starts_at.timestamp())),
        )
    kb.button(text=_("« Other day"), callback_data=DayCb(day="", after=""))
    kb.adjust(4)
    text = _("Which time on {day}?").format(day=fmt_date(day, locale, "EEEE, d MMMM"))
    await message.answer(f"{intro}\n\n{text}" if intro else text, reply_markup=kb.as_markup())


async def show_other_day(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    county: County,
    settings: Settings,
    client: ClientDTO,
) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await ask_day(callback.message, state, session, county, settings, client)


async def choose_time(
    callback: CallbackQuery,
    callback_data: SlotCb,
    state: FSMContext,
    session: AsyncSession,
    county: County,
    settings: Settings,
    client: ClientDTO,
) -> None:
    if not isinstance(callback.message, Message):
        return
    found = await _query(session, county, settings, client, state)
    starts_at = datetime.fromtimestamp(callback_data.ts, UTC)
    slot = await availability.find_slot(session, found[1], callback_data.staff, starts_at) if found else None
    if found is None or slot is None:
        await callback.answer()
        await ask_time(
            callback.message,
            state,
            session,
            county,
            settings,
            client,
            starts_at.astimezone(settings.tz).date(),
            intro=_("Sorry, this time was just taken."),
        )
        return
    await callback.answer()
    await state.update_data(staff=slot.staff_id, ts=callback_data.ts)
    await state.set_state(Booking.summary)
    service = found[0]
    locale = _locale()
    data = await state.get_data()
    place = _place(county, slot.office_key)
    if slot.office_key is None and data.get("address"):
        place = _("Home visit at: {address}").format(address=html.escape(data["address"]))
    lines = [
        _("<b>Please check your appointment</b>"),
        _("What: {service}").format(service=html.escape(service.name_for(locale))),
        _("Where: {place}").format(place=place),
        _("When: {when}").format(when=fmt_datetime(slot.starts_at, locale, settings.tz)),
    ]
    documents = service.documents_for(locale)
    if documents:
        lines.append(_("Please bring: {documents}").format(documents=html.escape(documents)))
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Confirm"), callback_data=ConfirmCb(action="yes"))
    kb.button(text=_("Another time"), callback_data=ConfirmCb(action="other"))
    kb.button(text=_("Cancel"), callback_data=ConfirmCb(action="stop"))
    kb.adjust(1, 2)
    await callback.message.answer("\n".join(lines), reply_markup=kb.as_markup())


async def confirm_booking(
    callback: CallbackQuery,
    callback_data: ConfirmCb,
    state: FSMContext,
    session: AsyncSession,
    county: County,
    settings: Settings,
    client: ClientDTO,
    staff: StaffDTO | None = None,
) -> None:
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    data = await state.get_data()
    booked_by = staff.id if staff is not None and data.get("on_behalf") else None
    if callback_data.action == "stop":
        await state.clear()
        await callback.message.edit_text(_("Nothing was booked."), reply_markup=keyboards.main_menu())
        return
    starts_at = datetime.fromtimestamp(int(data.get("ts", 0)), UTC)
    if callback_data.action == "other":
        await ask_time(
            callback.message, state, session, county, settings, client, starts_at.astimezone(settings.tz).date()
        )
        return
    found = await _query(session, county, settings, client, state)
    slot = await availability.find_slot(session, found[1], int(data.get("staff", 0)), starts_at) if found else None
    if found is None:
        await callback.message.answer(_("This button is no longer active. Please use /menu."))
        return
    service = found[0]
    try:
        if slot is None:
            raise SlotTaken
        if data.get("reschedule"):
            appt = await booking.reschedule(
                session,
                county,
                client_id=client.id,
                appointment_id=int(data["reschedule"]),
                slot=slot,
                hold_minutes=settings.waitlist_hold_minutes,
            )
        else:
            appt = await booking.book(
                session,
                client_id=client.id,
                slot=slot,
                service=service,
                home_address=data.get("address"),
                booked_by_staff_id=booked_by,
            )
    except SlotTaken:
        await callback.message.edit_reply_markup(reply_markup=None)
        await ask_time(
            callback.message,
            state,
            session,
            county,
            settings,
            client,
            starts_at.astimezone(settings.tz).date(),
            intro=_("Sorry, this time was just taken by someone else. Here are the next free times:"),
        )
        return
    except AppointmentNotFound:
        await state.clear()
        await callback.message.answer(_("This appointment was not found."), reply_markup=keyboards.main_menu())
        return
    await state.clear()
    await callback.message.edit_reply_markup(reply_markup=None)
    moved = bool(data.get("reschedule"))
    text = _("Your appointment has been moved to {when}.") if moved else _("Your appointment is booked for {when}.")
    await callback.message.answer_document(
        _ics(county, settings, appt),
        caption=text.format(when=fmt_datetime(appt.starts_at, _locale(), settings.tz))
        + "\n"
        + _("Add it to your calendar with the attached file. I will remind you before the appointment."),
        reply_markup=keyboards.main_menu(),
    )


async def join_waitlist(
    callback: CallbackQuery,
    callback_data: WaitCb,
    state: FSMContext,
    session: AsyncSession,
    county: County,
    client: ClientDTO,
) -> None:
    service = county.service(callback_data.key)
    if service is None or not isinstance(callback.message, Message):
        await callback.answer(_("This button is no longer active. Please use /menu."), show_alert=True)
        return
    await callback.answer()
    data = await state.get_data()
    before = None
    replaces = data.get("reschedule")
    if replaces:
        try:
            before = (await booking.get_for_client(session, client.id, int(replaces))).starts_at
        except AppointmentNotFound:
            replaces = None
    await booking.join_waitlist(
        session,
        client_id=client.id,
        service_key=service.key,
        before=before,
        replaces_appointment_id=int(replaces) if replaces else None,
    )
    await state.clear()
    await callback.message.answer(
        _(
            "You are on the waitlist for {service}. When an appointment becomes free, I will offer it to you here."
        ).format(service=html.escape(service.name_for(_locale()))),
        reply_markup=keyboards.main_menu(),
    )


# ---------------------------------------------------------------- my appointments


async def list_appointments(
    message: Message, session: AsyncSession, county: County, settings: Settings, client: ClientDTO | None
) -> None:
    if client is None:
        return
    upcoming = await booking.upcoming(session, client.id)
    locale = _locale()
    if not upcoming:
        await message.answer(_("You have no upcoming appointments."), reply_markup=keyboards.main_menu())
        return
    for appt in upcoming:
        service = county.service(appt.service_key)
        name = service.name_for(locale) if service else appt.service_key
        kb = InlineKeyboardBuilder()
        kb.button(text=_("Reschedule"), callback_data=ApptCb(action="move", id=appt.id))
        kb.button(text=_("Cancel appointment"), callback_data=ApptCb(action="cancel", id=appt.id))
        kb.adjust(2)
        await message.answer(
            "\n".join(
                [
                    f"<b>{html.escape(name)}</b>",
                    fmt_datetime(appt.starts_at, locale, settings.tz),
                    _place(county, appt.office_key),
                ]
            ),
            reply_markup=kb.as_markup(),
        )


async def list_appointments_from_menu(
    callback: CallbackQuery, session: AsyncSession, county: County, settings: Settings, client: ClientDTO | None
) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await list_appointments(callback.message, session, county, settings, client)


async def manage_appointment(
    callback: CallbackQuery,
    callback_data: ApptCb,
    state: FSMContext,
    session: AsyncSession,
    county: County,
    settings: Settings,
    client: ClientDTO | None,
) -> None:
    """Every action re-loads the appointment with the caller's client id: a forged id finds nothing."""
    if client is None or not isinstance(callback.message, Message):
        await callback.answer()
        return
    try:
        appt = await booking.get_for_client(session, client.id, callback_data.id)
    except AppointmentNotFound:
        await callback.answer(_("This appointment was not found."), show_alert=True)
        return
    await callback.answer()
    locale = _locale()
    action = callback_data.action
    try:
        if action == "cancel":
            kb = InlineKeyboardBuilder()
            kb.button(text=_("Yes, cancel it"), callback_data=ApptCb(action="cancel_yes", id=appt.id))
            kb.button(text=_("No, keep it"), callback_data=ApptCb(action="keep", id=appt.id))
            await callback.message.answer(
                _("Do you want to cancel your appointment on {when}?").format(
                    when=fmt_datetime(appt.starts_at, locale, settings.tz)
                ),
                reply_markup=kb.as_markup(),
            )
        elif action == "cancel_yes":
            cancelled = await booking.cancel(
                session,
                county,
                client_id=client.id,
                appointment_id=appt.id,
                hold_minutes=settings.waitlist_hold_minutes,
            )
            await callback.message.edit_reply_markup(reply_markup=None)
            await callback.message.answer_document(
                _ics(county, settings, cancelled, cancelled=True),
                caption=_("Your appointment on {when} is cancelled.").format(
                    when=fmt_datetime(appt.starts_at, locale, settings.tz)
                ),
                reply_markup=keyboards.main_menu(),
            )
        elif action == "keep":
            await callback.message.edit_text(_("Your appointment stays as it is."))
        elif action == "move":
            await state.set_data({"service": appt.service_key, "office": appt.office_key, "reschedule": appt.id})
            await ask_day(callback.message, state, session, county, settings, client)
        elif action == "accept":
            booked = await booking.accept_offer(session, county, client_id=client.id, appointment_id=appt.id)
            await callback.message.edit_reply_markup(reply_markup=None)
            await callback.message.answer_document(
                _ics(county, settings, booked),
                caption=_("Your appointment is booked for {when}.").format(
                    when=fmt_datetime(booked.starts_at, locale, settings.tz)
                ),
                reply_markup=keyboards.main_menu(),
            )
        elif action == "decline":
            await booking.decline_offer(
                session,
                county,
                client_id=client.id,
                appointment_id=appt.id,
                hold_minutes=settings.waitlist_hold_minutes,
            )
            await callback.message.edit_text(_("All right, the appointment goes to the next person."))
    except AppointmentNotFound:
        await callback.message.answer(_("This appointment was not found."))


class OnBehalfMiddleware(BaseMiddleware):
    """When a staff member books for a client (/bookfor), the booking flow acts on that client, not on the caller.

    An inner middleware of the whole private area, acting only for the booking handlers (flag `on_behalf`): the
    privacy menu, say, must never act on the client a staff member is booking for."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        if data.get("staff") is not None and state is not None and get_flag(data, ON_BEHALF):
            target = (await state.get_data()).get("on_behalf")
            if target:
                data["client"] = await clients.get(data["session"], int(target))
        return await handler(event, data)


ON_BEHALF = "on_behalf"


def register(private: Router) -> None:
    booking = {ON_BEHALF: True}
    private.message.middleware(OnBehalfMiddleware())
    private.callback_query.middleware(OnBehalfMiddleware())
    private.message.register(start_booking, Command("book"), flags=booking)
    private.message.register(list_appointments, Command("appointments"), flags=booking)
    private.callback_query.register(start_booking_from_menu, MenuCb.filter(F.action == "book"), flags=booking)
    private.callback_query.register(
        list_appointments_from_menu, MenuCb.filter(F.action == "appointments"), flags=booking
    )
    private.callback_query.register(choose_service, ServiceCb.filter(), flags=booking)
    private.callback_query.register(choose_office, OfficeCb.filter(), flags=booking)
    private.message.register(receive_address, StateFilter(Booking.address), has_text, flags=booking)
    private.callback_query.register(show_other_day, DayCb.filter((F.day == "") & (F.after == "")), flags=booking)
    private.callback_query.register(choose_day, DayCb.filter(), flags=booking)
    private.callback_query.register(choose_time, SlotCb.filter(), flags=booking)
    private.callback_query.register(confirm_booking, StateFilter(Booking.summary), ConfirmCb.filter(), flags=booking)
    private.callback_query.register(join_waitlist, WaitCb.filter(), flags=booking)
    private.callback_query.register(manage_appointment, ApptCb.filter(), flags=booking)

"""What the booking conversation and "My appointments" show: texts and keyboards as pure functions of their data
(the caller passes the locale and the time zone), so each can be tested without a bot or a database."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import date, datetime, tzinfo

from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.county import County, Service
from bot.core.i18n import fmt_date, fmt_datetime, fmt_time
from bot.services import ics
from bot.services.availability import Slot
from bot.services.booking import AppointmentDTO
from bot.telegram.callbacks import ApptCb, ConfirmCb, DayCb, MenuCb, OfficeCb, ReminderCb, ServiceCb, SlotCb, WaitCb

DAY_FORMAT = "EEEE, d MMMM"

# ---------------------------------------------------------------- the booking conversation


def service_line(service: Service, locale: str) -> str:
    description = service.description_for(locale)
    name = html.escape(service.name_for(locale))
    return f"• <b>{name}</b> – {html.escape(description)}" if description else f"• <b>{name}</b>"


def services_text(services: Sequence[Service], locale: str) -> str:
    return "\n".join([_("Which appointment do you need?"), ""] + [service_line(s, locale) for s in services])


def services_keyboard(services: Sequence[Service], locale: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for service in services:
        kb.button(text=service.name_for(locale), callback_data=ServiceCb(key=service.key))
    kb.adjust(1)
    return kb.as_markup()


def offices_keyboard(county: County, office_keys: Iterable[str]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for key in office_keys:
        office = county.office(key)
        if office is not None:
            kb.button(text=office.name, callback_data=OfficeCb(key=key))
    kb.adjust(1)
    return kb.as_markup()


def place(county: County, office_key: str | None) -> str:
    office = county.office(office_key) if office_key else None
    if office is None:
        return _("Home visit at your address")
    return f"{html.escape(office.name)}, {html.escape(office.address)}"


def days_keyboard(days: Sequence[date], service_key: str, more: bool, locale: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for day in days:
        kb.button(text=fmt_date(day, locale, DAY_FORMAT), callback_data=DayCb(day=day.strftime("%Y%m%d")))
    if more and days:
        kb.button(text=_("Later days »"), callback_data=DayCb(day="", after=days[-1].strftime("%Y%m%d")))
    kb.button(text=_("None suits me – put me on the waitlist"), callback_data=WaitCb(key=service_key))
    kb.adjust(1)
    return kb.as_markup()


def times_text(day: date, locale: str, intro: str | None = None) -> str:
    text = _("Which time on {day}?").format(day=fmt_date(day, locale, DAY_FORMAT))
    return f"{intro}\n\n{text}" if intro else text


def times_keyboard(slots: Sequence[Slot], locale: str, tz: tzinfo) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    seen: set[datetime] = set()
    for slot in slots:
        if slot.starts_at in seen:  # the same time with another staff member: show once
            continue
        seen.add(slot.starts_at)
        kb.button(
            text=fmt_time(slot.starts_at, locale, tz),
            callback_data=SlotCb(staff=slot.staff_id, ts=int(slot.starts_at.timestamp())),
        )
    kb.button(text=_("« Other day"), callback_data=DayCb(day="", after=""))
    kb.adjust(4)
    return kb.as_markup()


def summary_text(county: County, service: Service, slot: Slot, address: str | None, locale: str, tz: tzinfo) -> str:
    where = place(county, slot.office_key)
    if slot.office_key is None and address:
        where = _("Home visit at: {address}").format(address=html.escape(address))
    lines = [
        _("<b>Please check your appointment</b>"),
        _("What: {service}").format(service=html.escape(service.name_for(locale))),
        _("Where: {place}").format(place=where),
        _("When: {when}").format(when=fmt_datetime(slot.starts_at, locale, tz)),
    ]
    documents = service.documents_for(locale)
    if documents:
        lines.append(_("Please bring: {documents}").format(documents=html.escape(documents)))
    return "\n".join(lines)


def summary_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Confirm"), callback_data=ConfirmCb(action="yes"))
    kb.button(text=_("Another time"), callback_data=ConfirmCb(action="other"))
    kb.button(text=_("Cancel"), callback_data=ConfirmCb(action="stop"))
    kb.adjust(1, 2)
    return kb.as_markup()


def booked_caption(starts_at: datetime, moved: bool, locale: str, tz: tzinfo) -> str:
    text = _("Your appointment has been moved to {when}.") if moved else _("Your appointment is booked for {when}.")
    return (
        text.format(when=fmt_datetime(starts_at, locale, tz))
        + "\n"
        + _("Add it to your calendar with the attached file. I will remind you before the appointment.")
    )


def waitlist_text(service: Service, locale: str) -> str:
    return _(
        "You are on the waitlist for {service}. When an appointment becomes free, I will offer it to you here."
    ).format(service=html.escape(service.name_for(locale)))


def calendar_file(
    county: County, appt: AppointmentDTO, locale: str, stamp: datetime, cancelled: bool = False
) -> BufferedInputFile:
    content = ics.for_appointment(county, appt, locale=locale, stamp=stamp, cancelled=cancelled)
    return BufferedInputFile(content, filename=f"appointment-{appt.id}.ics")


# ---------------------------------------------------------------- my appointments


def appointment_text(county: County, appt: AppointmentDTO, locale: str, tz: tzinfo) -> str:
    service = county.service(appt.service_key)
    name = service.name_for(locale) if service else appt.service_key
    return "\n".join(
        [f"<b>{html.escape(name)}</b>", fmt_datetime(appt.starts_at, locale, tz), place(county, appt.office_key)]
    )


def appointment_keyboard(appointment_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Reschedule"), callback_data=ApptCb(action="move", id=appointment_id))
    kb.button(text=_("Cancel appointment"), callback_data=ApptCb(action="cancel", id=appointment_id))
    kb.adjust(2)
    return kb.as_markup()


def cancel_question(starts_at: datetime, locale: str, tz: tzinfo) -> str:
    return _("Do you want to cancel your appointment on {when}?").format(when=fmt_datetime(starts_at, locale, tz))


def cancel_keyboard(appointment_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, cancel it"), callback_data=ApptCb(action="cancel_yes", id=appointment_id))
    kb.button(text=_("No, keep it"), callback_data=ApptCb(action="keep", id=appointment_id))
    return kb.as_markup()


def cancelled_caption(starts_at: datetime, locale: str, tz: tzinfo) -> str:
    return _("Your appointment on {when} is cancelled.").format(when=fmt_datetime(starts_at, locale, tz))


def offer_booked_caption(starts_at: datetime, locale: str, tz: tzinfo) -> str:
    return _("Your appointment is booked for {when}.").format(when=fmt_datetime(starts_at, locale, tz))


# ---------------------------------------------------------------- buttons on reminders


def after_attendance_keyboard(appointment_id: int) -> InlineKeyboardMarkup:
    """What stays on a reminder once the client said they will come: only the button that still makes sense."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Cancel / reschedule"), callback_data=ReminderCb(action="change", appointment_id=appointment_id))
    return kb.as_markup()


def my_appointments_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("My appointments"), callback_data=MenuCb(action="appointments"))
    return kb.as_markup()

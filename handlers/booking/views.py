"""What the booking conversation and "My appointments" show: texts and keyboards as pure functions of their data
(the caller passes the locale, the time zone and the county's texts), so each can be tested without a bot or a
database. County content (service names, documents, office kinds) comes from `CountyTexts` in the client's
language; office names and addresses are proper names, shown as written."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import date, datetime, tzinfo

from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.county import WEEKDAYS, County, Service
from bot.core.county_text import BUTTON, CountyTexts
from bot.core.i18n import fmt_date, fmt_datetime, fmt_time, isolate
from bot.core.labels import pgettext
from bot.services import ics
from bot.services.availability import Slot, SlotQuery
from bot.services.booking import AppointmentDTO
from bot.services.remote_appointments import PHONE, VIDEO, Details
from bot.telegram import callbacks as cb
from bot.telegram.callbacks import ApptCb, ConfirmCb, DayCb, MenuCb, OfficeCb, ReminderCb, ServiceCb, SlotCb, WaitCb
from handlers.keyboards import read_aloud_button

DAY_FORMAT = "EEEE, d MMMM"

# ---------------------------------------------------------------- the booking conversation


def service_name(service: Service, locale: str, texts: CountyTexts) -> str:
    return html.escape(texts.text(service.name, locale))


def service_line(service: Service, locale: str, texts: CountyTexts) -> str:
    description = texts.text(service.description, locale)
    name = service_name(service, locale, texts)
    return f"• <b>{name}</b> – {html.escape(description)}" if description else f"• <b>{name}</b>"


def services_text(services: Sequence[Service], locale: str, texts: CountyTexts) -> str:
    lines = [service_line(s, locale, texts) for s in services]
    return "\n".join([_("Which appointment do you need?"), "", *lines])


def services_keyboard(services: Sequence[Service], locale: str, texts: CountyTexts) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for service in services:
        kb.button(text=texts.text(service.name, locale, context=BUTTON), callback_data=ServiceCb(key=service.key))
    kb.adjust(1)
    return kb.as_markup()


def offices_keyboard(county: County, office_keys: Iterable[str], modes: Iterable[str] = ()) -> InlineKeyboardMarkup:
    """The offices to come to, then by video / by phone where the service offers them."""
    kb = InlineKeyboardBuilder()
    for key in office_keys:
        office = county.office(key)
        if office is not None:
            kb.button(text=office.name, callback_data=OfficeCb(key=key))
    labels = {VIDEO: _("📹 By video"), PHONE: _("📞 By phone")}
    for mode in (m for m in modes if m in labels):
        kb.button(text=labels[mode], callback_data=cb.ModeCb(mode=mode))
    kb.adjust(1)
    return kb.as_markup()


def place(county: County, office_key: str | None, locale: str, texts: CountyTexts) -> str:
    """The office's name and address (German proper names), each kept in one piece inside right-to-left text, with
    what kind of office it is and how to find the way in (county texts, in the client's language)."""
    office = county.office(office_key) if office_key else None
    if office is None:
        return _("Home visit at your address")
    where = texts.office_place(office, locale)
    return f"{where}\n{html.escape(texts.text(office.directions, locale))}" if office.directions else where


def home_visit_note(query: SlotQuery, slot: Slot, tz: tzinfo) -> str | None:
    """The county's note (German) for home visits on the slot's outreach day: its staff member, the client's town."""
    provider = next((p for p in query.providers if p.staff_id == slot.staff_id and p.office_key is None), None)
    if provider is None or slot.office_key is not None:
        return None
    weekday = WEEKDAYS[slot.starts_at.astimezone(tz).weekday()]
    days = provider.member.outreach
    return next((d.note for d in days if d.weekday == weekday and query.municipality in d.municipalities), None)


def interpreter_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("With an interpreter"), callback_data=cb.WithInterpreterCb(want=True))
    kb.button(text=_("Without an interpreter"), callback_data=cb.WithInterpreterCb(want=False))
    kb.adjust(1)
    return kb.as_markup()


def remote_place(mode: str, phone: str | None, locale: str) -> str | None:
    """Where a video or phone appointment takes place; None in person."""
    if mode == VIDEO:
        return _("By video – you get the link with the confirmation")
    if mode == PHONE:
        return _("By phone – we call you on {phone}").format(phone=isolate(html.escape(phone or "?"), locale))
    return None


def remote_lines(details: Details | None, locale: str) -> list[str]:
    """The join link or the number to call, under a confirmation."""
    if details is not None and details.mode == VIDEO and details.video_url:
        return [_("Join the video call here: {link}").format(link=html.escape(details.video_url))]
    if details is not None and details.mode == PHONE and details.phone:
        return [_("We will call you on {phone}.").format(phone=isolate(html.escape(details.phone), locale))]
    return []


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


def summary_text(
    county: County,
    service: Service,
    slot: Slot,
    address: str | None,
    locale: str,
    tz: tzinfo,
    texts: CountyTexts,
    note: str | None = None,
    remote: str | None = None,
    interpreter: bool = False,
) -> str:
    """`note`: the county's note for the home visit's outreach day (`home_visit_note`); `remote`: where a video or
    phone appointment takes place (`remote_place`); `interpreter`: one is booked with it."""
    where = remote or place(county, slot.office_key, locale, texts)
    if slot.office_key is None and address:
        where = _("Home visit at: {address}").format(address=isolate(html.escape(address), locale))
    lines = [
        _("<b>Please check your appointment</b>"),
        _("What: {service}").format(service=service_name(service, locale, texts)),
        _("Where: {place}").format(place=where),
        _("When: {when}").format(when=fmt_datetime(slot.starts_at, locale, tz)),
    ]
    if interpreter:
        lines.append(_("An interpreter for your language comes too."))
    if note:
        lines.append(html.escape(texts.text(note, locale)))
    documents = texts.text(service.documents, locale)
    if documents:
        lines.append(_("Please bring: {documents}").format(documents=html.escape(documents)))
    return "\n".join(lines)


def summary_keyboard(read_aloud: bool = False, repeat: bool = False) -> InlineKeyboardMarkup:
    """`read_aloud`: a 🔊 row (handlers/read_aloud.py) when the client's language has a voice; `repeat`: the series
    button, for staff booking for a client (handlers/booking/series.py)."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Confirm"), callback_data=ConfirmCb(action="yes"))
    kb.button(text=_("Another time"), callback_data=ConfirmCb(action="other"))
    # TRANSLATORS: button that stops the booking without booking ("abort"), not "cancel an appointment".
    kb.button(text=pgettext("abort", "Cancel"), callback_data=ConfirmCb(action="stop"))
    kb.adjust(1, 2)
    if repeat:
        kb.row(InlineKeyboardButton(text=_("🔁 Repeat…"), callback_data=cb.SeriesCb(action="every").pack()))
    if read_aloud:
        kb.row(read_aloud_button("summary"))
    return kb.as_markup()


def booked_caption(starts_at: datetime, moved: bool, locale: str, tz: tzinfo) -> str:
    text = _("Your appointment has been moved to {when}.") if moved else _("Your appointment is booked for {when}.")
    return (
        text.format(when=fmt_datetime(starts_at, locale, tz))
        + "\n"
        + _("Add it to your calendar with the attached file. I will remind you before the appointment.")
    )


def waitlist_text(service: Service, locale: str, texts: CountyTexts) -> str:
    return _(
        "You are on the waitlist for {service}. When an appointment becomes free, I will offer it to you here."
    ).format(service=service_name(service, locale, texts))


def calendar_file(
    county: County,
    appt: AppointmentDTO,
    locale: str,
    stamp: datetime,
    cancelled: bool = False,
    *,
    texts: CountyTexts,
    details: Details | None = None,
) -> BufferedInputFile:
    content = ics.for_appointment(
        county, appt, locale=locale, stamp=stamp, cancelled=cancelled, texts=texts, details=details
    )
    return BufferedInputFile(content, filename=f"appointment-{appt.id}.ics")


# ---------------------------------------------------------------- my appointments


def appointment_text(county: County, appt: AppointmentDTO, locale: str, tz: tzinfo, texts: CountyTexts) -> str:
    service = county.service(appt.service_key)
    name = service_name(service, locale, texts) if service else html.escape(appt.service_key)
    when = fmt_datetime(appt.starts_at, locale, tz)
    return "\n".join([f"<b>{name}</b>", when, place(county, appt.office_key, locale, texts)])


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

"""Outbox templates for interpreters: a booking, a move or a release told to the interpreter on Telegram (with the
calendar file one tap away), their reminders, and – for an interpreter without Telegram – the same news to the
case manager to pass on. An interpreter learns the client's reference, the language, when, where (never a home
address: the case manager gives it) or the video link, and who the case manager is.
"""

from __future__ import annotations

import html

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import babel_locale, fmt_datetime, isolate, native_name
from bot.db.base import utcnow
from bot.delivery.outbox import ClaimedMessage
from bot.delivery.renderer import RenderContext, Template
from bot.delivery.worker import Button, Rendered
from bot.services import booking, interpreters, remote_appointments, staff
from bot.services.interpreters import InterpreterBookingDTO
from bot.telegram.callbacks import InterpreterIcsCb


def language_name(code: str, locale: str) -> str:
    return babel_locale(locale).languages.get(code) or native_name(code)


async def _facts(
    ctx: RenderContext, session: AsyncSession, message: ClaimedMessage
) -> tuple[InterpreterBookingDTO, booking.StaffNote, list[str]] | None:
    """The booking, the appointment and the lines describing it; None when either is gone."""
    taken = await interpreters.get(session, int(message.params["booking_id"]))
    note = await booking.staff_note(session, int(message.params["appointment_id"]))
    if taken is None or note is None:
        return None
    appointment = note.appointment
    service = ctx.county.service(appointment.service_key)
    office = ctx.county.office(appointment.office_key) if appointment.office_key else None
    details = await remote_appointments.details(session, appointment.id)
    manager = await staff.get(session, appointment.staff_id)
    lines = [
        _("What: {service}").format(
            service=html.escape(ctx.texts.text(service.name, ctx.locale) if service else appointment.service_key)
        ),
        _("When: {when}").format(when=fmt_datetime(appointment.starts_at, ctx.locale, ctx.tz)),
        _("Language: {language}").format(language=html.escape(language_name(taken.language, ctx.locale))),
    ]
    if details is not None and details.mode == remote_appointments.VIDEO and details.video_url:
        lines.append(_("By video: {link}").format(link=html.escape(details.video_url)))
    elif details is not None and details.mode == remote_appointments.PHONE:
        lines.append(_("By phone: the case manager connects you."))
    elif office is not None:
        where = f"{isolate(html.escape(office.name), ctx.locale)}, {isolate(html.escape(office.address), ctx.locale)}"
        lines.append(_("Where: {place}").format(place=where))
    else:
        lines.append(_("Where: a home visit – the case manager tells you the address."))
    lines.append(
        _("Case manager: {name} · client {reference}").format(
            name=html.escape(manager.display_name if manager else "?"), reference=html.escape(note.client_reference)
        )
    )
    return taken, note, lines


def _calendar_button(taken: InterpreterBookingDTO) -> tuple[tuple[Button, ...], ...]:
    return ((Button(_("📅 Calendar file"), InterpreterIcsCb(booking=taken.id).pack()),),)


def _headline(event: str) -> str:
    return {
        "booked": _("<b>You are booked as interpreter</b>"),
        "rescheduled": _("<b>An appointment you interpret has moved</b>"),
        "released": _("<b>You are no longer needed for this appointment</b> – the time is free again."),
    }.get(event, _("<b>An appointment you interpret has changed</b>"))


async def render_event(ctx: RenderContext, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
    facts = await _facts(ctx, session, message)
    if facts is None:
        return None
    taken, _note, lines = facts
    event = str(message.params.get("event"))
    if event != "released" and not taken.active:  # released meanwhile: that news follows
        return None
    return Rendered("\n".join([_headline(event), *lines]), _calendar_button(taken))


async def render_reminder(ctx: RenderContext, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
    facts = await _facts(ctx, session, message)
    if facts is None:
        return None
    taken, note, lines = facts
    if not taken.active or note.appointment.status != "booked" or note.appointment.starts_at <= utcnow():
        return None
    return Rendered(
        "\n".join([_("<b>Reminder:</b> you interpret at this appointment."), *lines]), _calendar_button(taken)
    )


async def render_pass_on(ctx: RenderContext, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
    """To the case manager: the interpreter has no Telegram, so they pass the news on."""
    facts = await _facts(ctx, session, message)
    if facts is None:
        return None
    taken, _note, lines = facts
    event = str(message.params.get("event"))
    if event != "released" and not taken.active:
        return None
    interpreter = ctx.county.interpreter(taken.interpreter_key)
    name = interpreter.display_name if interpreter else taken.interpreter_key
    contact = interpreter.contact if interpreter and interpreter.contact else _("no contact in the county file")
    intro = _("Please tell the interpreter {name} ({contact}) – kimbot cannot reach them:").format(
        name=html.escape(name), contact=html.escape(contact)
    )
    return Rendered("\n".join([intro, _headline(event), *lines]))


TEMPLATES: dict[str, Template] = {
    interpreters.EVENT_TEMPLATE: render_event,
    interpreters.REMINDER_TEMPLATE: render_reminder,
    interpreters.PASS_ON_TEMPLATE: render_pass_on,
}

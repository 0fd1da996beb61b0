"""Outbox templates of the appointments feature: a waitlist offer to a client, and a note to the staff member
when one of their appointments is booked, moved or cancelled (client reference only, never a name)."""

from __future__ import annotations

import html

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import fmt_datetime, fmt_time
from bot.db.base import utcnow
from bot.delivery.outbox import ClaimedMessage
from bot.delivery.renderer import RenderContext, Template
from bot.delivery.worker import Button, Rendered
from bot.services import booking
from bot.services.booking import AppointmentNotFound
from bot.telegram.callbacks import ApptCb


async def render_waitlist_offer(ctx: RenderContext, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
    if message.client_id is None:
        return None
    try:
        offer = await booking.get_for_client(session, message.client_id, int(message.params["appointment_id"]))
    except AppointmentNotFound:
        return None
    if offer.status != "held" or offer.hold_expires_at is None or offer.hold_expires_at <= utcnow():
        return None
    service = ctx.county.service(offer.service_key)
    office = ctx.county.office(offer.office_key) if offer.office_key else None
    text = _(
        "Good news: an appointment has become free – {service} on {when}.\n{place}\n"
        "It is kept for you until {until}. Do you want it?"
    ).format(
        service=html.escape(ctx.texts.text(service.name, ctx.locale) if service else offer.service_key),
        when=fmt_datetime(offer.starts_at, ctx.locale, ctx.tz),
        place=ctx.texts.office_place(office, ctx.locale) if office else _("Home visit at your address"),
        until=fmt_time(offer.hold_expires_at, ctx.locale, ctx.tz),
    )
    buttons = (
        (
            Button(_("Yes, book it"), ApptCb(action="accept", id=offer.id).pack()),
            Button(_("No, thanks"), ApptCb(action="decline", id=offer.id).pack()),
        ),
    )
    return Rendered(text, buttons)


async def render_staff_event(ctx: RenderContext, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
    note = await booking.staff_note(session, int(message.params["appointment_id"]))
    if note is None:
        return None
    appointment, reference = note.appointment, note.client_reference
    service = ctx.county.service(appointment.service_key)
    labels = {
        "booked": _("New appointment"),
        "rescheduled": _("Appointment moved"),
        "cancelled": _("Appointment cancelled"),
    }
    return Rendered(
        "{label}: {reference} – {service}, {when}".format(
            label=labels.get(str(message.params.get("event")), _("Appointment changed")),
            reference=html.escape(reference),
            service=html.escape(ctx.texts.text(service.name, ctx.locale) if service else appointment.service_key),
            when=fmt_datetime(appointment.starts_at, ctx.locale, ctx.tz),
        )
    )


TEMPLATES: dict[str, Template] = {
    "waitlist_offer": render_waitlist_offer,
    "staff_appointment_event": render_staff_event,
}

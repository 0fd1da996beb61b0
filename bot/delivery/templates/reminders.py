"""Reminder messages: an appointment tomorrow (or in two hours), and a residence document about to expire."""

from __future__ import annotations

import html
from datetime import date

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County, Office
from bot.core.county_text import CountyTexts
from bot.core.i18n import fmt_date, fmt_datetime, isolate
from bot.core.labels import doc_type_label
from bot.db.base import utcnow
from bot.delivery.outbox import ClaimedMessage
from bot.delivery.renderer import RenderContext, Template
from bot.delivery.worker import Button, Rendered
from bot.services import booking, documents, remote_appointments
from bot.services.documents import DOCUMENT_TEMPLATE
from bot.services.remote_appointments import Details
from bot.telegram.callbacks import MenuCb, ReminderCb

# The county service a document reminder offers to book (extension of a residence document).
IMMIGRATION_SERVICE_KEY = "residence-extension"
APPOINTMENT_REMINDER_TEMPLATE = "appointment_reminder"


def _documents_to_bring(county: County, locale: str, texts: CountyTexts) -> str | None:
    service = county.service(IMMIGRATION_SERVICE_KEY)
    if service is None or not service.documents:
        return None
    return texts.text(service.documents, locale)


def _office_kind(office: Office, ctx: RenderContext) -> str:
    """What kind of office it is, after its German name: " (immigration office)"."""
    return f" ({html.escape(ctx.texts.text(office.kind, ctx.locale))})" if office.kind else ""


async def render_document_expiry(ctx: RenderContext, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
    params = message.params
    expires_on = date.fromisoformat(params["expires_on"])
    current = await documents.current_expiry(session, message.client_id, params["document_id"])
    if current != expires_on:  # deleted or changed since the reminder was queued
        return None
    days = max((expires_on - utcnow().astimezone(ctx.tz).date()).days, 0)
    doc_type = params["doc_type"]
    lines = [
        ngettext(
            "<b>Your {document} expires on {date} – in {days} day.</b>",
            "<b>Your {document} expires on {date} – in {days} days.</b>",
            days,
        ).format(document=doc_type_label(doc_type), date=fmt_date(expires_on, ctx.locale), days=days),
        "",
    ]
    bring: str | None
    if doc_type == "passport":
        # A recognised refugee who turns to their country's embassy can lose that protection (§ 72 (1) 1 AsylG).
        lines.append(
            _(
                "Renew your passport in good time. If you have refugee protection, ask your case manager first: "
                "going to your country's embassy can cost you your protection, and you may get a travel document "
                "(Reiseausweis) instead. Tell the immigration office (Ausländerbehörde) when you have a new document."
            )
        )
        bring = _("your current passport, biometric photos, your residence title (Aufenthaltstitel)")
    elif doc_type in ("residence_permit", "work_permit"):
        lines.append(
            _(
                "Apply for the extension at the immigration office (Ausländerbehörde) now – it often takes several "
                "weeks. If you apply before the expiry date, your rights continue until the office decides."
            )
        )
        bring = _documents_to_bring(ctx.county, ctx.locale, ctx.texts)
    elif doc_type in ("duldung", "gestattung", "fiktion"):
        lines.append(
            _(
                "Go to the immigration office (Ausländerbehörde) before this date to have it extended. Without a "
                "valid paper you can lose your job or your benefits."
            )
        )
        bring = _documents_to_bring(ctx.county, ctx.locale, ctx.texts)
    else:
        lines.append(_("Please find out in good time what you need to do – your case manager can help."))
        bring = None
    if bring:
        lines += ["", _("<b>Please bring:</b> {documents}").format(documents=html.escape(bring))]
    buttons: list[tuple[Button, ...]] = []
    if doc_type != "passport" and ctx.county.service(IMMIGRATION_SERVICE_KEY) is not None:
        # TRANSLATORS: button, at most 40 characters: keep "Ausländerbehörde" first.
        buttons.append((Button(_("Ausländerbehörde: book an appointment"), MenuCb(action="book").pack()),))
    buttons.append((Button(_("My documents"), MenuCb(action="documents").pack()),))
    return Rendered("\n".join(lines), tuple(buttons))


def remote_lines(details: Details, locale: str) -> list[str]:
    if details.mode == remote_appointments.VIDEO:
        return [_("By video. Join here: {link}").format(link=html.escape(details.video_url or "?"))]
    phone = isolate(html.escape(details.phone or "?"), locale)
    return [_("By phone: we will call you on {phone}.").format(phone=phone)]


async def render_appointment_reminder(
    ctx: RenderContext, session: AsyncSession, message: ClaimedMessage
) -> Rendered | None:
    if message.client_id is None:
        return None
    try:
        appointment = await booking.get_for_client(session, message.client_id, int(message.params["appointment_id"]))
    except LookupError:
        return None
    if appointment.status != "booked" or appointment.starts_at <= utcnow():
        return None
    service = ctx.county.service(appointment.service_key)
    office = next((o for o in ctx.county.offices if o.key == appointment.office_key), None)
    lines = [
        _("<b>Reminder:</b> your appointment “{service}” is on {when}.").format(
            service=html.escape(ctx.texts.text(service.name, ctx.locale) if service else appointment.service_key),
            when=fmt_datetime(appointment.starts_at, ctx.locale, ctx.tz),
        )
    ]
    remote = await remote_appointments.details(session, appointment.id)
    if remote is not None and remote.mode in (remote_appointments.VIDEO, remote_appointments.PHONE):
        lines += remote_lines(remote, ctx.locale)  # the join link, or the number we call
    elif office is not None:
        lines.append(
            _("Place: {office}, {address}").format(
                office=isolate(html.escape(office.name), ctx.locale) + _office_kind(office, ctx),
                address=isolate(html.escape(office.address), ctx.locale),
            )
        )
        if office.directions:
            lines.append(html.escape(ctx.texts.text(office.directions, ctx.locale)))
    else:
        lines.append(_("Your case manager will visit you at home."))
    if service is not None and service.documents:
        bring = ctx.texts.text(service.documents, ctx.locale)
        lines.append(_("<b>Please bring:</b> {documents}").format(documents=html.escape(bring)))
    row = []
    if not appointment.confirmed:
        row.append(Button(_("I will come"), ReminderCb(action="come", appointment_id=appointment.id).pack()))
    row.append(Button(_("Cancel / reschedule"), ReminderCb(action="change", appointment_id=appointment.id).pack()))
    return Rendered("\n".join(lines), (tuple(row),))


TEMPLATES: dict[str, Template] = {
    DOCUMENT_TEMPLATE: render_document_expiry,
    APPOINTMENT_REMINDER_TEMPLATE: render_appointment_reminder,
}

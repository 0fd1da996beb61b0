"""Rendering outbox messages at send time, in the recipient's language at that moment.

The delivery worker (bot/services/delivery_worker.py) is Telegram-free; the composition root hands it a
`NotificationRenderer`, which knows the templates, gettext and the callback data of the buttons. A template is
an async function registered with `@template("key")`; it gets the claimed row and a read-only session and returns
`Rendered`, or None when the message no longer makes sense (the row is then dropped with a reason).
Other features register their templates here the same way.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.county import County, Service
from bot.db.base import utcnow
from bot.db.models_documents import Document
from bot.i18n import DEFAULT_LOCALE, fmt_date, fmt_datetime, fmt_time
from bot.scheduler import MORNING_AGENDA_TEMPLATE
from bot.services import appointments
from bot.services.delivery_worker import Button, Rendered
from bot.services.documents import DOCUMENT_TEMPLATE
from bot.services.outbox import STAFF_UNREACHABLE_TEMPLATE, ClaimedMessage
from handlers.keyboards import MenuCb
from handlers.reminders import ReminderCb

# The county service a document reminder offers to book (extension of a residence document).
IMMIGRATION_SERVICE_KEY = "residence-extension"
APPOINTMENT_REMINDER_TEMPLATE = "appointment_reminder"


@dataclass(frozen=True, slots=True)
class RenderContext:
    county: County
    tz: ZoneInfo
    locale: str


Template = Callable[[RenderContext, AsyncSession, ClaimedMessage], Awaitable[Rendered | None]]
_TEMPLATES: dict[str, Template] = {}


def template(key: str) -> Callable[[Template], Template]:
    def register(fn: Template) -> Template:
        _TEMPLATES[key] = fn
        return fn

    return register


class NotificationRenderer:
    """The worker's `Renderer`: picks the recipient's language and runs the template inside aiogram's i18n."""

    def __init__(self, i18n: I18n, county: County, tz: ZoneInfo):
        self.i18n = i18n
        self.county = county
        self.tz = tz

    def locale_for(self, message: ClaimedMessage) -> str:
        available = set(self.i18n.available_locales)
        return next((code for code in message.locales if code in available), DEFAULT_LOCALE)

    async def render(self, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
        fn = _TEMPLATES.get(message.template)
        if fn is None:
            raise KeyError(f"no template {message.template!r}")
        locale = self.locale_for(message)
        with self.i18n.context(), self.i18n.use_locale(locale):
            return await fn(RenderContext(self.county, self.tz, locale), session, message)


# ------------------------------------------------------------------ labels shared with handlers/documents.py


def doc_type_label(doc_type: str) -> str:
    labels = {
        "residence_permit": _("Residence permit (eAT)"),
        "duldung": _("Toleration (Duldung)"),
        "gestattung": _("Permission to reside during the asylum procedure (Aufenthaltsgestattung)"),
        "fiktion": _("Fictional certificate (Fiktionsbescheinigung)"),
        "passport": _("Passport"),
        "work_permit": _("Work permit"),
        "other": _("Other document"),
    }
    return labels.get(doc_type, labels["other"])


def _service(county: County, key: str) -> Service | None:
    return next((s for s in county.services if s.key == key), None)


def _documents_to_bring(county: County, locale: str) -> str | None:
    service = _service(county, IMMIGRATION_SERVICE_KEY)
    if service is None or not service.documents:
        return None
    return service.documents.get(locale) or service.documents.get("en") or service.documents.get("de")


# ------------------------------------------------------------------ templates


@template(DOCUMENT_TEMPLATE)
async def render_document_expiry(ctx: RenderContext, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
    params = message.params
    expires_on = date.fromisoformat(params["expires_on"])
    current = await session.scalar(
        select(Document.expires_on).where(Document.id == params["document_id"], Document.client_id == message.client_id)
    )
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
        lines.append(
            _(
                "Apply for a new passport at your country's embassy or consulate in good time – appointments "
                "there are often weeks away. Tell the immigration office when you have it."
            )
        )
        bring = _("your current passport, biometric photos, your residence document")
    elif doc_type in ("residence_permit", "work_permit"):
        lines.append(
            _(
                "Apply for the extension at the immigration office (Ausländerbehörde) now – it often takes several "
                "weeks. If you apply before the expiry date, your rights continue until the office decides."
            )
        )
        bring = _documents_to_bring(ctx.county, ctx.locale)
    elif doc_type in ("duldung", "gestattung", "fiktion"):
        lines.append(
            _(
                "Go to the immigration office (Ausländerbehörde) before this date to have it extended. Without a "
                "valid paper you can lose your job or your benefits."
            )
        )
        bring = _documents_to_bring(ctx.county, ctx.locale)
    else:
        lines.append(_("Please find out in good time what you need to do – your case manager can help."))
        bring = None
    if bring:
        lines += ["", _("<b>Please bring:</b> {documents}").format(documents=html.escape(bring))]
    buttons: list[tuple[Button, ...]] = []
    if doc_type != "passport" and _service(ctx.county, IMMIGRATION_SERVICE_KEY) is not None:
        buttons.append((Button(_("Book an appointment at the immigration office"), MenuCb(action="book").pack()),))
    buttons.append((Button(_("My documents"), MenuCb(action="documents").pack()),))
    return Rendered("\n".join(lines), tuple(buttons))


@template(STAFF_UNREACHABLE_TEMPLATE)
async def render_unreachable(ctx: RenderContext, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
    return Rendered(
        _(
            "Client {reference} can no longer be reached through kimbot: they have blocked the bot or deleted the "
            "chat. Their reminders have been stopped. Please contact them another way."
        ).format(reference=html.escape(str(message.params.get("reference", "?"))))
    )


@template(APPOINTMENT_REMINDER_TEMPLATE)
async def render_appointment_reminder(
    ctx: RenderContext, session: AsyncSession, message: ClaimedMessage
) -> Rendered | None:
    if message.client_id is None:
        return None
    try:
        appointment = await appointments.get_for_client(
            session, message.client_id, int(message.params["appointment_id"])
        )
    except LookupError:
        return None
    if appointment.status != "booked" or appointment.starts_at <= utcnow():
        return None
    service = _service(ctx.county, appointment.service_key)
    office = next((o for o in ctx.county.offices if o.key == appointment.office_key), None)
    lines = [
        _("<b>Reminder:</b> your appointment “{service}” is on {when}.").format(
            service=html.escape(service.name_for(ctx.locale) if service else appointment.service_key),
            when=fmt_datetime(appointment.starts_at, ctx.locale, ctx.tz),
        )
    ]
    if office is not None:
        lines.append(
            _("Place: {office}, {address}").format(office=html.escape(office.name), address=html.escape(office.address))
        )
    else:
        lines.append(_("Your case manager will visit you at home."))
    if service is not None and service.documents:
        bring = service.documents.get(ctx.locale) or service.documents.get("en") or service.documents.get("de")
        if bring:
            lines.append(_("<b>Please bring:</b> {documents}").format(documents=html.escape(bring)))
    row = []
    if not appointment.confirmed:
        row.append(Button(_("I will come"), ReminderCb(action="come", appointment_id=appointment.id).pack()))
    row.append(Button(_("Cancel / reschedule"), ReminderCb(action="change", appointment_id=appointment.id).pack()))
    return Rendered("\n".join(lines), (tuple(row),))


@template(MORNING_AGENDA_TEMPLATE)
async def render_morning_agenda(ctx: RenderContext, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
    """A case manager's appointments of the day, with whether each client confirmed."""
    day = date.fromisoformat(message.params["day"])
    start = datetime.combine(day, datetime.min.time(), tzinfo=ctx.tz)
    items = await appointments.agenda(session, int(message.params["staff_id"]), start, start + timedelta(days=1))
    if not items:
        return None
    lines = [_("<b>Your appointments on {date}</b>").format(date=fmt_date(day, ctx.locale))]
    for item in items:
        service = _service(ctx.county, item.appointment.service_key)
        state = _("confirmed") if item.appointment.confirmed else _("not confirmed")
        lines.append(
            f"{fmt_time(item.appointment.starts_at, ctx.locale, ctx.tz)} · "
            f"{html.escape(service.name_for(ctx.locale) if service else item.appointment.service_key)} · "
            f"{html.escape(item.client_reference)} · {state}"
        )
    return Rendered("\n".join(lines))

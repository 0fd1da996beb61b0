"""Messages to staff: a client who can no longer be reached, and a case manager's morning agenda."""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import fmt_date, fmt_time
from bot.delivery.outbox import STAFF_UNREACHABLE_TEMPLATE, ClaimedMessage
from bot.delivery.renderer import RenderContext, Template
from bot.delivery.templates.casework import agenda_followups
from bot.delivery.worker import Rendered
from bot.jobs.scheduler import MORNING_AGENDA_TEMPLATE
from bot.services import booking


async def render_unreachable(ctx: RenderContext, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
    return Rendered(
        _(
            "Client {reference} can no longer be reached through kimbot: they have blocked the bot or deleted the "
            "chat. Their reminders have been stopped. Please contact them another way."
        ).format(reference=html.escape(str(message.params.get("reference", "?"))))
    )


async def render_morning_agenda(ctx: RenderContext, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
    """A case manager's appointments of the day, with whether each client confirmed, and their follow-ups due."""
    day = date.fromisoformat(message.params["day"])
    start = datetime.combine(day, datetime.min.time(), tzinfo=ctx.tz)
    items = await booking.agenda(session, int(message.params["staff_id"]), start, start + timedelta(days=1))
    tasks = await agenda_followups(ctx, session, int(message.params["staff_id"]), day)
    if not items and not tasks:
        return None
    lines = [_("<b>Your appointments on {date}</b>").format(date=fmt_date(day, ctx.locale))]
    if not items:
        lines.append(_("No appointments."))
    for item in items:
        service = ctx.county.service(item.appointment.service_key)
        state = _("confirmed") if item.appointment.confirmed else _("not confirmed")
        lines.append(
            f"{fmt_time(item.appointment.starts_at, ctx.locale, ctx.tz)} · "
            f"{html.escape(ctx.texts.text(service.name, ctx.locale) if service else item.appointment.service_key)} · "
            f"{html.escape(item.client_reference)} · {state}"
        )
    return Rendered("\n".join(lines + tasks))


TEMPLATES: dict[str, Template] = {
    STAFF_UNREACHABLE_TEMPLATE: render_unreachable,
    MORNING_AGENDA_TEMPLATE: render_morning_agenda,
}

"""Outbox template of a series (bot/services/series.py): one message to the client listing the dates a staff
member booked for them, rendered at send time in the client's language (cancelled ones are left out)."""

from __future__ import annotations

import html

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import fmt_datetime
from bot.delivery.outbox import ClaimedMessage
from bot.delivery.renderer import RenderContext, Template
from bot.delivery.worker import Rendered
from bot.services import series


async def render_series_booked(ctx: RenderContext, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
    if message.client_id is None:
        return None
    booked = await series.appointments(session, int(message.params["series_id"]), message.client_id)
    if not booked:
        return None
    service = ctx.county.service(booked[0].service_key)
    name = ctx.texts.text(service.name, ctx.locale) if service else booked[0].service_key
    head = _("Your case manager has booked these appointments for you ({service}):")
    lines = [head.format(service=html.escape(name))]
    lines += ["• " + fmt_datetime(a.starts_at, ctx.locale, ctx.tz) for a in booked]
    return Rendered("\n".join(lines))


TEMPLATES: dict[str, Template] = {series.CLIENT_TEMPLATE: render_series_booked}

"""The outbox template of a broadcast, and the one function that renders it – used for delivery and for the
admin's preview alike, so the preview is exactly what clients get.

The text is the admin's own, HTML-escaped; the frame (heading, "automatic translation", how to opt out) is in the
client's language. Nothing personal is ever part of a broadcast.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models_broadcasts import Broadcast
from bot.services.broadcasts import BROADCAST_TEMPLATE, FALLBACK_KEY, text_key
from bot.services.delivery_worker import Rendered
from bot.services.outbox import ClaimedMessage
from handlers.notifications import RenderContext, template


def render_broadcast(texts: dict[str, str], auto_languages: Sequence[str], fallback: str, locale: str) -> str | None:
    """The message a client with `locale` gets, in the current i18n locale; None when they are left out."""
    key = text_key(texts, fallback, locale)
    if key is None:
        return None
    used = [code for code in ("en", "de") if code in texts] if key == FALLBACK_KEY else [key]
    body = "\n\n".join(html.escape(texts[code]) for code in used)
    lines = [_("<b>Announcement from the integration management</b>"), "", body]
    if any(code in auto_languages for code in used):
        lines += ["", _("<i>This text was translated automatically.</i>")]
    lines += ["", _("<i>You can turn these announcements off with /announcements.</i>")]
    return "\n".join(lines)


@template(BROADCAST_TEMPLATE)
async def render_broadcast_message(
    ctx: RenderContext, session: AsyncSession, message: ClaimedMessage
) -> Rendered | None:
    broadcast = await session.get(Broadcast, int(message.params["broadcast_id"]))
    if broadcast is None or broadcast.status == "cancelled":
        return None
    text = render_broadcast(
        dict(broadcast.texts or {}), list(broadcast.auto_languages or ()), broadcast.fallback, ctx.locale
    )
    return Rendered(text) if text is not None else None

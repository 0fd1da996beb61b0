"""The outbox template of a broadcast, and the one function that renders it – used for delivery and for the
admin's preview alike, so the preview is exactly what clients get.

The text is the admin's own, HTML-escaped; the frame (heading, "automatic translation", how to opt out) is in the
client's language. Nothing personal is ever part of a broadcast.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models_broadcasts import Broadcast
from bot.delivery.outbox import ClaimedMessage
from bot.delivery.renderer import RenderContext, Template
from bot.delivery.worker import Rendered
from bot.services.broadcasts import BROADCAST_TEMPLATE, FALLBACK_KEY, text_key


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


# A confirmed broadcast's texts never change; keep them briefly instead of loading them for every recipient
# (the status is re-read after CACHE_SECONDS, and cancelling also cancels the rows themselves). Keyed by the
# database too: a process has one, but tests start a fresh database (and broadcast #1) every few seconds.
CACHE_SECONDS = 2.0
_cache: dict[tuple[object, int], tuple[float, dict[str, str], list[str], str, str]] = {}


async def render_broadcast_message(
    ctx: RenderContext, session: AsyncSession, message: ClaimedMessage
) -> Rendered | None:
    broadcast_id = int(message.params["broadcast_id"])
    key = (session.bind, broadcast_id)
    cached = _cache.get(key)
    if cached is None or time.monotonic() - cached[0] > CACHE_SECONDS:
        row = await session.get(Broadcast, broadcast_id)
        if row is None:
            _cache.pop(key, None)
            return None
        cached = (time.monotonic(), dict(row.texts or {}), list(row.auto_languages or ()), row.fallback, row.status)
        if len(_cache) > 64:
            _cache.clear()
        _cache[key] = cached
    _at, texts, auto_languages, fallback, status = cached
    if status == "cancelled":
        return None
    text = render_broadcast(texts, auto_languages, fallback, ctx.locale)
    return Rendered(text) if text is not None else None


TEMPLATES: dict[str, Template] = {
    BROADCAST_TEMPLATE: render_broadcast_message,
}

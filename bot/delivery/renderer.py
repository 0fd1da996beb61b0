"""Rendering outbox messages at send time, in the recipient's language at that moment.

The delivery worker (bot/delivery/worker.py) is Telegram-free; the composition root hands it a
`MessageRenderer` with every capability's templates (`bot/delivery/templates/`). A template is an async function
listed in its module's `TEMPLATES`; it gets the claimed row and a read-only session and returns `Rendered`, or None
when the message no longer makes sense (the row is then dropped with a reason).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County
from bot.core.county_text import CountyTexts
from bot.core.i18n import DEFAULT_LOCALE
from bot.delivery.outbox import ClaimedMessage
from bot.delivery.worker import Rendered

# The county service a document reminder offers to book (extension of a residence document).
IMMIGRATION_SERVICE_KEY = "residence-extension"
APPOINTMENT_REMINDER_TEMPLATE = "appointment_reminder"


@dataclass(frozen=True, slots=True)
class RenderContext:
    county: County
    tz: ZoneInfo
    locale: str
    texts: CountyTexts  # the county file's texts in `locale`: `ctx.texts.text(service.name, ctx.locale)`


Template = Callable[[RenderContext, AsyncSession, ClaimedMessage], Awaitable[Rendered | None]]


class MessageRenderer:
    """The worker's `Renderer`: picks the recipient's language and runs the row's template inside aiogram's i18n.
    `templates` maps a row's template key to its function (the composition root passes every capability's)."""

    def __init__(
        self,
        i18n: I18n,
        county: County,
        tz: ZoneInfo,
        templates: Mapping[str, Template],
        county_texts: CountyTexts | None = None,
    ):
        self.i18n = i18n
        self.county = county
        self.county_texts = county_texts or CountyTexts()
        self.tz = tz
        self.templates = dict(templates)

    def locale_for(self, message: ClaimedMessage) -> str:
        available = set(self.i18n.available_locales)
        return next((code for code in message.locales if code in available), DEFAULT_LOCALE)

    async def render(self, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
        fn = self.templates.get(message.template)
        if fn is None:
            raise KeyError(f"no template {message.template!r}")
        locale = self.locale_for(message)
        with self.i18n.context(), self.i18n.use_locale(locale):
            return await fn(RenderContext(self.county, self.tz, locale, self.county_texts), session, message)

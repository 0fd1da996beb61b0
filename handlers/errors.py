"""The one error handler: the client gets a short apology in their language (and a button its answer, so the
spinner stops), the log gets no personal data."""

from __future__ import annotations

import contextlib
import logging
import traceback

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.i18n import DEFAULT_LOCALE, map_language_code
from bot.services import clients

log = logging.getLogger("kimbot.errors")


def _where(exc: BaseException) -> str:
    """File, line and function of each frame: enough to find the bug, without the exception's message
    (which may quote SQL parameters or message text)."""
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    return " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}" for f in reversed(frames))


async def apologise(event: ErrorEvent, bot: Bot, sessions: async_sessionmaker[AsyncSession], i18n: I18n) -> None:
    update = event.update
    log.error("update %s failed: %s at %s", update.update_id, type(event.exception).__name__, _where(event.exception))
    if update.callback_query is not None:  # stop the button's spinner (unless the handler already answered)
        with contextlib.suppress(TelegramAPIError):
            await bot.answer_callback_query(update.callback_query.id)
    message = update.message or (update.callback_query.message if update.callback_query else None)
    user = (
        update.message.from_user
        if update.message
        else (update.callback_query.from_user if update.callback_query else None)
    )
    if message is None or user is None or message.chat.type != "private":
        return
    locale = map_language_code(user.language_code) or DEFAULT_LOCALE
    try:
        async with sessions() as session:
            client = await clients.find_by_telegram_id(session, user.id)
        if client is not None and client.locale:
            locale = client.locale
    except (SQLAlchemyError, OSError):  # the database may be the reason we are here; the apology still goes out
        log.warning("could not load the client's language for the apology")
    text = i18n.gettext("Sorry, something went wrong on our side. Please try again in a moment.", locale=locale)
    try:
        await bot.send_message(message.chat.id, text)
    except TelegramAPIError as exc:
        log.warning("apology not delivered: %s", type(exc).__name__)


def register(dispatcher: Router) -> None:
    """On the dispatcher itself: a router of its own would be one more for every update to pass through."""
    dispatcher.errors.register(apologise)

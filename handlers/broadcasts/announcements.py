"""Broadcasts, the clients' side: /announcements shows whether announcements are on and switches them off or on.
Reminders about a client's own appointments and documents are not announcements and always stay on."""

from __future__ import annotations

import contextlib

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import broadcasts
from bot.services.dto import ClientDTO
from bot.telegram.callbacks import AnnCb
from handlers.broadcasts.views import announcements_view
from handlers.filters import in_private_chat


async def show_announcements(message: Message, session: AsyncSession, client: ClientDTO | None) -> None:
    if client is None:
        return
    text, markup = announcements_view(await broadcasts.is_opted_out(session, client.id))
    await message.answer(text, reply_markup=markup)


async def toggle_announcements(
    callback: CallbackQuery, callback_data: AnnCb, session: AsyncSession, client: ClientDTO | None
) -> None:
    if client is None:
        await callback.answer()
        return
    off = await broadcasts.set_opt_out(session, client.id, callback_data.off)
    text, markup = announcements_view(off)
    await callback.answer(_("Saved."))
    if isinstance(callback.message, Message):
        with contextlib.suppress(TelegramBadRequest):
            await callback.message.edit_text(text, reply_markup=markup)


def register(router: Router) -> None:
    router.message.register(show_announcements, Command("announcements"), in_private_chat)
    router.callback_query.register(toggle_announcements, AnnCb.filter())

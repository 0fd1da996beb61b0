"""Broadcasts, running: the admin pauses, resumes or cancels a broadcast from the buttons under its progress
message, which is then redrawn at once (the progress job redraws it every few seconds anyway)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.jobs.broadcast_progress import progress_keyboard, progress_text
from bot.services import broadcasts
from bot.services.broadcasts import BroadcastError
from bot.services.dto import StaffDTO
from bot.telegram.callbacks import BcRunCb

Change = Callable[[AsyncSession, int], Awaitable[int]]


async def _refused(callback: CallbackQuery, staff: StaffDTO) -> bool:
    if staff.is_admin:
        return False
    await callback.answer(_("Only administrators can send broadcasts."), show_alert=True)
    return True


async def _apply(
    callback: CallbackQuery, session: AsyncSession, settings: Settings, broadcast_id: int, change: Change, done: str
) -> None:
    """Pause, resume or cancel; then the progress message shows the new state."""
    try:
        await change(session, broadcast_id)
        draft = await broadcasts.get(session, broadcast_id)
    except BroadcastError:
        await callback.answer(_("This is no longer possible."), show_alert=True)
        return
    await callback.answer(done)
    progress = await broadcasts.progress(session, draft.id)
    if isinstance(callback.message, Message):
        with contextlib.suppress(TelegramBadRequest):
            await callback.message.edit_text(
                progress_text(draft, progress, settings.delivery_rate, settings.tz),
                reply_markup=progress_keyboard(draft),
            )
    await broadcasts.touch_progress(session, draft.id)


async def pause_broadcast(
    callback: CallbackQuery, callback_data: BcRunCb, session: AsyncSession, staff: StaffDTO, settings: Settings
) -> None:
    if not await _refused(callback, staff):
        await _apply(callback, session, settings, callback_data.id, broadcasts.pause, _("Paused."))


async def resume_broadcast(
    callback: CallbackQuery, callback_data: BcRunCb, session: AsyncSession, staff: StaffDTO, settings: Settings
) -> None:
    if not await _refused(callback, staff):
        await _apply(callback, session, settings, callback_data.id, broadcasts.resume, _("Resumed."))


async def cancel_broadcast(
    callback: CallbackQuery, callback_data: BcRunCb, session: AsyncSession, staff: StaffDTO, settings: Settings
) -> None:
    if not await _refused(callback, staff):
        await _apply(callback, session, settings, callback_data.id, broadcasts.cancel, _("Cancelled."))


async def unknown_control(callback: CallbackQuery, staff: StaffDTO) -> None:
    if not await _refused(callback, staff):
        await callback.answer(_("This is no longer possible."), show_alert=True)


def register(router: Router) -> None:
    router.callback_query.register(pause_broadcast, BcRunCb.filter(F.action == "pause"))
    router.callback_query.register(resume_broadcast, BcRunCb.filter(F.action == "resume"))
    router.callback_query.register(cancel_broadcast, BcRunCb.filter(F.action == "cancel"))
    router.callback_query.register(unknown_control, BcRunCb.filter())

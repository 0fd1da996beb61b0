"""Broadcasts, sending: when (now, or a typed date and time in the office time zone), the preview (a summary,
then one message per language exactly as delivered, with the recipients per language) and the confirmation,
which writes the outbox rows and posts the progress message that the progress job (bot/jobs/broadcast_progress.py)
keeps up to date."""

from __future__ import annotations

import contextlib

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.db.base import utcnow
from bot.delivery.templates.broadcasts import render_broadcast
from bot.jobs.broadcast_progress import progress_keyboard, progress_text
from bot.services import broadcasts
from bot.services.broadcasts import BroadcastError
from bot.services.dates import parse_when
from bot.telegram.callbacks import BcCb
from handlers.broadcasts import views
from handlers.broadcasts.segment import show_segment
from handlers.broadcasts.states import BroadcastForm, draft_id
from handlers.filters import has_text


async def schedule_now(
    callback: CallbackQuery, session: AsyncSession, settings: Settings, i18n: I18n, state: FSMContext
) -> None:
    if not isinstance(callback.message, Message):
        return
    await broadcasts.set_schedule(session, await draft_id(state), None)
    await callback.answer()
    await show_preview(callback.message, session, settings, i18n, state)


async def take_schedule(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n, state: FSMContext
) -> None:
    when = parse_when(message.text or "", settings.tz)
    if when is None or when <= utcnow():
        await message.answer(views.schedule_retry())
        return
    await broadcasts.set_schedule(session, await draft_id(state), when)
    await show_preview(message, session, settings, i18n, state)


async def show_preview(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n, state: FSMContext
) -> None:
    """A summary, then each language's message exactly as its clients will get it, then the confirmation."""
    await state.set_state(BroadcastForm.preview)
    broadcast_id = await draft_id(state)
    draft = await broadcasts.get(session, broadcast_id)
    plan = await broadcasts.plan(session, broadcast_id, settings.tz)
    await message.answer(views.preview_summary(draft, plan, settings.tz))
    for lang in views.preview_languages(plan):
        with i18n.use_locale(lang):
            text = render_broadcast(draft.texts, draft.auto_languages, draft.fallback, lang)
        if text is not None:
            await message.answer(text)
    question, markup = views.preview_question(plan)
    await message.answer(question, reply_markup=markup)


async def back_to_segment(
    callback: CallbackQuery, session: AsyncSession, settings: Settings, county: County, state: FSMContext
) -> None:
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    await show_segment(callback.message, session, settings, county, state)


async def confirm_broadcast(
    callback: CallbackQuery, session: AsyncSession, settings: Settings, state: FSMContext
) -> None:
    if not isinstance(callback.message, Message):
        return
    broadcast_id = await draft_id(state)
    try:
        await broadcasts.confirm(session, broadcast_id, settings.tz, progress_chat_id=callback.message.chat.id)
    except BroadcastError:
        await callback.answer(_("This broadcast has already been sent."), show_alert=True)
        return
    await state.clear()
    await callback.answer()
    with contextlib.suppress(TelegramBadRequest):
        await callback.message.edit_reply_markup(reply_markup=None)
    draft = await broadcasts.get(session, broadcast_id)
    progress = await broadcasts.progress(session, broadcast_id)
    text = progress_text(draft, progress, settings.delivery_rate, settings.tz)
    sent = await callback.message.answer(text, reply_markup=progress_keyboard(draft))
    await broadcasts.set_progress_message(session, broadcast_id, sent.chat.id, sent.message_id)


def register(router: Router) -> None:
    router.message.register(take_schedule, StateFilter(BroadcastForm.schedule), has_text)
    on_button = router.callback_query.register
    on_button(schedule_now, BcCb.filter(F.action == "now"), StateFilter(BroadcastForm.schedule))
    on_button(back_to_segment, BcCb.filter(F.action == "seg"), StateFilter(BroadcastForm.preview))
    on_button(confirm_broadcast, BcCb.filter(F.action == "confirm"), StateFilter(BroadcastForm.preview))

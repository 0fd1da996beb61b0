"""Broadcasts, composing: an admin starts with /broadcast, sends the German text (the basis for every language),
adds texts in other languages (tap a language, send its text; "Done"), and decides what clients whose language
has no text get: a machine translation when TRANSLATE_URL is set (marked as automatic), otherwise English +
German or nothing (left out). Then the segment (segment.py), the time and the preview (preview.py). /cancel or
"Discard" drops the draft at any step. Diagram: docs/flows/broadcasts.mmd."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.core.i18n import SUPPORTED_LOCALES, native_name
from bot.services import broadcasts
from bot.services.dto import StaffDTO
from bot.services.translator import Translator
from bot.telegram.callbacks import BcCb
from handlers.broadcasts import views
from handlers.broadcasts.segment import show_segment
from handlers.broadcasts.states import BroadcastForm, discard_draft, draft_id
from handlers.filters import has_text


async def start_broadcast(message: Message, staff: StaffDTO, state: FSMContext) -> None:
    if not staff.is_admin:
        await message.answer(_("Only administrators can send broadcasts."))
        return
    await state.set_state(BroadcastForm.german)
    await state.set_data({})
    await message.answer(
        _(
            "<b>New broadcast.</b> Please send the text in German – it is the basis for every language. "
            "Do not include personal data. /cancel stops."
        )
    )


async def cancel_compose(message: Message, session: AsyncSession, state: FSMContext) -> None:
    await discard_draft(session, state)
    await message.answer(_("The broadcast was discarded."))


async def discard(callback: CallbackQuery, session: AsyncSession, state: FSMContext) -> None:
    await discard_draft(session, state)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(_("The broadcast was discarded."))


async def take_german(message: Message, session: AsyncSession, staff: StaffDTO, state: FSMContext) -> None:
    draft = await broadcasts.create_draft(session, author_staff_id=staff.id, german_text=message.text or "")
    await state.update_data(broadcast_id=draft.id)
    await state.set_state(BroadcastForm.languages)
    await message.answer(views.languages_text(draft.texts), reply_markup=views.languages_keyboard(draft.texts))


async def pick_language(callback: CallbackQuery, callback_data: BcCb, state: FSMContext) -> None:
    if callback_data.v not in SUPPORTED_LOCALES or not isinstance(callback.message, Message):
        await callback.answer()
        return
    await state.update_data(lang=callback_data.v)
    await state.set_state(BroadcastForm.language_text)
    await callback.answer()
    await callback.message.answer(_("Send the text in {language}.").format(language=native_name(callback_data.v)))


async def take_language_text(message: Message, session: AsyncSession, state: FSMContext) -> None:
    data = await state.get_data()
    broadcast_id = int(data["broadcast_id"])
    await broadcasts.set_text(session, broadcast_id, str(data["lang"]), message.text or "")
    await state.set_state(BroadcastForm.languages)
    texts = (await broadcasts.get(session, broadcast_id)).texts
    await message.answer(views.languages_text(texts), reply_markup=views.languages_keyboard(texts))


async def finish_languages(
    callback: CallbackQuery,
    session: AsyncSession,
    settings: Settings,
    county: County,
    state: FSMContext,
    translator: Translator | None,
) -> None:
    """Languages without a text: translated when a translator is set up; what is still missing is asked about."""
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    done, missing = await broadcasts.translate_missing(session, await draft_id(state), translator)
    if done:
        await callback.message.answer(views.translated_text(done))
    if missing:
        await state.set_state(BroadcastForm.fallback)
        await callback.message.answer(views.missing_text(missing), reply_markup=views.fallback_keyboard())
        return
    await show_segment(callback.message, session, settings, county, state)


async def choose_fallback(
    callback: CallbackQuery,
    callback_data: BcCb,
    session: AsyncSession,
    settings: Settings,
    county: County,
    state: FSMContext,
) -> None:
    if not isinstance(callback.message, Message):
        return
    await broadcasts.set_fallback(session, await draft_id(state), callback_data.v)
    await callback.answer()
    await show_segment(callback.message, session, settings, county, state)


def register(router: Router) -> None:
    """First of the broadcast handlers: /cancel and "Discard" win over every step's own input."""
    router.message.register(start_broadcast, Command("broadcast"))
    router.message.register(cancel_compose, Command("cancel"), StateFilter(BroadcastForm))
    router.message.register(take_german, StateFilter(BroadcastForm.german), has_text)
    router.message.register(take_language_text, StateFilter(BroadcastForm.language_text), has_text)
    on_button = router.callback_query.register
    on_button(pick_language, BcCb.filter(F.action == "lang"), StateFilter(BroadcastForm.languages))
    on_button(finish_languages, BcCb.filter(F.action == "langs_done"), StateFilter(BroadcastForm.languages))
    on_button(choose_fallback, BcCb.filter(F.action == "fallback"), StateFilter(BroadcastForm.fallback))
    on_button(discard, BcCb.filter(F.action == "discard"), StateFilter(BroadcastForm))

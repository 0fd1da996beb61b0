"""/language: the client picks a language, each shown in its own name; also the onboarding's first step."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.core.county_text import CountyTexts
from bot.core.i18n import SUPPORTED_LOCALES, native_name
from bot.services import clients
from bot.services.dto import ClientDTO
from bot.telegram.callbacks import LanguageCb, MenuCb
from handlers import keyboards
from handlers.onboarding import Onboarding, continue_onboarding


async def ask_language(message: Message, client: ClientDTO | None) -> None:
    if client is None:
        await message.answer(_("This chat is for clients. Staff commands: /help"))
        return
    await message.answer("🌐 " + _("Please choose your language:"), reply_markup=keyboards.languages())


async def ask_language_from_menu(callback: CallbackQuery) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer("🌐 " + _("Please choose your language:"), reply_markup=keyboards.languages())


async def choose_language(
    callback: CallbackQuery,
    callback_data: LanguageCb,
    state: FSMContext,
    session: AsyncSession,
    client: ClientDTO | None,
    county: County,
    settings: Settings,
    county_texts: CountyTexts,
) -> None:
    if client is None or callback_data.code not in SUPPORTED_LOCALES:
        await callback.answer(_("Please choose one of the buttons."), show_alert=True)
        return
    onboarding = await state.get_state() == Onboarding.language.state
    client = await clients.set_locale(session, client.id, callback_data.code)
    with get_i18n().use_locale(callback_data.code):
        await callback.answer()
        if not isinstance(callback.message, Message):
            return
        await callback.message.edit_text(_("Language: {language}").format(language=native_name(callback_data.code)))
        if onboarding or not client.onboarded:
            await continue_onboarding(callback.message, state, client, county, settings, county_texts)
        else:
            await callback.message.answer(
                _("From now on I will write to you in {language}.").format(language=native_name(callback_data.code)),
                reply_markup=keyboards.main_menu(),
            )


def register(private: Router) -> None:
    private.message.register(ask_language, Command("language"))
    private.callback_query.register(ask_language_from_menu, MenuCb.filter(F.action == "language"))
    private.callback_query.register(choose_language, LanguageCb.filter())

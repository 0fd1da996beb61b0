"""The main menu, its entries that later releases open, and the fallback for anything else."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.core.config import Settings
from bot.core.county import County
from bot.core.county_text import CountyTexts
from bot.services.dto import ClientDTO
from bot.telegram.callbacks import MenuCb
from handlers import keyboards
from handlers.onboarding import continue_onboarding
from handlers.texts import main_menu_text

_NOT_YET_OPEN = {"book", "appointments", "documents", "write"}


async def show_menu(
    message: Message,
    state: FSMContext,
    client: ClientDTO | None,
    county: County,
    settings: Settings,
    county_texts: CountyTexts,
) -> None:
    if client is None:
        await message.answer(_("This chat is for clients. Staff commands: /help"))
        return
    await continue_onboarding(message, state, client, county, settings, county_texts)


async def show_menu_again(callback: CallbackQuery) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(main_menu_text(), reply_markup=keyboards.main_menu())


async def explain_not_open_yet(callback: CallbackQuery) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(
            _(
                "This part of kimbot is not open yet – it is coming soon. Until then, your case manager "
                "is happy to help you by phone or at the office."
            ),
            reply_markup=keyboards.main_menu(),
        )


async def answer_stale_button(callback: CallbackQuery) -> None:
    """A button from an old message (or forged data): say so instead of spinning forever."""
    await callback.answer(_("This button is no longer active. Please use /menu."), show_alert=True)


async def guide_to_menu(
    message: Message,
    state: FSMContext,
    client: ClientDTO | None,
    county: County,
    settings: Settings,
    county_texts: CountyTexts,
) -> None:
    if client is None:
        return
    if not client.onboarded:
        await continue_onboarding(message, state, client, county, settings, county_texts)
        return
    await message.answer(
        _("I did not understand that. Please choose from the menu."), reply_markup=keyboards.main_menu()
    )


def register(private: Router) -> None:
    private.message.register(show_menu, Command("menu"))
    private.callback_query.register(show_menu_again, MenuCb.filter(F.action == "home"))
    private.callback_query.register(explain_not_open_yet, MenuCb.filter(F.action.in_(_NOT_YET_OPEN)))
    private.callback_query.register(answer_stale_button)
    private.message.register(guide_to_menu)

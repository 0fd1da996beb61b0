"""First contact: /start → language (skipped if Telegram told us) → privacy notice → municipality → menu.

Diagram: docs/flows/onboarding.mmd. State lives in the FSM storage, so a restart resumes the step.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.core.county_text import CountyTexts
from bot.services import clients
from bot.services.dto import ClientDTO
from bot.telegram.callbacks import PrivacyCb, TownCb
from handlers import keyboards
from handlers.texts import main_menu_text, privacy_notice


class Onboarding(StatesGroup):
    language = State()
    privacy = State()
    municipality = State()


async def continue_onboarding(
    message: Message,
    state: FSMContext,
    client: ClientDTO,
    county: County,
    settings: Settings,
    county_texts: CountyTexts,
) -> None:
    """Ask for whatever the client has not given yet; show the menu when nothing is missing."""
    if client.locale is None:
        await state.set_state(Onboarding.language)
        await message.answer("🌐 " + _("Please choose your language:"), reply_markup=keyboards.languages())
    elif client.privacy_acknowledged_at is None:
        await state.set_state(Onboarding.privacy)
        notice, markup = _privacy_step(county, settings, county_texts)
        await message.answer(notice, reply_markup=markup)
    elif not client.municipality:
        await state.set_state(Onboarding.municipality)
        await message.answer(_("In which municipality do you live?"), reply_markup=keyboards.municipalities(county))
    else:
        await state.clear()
        await message.answer(main_menu_text(), reply_markup=keyboards.main_menu())


_PRIVACY_STEPS: dict[
    tuple[str | None, int, int, int], tuple[County, Settings, CountyTexts, str, InlineKeyboardMarkup]
] = {}


def _privacy_step(county: County, settings: Settings, county_texts: CountyTexts) -> tuple[str, InlineKeyboardMarkup]:
    """The privacy notice and its button in the current language, built once per language (and county file and
    settings): every first contact shows them, and building them took about 7 % of its CPU (issue 18)."""
    key = (get_i18n().current_locale, id(county), id(settings), id(county_texts))
    cached = _PRIVACY_STEPS.get(key)
    if cached is None or cached[0] is not county or cached[1] is not settings or cached[2] is not county_texts:
        cached = _PRIVACY_STEPS[key] = (
            county,
            settings,
            county_texts,
            privacy_notice(county, settings, county_texts),
            keyboards.privacy_acknowledge(),
        )
    return cached[3], cached[4]


async def greet(
    message: Message,
    state: FSMContext,
    client: ClientDTO | None,
    county: County,
    settings: Settings,
    county_texts: CountyTexts,
) -> None:
    if client is None:  # staff members trying the client side have no client record
        await message.answer(_("This chat is for clients. Staff commands: /help"))
        return
    if not client.onboarded:
        await message.answer(
            _("Welcome to kimbot, the assistant of the integration management of {county}.").format(county=county.name)
        )
    await continue_onboarding(message, state, client, county, settings, county_texts)


async def acknowledge_privacy(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    client: ClientDTO,
    county: County,
    settings: Settings,
    county_texts: CountyTexts,
) -> None:
    client = await clients.acknowledge_privacy(session, client.id)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
        await continue_onboarding(callback.message, state, client, county, settings, county_texts)


async def choose_municipality(
    callback: CallbackQuery,
    callback_data: TownCb,
    state: FSMContext,
    session: AsyncSession,
    client: ClientDTO,
    county: County,
    settings: Settings,
    county_texts: CountyTexts,
) -> None:
    town = county.municipality(callback_data.key)
    if town is None:
        await callback.answer(_("Please choose one of the buttons."), show_alert=True)
        return
    client = await clients.set_municipality(session, client.id, town.key)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(_("Municipality: {name}").format(name=town.name))
        await continue_onboarding(callback.message, state, client, county, settings, county_texts)


async def remind_to_use_buttons(
    message: Message,
    state: FSMContext,
    client: ClientDTO,
    county: County,
    settings: Settings,
    county_texts: CountyTexts,
) -> None:
    """Text typed in the middle of onboarding: repeat the current question."""
    await message.answer(_("Please answer with the buttons below."))
    await continue_onboarding(message, state, client, county, settings, county_texts)


def register(private: Router) -> None:
    private.message.register(greet, CommandStart())
    private.callback_query.register(
        acknowledge_privacy, StateFilter(Onboarding.privacy), PrivacyCb.filter(F.action == "ack")
    )
    private.callback_query.register(choose_municipality, StateFilter(Onboarding.municipality), TownCb.filter())
    private.message.register(remind_to_use_buttons, StateFilter(Onboarding.language))
    private.message.register(remind_to_use_buttons, StateFilter(Onboarding.privacy))
    private.message.register(remind_to_use_buttons, StateFilter(Onboarding.municipality))

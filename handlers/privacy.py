"""/privacy: the notice again, and the client's rights – export everything, or erase everything."""

from __future__ import annotations

import json

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.core.county_text import CountyTexts
from bot.services import privacy
from bot.services.dto import ClientDTO
from bot.services.speech import Speaker
from bot.telegram import fsm_storage
from bot.telegram.callbacks import MenuCb, PrivacyCb
from bot.telegram.topics import ForumTopics
from handlers import keyboards
from handlers.texts import privacy_notice


async def show_privacy(
    message: Message,
    client: ClientDTO | None,
    county: County,
    county_texts: CountyTexts,
    settings: Settings,
    speaker: Speaker | None = None,
) -> None:
    if client is None:
        await message.answer(_("This chat is for clients. Staff commands: /help"))
        return
    notice = privacy_notice(county, settings, county_texts)
    aloud = speaker is not None and speaker.speaks(client.locale)
    await message.answer(notice, reply_markup=keyboards.privacy_rights(read_aloud=aloud))


async def show_privacy_from_menu(
    callback: CallbackQuery,
    county: County,
    county_texts: CountyTexts,
    settings: Settings,
    client: ClientDTO | None = None,
    speaker: Speaker | None = None,
) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        notice = privacy_notice(county, settings, county_texts)
        aloud = speaker is not None and client is not None and speaker.speaks(client.locale)
        await callback.message.answer(notice, reply_markup=keyboards.privacy_rights(read_aloud=aloud))


async def send_export(
    callback: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    client: ClientDTO | None,
    county: County,
    county_texts: CountyTexts,
) -> None:
    if client is None or not isinstance(callback.message, Message):
        await callback.answer(_("This button is no longer active. Please use /menu."), show_alert=True)
        return
    await callback.answer(_("One moment, I am collecting your data…"))
    held = await fsm_storage.read(state.storage, fsm_storage.client_keys(bot.id, client.telegram_id))
    data = await privacy.export(session, client.id, county=county, conversation_state=held, county_texts=county_texts)
    payload = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await callback.message.answer_document(
        BufferedInputFile(payload, filename=f"kimbot-{client.reference}.json"),
        caption=_("This is all the data kimbot holds about you."),
    )


async def confirm_erase(callback: CallbackQuery) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(
            _(
                "Do you really want to delete all your data? Your appointments and reminders will be "
                "deleted too. This cannot be undone."
            ),
            reply_markup=keyboards.erase_confirmation(),
        )


async def erase_everything(
    callback: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    client: ClientDTO | None,
    topics: ForumTopics,
) -> None:
    """The rows, the conversation state (through the configured storage) and the topic and Intake card in the
    staff group; the client is told honestly when Telegram would not delete the latter – before the rows go, so
    the answer does not wait behind the deletes (nor come after the journal already counts the update done)."""
    if client is None or not isinstance(callback.message, Message):
        await callback.answer(_("This button is no longer active. Please use /menu."), show_alert=True)
        return
    await callback.answer()
    message = callback.message
    forget: list[privacy.Forget] = [
        topics.bind(bot, session).erase_client,
        fsm_storage.forgetter(state.storage, bot.id),
    ]

    async def tell(erased: privacy.Erasure) -> None:
        if erased.complete:
            text = _("All your data has been deleted. If you write to me again, we start afresh with /start.")
        else:
            text = _(
                "Your data has been deleted from kimbot. Your conversation in the staff group could not be deleted "
                "automatically; the staff have been asked to delete it by hand. If you write to me again, we start "
                "afresh with /start."
            )
        await message.edit_text(text)

    await privacy.erase(session, client.id, forget=forget, before_rows=tell)


async def keep_data(callback: CallbackQuery) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(_("Nothing was deleted."), reply_markup=keyboards.main_menu())


def register(private: Router) -> None:
    private.message.register(show_privacy, Command("privacy"))
    private.callback_query.register(show_privacy_from_menu, MenuCb.filter(F.action == "privacy"))
    private.callback_query.register(send_export, PrivacyCb.filter(F.action == "export"))
    private.callback_query.register(confirm_erase, PrivacyCb.filter(F.action == "erase"))
    private.callback_query.register(erase_everything, PrivacyCb.filter(F.action == "erase_yes"))
    private.callback_query.register(keep_data, PrivacyCb.filter(F.action == "erase_no"))

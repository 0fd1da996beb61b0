"""Read aloud: the "🔊" button under kimbot's longer messages (the privacy notice, the booking summary, a staff
answer translated into the client's language) sends the text as a voice note in the client's language
(`bot.services.speech`). The text is never taken from the button: each handler derives it again – the notice from
the county file, the summary from the booking in progress, the answer from the relay pair that proves the message
is this client's – and a language without a voice has no button.
"""

from __future__ import annotations

import contextlib

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.core.county_text import CountyTexts
from bot.services import handoff, interpreters
from bot.services.dto import ClientDTO
from bot.services.speech import Speaker, SpeechError
from bot.telegram.callbacks import ReadAloudCb
from handlers.booking import views
from handlers.booking.conversation import BOOKING, Booking, BookingConversation
from handlers.keyboards import read_aloud_button
from handlers.texts import privacy_notice


def with_button(markup: InlineKeyboardMarkup | None, what: str, ref: int = 0) -> InlineKeyboardMarkup:
    """The keyboard with a 🔊 row added at the end."""
    rows = list(markup.inline_keyboard) if markup is not None else []
    return InlineKeyboardMarkup(inline_keyboard=[*rows, [read_aloud_button(what, ref)]])


async def _speak(callback: CallbackQuery, speaker: Speaker | None, text: str | None) -> None:
    locale = get_i18n().current_locale
    if speaker is None or text is None or not speaker.speaks(locale) or not isinstance(callback.message, Message):
        await callback.answer(_("This is no longer possible."), show_alert=True)
        return
    await callback.answer()
    try:
        audio = await speaker.voice_note(text, locale)
    except SpeechError:
        await callback.message.answer(_("Reading aloud is not available right now. Please try again later."))
        return
    await callback.message.answer_voice(
        BufferedInputFile(audio, filename="kimbot.ogg"), reply_to_message_id=callback.message.message_id
    )


async def read_privacy(
    callback: CallbackQuery, county: County, settings: Settings, county_texts: CountyTexts, speaker: Speaker | None
) -> None:
    await _speak(callback, speaker, privacy_notice(county, settings, county_texts))


async def read_summary(callback: CallbackQuery, conversation: BookingConversation, speaker: Speaker | None) -> None:
    """The summary of the booking in progress, as the summary step shows it (the time must still be free)."""
    text = None
    if await conversation.state.get_state() == Booking.summary.state:
        draft = await conversation.draft()
        query, slot = await conversation.find_slot(draft.staff_id, draft.starts_at)
        if query is not None and slot is not None:
            tz, locale, need = conversation.settings.tz, conversation.locale, interpreters.need_of(query)
            text = views.summary_text(
                conversation.county,
                query.service,
                slot,
                draft.address,
                locale,
                tz,
                conversation.texts,
                views.home_visit_note(query, slot, tz),
                views.remote_place(draft.mode, draft.phone, locale),
                need is not None and slot.staff_id not in need.speakers,
            )
    await _speak(callback, speaker, text)


async def read_answer(
    callback: CallbackQuery, client: ClientDTO | None, session: AsyncSession, speaker: Speaker | None
) -> None:
    """A staff answer shown in the client's language: only a message the relay delivered to this client, and only
    its translation (above the German original)."""
    message = callback.message if isinstance(callback.message, Message) else None
    pair = await handoff.by_client_message(session, client.id, message.message_id) if client and message else None
    text = None
    if message is not None and pair is not None and pair.direction == "out" and message.text:
        text = message.text.split("\n\n— ", 1)[0]
    await _speak(callback, speaker, text)


def register(private: Router) -> None:
    private.callback_query.register(read_privacy, ReadAloudCb.filter(F.what == "privacy"))
    private.callback_query.register(read_summary, ReadAloudCb.filter(F.what == "summary"), flags={BOOKING: True})
    private.callback_query.register(read_answer, ReadAloudCb.filter(F.what == "answer"))


async def offer_for_answer(bot: Bot, client: ClientDTO, copy_id: int, speaker: Speaker | None) -> None:
    """A staff answer the client got in their language: 🔊 under it (a courtesy – a refused edit changes nothing)."""
    if speaker is None or not speaker.speaks(client.locale):
        return
    with get_i18n().use_locale(client.locale or get_i18n().default_locale):  # called from the staff side
        markup = with_button(None, "answer")
    with contextlib.suppress(TelegramBadRequest):
        await bot.edit_message_reply_markup(chat_id=client.telegram_id, message_id=copy_id, reply_markup=markup)

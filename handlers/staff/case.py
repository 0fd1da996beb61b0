"""The case file in a client's topic: `/note` writes a note into it (stored with author and time, never sent to the
client), `/case` – or the header card's "Case" button – shows it as pages that the buttons turn.

Staff only (the router's filter; the staff group only). Buttons are input from a device: every tap checks again
that the case shown is the one of the topic it was tapped in (`topic_client_of`).
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.services import case_view, casework_notes, handoff, office_hours
from bot.services.dto import ClientDTO, StaffDTO
from bot.telegram.callbacks import CaseCb
from handlers.handoff.filters import in_client_topic, in_staff_group
from handlers.staff import case_views, casework_views
from handlers.staff.commands import IsStaff


async def topic_client_of(callback: CallbackQuery, client_id: int, session: AsyncSession) -> ClientDTO | None:
    """The client whose topic the tapped message is in, if it is `client_id` (else the tapper is told)."""
    message = callback.message
    thread = message.message_thread_id if isinstance(message, Message) else None
    found = None
    if message is not None and thread is not None:
        found = await handoff.client_id_for_topic(session, message.chat.id, thread)
    client = await handoff.client(session, client_id) if found == client_id else None
    if client is None:
        await callback.answer(_("This client no longer exists."), show_alert=True)
    return client


async def write_note(
    message: Message, command: CommandObject, topic_client: ClientDTO, session: AsyncSession, staff: StaffDTO
) -> None:
    try:
        await casework_notes.add(session, topic_client.id, staff.id, command.args)
    except casework_notes.EmptyNote:
        await message.reply(casework_views.note_usage())
        return
    await message.reply(casework_views.note_saved(topic_client.reference))


async def _page(
    client_id: int, page: int, session: AsyncSession, county: County, settings: Settings
) -> tuple[str, InlineKeyboardMarkup]:
    now = office_hours.now()
    case = await case_view.assemble(session, client_id, county, now=now, today=now.astimezone(settings.tz).date())
    pages = case_views.case_pages(case, county, get_i18n().current_locale, settings.tz, now=now)
    index = min(page, len(pages) - 1)
    return case_views.page_text(case, pages, index), case_views.page_keyboard(client_id, pages, index)


async def show_case(
    message: Message, topic_client: ClientDTO, session: AsyncSession, county: County, settings: Settings
) -> None:
    text, keyboard = await _page(topic_client.id, 0, session, county, settings)
    await message.reply(text, reply_markup=keyboard)


async def turn_page(
    callback: CallbackQuery, callback_data: CaseCb, session: AsyncSession, county: County, settings: Settings
) -> None:
    client = await topic_client_of(callback, callback_data.client, session)
    if client is None or not isinstance(callback.message, Message):
        return
    text, keyboard = await _page(client.id, callback_data.page, session, county, settings)
    await callback.answer()
    if callback_data.new:  # the header card's button: the card stays as it is
        await callback.message.reply(text, reply_markup=keyboard)
    else:
        await callback.message.edit_text(text, reply_markup=keyboard)


def build_router() -> Router:
    """Mounted in the staff area before the handoff's topic router, which would take these commands as its own."""
    router = Router(name="staff_case")
    router.message.filter(IsStaff())
    router.callback_query.filter(IsStaff())
    topic = (in_staff_group, in_client_topic)
    router.message.register(write_note, Command("note"), *topic)
    router.message.register(show_case, Command("case"), *topic)
    router.callback_query.register(turn_page, CaseCb.filter(), in_staff_group)
    return router

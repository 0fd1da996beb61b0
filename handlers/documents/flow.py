"""My documents: the client lists, adds, re-dates and deletes the documents they want reminders about – type and
expiry date only; the date is typed in any common form (also with Arabic-Indic or Persian digits) or picked on an
inline calendar. Staff's /expiring is in `staff.py`.

Flow diagram: docs/flows/documents.mmd.
"""

from __future__ import annotations

import contextlib
from datetime import date

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.db.base import utcnow
from bot.services import documents
from bot.services.documents import DOCUMENT_TYPES, DocumentDTO, InvalidDocument
from bot.services.dto import ClientDTO
from bot.telegram.callbacks import CalCb, DocCb, MenuCb
from handlers.documents import views
from handlers.filters import is_plain_text


class DocumentForm(StatesGroup):
    expiry = State()


def _locale() -> str:
    return get_i18n().current_locale


def today(settings: Settings) -> date:
    return utcnow().astimezone(settings.tz).date()


async def _send_list(message: Message, session: AsyncSession, client: ClientDTO) -> None:
    items = await documents.for_client(session, client.id)
    await message.answer(views.list_text(items, _locale()), reply_markup=views.documents_keyboard(items))


async def _ask_date(message: Message, settings: Settings, doc_type: str) -> None:
    await message.answer(views.date_question(doc_type), reply_markup=views.this_month(today(settings), _locale()))


async def owned_document(
    callback: CallbackQuery, callback_data: DocCb, session: AsyncSession, client: ClientDTO | None
) -> tuple[Message, DocumentDTO] | None:
    """The caller's document with this id and the message to answer on; else None, the callback answered."""
    if client is None or not isinstance(callback.message, Message):
        await callback.answer()
        return None
    try:
        item = await documents.get(session, client.id, callback_data.id)
    except LookupError:
        await callback.answer(_("This document is no longer in your list."), show_alert=True)
        return None
    await callback.answer()
    return callback.message, item


# ------------------------------------------------------------------ the list


async def show_documents(
    callback: CallbackQuery, state: FSMContext, session: AsyncSession, client: ClientDTO | None
) -> None:
    await callback.answer()
    await state.clear()
    if client is None or not isinstance(callback.message, Message):
        return
    await _send_list(callback.message, session, client)


async def ask_type(callback: CallbackQuery, client: ClientDTO | None) -> None:
    await callback.answer()
    if client is None or not isinstance(callback.message, Message):
        return
    await callback.message.answer(_("Which document?"), reply_markup=views.types_keyboard())


async def ask_delete(
    callback: CallbackQuery, callback_data: DocCb, session: AsyncSession, client: ClientDTO | None
) -> None:
    if (found := await owned_document(callback, callback_data, session, client)) is None:
        return
    message, item = found
    await message.answer(views.delete_question(item, _locale()), reply_markup=views.delete_keyboard(item.id))


async def delete_document(
    callback: CallbackQuery, callback_data: DocCb, session: AsyncSession, client: ClientDTO | None
) -> None:
    if client is None or not isinstance(callback.message, Message):
        await callback.answer()
        return
    try:
        await documents.remove(session, client_id=client.id, document_id=callback_data.id)
    except LookupError:
        await callback.answer(_("This document is no longer in your list."), show_alert=True)
        return
    await callback.answer(_("Deleted."))
    await _send_list(callback.message, session, client)


# ------------------------------------------------------------------ the expiry date


async def ask_expiry_for_new(
    callback: CallbackQuery, callback_data: DocCb, state: FSMContext, settings: Settings, client: ClientDTO | None
) -> None:
    await callback.answer()
    if client is None or callback_data.t not in DOCUMENT_TYPES or not isinstance(callback.message, Message):
        return
    await state.set_state(DocumentForm.expiry)
    await state.set_data({"doc_type": callback_data.t, "doc_id": None})
    await _ask_date(callback.message, settings, callback_data.t)


async def ask_expiry_for_existing(
    callback: CallbackQuery,
    callback_data: DocCb,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    client: ClientDTO | None,
) -> None:
    if (found := await owned_document(callback, callback_data, session, client)) is None:
        return
    message, item = found
    await state.set_state(DocumentForm.expiry)
    await state.set_data({"doc_type": item.doc_type, "doc_id": item.id})
    await _ask_date(message, settings, item.doc_type)


async def turn_calendar(callback: CallbackQuery, callback_data: CalCb, settings: Settings) -> None:
    await callback.answer()
    if not isinstance(callback.message, Message) or not 1 <= callback_data.m <= 12:
        return
    now = today(settings)
    # Not before this month, not beyond a century (a forged year near 9999 would break the next month's button).
    year, month = min(max((callback_data.y, callback_data.m), (now.year, now.month)), (now.year + 100, 12))
    with contextlib.suppress(TelegramBadRequest):  # "message is not modified" after a double tap
        await callback.message.edit_reply_markup(reply_markup=views.calendar_keyboard(year, month, now, _locale()))


async def ignore_calendar_label(callback: CallbackQuery) -> None:
    await callback.answer()


async def _save(
    message: Message, expires_on: date, state: FSMContext, session: AsyncSession, settings: Settings, client: ClientDTO
) -> None:
    data = await state.get_data()
    doc_type, doc_id = data.get("doc_type", "other"), data.get("doc_id")
    try:
        if doc_id is None:
            item, planned = await documents.add(
                session, client_id=client.id, doc_type=doc_type, expires_on=expires_on, tz=settings.tz
            )
        else:
            item, planned = await documents.change_expiry(
                session, client_id=client.id, document_id=int(doc_id), expires_on=expires_on, tz=settings.tz
            )
    except InvalidDocument as exc:
        await message.answer(views.invalid_date(str(exc)), reply_markup=views.this_month(today(settings), _locale()))
        return
    except LookupError:
        await state.clear()
        await message.answer(_("This document is no longer in your list."))
        return
    await state.clear()
    await message.answer(views.saved_text(item, planned, _locale(), settings.tz))
    await _send_list(message, session, client)


async def pick_date(
    callback: CallbackQuery,
    callback_data: CalCb,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    client: ClientDTO | None,
) -> None:
    await callback.answer()
    if client is None or not isinstance(callback.message, Message):
        return
    if await state.get_state() != DocumentForm.expiry.state:
        await callback.message.answer(_("Please start again from “My documents”."))
        return
    try:
        picked = date(callback_data.y, callback_data.m, callback_data.d)
    except ValueError:
        return
    with contextlib.suppress(TelegramBadRequest):
        await callback.message.edit_reply_markup(reply_markup=None)
    await _save(callback.message, picked, state, session, settings, client)


async def read_typed_date(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings, client: ClientDTO | None
) -> None:
    if client is None:
        return
    parsed = documents.parse_date(message.text or "")
    if parsed is None:
        await message.answer(views.unreadable_date(), reply_markup=views.this_month(today(settings), _locale()))
        return
    await _save(message, parsed, state, session, settings, client)


def register(private: Router) -> None:
    private.callback_query.register(show_documents, MenuCb.filter(F.action == "documents"))
    private.callback_query.register(show_documents, DocCb.filter(F.action == "list"))
    private.callback_query.register(ask_type, DocCb.filter(F.action == "add"))
    private.callback_query.register(ask_expiry_for_new, DocCb.filter(F.action == "type"))
    private.callback_query.register(ask_expiry_for_existing, DocCb.filter(F.action == "edit"))
    private.callback_query.register(ask_delete, DocCb.filter(F.action == "del"))
    private.callback_query.register(delete_document, DocCb.filter(F.action == "del_yes"))
    private.callback_query.register(turn_calendar, CalCb.filter(F.action == "nav"))
    private.callback_query.register(pick_date, CalCb.filter(F.action == "day"))
    private.callback_query.register(ignore_calendar_label, CalCb.filter(F.action == "noop"))
    private.message.register(read_typed_date, StateFilter(DocumentForm.expiry), is_plain_text)

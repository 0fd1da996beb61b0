"""My documents: the client lists, adds, re-dates and deletes the documents they want reminders about – type and
expiry date only; the date is typed in any common form (also with Arabic-Indic or Persian digits) or picked on an
inline calendar. Staff: /expiring lists their clients' documents expiring within 90 days.

Flow diagram: docs/flows/documents.mmd.
"""

from __future__ import annotations

import calendar
import contextlib
from datetime import date
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_skeleton, get_day_names
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.i18n import babel_locale, fmt_date, fmt_datetime
from bot.core.labels import doc_type_label
from bot.db.base import utcnow
from bot.services import documents
from bot.services.documents import DOCUMENT_TYPES, DocumentDTO, InvalidDocument
from bot.services.dto import ClientDTO, StaffDTO
from bot.telegram.callbacks import CalCb, DocCb, MenuCb
from handlers.filters import is_plain_text
from handlers.staff.commands import IsStaff


class DocumentForm(StatesGroup):
    expiry = State()


def _locale() -> str:
    return get_i18n().current_locale


# ------------------------------------------------------------------ keyboards


def _documents_keyboard(items: list[DocumentDTO]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    sizes = []
    for item in items:
        kb.button(
            text=_("Change date: {document}").format(document=doc_type_label(item.doc_type)),
            callback_data=DocCb(action="edit", id=item.id),
        )
        kb.button(text=_("Delete"), callback_data=DocCb(action="del", id=item.id))
        sizes.append(2)
    kb.button(text=_("Add a document"), callback_data=DocCb(action="add"))
    kb.button(text=_("Back to the menu"), callback_data=MenuCb(action="home"))
    kb.adjust(*sizes, 1, 1)
    return kb.as_markup()


def _types_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for doc_type in DOCUMENT_TYPES:
        kb.button(text=doc_type_label(doc_type), callback_data=DocCb(action="type", t=doc_type))
    kb.button(text=_("Back"), callback_data=DocCb(action="list"))
    kb.adjust(1)
    return kb.as_markup()


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def calendar_keyboard(year: int, month: int, today: date, locale: str) -> InlineKeyboardMarkup:
    """A month on an inline keyboard, weeks starting on Monday; days before today cannot be picked."""
    kb = InlineKeyboardBuilder()
    noop = CalCb(action="noop", y=year, m=month)
    first = (year, month) <= (today.year, today.month)
    nav = [("«", -12), ("‹", -1), None, ("›", 1), ("»", 12)]
    for entry in nav:
        if entry is None:
            title = format_skeleton("yMMMM", date(year, month, 1), locale=babel_locale(locale))
            kb.button(text=title, callback_data=noop)
            continue
        symbol, months = entry
        y, m = _shift(year, month, months)
        if months < 0 and first:
            kb.button(text=" ", callback_data=noop)
        else:
            kb.button(text=symbol, callback_data=CalCb(action="nav", y=y, m=m))
    for name in get_day_names("narrow", context="stand-alone", locale=babel_locale(locale)).values():
        kb.button(text=name, callback_data=noop)
    weeks = calendar.Calendar(firstweekday=0).monthdayscalendar(year, month)
    for week in weeks:
        for day in week:
            if day == 0 or date(year, month, day) < today:
                kb.button(text=" " if day == 0 else "·", callback_data=noop)
            else:
                kb.button(text=str(day), callback_data=CalCb(action="day", y=year, m=month, d=day))
    kb.button(text=_("Cancel"), callback_data=DocCb(action="list"))
    kb.adjust(5, 7, *[7] * len(weeks), 1)
    return kb.as_markup()


# ------------------------------------------------------------------ texts


def _list_text(items: list[DocumentDTO]) -> str:
    locale = _locale()
    lines = [_("<b>My documents</b>")]
    if not items:
        lines.append(_("You have not added any documents yet."))
    for item in items:
        lines.append(
            _("• {document}: expires on {date}").format(
                document=doc_type_label(item.doc_type), date=fmt_date(item.expires_on, locale)
            )
        )
    lines += [
        "",
        _(
            "I remind you in good time before a document expires. I only store the type and the expiry date – "
            "never document numbers or photos."
        ),
    ]
    return "\n".join(lines)


def _today(settings: Settings) -> date:
    return utcnow().astimezone(settings.tz).date()


async def _send_list(message: Message, session: AsyncSession, client: ClientDTO) -> None:
    items = await documents.for_client(session, client.id)
    await message.answer(_list_text(items), reply_markup=_documents_keyboard(items))


async def _ask_date(message: Message, settings: Settings, doc_type: str) -> None:
    today = _today(settings)
    await message.answer(
        _("When does your {document} expire? Type the date, for example {example}, or pick it below.").format(
            document=doc_type_label(doc_type), example="31.03.2027"
        ),
        reply_markup=calendar_keyboard(today.year, today.month, today, _locale()),
    )


# ------------------------------------------------------------------ client handlers


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
    await callback.message.answer(_("Which document?"), reply_markup=_types_keyboard())


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
    if client is None or not isinstance(callback.message, Message):
        await callback.answer()
        return
    try:
        item = await documents.get(session, client.id, callback_data.id)
    except LookupError:
        await callback.answer(_("This document is no longer in your list."), show_alert=True)
        return
    await callback.answer()
    await state.set_state(DocumentForm.expiry)
    await state.set_data({"doc_type": item.doc_type, "doc_id": item.id})
    await _ask_date(callback.message, settings, item.doc_type)


async def turn_calendar(callback: CallbackQuery, callback_data: CalCb, settings: Settings) -> None:
    await callback.answer()
    if not isinstance(callback.message, Message) or not 1 <= callback_data.m <= 12:
        return
    today = _today(settings)
    year, month = max((callback_data.y, callback_data.m), (today.year, today.month))
    with contextlib.suppress(TelegramBadRequest):  # "message is not modified" after a double tap
        await callback.message.edit_reply_markup(reply_markup=calendar_keyboard(year, month, today, _locale()))


async def ignore_calendar_label(callback: CallbackQuery) -> None:
    await callback.answer()


async def _save(
    message: Message,
    expires_on: date,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    client: ClientDTO,
) -> None:
    data: dict[str, Any] = await state.get_data()
    doc_type, doc_id = data.get("doc_type", "other"), data.get("doc_id")
    locale = _locale()
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
        today = _today(settings)
        text = (
            _("This date is in the past. If your document has expired, please contact your case manager soon.")
            if str(exc) == "in the past"
            else _("Please check the date – it is too far in the future.")
        )
        await message.answer(text, reply_markup=calendar_keyboard(today.year, today.month, today, locale))
        return
    except LookupError:
        await state.clear()
        await message.answer(_("This document is no longer in your list."))
        return
    await state.clear()
    lines = [
        _("Saved: {document}, expires on {date}.").format(
            document=doc_type_label(item.doc_type), date=fmt_date(item.expires_on, locale)
        )
    ]
    if planned:
        lines.append(_("I will remind you on:"))
        lines += [f"• {fmt_datetime(due, locale, settings.tz)}" for due in planned]
    else:
        lines.append(
            _("This is soon – please contact the immigration office (Ausländerbehörde) or your case manager now.")
        )
    await message.answer("\n".join(lines))
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
        today = _today(settings)
        await message.answer(
            _("I could not read this date. Please type it like {example}, or pick it below.").format(
                example="31.03.2027"
            ),
            reply_markup=calendar_keyboard(today.year, today.month, today, _locale()),
        )
        return
    await _save(message, parsed, state, session, settings, client)


async def ask_delete(
    callback: CallbackQuery, callback_data: DocCb, session: AsyncSession, client: ClientDTO | None
) -> None:
    if client is None or not isinstance(callback.message, Message):
        await callback.answer()
        return
    try:
        item = await documents.get(session, client.id, callback_data.id)
    except LookupError:
        await callback.answer(_("This document is no longer in your list."), show_alert=True)
        return
    await callback.answer()
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, delete it"), callback_data=DocCb(action="del_yes", id=item.id))
    kb.button(text=_("No, keep it"), callback_data=DocCb(action="list"))
    kb.adjust(1)
    await callback.message.answer(
        _("Delete {document} (expires on {date})? Its reminders will be stopped.").format(
            document=doc_type_label(item.doc_type), date=fmt_date(item.expires_on, _locale())
        ),
        reply_markup=kb.as_markup(),
    )


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


async def back_to_list(
    callback: CallbackQuery, state: FSMContext, session: AsyncSession, client: ClientDTO | None
) -> None:
    await show_documents(callback, state, session, client)


# ------------------------------------------------------------------ staff


async def list_expiring(message: Message, session: AsyncSession, settings: Settings, staff: StaffDTO) -> None:
    today = _today(settings)
    items = await documents.expiring(session, staff, today)
    locale = _locale()
    if not items:
        await message.answer(
            _("No documents of your clients expire in the next {days} days.").format(days=documents.EXPIRING_DAYS)
        )
        return
    lines = [_("<b>Documents expiring in the next {days} days</b>").format(days=documents.EXPIRING_DAYS)]
    lines += [
        f"{fmt_date(item.expires_on, locale, 'medium')} · {item.client_reference} · {doc_type_label(item.doc_type)}"
        for item in items
    ]
    await message.answer("\n".join(lines))


def build_staff_router() -> Router:
    """/expiring, mounted in the staff area (a client's /expiring is refused with the other staff commands)."""
    router = Router(name="documents_staff")
    router.message.register(list_expiring, Command("expiring"), IsStaff())
    return router


def register(private: Router) -> None:
    private.callback_query.register(show_documents, MenuCb.filter(F.action == "documents"))
    private.callback_query.register(back_to_list, DocCb.filter(F.action == "list"))
    private.callback_query.register(ask_type, DocCb.filter(F.action == "add"))
    private.callback_query.register(ask_expiry_for_new, DocCb.filter(F.action == "type"))
    private.callback_query.register(ask_expiry_for_existing, DocCb.filter(F.action == "edit"))
    private.callback_query.register(ask_delete, DocCb.filter(F.action == "del"))
    private.callback_query.register(delete_document, DocCb.filter(F.action == "del_yes"))
    private.callback_query.register(turn_calendar, CalCb.filter(F.action == "nav"))
    private.callback_query.register(pick_date, CalCb.filter(F.action == "day"))
    private.callback_query.register(ignore_calendar_label, CalCb.filter(F.action == "noop"))
    private.message.register(read_typed_date, StateFilter(DocumentForm.expiry), is_plain_text)

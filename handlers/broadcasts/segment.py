"""Broadcasts, choosing the recipients: the admin combines criteria (language, municipality, office, case
manager: several values each, combined with "or"; an appointment in a date range; a document expiring soon) and
sees after every change how many clients the segment reaches now; "Continue" asks when to send. Every button is
its own handler; a button from another step (or "Back") shows the segment again."""

from __future__ import annotations

import contextlib

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.services import broadcasts
from bot.services import staff as staff_service
from bot.services.broadcasts import Segment
from bot.services.dates import parse_range
from bot.services.documents import DOCUMENT_TYPES
from bot.telegram.callbacks import BcCb
from handlers.broadcasts import views
from handlers.broadcasts.states import BroadcastForm, draft_id
from handlers.filters import has_text

SEGMENT_STATES = (BroadcastForm.segment, BroadcastForm.segment_dates, BroadcastForm.segment_days)
TOGGLES = tuple(f"t_{kind}" for kind in views.CRITERIA)


async def show_segment(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    county: County,
    state: FSMContext,
    *,
    edit: bool = False,
) -> None:
    """The segment so far and its recipients now, as a new message or (`edit`) in place of `message`."""
    await state.set_state(BroadcastForm.segment)
    broadcast_id = await draft_id(state)
    draft = await broadcasts.get(session, broadcast_id)
    plan = await broadcasts.plan(session, broadcast_id, settings.tz)
    text = views.segment_text(draft.segment, county, await staff_service.active_case_managers(session), plan)
    if edit:
        with contextlib.suppress(TelegramBadRequest):
            await message.edit_text(text, reply_markup=views.segment_keyboard())
            return
    await message.answer(text, reply_markup=views.segment_keyboard())


async def pick_criterion(
    callback: CallbackQuery, callback_data: BcCb, session: AsyncSession, county: County, state: FSMContext
) -> None:
    if not isinstance(callback.message, Message):
        return
    kind = callback_data.v
    draft = await broadcasts.get(session, await draft_id(state))
    options = views.choices(kind, county, await staff_service.active_case_managers(session))
    await callback.answer()
    markup = views.pick_keyboard(kind, options, views.selected(draft.segment, kind))
    await callback.message.edit_text(views.pick_text(), reply_markup=markup)


async def toggle_choice(
    callback: CallbackQuery, callback_data: BcCb, session: AsyncSession, county: County, state: FSMContext
) -> None:
    if not isinstance(callback.message, Message):
        return
    broadcast_id = await draft_id(state)
    draft = await broadcasts.get(session, broadcast_id)
    kind = callback_data.action.removeprefix("t_")
    options = views.choices(kind, county, await staff_service.active_case_managers(session))
    await callback.answer()
    if callback_data.v not in {key for key, _label in options}:
        return
    segment = draft.segment.toggled(views.CRITERIA[kind], callback_data.v)
    await broadcasts.set_segment(session, broadcast_id, segment)
    await callback.message.edit_reply_markup(
        reply_markup=views.pick_keyboard(kind, options, views.selected(segment, kind))
    )


async def reset_segment(
    callback: CallbackQuery, session: AsyncSession, settings: Settings, county: County, state: FSMContext
) -> None:
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    await broadcasts.set_segment(session, await draft_id(state), Segment())
    await show_segment(callback.message, session, settings, county, state, edit=True)


async def refresh_segment(
    callback: CallbackQuery, session: AsyncSession, settings: Settings, county: County, state: FSMContext
) -> None:
    """ "Back" from a choice, and any button of another step: the segment again, in place."""
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    await show_segment(callback.message, session, settings, county, state, edit=True)


async def ask_dates(callback: CallbackQuery, state: FSMContext) -> None:
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    await state.set_state(BroadcastForm.segment_dates)
    await callback.message.answer(views.dates_prompt())


async def take_dates(
    message: Message, session: AsyncSession, settings: Settings, county: County, state: FSMContext
) -> None:
    found = parse_range(message.text or "")
    if found is None:
        await message.answer(views.dates_retry())
        return
    await broadcasts.set_appointment_range(session, await draft_id(state), *found)
    await show_segment(message, session, settings, county, state)


async def ask_document(callback: CallbackQuery) -> None:
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    await callback.message.edit_text(_("Which document?"), reply_markup=views.document_keyboard())


async def choose_document(callback: CallbackQuery, callback_data: BcCb, state: FSMContext) -> None:
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    if callback_data.v and callback_data.v not in DOCUMENT_TYPES:
        return
    await state.update_data(doc_type=callback_data.v)
    await state.set_state(BroadcastForm.segment_days)
    await callback.message.answer(_("Expiring within how many days? Send a number."))


async def take_days(
    message: Message, session: AsyncSession, settings: Settings, county: County, state: FSMContext
) -> None:
    raw = (message.text or "").strip()
    if not raw.isdigit() or not 0 < int(raw) <= 3650:
        await message.answer(_("Please send a number of days, e.g. 30."))
        return
    data = await state.get_data()
    await broadcasts.set_document_expiry(session, int(data["broadcast_id"]), int(raw), data.get("doc_type") or None)
    await show_segment(message, session, settings, county, state)


async def finish_segment(callback: CallbackQuery, settings: Settings, state: FSMContext) -> None:
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    await state.set_state(BroadcastForm.schedule)
    text, markup = views.schedule_view(settings.timezone)
    await callback.message.answer(text, reply_markup=markup)


def register(router: Router) -> None:
    """After compose.register (its "Discard" comes first); `refresh_segment` takes every other button."""
    router.message.register(take_dates, StateFilter(BroadcastForm.segment_dates), has_text)
    router.message.register(take_days, StateFilter(BroadcastForm.segment_days), has_text)
    on_button = router.callback_query.register
    in_segment = StateFilter(*SEGMENT_STATES)
    on_button(pick_criterion, BcCb.filter((F.action == "pick") & F.v.in_(tuple(views.CRITERIA))), in_segment)
    on_button(toggle_choice, BcCb.filter(F.action.in_(TOGGLES)), in_segment)
    on_button(reset_segment, BcCb.filter(F.action == "seg_reset"), in_segment)
    on_button(ask_dates, BcCb.filter(F.action == "appt"), in_segment)
    on_button(ask_document, BcCb.filter(F.action == "doc"), in_segment)
    on_button(choose_document, BcCb.filter(F.action == "doc_type"), in_segment)
    on_button(finish_segment, BcCb.filter(F.action == "seg_done"), in_segment)
    on_button(refresh_segment, BcCb.filter(), in_segment)

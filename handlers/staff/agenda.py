"""Staff side of appointments: /agenda (today and tomorrow, attended / no-show, the home address on request),
/block to make time unavailable, and /bookfor to book on a client's behalf. Staff only, by numeric id."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.core.county_text import CountyTexts
from bot.services import booking, clients
from bot.services.booking import AppointmentNotFound
from bot.services.dto import StaffDTO
from bot.telegram.callbacks import AgendaCb
from handlers.booking.flow import start_booking
from handlers.filters import in_private_chat
from handlers.staff import views
from handlers.staff.commands import IsStaff
from handlers.staff.followups import show_due as show_followups

STAFF_APPOINTMENT_COMMANDS = ("agenda", "block", "bookfor")
_BLOCK = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2}))?(?:\s+(.*))?$")


@dataclass(frozen=True, slots=True)
class BlockRequest:
    day: date
    start: datetime
    end: datetime
    reason: str


def parse_block(args: str, tz: tzinfo) -> BlockRequest | None:
    """`2027-01-07` (the whole day) or `2027-01-07 09:00-12:00 [reason]`; None when it is neither."""
    match = _BLOCK.match(args.strip())
    if not match:
        return None
    day_text, start_text, end_text, reason = match.groups()
    try:
        day = date.fromisoformat(day_text)
        start_t = time.fromisoformat(start_text.zfill(5)) if start_text else time(0)
        end_t = time.fromisoformat(end_text.zfill(5)) if end_text else None
    except ValueError:
        return None
    start = datetime.combine(day, start_t, tzinfo=tz)
    end = datetime.combine(day, end_t, tzinfo=tz) if end_t else start + timedelta(days=1)
    if end <= start:
        return None
    return BlockRequest(day, start, end, (reason or "blocked")[:32])


async def show_agenda(
    message: Message,
    session: AsyncSession,
    county: County,
    county_texts: CountyTexts,
    settings: Settings,
    staff: StaffDTO,
) -> None:
    locale = get_i18n().current_locale
    today = datetime.now(settings.tz).date()
    start = datetime.combine(today, time(0), tzinfo=settings.tz)
    items = await booking.agenda(session, staff.id, start, start + timedelta(days=2))
    if not items:
        await message.answer(_("No appointments today or tomorrow."))
        await show_followups(message, session, settings, staff)
        return
    await message.answer(_("<b>Your appointments today and tomorrow</b>"))
    for item in items:
        await message.answer(
            views.agenda_entry_text(item, county, locale, settings.tz, county_texts),
            reply_markup=views.agenda_entry_keyboard(item.appointment),
        )
    await show_followups(message, session, settings, staff)


async def show_address(
    callback: CallbackQuery, callback_data: AgendaCb, session: AsyncSession, staff: StaffDTO
) -> None:
    # Only to the staff member who asked, as a pop-up: never posted into a chat.
    address = await booking.home_address(session, callback_data.id, staff_id=staff.id)
    await callback.answer(address or _("This appointment was not found."), show_alert=True)


async def _record_outcome(
    callback: CallbackQuery, session: AsyncSession, staff: StaffDTO, appointment_id: int, outcome: str
) -> None:
    try:
        appt = await booking.mark_outcome(session, staff_id=staff.id, appointment_id=appointment_id, outcome=outcome)
    except AppointmentNotFound:
        await callback.answer(_("This appointment was not found."), show_alert=True)
        return
    count = await booking.no_shows(session, appt.client_id)
    await callback.answer(views.outcome_text(appt, count))


async def mark_attended(
    callback: CallbackQuery, callback_data: AgendaCb, session: AsyncSession, staff: StaffDTO
) -> None:
    await _record_outcome(callback, session, staff, callback_data.id, "attended")


async def mark_no_show(
    callback: CallbackQuery, callback_data: AgendaCb, session: AsyncSession, staff: StaffDTO
) -> None:
    await _record_outcome(callback, session, staff, callback_data.id, "no_show")


async def block_time(
    message: Message, command: CommandObject, session: AsyncSession, settings: Settings, staff: StaffDTO
) -> None:
    request = parse_block(command.args or "", settings.tz)
    if request is None:
        await message.answer(views.block_usage())
        return
    await booking.block_time(session, staff_id=staff.id, start=request.start, end=request.end, reason=request.reason)
    locale = get_i18n().current_locale
    await message.answer(views.blocked_text(request.day, request.start, request.end, locale, settings.tz))


async def book_for_client(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    county: County,
    county_texts: CountyTexts,
) -> None:
    """Start the booking conversation here, for the client with this reference."""
    reference = (command.args or "").strip().upper()
    target = await clients.find_by_reference(session, reference) if reference else None
    if target is None:
        await message.answer(_("No client with this reference. Usage: /bookfor K-ABC123"))
        return
    await state.set_data({"on_behalf": target.id})
    await message.answer(_("Booking for {reference}:").format(reference=html.escape(reference)))
    await start_booking(message, state, county, county_texts, target)


def build_router() -> Router:
    router = Router(name="staff_agenda")
    router.message.filter(IsStaff())
    router.callback_query.filter(IsStaff())
    router.message.register(show_agenda, Command("agenda"), in_private_chat)
    router.message.register(block_time, Command("block"))
    router.message.register(book_for_client, Command("bookfor"), in_private_chat)
    router.callback_query.register(mark_attended, AgendaCb.filter(F.action == "attended"))
    router.callback_query.register(mark_no_show, AgendaCb.filter(F.action == "no_show"))
    router.callback_query.register(show_address, AgendaCb.filter(F.action == "address"))
    return router

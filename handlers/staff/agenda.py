"""Staff side of appointments: /agenda (today and tomorrow, attended / no-show, the home address on request),
/block to make time unavailable, and /bookfor to book on a client's behalf. Staff only, by numeric id."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.core.i18n import fmt_date, fmt_time
from bot.db.models import Client
from bot.services import booking, clients
from bot.services.booking import AppointmentNotFound
from bot.services.dto import StaffDTO
from bot.telegram.callbacks import AgendaCb
from handlers.booking.flow import start_booking
from handlers.filters import in_private_chat
from handlers.staff.commands import IsStaff

STAFF_APPOINTMENT_COMMANDS = ("agenda", "block", "bookfor")
_BLOCK = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2}))?(?:\s+(.*))?$")


async def show_agenda(
    message: Message, session: AsyncSession, county: County, settings: Settings, staff: StaffDTO
) -> None:
    locale = get_i18n().current_locale
    today = datetime.now(settings.tz).date()
    start = datetime.combine(today, time(0), tzinfo=settings.tz)
    items = await booking.agenda(session, staff.id, start, start + timedelta(days=2))
    if not items:
        await message.answer(_("No appointments today or tomorrow."))
        return
    await message.answer(_("<b>Your appointments today and tomorrow</b>"))
    for item in items:
        appt = item.appointment
        service = county.service(appt.service_key)
        office = county.office(appt.office_key) if appt.office_key else None
        status = {
            "attended": _("attended"),
            "no_show": _("did not come"),
        }.get(appt.status, _("confirmed by the client") if appt.confirmed else _("not confirmed yet"))
        lines = [
            f"<b>{fmt_date(appt.starts_at.astimezone(settings.tz).date(), locale, 'EEE d MMM')}, "
            f"{fmt_time(appt.starts_at, locale, settings.tz)}</b> · {html.escape(item.client_reference)}",
            html.escape(service.name_for(locale) if service else appt.service_key),
            html.escape(office.name) if office else _("Home visit"),
            status,
        ]
        kb = InlineKeyboardBuilder()
        kb.button(text=_("Attended"), callback_data=AgendaCb(action="attended", id=appt.id))
        kb.button(text=_("No-show"), callback_data=AgendaCb(action="no_show", id=appt.id))
        if appt.has_home_address:
            kb.button(text=_("Show address"), callback_data=AgendaCb(action="address", id=appt.id))
        kb.adjust(2, 1)
        await message.answer("\n".join(lines), reply_markup=kb.as_markup())


async def record_outcome(
    callback: CallbackQuery, callback_data: AgendaCb, session: AsyncSession, staff: StaffDTO
) -> None:
    if callback_data.action == "address":
        # Only to the staff member who asked, as a pop-up: never posted into a chat.
        address = await booking.home_address(session, callback_data.id, staff_id=staff.id)
        await callback.answer(address or _("This appointment was not found."), show_alert=True)
        return
    try:
        appt = await booking.mark_outcome(
            session, staff_id=staff.id, appointment_id=callback_data.id, outcome=callback_data.action
        )
    except AppointmentNotFound:
        await callback.answer(_("This appointment was not found."), show_alert=True)
        return
    count = await booking.no_shows(session, appt.client_id)
    await callback.answer(
        (_("Marked as attended.") if appt.status == "attended" else _("Marked as no-show."))
        + " "
        + _("No-shows of this client: {count}").format(count=count)
    )


async def block_time(
    message: Message, command: CommandObject, session: AsyncSession, settings: Settings, staff: StaffDTO
) -> None:
    match = _BLOCK.match((command.args or "").strip())
    usage = _("Usage: /block 2027-01-07 (whole day) or /block 2027-01-07 09:00-12:00 [reason]")
    if not match:
        await message.answer(usage)
        return
    day_text, start_text, end_text, reason = match.groups()
    try:
        day = date.fromisoformat(day_text)
        start_t = time.fromisoformat(start_text.zfill(5)) if start_text else time(0)
        end_t = time.fromisoformat(end_text.zfill(5)) if end_text else None
    except ValueError:
        await message.answer(usage)
        return
    start = datetime.combine(day, start_t, tzinfo=settings.tz)
    end = datetime.combine(day, end_t, tzinfo=settings.tz) if end_t else start + timedelta(days=1)
    if end <= start:
        await message.answer(usage)
        return
    await booking.block_time(session, staff_id=staff.id, start=start, end=end, reason=(reason or "blocked")[:32])
    locale = get_i18n().current_locale
    await message.answer(
        _("Blocked: {day}, {start} – {end}. No new appointments will be offered then.").format(
            day=fmt_date(day, locale, "EEE d MMM"),
            start=fmt_time(start, locale, settings.tz),
            end=fmt_time(end, locale, settings.tz),
        )
    )


async def book_for_client(
    message: Message, command: CommandObject, state: FSMContext, session: AsyncSession, county: County
) -> None:
    """Start the booking conversation here, for the client with this reference."""
    reference = (command.args or "").strip().upper()
    client_id = await session.scalar(select(Client.id).where(Client.reference == reference)) if reference else None
    if client_id is None:
        await message.answer(_("No client with this reference. Usage: /bookfor K-ABC123"))
        return
    await state.set_data({"on_behalf": int(client_id)})
    target = await clients.get(session, int(client_id))
    await message.answer(_("Booking for {reference}:").format(reference=html.escape(reference)))
    await start_booking(message, state, county, target)


def build_router() -> Router:
    router = Router(name="staff_agenda")
    router.message.filter(IsStaff())
    router.callback_query.filter(IsStaff())
    router.message.register(show_agenda, Command("agenda"))
    router.message.register(block_time, Command("block"))
    router.message.register(book_for_client, Command("bookfor"), in_private_chat)
    router.callback_query.register(record_outcome, AgendaCb.filter())
    return router

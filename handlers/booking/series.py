"""Series: at the summary of a booking a staff member makes for a client (/bookfor), "🔁 Repeat…" → every 1, 2 or 4
weeks → 3, 6 or 10 appointments → the plan, with the weeks that are not free named before anything is booked →
"Book the free dates". And "this and all later ones" when an appointment of a series is cancelled, by the client in
/appointments or by staff acting for them. Diagram: docs/flows/booking.mmd; the rules in bot/services/series.py.

Only staff reach the series steps (the `staff` the middleware found, and a draft booked on a client's behalf);
the callback's numbers are re-checked against the service's choices and the database.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.services import interpreters, remote_appointments, series
from bot.services import staff as staff_service
from bot.services.booking import AppointmentNotFound
from bot.services.dto import ClientDTO, StaffDTO
from bot.telegram.callbacks import SeriesCb
from handlers import keyboards
from handlers.booking import series_views
from handlers.booking.conversation import BOOKING, Booking, BookingConversation


async def _staff_draft(callback: CallbackQuery, conversation: BookingConversation, staff: StaffDTO | None) -> bool:
    """Answers the callback; True when a staff member is at the summary of a new booking for a client."""
    draft = await conversation.draft()
    if staff is None or draft.on_behalf is None or draft.reschedule_id is not None or not draft.ts:
        await callback.answer(_("This button is no longer active. Please use /menu."), show_alert=True)
        return False
    await callback.answer()
    return isinstance(callback.message, Message)


async def ask_rhythm(callback: CallbackQuery, conversation: BookingConversation, staff: StaffDTO | None = None) -> None:
    if await _staff_draft(callback, conversation, staff) and isinstance(callback.message, Message):
        await callback.message.answer(_("How often should it repeat?"), reply_markup=series_views.rhythm_keyboard())


async def choose_rhythm(
    callback: CallbackQuery, callback_data: SeriesCb, conversation: BookingConversation, staff: StaffDTO | None = None
) -> None:
    if callback_data.n not in series.EVERY_WEEKS:
        await callback.answer(_("This button is no longer active. Please use /menu."), show_alert=True)
        return
    if await _staff_draft(callback, conversation, staff) and isinstance(callback.message, Message):
        await conversation.state.update_data(every=callback_data.n)
        text = series_views.rhythm_label(callback_data.n) + "\n" + _("How many appointments in all?")
        await callback.message.edit_text(text, reply_markup=series_views.count_keyboard())


async def _staff_name(conversation: BookingConversation, staff_id: int) -> str:
    found = await staff_service.get(conversation.session, staff_id)
    return found.display_name if found is not None else "?"


async def show_plan(
    callback: CallbackQuery, callback_data: SeriesCb, conversation: BookingConversation, staff: StaffDTO | None = None
) -> None:
    every = (await conversation.state.get_data()).get("every")
    if callback_data.n not in series.COUNTS or every not in series.EVERY_WEEKS:
        await callback.answer(_("This button is no longer active. Please use /menu."), show_alert=True)
        return
    if not await _staff_draft(callback, conversation, staff) or not isinstance(callback.message, Message):
        return
    draft, query = await conversation.draft(), await conversation.query()
    if query is None:
        return
    await conversation.state.update_data(times=callback_data.n)
    weeks = await series.plan(conversation.session, query, draft.staff_id, draft.starts_at, every, callback_data.n)
    name = await _staff_name(conversation, draft.staff_id)
    await callback.message.edit_text(
        series_views.plan_text(weeks, every, name, conversation.locale, conversation.settings.tz),
        reply_markup=series_views.plan_keyboard(sum(1 for w in weeks if w.slot is not None)),
    )


async def confirm_series(
    callback: CallbackQuery, conversation: BookingConversation, staff: StaffDTO | None = None
) -> None:
    data = await conversation.state.get_data()
    if not await _staff_draft(callback, conversation, staff) or not isinstance(callback.message, Message):
        return
    draft, query = await conversation.draft(), await conversation.query()
    if query is None or staff is None or data.get("every") not in series.EVERY_WEEKS or data.get("times") is None:
        await callback.message.answer(_("This button is no longer active. Please use /menu."))
        return
    arrangement = remote_appointments.Arrangement(
        draft.mode, draft.phone, interpreters.need_of(query), remote_appointments.video_service(conversation.settings)
    )
    try:
        result = await series.book(
            conversation.session,
            client_id=conversation.client.id,
            query=query,
            staff_id=draft.staff_id,
            first=draft.starts_at,
            every_weeks=int(data["every"]),
            count=min(int(data["times"]), max(series.COUNTS)),
            booked_by_staff_id=staff.id,
            arrangement=arrangement,
            home_address=draft.address,
        )
    except LookupError:
        await callback.message.edit_text(_("None of these dates is free."))
        return
    await conversation.state.clear()
    name = await _staff_name(conversation, draft.staff_id)
    await callback.message.edit_text(
        series_views.booked_text(
            conversation.client.reference,
            [a.starts_at for a in result.booked],
            result.skipped,
            name,
            conversation.locale,
            conversation.settings.tz,
        ),
        reply_markup=keyboards.main_menu(),
    )


async def cancel_later_ones(
    callback: CallbackQuery,
    callback_data: SeriesCb,
    conversation: BookingConversation,
    client: ClientDTO | None,
    staff: StaffDTO | None = None,
) -> None:
    """The appointment is re-read with the caller's client id (the one staff act for, with /bookfor)."""
    if client is None or not isinstance(callback.message, Message):
        await callback.answer()
        return
    try:
        cancelled = await series.cancel_from(
            conversation.session,
            conversation.county,
            client_id=client.id,
            appointment_id=callback_data.id,
            hold_minutes=conversation.settings.waitlist_hold_minutes,
            by_staff_id=staff.id if staff is not None else None,
        )
    except AppointmentNotFound:
        await callback.answer(_("This appointment was not found."), show_alert=True)
        return
    await callback.answer()
    await callback.message.edit_text(
        series_views.cancelled_text([a.starts_at for a in cancelled], conversation.locale, conversation.settings.tz),
        reply_markup=keyboards.main_menu(),
    )


async def has_later_ones(conversation: BookingConversation, appointment_id: int) -> bool:
    """Whether the appointment has later ones in its series (then the cancel question offers both choices)."""
    later = await series.later_ones(conversation.session, conversation.client.id, appointment_id)
    return len(later) > 1


def register(private: Router) -> None:
    flags = {BOOKING: True}
    cb = private.callback_query
    summary = StateFilter(Booking.summary)
    cb.register(ask_rhythm, summary, SeriesCb.filter((F.action == "every") & (F.n == 0)), flags=flags)
    cb.register(choose_rhythm, summary, SeriesCb.filter(F.action == "every"), flags=flags)
    cb.register(show_plan, summary, SeriesCb.filter(F.action == "times"), flags=flags)
    cb.register(confirm_series, summary, SeriesCb.filter(F.action == "yes"), flags=flags)
    cb.register(cancel_later_ones, SeriesCb.filter(F.action == "cancel_all"), flags=flags)

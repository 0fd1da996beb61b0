"""The booking conversation's shared steps: its FSM states, "which day?" and "which time?" (offered again after a
time was taken), and the one object a booking handler receives instead of eight separate arguments.

`BookingMiddleware` builds that object for every handler flagged `booking`, after resolving whom the booking is for:
when a staff member books for a client (/bookfor), the flow acts on that client, not on the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message, TelegramObject
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.core.county_text import CountyTexts
from bot.services import availability, booking, clients, interpreters, remote_appointments
from bot.services.availability import Slot, SlotQuery
from bot.services.booking import AppointmentDTO, BookingDraft
from bot.services.dto import ClientDTO
from bot.telegram.middlewares import Handler
from handlers.booking import views

DAYS_PER_PAGE = 5
BOOKING = "booking"  # handler flag: acts on the client booked for, receives `conversation`


class Booking(StatesGroup):
    service = State()
    office = State()
    address = State()
    day = State()
    time = State()
    summary = State()


@dataclass(frozen=True, slots=True)
class BookingConversation:
    """One update's turn in the booking conversation: the FSM draft and what every step needs to find slots.

    `client` is whom the booking is for; handlers reachable by a caller without a client record (a staff member's
    /appointments) take `client: ClientDTO | None` as well and check it first."""

    state: FSMContext
    session: AsyncSession
    county: County
    settings: Settings
    client: ClientDTO
    texts: CountyTexts  # the county file's texts in the client's language

    @property
    def locale(self) -> str:
        return get_i18n().current_locale

    async def draft(self) -> BookingDraft:
        return BookingDraft.from_data(await self.state.get_data())

    async def query(self, draft: BookingDraft | None = None) -> SlotQuery | None:
        draft = draft or await self.draft()
        return await booking.slot_query(self.session, self.county, draft, self.client, self.settings.tz)

    async def find_slot(self, staff_id: int, starts_at: datetime) -> tuple[SlotQuery | None, Slot | None]:
        """The draft's query and the slot with this staff member and start, if it is still free."""
        query = await self.query()
        slot = await availability.find_slot(self.session, query, staff_id, starts_at) if query else None
        return query, slot

    async def details(self, appointment_id: int) -> remote_appointments.Details | None:
        """How the appointment takes place (video link, number to call), if not simply in person."""
        return await remote_appointments.details(self.session, appointment_id)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.settings.tz).date()

    async def ask_day(self, message: Message, after: date | None = None) -> None:
        draft = await self.draft()
        query = await self.query(draft)
        if query is None:
            await message.answer(_("This button is no longer active. Please use /menu."))
            return
        if draft.interpreter is None and interpreters.offer_needed(self.county, query, self.client.locale, draft.mode):
            text = _("Do you need an interpreter? Then only times when one is free for your language are offered.")
            await message.answer(text, reply_markup=views.interpreter_keyboard())
            return
        days = await availability.available_days(self.session, query, after=after, limit=DAYS_PER_PAGE + 1)
        await self.state.set_state(Booking.day)
        key = query.service.key
        if not days:
            await message.answer(
                _("There are no free appointments for this at the moment."),
                reply_markup=views.days_keyboard([], key, more=False, locale=self.locale),
            )
            return
        more = len(days) > DAYS_PER_PAGE
        keyboard = views.days_keyboard(days[:DAYS_PER_PAGE], key, more, self.locale)
        await message.answer(_("Which day suits you?"), reply_markup=keyboard)

    async def ask_time(self, message: Message, day: date, intro: str | None = None) -> None:
        """The free times on `day`; if none is left, says so (or `intro`) and offers the days again."""
        query = await self.query()
        if query is None:
            return
        slots = await availability.free_slots(self.session, query, day, 1)
        if not slots:
            await message.answer(intro or _("That day is fully booked now."))
            await self.ask_day(message)
            return
        await self.state.set_state(Booking.time)
        await message.answer(
            views.times_text(day, self.locale, intro),
            reply_markup=views.times_keyboard(slots, self.locale, self.settings.tz),
        )

    async def take(self, draft: BookingDraft, query: SlotQuery, slot: Slot, booked_by: int | None) -> AppointmentDTO:
        """Book the slot, or move the appointment being rescheduled to it (SlotTaken, AppointmentNotFound)."""
        if draft.reschedule_id is not None:
            moved = await booking.reschedule(
                self.session,
                self.county,
                client_id=self.client.id,
                appointment_id=draft.reschedule_id,
                slot=slot,
                hold_minutes=self.settings.waitlist_hold_minutes,
                by_staff_id=booked_by,
            )
            await remote_appointments.moved(self.session, moved.id, remote_appointments.video_service(self.settings))
            return moved
        return await booking.book(
            self.session,
            client_id=self.client.id,
            slot=slot,
            service=query.service,
            home_address=draft.address,
            booked_by_staff_id=booked_by,
            arrangement=remote_appointments.Arrangement(
                draft.mode, draft.phone, interpreters.need_of(query), remote_appointments.video_service(self.settings)
            ),
        )


class BookingMiddleware(BaseMiddleware):
    """For the booking handlers (flag `booking`): the client is the one a staff member books for, if any, and the
    handler gets a `conversation`.

    An inner middleware of the whole private area, acting only for flagged handlers: the privacy menu, say, must
    never act on the client a staff member is booking for."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        if state is None or not get_flag(data, BOOKING):
            return await handler(event, data)
        if data.get("staff") is not None:
            target = (await state.get_data()).get("on_behalf")
            if target:
                data["client"] = await clients.get(data["session"], int(target))
        data["conversation"] = BookingConversation(
            state=state,
            session=data["session"],
            county=data["county"],
            settings=data["settings"],
            client=data["client"],
            texts=data["county_texts"],
        )
        return await handler(event, data)

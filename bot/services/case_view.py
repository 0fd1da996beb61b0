"""A client's whole case on one screen (`/case` in their topic, the header card's "Case" button): language,
municipality, case manager (and who stands in), reachability, residence status history, appointments to come
and past ones with their outcome, documents and their expiry, open follow-ups and the last notes.

Telegram-free: it gathers the facts into a `CaseFile` (plain data); the staff views page and render it. Nothing
here is ever sent to the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County
from bot.db.models_booking import Appointment
from bot.services import booking, casework_notes, documents, followups, handoff, residence_status
from bot.services.booking import AppointmentDTO
from bot.services.casework_notes import NoteDTO
from bot.services.documents import DocumentDTO
from bot.services.dto import ClientDTO, StaffDTO
from bot.services.followups import FollowupDTO
from bot.services.residence_status import StatusEntry

LAST_NOTES = 10
PAST_APPOINTMENTS = 10
# Appointments that took place or were meant to: "booked" ones in the past have no outcome recorded yet.
_SHOWN = ("booked", "attended", "no_show", "cancelled")


@dataclass(frozen=True, slots=True)
class CaseFile:
    client: ClientDTO
    town: str | None
    manager: StaffDTO | None
    away: handoff.AbsenceDTO | None
    blocked: bool
    statuses: tuple[StatusEntry, ...]  # oldest first; the last is the current status
    upcoming: tuple[AppointmentDTO, ...]
    past: tuple[AppointmentDTO, ...]  # newest first
    documents: tuple[DocumentDTO, ...]
    followups: tuple[FollowupDTO, ...]  # open ones, soonest first
    notes: tuple[NoteDTO, ...]  # newest first
    note_count: int

    @property
    def status(self) -> StatusEntry | None:
        return self.statuses[-1] if self.statuses else None


def split_appointments(
    appointments: list[AppointmentDTO], now: datetime
) -> tuple[tuple[AppointmentDTO, ...], tuple[AppointmentDTO, ...]]:
    """(to come, soonest first; past, newest first). Cancelled appointments count as past whatever their date,
    an appointment that has started is past."""
    coming = [a for a in appointments if a.status == "booked" and a.ends_at > now]
    past = [a for a in appointments if a not in coming]
    coming.sort(key=lambda a: a.starts_at)
    past.sort(key=lambda a: a.starts_at, reverse=True)
    return tuple(coming), tuple(past[:PAST_APPOINTMENTS])


async def _appointments(session: AsyncSession, client_id: int) -> list[AppointmentDTO]:
    rows = await session.scalars(
        select(Appointment).where(Appointment.client_id == client_id, Appointment.status.in_(_SHOWN))
    )
    return [booking.to_dto(row) for row in rows.all()]


async def assemble(session: AsyncSession, client_id: int, county: County, *, now: datetime, today: date) -> CaseFile:
    """The client's case now; LookupError when there is no such client."""
    client = await handoff.client(session, client_id)
    if client is None:
        raise LookupError("client not found")
    manager = await handoff.staff_by_id(session, client.case_manager_id)
    away = await handoff.absence(session, manager.id, today) if manager is not None else None
    town = county.municipality(client.municipality or "")
    conv = await handoff.conversation(session, client.id)
    upcoming, past = split_appointments(await _appointments(session, client.id), now)
    return CaseFile(
        client=client,
        town=town.name if town else None,
        manager=manager,
        away=away,
        blocked=conv.blocked,
        statuses=tuple(await residence_status.history(session, client.id)),
        upcoming=upcoming,
        past=past,
        documents=tuple(await documents.for_client(session, client.id)),
        followups=tuple(await followups.open_for_client(session, client.id)),
        notes=tuple(await casework_notes.recent(session, client.id, LAST_NOTES)),
        note_count=await casework_notes.count(session, client.id),
    )

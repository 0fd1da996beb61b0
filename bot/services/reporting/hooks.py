"""What each capability counts for the programme report, in one line at the place where it happens.

The capabilities (booking, documents, broadcasts, handoff) call these inside their unit of work; each turns the
event into `events.record…` calls with the event names and detail codes that docs/reporting.md defines. Only
plain values come in (keys, codes, moments), so this module imports no capability and none imports it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.db.models_booking import Appointment
from bot.services.reporting.events import bucket_of, record, record_for_client

OUTCOMES = ("attended", "no_show")
MINUTE = timedelta(minutes=1)


async def relayed(session: AsyncSession, client_id: int, direction: str, status: str) -> None:
    """A message of the relay: from a client to the staff ("in", delivered or held by flood protection) or a
    staff answer that reached the client ("out", delivered). Notices and failures are not messages exchanged."""
    if (direction, status) in (("in", "delivered"), ("in", "held")):
        await record_for_client(session, "message", client_id, when=utcnow(), detail="from_client")
    elif (direction, status) == ("out", "delivered"):
        await record_for_client(session, "message", client_id, when=utcnow(), detail="from_staff")


async def booked(session: AsyncSession, client_id: int, service: str, *, channel: str) -> None:
    """An appointment was booked: `channel` "client" (by the client), "staff" (on their behalf) or "waitlist"."""
    await record_for_client(session, "booking", client_id, when=utcnow(), service=service, detail=channel)


async def cancelled(session: AsyncSession, client_id: int, service: str) -> None:
    await record_for_client(session, "appointment", client_id, when=utcnow(), service=service, detail="cancelled")


async def outcome(session: AsyncSession, appointment: Appointment, after: str) -> None:
    """Staff marked an appointment attended or no-show (called before the row changes; counted in the
    appointment's month). A corrected outcome moves the count from the old outcome to the new one; a home visit
    and the travel time kept free for it (its busy time beyond the appointment) count once."""
    before, service, starts_at = appointment.status, appointment.service_key, appointment.starts_at
    client_id = appointment.client_id
    if before == after or after not in OUTCOMES:
        return
    if before in OUTCOMES:
        await record_for_client(
            session, "appointment", client_id, when=starts_at, service=service, detail=before, amount=-1
        )
    await record_for_client(session, "appointment", client_id, when=starts_at, service=service, detail=after)
    if appointment.office_key is None and before not in OUTCOMES:
        travel = (appointment.busy_until - appointment.busy_from) - (appointment.ends_at - starts_at)
        await record_for_client(session, "home_visit", client_id, when=starts_at, service=service)
        await record_for_client(
            session, "travel_minutes", client_id, when=starts_at, service=service, amount=max(0, travel // MINUTE)
        )


async def waitlist_offer(session: AsyncSession, client_id: int, service: str) -> None:
    await record_for_client(session, "waitlist_offer", client_id, when=utcnow(), service=service)


async def waitlist_slot(session: AsyncSession, client_id: int, service: str, *, joined_at: datetime) -> None:
    """A waitlisted client accepted an offered slot: a booking, and the time from joining to the slot."""
    now = utcnow()
    await booked(session, client_id, service, channel="waitlist")
    seconds = (now - joined_at).total_seconds()
    await record_for_client(
        session, "waitlist_time", client_id, when=now, service=service, detail=bucket_of(max(0.0, seconds))
    )


async def document_renewed(
    session: AsyncSession, client_id: int, doc_type: str, old: date, new: date, today: date
) -> None:
    """The client entered a later expiry date for a document: a renewal, on time if entered before the old date
    had passed."""
    if new <= old:
        return
    timing = "before" if today <= old else "after"
    await record_for_client(session, "document_renewal", client_id, when=utcnow(), detail=f"{doc_type}:{timing}")


async def document_reminders_sent(session: AsyncSession, rows: list[tuple[int, str, datetime]]) -> None:
    """Document reminders that went out: (client id, document type, when sent) each."""
    for client_id, doc_type, sent_at in rows:
        await record_for_client(session, "document_reminder", client_id, when=sent_at, detail=doc_type)


async def broadcast_finished(
    session: AsyncSession, by_language: Mapping[str, Mapping[str, int]], when: datetime
) -> None:
    """A broadcast is over (done or cancelled): one broadcast, and per language how many clients it reached
    (`by_language` is the broadcast's progress: language → outcome → count; "sent" is what reached someone)."""
    await record(session, "broadcast", when=when)
    for language, outcomes in by_language.items():
        if outcomes.get("sent", 0):
            code = language if language != "?" else ""
            await record(session, "broadcast_reach", when=when, language=code, amount=outcomes["sent"])

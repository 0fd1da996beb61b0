"""Booking, cancelling and rescheduling appointments, the waitlist, and the staff agenda.

No check-then-insert: PostgreSQL refuses an overlapping appointment through an exclusion constraint; on SQLite every
booking first takes the database's write lock (`BEGIN IMMEDIATE`), so checking and inserting cannot interleave.
Every function that touches an appointment for a client selects it with that client's id: ids in callback data
can be forged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County, Service
from bot.db.base import utcnow
from bot.db.models import Client, Staff
from bot.db.models_booking import OCCUPYING, Absence, Appointment, NoShowCount, WaitlistEntry
from bot.delivery import outbox
from bot.services import audit, availability, interpreters, remote_appointments, urgency
from bot.services.availability import Slot, SlotQuery
from bot.services.dto import ClientDTO
from bot.services.reporting import hooks as report_hooks

HOLD_MINUTES_DEFAULT = 15


class SlotTaken(Exception):
    """Someone else took the slot a moment ago."""


class AppointmentNotFound(LookupError):
    """No such appointment for this client (or staff member) – the same answer for 'not yours'."""


@dataclass(frozen=True, slots=True)
class AppointmentDTO:
    id: int
    client_id: int
    staff_id: int
    service_key: str
    office_key: str | None
    starts_at: datetime
    ends_at: datetime
    status: str
    sequence: int
    confirmed: bool
    hold_expires_at: datetime | None
    has_home_address: bool


@dataclass(frozen=True, slots=True)
class AgendaItem:
    appointment: AppointmentDTO
    client_reference: str
    staff_name: str


@dataclass(frozen=True, slots=True)
class StaffNote:
    """An appointment as its staff member is told about it: with the client's reference, never a name."""

    appointment: AppointmentDTO
    client_reference: str


@dataclass(frozen=True, slots=True)
class BookingDraft:
    """What the client has chosen so far in the booking conversation, as kept in the FSM data between steps
    (keys: service, office, address, reschedule, staff, ts, on_behalf). Only hints: every step re-checks them."""

    service_key: str = ""
    office_key: str | None = None
    address: str | None = None
    reschedule_id: int | None = None  # the appointment being moved
    staff_id: int = 0  # the chosen slot, once a time is picked
    ts: int = 0
    on_behalf: int | None = None  # the client a staff member books for (/bookfor)
    interpreter: bool | None = None  # "with interpreter" (None: not asked); bot.services.interpreters
    mode: str = "in_person"  # in_person | video | phone; bot.services.remote_appointments
    phone: str | None = None  # the number to call, for a phone appointment

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> BookingDraft:
        return cls(
            service_key=data.get("service") or "",
            office_key=data.get("office"),
            address=data.get("address"),
            reschedule_id=int(data["reschedule"]) if data.get("reschedule") else None,
            staff_id=int(data.get("staff", 0)),
            ts=int(data.get("ts", 0)),
            on_behalf=int(data["on_behalf"]) if data.get("on_behalf") else None,
            interpreter=bool(data["interp"]) if data.get("interp") is not None else None,
            mode=data.get("mode") or "in_person",
            phone=data.get("phone"),
        )

    @property
    def starts_at(self) -> datetime:
        """The chosen slot's start (the epoch if none was chosen)."""
        return datetime.fromtimestamp(self.ts, UTC)


async def slot_query(
    session: AsyncSession, county: County, draft: BookingDraft, client: ClientDTO, tz: ZoneInfo
) -> SlotQuery | None:
    """The free-slot query for the draft's service and office, for this client; None if the service is gone."""
    service = county.service(draft.service_key)
    if service is None:
        return None
    query = await availability.query_for(
        session,
        county,
        service,
        tz=tz,
        municipality=client.municipality,
        case_manager_id=client.case_manager_id,
        office_key=draft.office_key,
    )
    if draft.interpreter:
        query = interpreters.with_interpreter(
            query, language=client.locale, mode=draft.mode, municipality=client.municipality
        )
    return await urgency.for_client(session, query, client.id)


def to_dto(row: Appointment) -> AppointmentDTO:
    return AppointmentDTO(
        id=row.id,
        client_id=row.client_id,
        staff_id=row.staff_id,
        service_key=row.service_key,
        office_key=row.office_key,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        status=row.status,
        sequence=row.sequence,
        confirmed=row.confirmed_at is not None,
        hold_expires_at=row.hold_expires_at,
        has_home_address=bool(row.home_address),
    )


async def take_write_lock(session: AsyncSession) -> bool:
    """On SQLite, start the transaction with BEGIN IMMEDIATE so that concurrent bookings queue up here; returns
    True on SQLite (where the caller must check for overlaps itself), False on PostgreSQL (the constraint does).

    pysqlite opens a transaction only at the first write; if this session has written already it holds the lock.
    """
    connection = await session.connection()
    if connection.dialect.name != "sqlite":
        return False
    raw = await connection.get_raw_connection()
    if not raw.driver_connection.in_transaction:  # type: ignore[union-attr]
        await connection.exec_driver_sql("BEGIN IMMEDIATE")
    return True


async def _overlap_exists(session: AsyncSession, slot: Slot, ignore_id: int | None = None) -> bool:
    conditions = [
        Appointment.staff_id == slot.staff_id,
        Appointment.status.in_(OCCUPYING),
        Appointment.busy_from < slot.busy_until,
        Appointment.busy_until > slot.busy_from,
    ]
    if ignore_id is not None:
        conditions.append(Appointment.id != ignore_id)
    booked = await session.scalar(select(Appointment.id).where(and_(*conditions)).limit(1))
    absent = await session.scalar(
        select(Absence.id)
        .where(Absence.staff_id == slot.staff_id, Absence.starts_at < slot.busy_until, Absence.ends_at > slot.busy_from)
        .limit(1)
    )
    return booked is not None or absent is not None


async def client_chat(session: AsyncSession, client_id: int) -> int:
    telegram_id = await session.scalar(select(Client.telegram_id).where(Client.id == client_id))
    if telegram_id is None:
        raise LookupError("client not found")
    return int(telegram_id)


async def _plan_messages(session: AsyncSession, row: Appointment, service: Service, event: str) -> None:
    """Reminders for the client and a note to the responsible staff member, in this transaction."""
    await outbox.cancel(session, f"appointment:{row.id}:reminder:")
    if row.status == "booked":
        chat_id = await client_chat(session, row.client_id)
        for hours in service.reminder_hours:
            due = row.starts_at - timedelta(hours=hours)
            if due > utcnow():
                await outbox.enqueue(
                    session,
                    key=f"appointment:{row.id}:reminder:{hours}h:{int(row.starts_at.timestamp())}",
                    chat_id=chat_id,
                    client_id=row.client_id,
                    template="appointment_reminder",
                    params={"appointment_id": row.id, "hours": hours},
                    due_at=due,
                    expires_at=row.starts_at,
                )
    staff_chat = await session.scalar(select(Staff.telegram_id).where(Staff.id == row.staff_id))
    if staff_chat is not None:
        await outbox.enqueue(
            session,
            key=f"appointment:{row.id}:staff:{event}:{row.sequence}",
            chat_id=int(staff_chat),
            template="staff_appointment_event",
            params={"appointment_id": row.id, "event": event},
            due_at=utcnow(),
            priority=outbox.ALERT_PRIORITY,
        )
    await interpreters.plan_messages(session, row, service, event)


async def book(
    session: AsyncSession,
    *,
    client_id: int,
    slot: Slot,
    service: Service,
    home_address: str | None = None,
    booked_by_staff_id: int | None = None,
    arrangement: remote_appointments.Arrangement | None = None,
) -> AppointmentDTO:
    """Book `slot` for the client. A repeated request for the same slot returns the same appointment.
    `arrangement`: video or phone, the interpreter it needs, its series – taken in the same savepoint."""
    sqlite = await take_write_lock(session)
    mine = await session.scalar(
        select(Appointment).where(
            Appointment.client_id == client_id,
            Appointment.staff_id == slot.staff_id,
            Appointment.starts_at == slot.starts_at,
            Appointment.service_key == service.key,
            Appointment.status == "booked",
        )
    )
    if mine is not None:
        return to_dto(mine)
    if sqlite and await _overlap_exists(session, slot):
        raise SlotTaken
    row = Appointment(
        client_id=client_id,
        staff_id=slot.staff_id,
        service_key=service.key,
        office_key=slot.office_key,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        busy_from=slot.busy_from,
        busy_until=slot.busy_until,
        status="booked",
        home_address=home_address if slot.office_key is None else None,
        booked_by_staff_id=booked_by_staff_id,
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
            if arrangement is not None:
                await remote_appointments.arrange(session, row, slot, arrangement)
    except (IntegrityError, interpreters.InterpreterTaken) as exc:  # an exclusion constraint: someone was faster
        raise SlotTaken from exc
    audit.record(
        session,
        "appointment_booked",
        actor="staff" if booked_by_staff_id else "client",
        actor_id=booked_by_staff_id or client_id,
        client_id=client_id,
        appointment_id=row.id,
    )
    await report_hooks.booked(session, client_id, service.key, channel="staff" if booked_by_staff_id else "client")
    await _plan_messages(session, row, service, "booked")
    return to_dto(row)


async def _owned(session: AsyncSession, client_id: int, appointment_id: int, for_update: bool = True) -> Appointment:
    query = select(Appointment).where(Appointment.id == appointment_id, Appointment.client_id == client_id)
    if for_update:
        query = query.with_for_update()
    row = await session.scalar(query)
    if row is None:
        raise AppointmentNotFound
    return row


async def get_for_client(session: AsyncSession, client_id: int, appointment_id: int) -> AppointmentDTO:
    return to_dto(await _owned(session, client_id, appointment_id, for_update=False))


async def upcoming(session: AsyncSession, client_id: int) -> list[AppointmentDTO]:
    rows = await session.scalars(
        select(Appointment)
        .where(Appointment.client_id == client_id, Appointment.status == "booked", Appointment.ends_at > utcnow())
        .order_by(Appointment.starts_at)
    )
    return [to_dto(r) for r in rows]


async def with_upcoming(session: AsyncSession, client_ids: list[int]) -> set[int]:
    """Which of these clients have an appointment still to come (one query, for the retention purge)."""
    if not client_ids:
        return set()
    rows = await session.scalars(
        select(Appointment.client_id)
        .where(Appointment.client_id.in_(client_ids), Appointment.status == "booked", Appointment.ends_at > utcnow())
        .distinct()
    )
    return set(rows.all())


async def staff_note(session: AsyncSession, appointment_id: int) -> StaffNote | None:
    """The appointment with its client's reference, for the note to the staff member (whatever its status)."""
    row = await session.execute(
        select(Appointment, Client.reference)
        .join(Client, Client.id == Appointment.client_id)
        .where(Appointment.id == appointment_id)
    )
    found = row.first()
    if found is None:
        return None
    appointment, reference = found
    return StaffNote(to_dto(appointment), reference)


async def home_address(session: AsyncSession, appointment_id: int, *, staff_id: int) -> str | None:
    """For the staff member who holds the appointment, on request; never sent to the staff group."""
    return await session.scalar(
        select(Appointment.home_address).where(Appointment.id == appointment_id, Appointment.staff_id == staff_id)
    )


async def cancel(
    session: AsyncSession,
    county: County,
    *,
    client_id: int,
    appointment_id: int,
    hold_minutes: int,
    by_staff_id: int | None = None,
) -> AppointmentDTO:
    """Cancel the client's appointment; `by_staff_id` when a staff member does it for them (/bookfor)."""
    await take_write_lock(session)
    row = await _owned(session, client_id, appointment_id)
    if row.status not in ("booked", "held"):
        raise AppointmentNotFound
    row.status = "cancelled"
    row.home_address = None
    row.sequence += 1
    await session.flush()
    await remote_appointments.on_cancelled(session, row.id)
    audit.record(
        session,
        "appointment_cancelled",
        actor="staff" if by_staff_id else "client",
        actor_id=by_staff_id or client_id,
        client_id=client_id,
        appointment_id=row.id,
    )
    await report_hooks.cancelled(session, client_id, row.service_key)
    service = county.service(row.service_key)
    if service is not None:
        await _plan_messages(session, row, service, "cancelled")
        await offer_freed_slot(session, service, row, hold_minutes, county=county)
    return to_dto(row)


async def reschedule(
    session: AsyncSession,
    county: County,
    *,
    client_id: int,
    appointment_id: int,
    slot: Slot,
    hold_minutes: int,
    by_staff_id: int | None = None,
) -> AppointmentDTO:
    """Move the appointment to `slot` atomically: the new time is taken in the same row and transaction, so if it
    is gone nothing changes (SlotTaken); the old time is freed (and offered to the waitlist) only on success.
    `by_staff_id` when a staff member moves it for the client (/bookfor)."""
    sqlite = await take_write_lock(session)
    row = await _owned(session, client_id, appointment_id)
    if row.status != "booked":
        raise AppointmentNotFound
    service = county.service(row.service_key)
    if service is None:
        raise AppointmentNotFound
    if sqlite and await _overlap_exists(session, slot, ignore_id=row.id):
        raise SlotTaken
    old = Appointment(
        staff_id=row.staff_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        busy_from=row.busy_from,
        busy_until=row.busy_until,
        service_key=row.service_key,
        office_key=row.office_key,
    )
    try:
        async with session.begin_nested():
            row.staff_id, row.office_key = slot.staff_id, slot.office_key
            row.starts_at, row.ends_at = slot.starts_at, slot.ends_at
            row.busy_from, row.busy_until = slot.busy_from, slot.busy_until
            row.sequence += 1
            row.confirmed_at = None
            await session.flush()
            await interpreters.move(session, county, ZoneInfo(county.timezone), row, slot)
    except (IntegrityError, interpreters.InterpreterTaken) as exc:
        await session.refresh(row)
        raise SlotTaken from exc
    audit.record(
        session,
        "appointment_rescheduled",
        actor="staff" if by_staff_id else "client",
        actor_id=by_staff_id or client_id,
        client_id=client_id,
        appointment_id=row.id,
    )
    await _plan_messages(session, row, service, "rescheduled")
    await offer_freed_slot(session, service, old, hold_minutes, county=county)
    return to_dto(row)


async def confirm_attendance(session: AsyncSession, *, client_id: int, appointment_id: int) -> AppointmentDTO:
    row = await _owned(session, client_id, appointment_id)
    if row.status != "booked":
        raise AppointmentNotFound
    row.confirmed_at = row.confirmed_at or utcnow()
    await session.flush()
    return to_dto(row)


# ---------------------------------------------------------------- waitlist


async def join_waitlist(
    session: AsyncSession,
    *,
    client_id: int,
    service_key: str,
    before: datetime | None = None,
    replaces_appointment_id: int | None = None,
) -> int:
    existing = await session.scalar(
        select(WaitlistEntry.id).where(
            WaitlistEntry.client_id == client_id,
            WaitlistEntry.service_key == service_key,
            WaitlistEntry.status.in_(("waiting", "offered")),
        )
    )
    if existing is not None:
        return int(existing)
    entry = WaitlistEntry(
        client_id=client_id, service_key=service_key, before=before, replaces_appointment_id=replaces_appointment_id
    )
    session.add(entry)
    await session.flush()
    audit.record(session, "waitlist_joined", actor="client", actor_id=client_id, client_id=client_id)
    return entry.id


async def offer_freed_slot(
    session: AsyncSession, service: Service, freed: Appointment, hold_minutes: int, *, county: County | None = None
) -> bool:
    """Offer a freed slot to the first waitlisted client it suits, holding it for `hold_minutes`. Waiting clients
    are served by the expiry of their document, then by waiting time (bot.services.urgency); a slot reserved for
    urgent cases goes only to a client who qualifies (needs `county`; without it no slot counts as reserved)."""
    now = utcnow()
    if freed.starts_at <= now + timedelta(hours=service.min_notice_hours):
        return False
    query = None
    if county is not None and service.urgent_share > 0:
        query = await urgency.waitlist_query(session, county, service, now)
    for entry, expires_on in await urgency.ranked_waitlist(session, service, exclude_client_id=freed.client_id):
        if entry.before is not None and freed.starts_at >= entry.before:
            continue
        if query is not None and not urgency.open_to(
            query, freed.staff_id, freed.office_key, freed.starts_at, expires_on
        ):
            continue
        hold = Appointment(
            client_id=entry.client_id,
            staff_id=freed.staff_id,
            service_key=service.key,
            office_key=freed.office_key,
            starts_at=freed.starts_at,
            ends_at=freed.ends_at,
            busy_from=freed.busy_from,
            busy_until=freed.busy_until,
            status="held",
            hold_expires_at=utcnow() + timedelta(minutes=hold_minutes),
        )
        try:
            async with session.begin_nested():
                session.add(hold)
                await session.flush()
        except IntegrityError:
            return False
        entry.status, entry.offered_appointment_id = "offered", hold.id
        await report_hooks.waitlist_offer(session, entry.client_id, service.key)
        await outbox.enqueue(
            session,
            key=f"waitlist:{entry.id}:offer:{hold.id}",
            chat_id=await client_chat(session, entry.client_id),
            client_id=entry.client_id,
            template="waitlist_offer",
            params={"appointment_id": hold.id},
            due_at=utcnow(),
            expires_at=hold.hold_expires_at,
        )
        return True
    return False


async def accept_offer(session: AsyncSession, county: County, *, client_id: int, appointment_id: int) -> AppointmentDTO:
    await take_write_lock(session)
    row = await _owned(session, client_id, appointment_id)
    if row.status != "held" or (row.hold_expires_at is not None and row.hold_expires_at < utcnow()):
        raise AppointmentNotFound
    row.status, row.hold_expires_at = "booked", None
    entry = await session.scalar(select(WaitlistEntry).where(WaitlistEntry.offered_appointment_id == row.id))
    if entry is not None:
        entry.status = "done"
        await report_hooks.waitlist_slot(session, client_id, row.service_key, joined_at=entry.created_at)
        if entry.replaces_appointment_id is not None:
            previous = await session.scalar(
                select(Appointment).where(
                    Appointment.id == entry.replaces_appointment_id,
                    Appointment.client_id == client_id,
                    Appointment.status == "booked",
                )
            )
            if previous is not None:
                previous.status = "cancelled"
                await outbox.cancel(session, f"appointment:{previous.id}:reminder:")
    await session.flush()
    audit.record(
        session,
        "waitlist_offer_accepted",
        actor="client",
        actor_id=client_id,
        client_id=client_id,
        appointment_id=row.id,
    )
    service = county.service(row.service_key)
    if service is not None:
        await _plan_messages(session, row, service, "booked")
    return to_dto(row)


async def decline_offer(
    session: AsyncSession, county: County, *, client_id: int, appointment_id: int, hold_minutes: int
) -> None:
    row = await _owned(session, client_id, appointment_id)
    if row.status != "held":
        raise AppointmentNotFound
    await _release_hold(session, county, row, hold_minutes)


async def _release_hold(session: AsyncSession, county: County, row: Appointment, hold_minutes: int) -> None:
    row.status = "cancelled"
    await session.flush()
    entry = await session.scalar(select(WaitlistEntry).where(WaitlistEntry.offered_appointment_id == row.id))
    if entry is not None:
        entry.status = "left"
    service = county.service(row.service_key)
    if service is not None:
        await offer_freed_slot(session, service, row, hold_minutes, county=county)


async def expire_holds(session: AsyncSession, county: County, hold_minutes: int) -> int:
    """Offers not taken in time go to the next waitlisted client (a scheduler job calls this)."""
    await take_write_lock(session)
    rows = (
        await session.scalars(
            select(Appointment).where(Appointment.status == "held", Appointment.hold_expires_at < utcnow())
        )
    ).all()
    for row in rows:
        await _release_hold(session, county, row, hold_minutes)
    return len(rows)


# ---------------------------------------------------------------- staff side


async def agenda(session: AsyncSession, staff_id: int, start: datetime, end: datetime) -> list[AgendaItem]:
    rows = await session.execute(
        select(Appointment, Client.reference, Staff.display_name)
        .join(Client, Client.id == Appointment.client_id)
        .join(Staff, Staff.id == Appointment.staff_id)
        .where(
            Appointment.staff_id == staff_id,
            Appointment.status.in_(("booked", "attended", "no_show")),
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
        .order_by(Appointment.starts_at)
    )
    return [AgendaItem(to_dto(a), reference, name) for a, reference, name in rows.all()]


async def mark_outcome(session: AsyncSession, *, staff_id: int, appointment_id: int, outcome: str) -> AppointmentDTO:
    """Attended or no-show, by the staff member whose appointment it is."""
    if outcome not in ("attended", "no_show"):
        raise ValueError(outcome)
    row = await session.scalar(
        select(Appointment).where(Appointment.id == appointment_id, Appointment.staff_id == staff_id).with_for_update()
    )
    if row is None or row.status not in ("booked", "attended", "no_show"):
        raise AppointmentNotFound
    if row.status != outcome:
        counter = await session.get(NoShowCount, row.client_id)
        if counter is None:
            counter = NoShowCount(client_id=row.client_id, count=0)
            session.add(counter)
        if outcome == "no_show":
            counter.count += 1
        elif row.status == "no_show":
            counter.count = max(0, counter.count - 1)
        await report_hooks.outcome(session, row, outcome)
        row.status = outcome
        row.home_address = None
    await session.flush()
    return to_dto(row)


async def no_shows(session: AsyncSession, client_id: int) -> int:
    return int(await session.scalar(select(NoShowCount.count).where(NoShowCount.client_id == client_id)) or 0)


async def block_time(session: AsyncSession, *, staff_id: int, start: datetime, end: datetime, reason: str) -> int:
    """Make the staff member unavailable; booked appointments stay (staff decide about them)."""
    if end <= start:
        raise ValueError("end before start")
    absence = Absence(staff_id=staff_id, starts_at=start, ends_at=end, reason=reason)
    session.add(absence)
    await session.flush()
    audit.record(session, "time_blocked", actor="staff", actor_id=staff_id)
    return absence.id


async def forget_past_addresses(session: AsyncSession) -> int:
    """Home addresses are kept only as long as the appointment (retention job)."""
    result = await session.execute(
        update(Appointment)
        .where(Appointment.home_address.is_not(None), Appointment.ends_at < utcnow())
        .values(home_address=None)
    )
    return int(result.rowcount or 0) + await remote_appointments.forget_past(session)  # type: ignore[attr-defined]

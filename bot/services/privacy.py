"""The client's GDPR rights over everything kimbot holds: export (Art. 15/20), erasure (Art. 17), and the
retention purge that erases clients who stopped writing or never finished onboarding.

They span every capability (the client record, the audit log, the handoff conversation, documents, booking and
the outbox), so they live here, above those services, instead of in `clients`, which every other service builds
on: this module imports them, none of them imports it.

**Export.** `SECTIONS` says, table by table, which column goes into the export under which name, and which
columns are deliberately left out and why (internal ids, Telegram message ids). The export is built from it, and
`tests/test_privacy_export.py` fails when a table gains a column about the client that neither list names.

**Erasure.** What lies outside the database – the conversation state in the FSM storage (Redis or database), the
client's forum topic and Intake card in the staff group – is deleted by `forget` steps the caller passes (this
module knows no Telegram). They run *before* the rows go, in the same unit of work, because afterwards nothing
would say where the topic was: a rollback after them leaves a client whose topic is gone (kimbot recreates a
missing topic when they write again), and a crash before the commit replays the update (or the next purge), whose
deletes then find nothing left and succeed. Deleting after the commit would lose the topic's id in a crash. In an
update they come before its first write (what it wrote before has committed: `bot.db.unit_of_work`), so Telegram is
never called while the erasure holds write locks; the client's answer goes out before the rows go, too.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County
from bot.core.county_text import CountyTexts
from bot.db.base import Base, utcnow
from bot.db.models import AuditEntry, Client, InboundUpdate, Staff
from bot.db.models_booking import Appointment, NoShowCount, WaitlistEntry
from bot.db.models_casework import CaseNote, ClientName, FollowUp, StatusChange
from bot.db.models_documents import Document
from bot.db.models_handoff import Conversation, RelayMessage
from bot.db.models_interpreters import AppointmentDetails, InterpreterBooking
from bot.db.models_outbox import OutboxMessage
from bot.db.models_transcription import TranscriptionJob
from bot.delivery import outbox
from bot.services import audit, booking, clients, handoff

_IDS = "internal id"
_TELEGRAM_IDS = "Telegram ids of kimbot's copies in the staff group (the messages themselves are listed)"


@dataclass(frozen=True)
class Section:
    """One table's part of the export: the rows whose `link` column is the client."""

    path: tuple[str, ...]  # where it goes in the export
    model: type[Base]
    link: str
    fields: dict[str, str]  # column → name in the export
    withheld: dict[str, str] = field(default_factory=dict)  # column → why it is not exported
    single: bool = False  # at most one row: an object (or null) instead of a list


SECTIONS: tuple[Section, ...] = (
    Section(
        ("client",),
        Client,
        "id",
        {
            "telegram_id": "telegram_id",
            "reference": "reference",
            "locale": "language",
            "municipality": "municipality",
            "case_manager_id": "case_manager",
            "reachable": "reachable",
            "announcements_opt_out": "announcements_opt_out",
            "privacy_acknowledged_at": "privacy_acknowledged_at",
            "last_contact_at": "last_contact_at",
            "created_at": "created_at",
            "updated_at": "updated_at",
        },
        {"id": _IDS},
        single=True,
    ),
    Section(("no_shows",), NoShowCount, "client_id", {"count": "count"}, {"client_id": _IDS}, single=True),
    Section(
        ("appointments",),
        Appointment,
        "client_id",
        {
            "service_key": "service",
            "office_key": "place",
            "home_address": "home_address",
            "starts_at": "starts_at",
            "ends_at": "ends_at",
            "status": "status",
            "hold_expires_at": "offered_until",
            "confirmed_at": "confirmed_at",
            "staff_id": "with",
            "booked_by_staff_id": "booked_by",
            "created_at": "created_at",
            "updated_at": "updated_at",
        },
        {
            "id": _IDS,
            "client_id": _IDS,
            "busy_from": "the staff member's time taken, i.e. the appointment plus buffers and travel",
            "busy_until": "the staff member's time taken, i.e. the appointment plus buffers and travel",
            "sequence": "version number of the calendar file",
        },
    ),
    Section(  # video and phone appointments, series (bot/services/remote_appointments.py)
        ("appointment_details",),
        AppointmentDetails,
        "client_id",
        {"mode": "mode", "video_url": "video_link", "phone": "phone_to_call", "created_at": "created_at"},
        {
            "appointment_id": _IDS,
            "client_id": _IDS,
            "video_room": "the room's name, part of the video link",
            "series_id": _IDS,
        },
    ),
    Section(  # interpreters booked with them (bot/services/interpreters.py)
        ("interpreters",),
        InterpreterBooking,
        "client_id",
        {
            "interpreter_key": "interpreter",
            "language": "language",
            "busy_from": "from",
            "busy_until": "until",
            "active": "booked",
            "created_at": "created_at",
            "released_at": "released_at",
        },
        {
            "id": _IDS,
            "appointment_id": _IDS,
            "client_id": _IDS,
            "telegram_id": "the interpreter's Telegram id, not the client's",
        },
    ),
    Section(
        ("waitlist",),
        WaitlistEntry,
        "client_id",
        {"service_key": "service", "before": "before", "status": "status", "created_at": "created_at"},
        {"id": _IDS, "client_id": _IDS, "replaces_appointment_id": _IDS, "offered_appointment_id": _IDS},
    ),
    Section(
        ("documents",),
        Document,
        "client_id",
        {"doc_type": "type", "expires_on": "expires_on", "created_at": "created_at", "updated_at": "updated_at"},
        {"id": _IDS, "client_id": _IDS},
    ),
    Section(
        ("case_manager_chat", "conversation"),
        Conversation,
        "client_id",
        {
            "status": "status",
            "blocked": "blocked",
            "created_at": "started_at",
            "last_client_message_at": "last_message_at",
            "last_staff_message_at": "last_answer_at",
            "auto_reply_sent_at": "out_of_hours_reply_at",
            "away_notice_sent_at": "away_notice_at",
            "mentioned_at": "case_manager_alerted_at",
            "flood_notice_at": "flood_notice_at",
            "id_notice_sent_at": "id_document_notice_at",
            "updated_at": "updated_at",
        },
        {
            "id": _IDS,
            "client_id": _IDS,
            "chat_id": _TELEGRAM_IDS,
            "thread_id": _TELEGRAM_IDS,
            "header_message_id": _TELEGRAM_IDS,
            "intake_message_id": _TELEGRAM_IDS,
        },
        single=True,
    ),
    Section(
        ("case_manager_chat", "messages"),
        RelayMessage,
        "client_id",
        {
            "direction": "direction",
            "kind": "type",
            "status": "status",
            "created_at": "at",
            "delivered_at": "delivered_at",
            "edited_at": "edited_at",
            "translated": "translated",
            "staff_id": "staff",
            "transcript": "text",
        },
        {
            "id": _IDS,
            "client_id": _IDS,
            "client_message_id": _TELEGRAM_IDS,
            "staff_chat_id": _TELEGRAM_IDS,
            "staff_message_id": _TELEGRAM_IDS,
        },
    ),
    Section(  # voice notes waiting to be transcribed for staff; the row goes once the transcript is posted
        ("case_manager_chat", "voice_transcriptions"),
        TranscriptionJob,
        "client_id",
        {"kind": "type", "status": "status", "duration": "seconds", "created_at": "at"},
        {
            "id": _IDS,
            "client_id": _IDS,
            "file_id": "Telegram's id of your voice message (it is listed under messages)",
            "file_size": "the file's size in bytes",
            "client_message_id": _TELEGRAM_IDS,
            "staff_chat_id": _TELEGRAM_IDS,
            "staff_message_id": _TELEGRAM_IDS,
            "attempts": "queue bookkeeping",
            "due_at": "queue bookkeeping",
            "lease_until": "queue bookkeeping",
            "notified": "queue bookkeeping",
            "last_error": "queue bookkeeping (an error type)",
        },
    ),
    Section(
        ("messages",),
        OutboxMessage,
        "client_id",
        {
            "template": "kind",
            "due_at": "due_at",
            "expires_at": "expires_at",
            "status": "status",
            "sent_at": "sent_at",
            "created_at": "created_at",
        },
        {
            "id": _IDS,
            "client_id": _IDS,
            "idempotency_key": _IDS,
            "chat_id": "the client's own Telegram id (under client)",
            "thread_id": _IDS,
            "params": "ids the message is rendered from (the appointment or document is listed)",
            "priority": "delivery order",
            "attempts": "delivery bookkeeping",
            "lease_until": "delivery bookkeeping",
            "last_error": "delivery bookkeeping (Telegram's error text)",
            "telegram_message_id": _TELEGRAM_IDS,
            "broadcast_id": _IDS,
        },
    ),
    # The case file staff keep (bot/services/casework_notes.py, residence_status.py, followups.py, casework.py).
    Section(
        ("case_file", "notes"),
        CaseNote,
        "client_id",
        {"text": "text", "staff_id": "by", "created_at": "at"},
        {"id": _IDS, "client_id": _IDS},
    ),
    Section(
        ("case_file", "residence_status"),
        StatusChange,
        "client_id",
        {"status": "status", "paragraph": "paragraph", "since": "since", "staff_id": "by", "created_at": "at"},
        {"id": _IDS, "client_id": _IDS},
    ),
    Section(
        ("case_file", "follow_ups"),
        FollowUp,
        "client_id",
        {
            "text": "text",
            "due_at": "due_at",
            "status": "status",
            "staff_id": "for",
            "created_by_staff_id": "by",
            "done_at": "done_at",
            "done_by_staff_id": "done_by",
            "created_at": "created_at",
            "updated_at": "updated_at",
        },
        {"id": _IDS, "client_id": _IDS, "announced_at": "delivery bookkeeping (the due message is listed)"},
    ),
    Section(
        ("case_file", "first_name"),
        ClientName,
        "client_id",
        {"first_name": "first_name", "updated_at": "updated_at"},
        {"client_id": _IDS},
        single=True,
    ),
    Section(
        ("activity",),
        AuditEntry,
        "client_id",
        {"at": "at", "action": "action", "actor": "by"},
        {
            "id": _IDS,
            "client_id": _IDS,
            "actor_id": "internal id of the client or staff member",
            "details": "internal ids only, never personal data (bot/services/audit.py)",
        },
    ),
)
# Not tables: what the FSM storage holds of a conversation in progress (Redis or the database).
CONVERSATION_STATE = "conversation_state"
# The export's top-level parts, for the privacy notice.
EXPORT_PARTS: tuple[str, ...] = (*dict.fromkeys(s.path[0] for s in SECTIONS), CONVERSATION_STATE)

_DIRECTIONS = {"in": "to_case_manager", "out": "from_case_manager"}


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (datetime, date)) else value


@dataclass
class _Names:
    """Readable names for what the rows hold as keys and ids."""

    staff: dict[int, str]
    county: County | None
    locale: str
    texts: CountyTexts | None = None  # the county file's texts in the client's language (else German)

    def resolve(self, column: str, value: Any) -> Any:
        if value is None:
            return None
        if column == "case_manager_id" or column.endswith("staff_id"):
            return self.staff.get(value, "–")
        if column == "interpreter_key" and self.county is not None:
            interpreter = self.county.interpreter(value)
            return interpreter.display_name if interpreter else value
        if column == "direction":
            return _DIRECTIONS.get(value, value)
        if column == "service_key" and self.county is not None:
            service = self.county.service(value)
            if service is None:
                return value
            return self.texts.text(service.name, self.locale) if self.texts is not None else service.name
        if column == "office_key" and self.county is not None:
            office = self.county.office(value)
            return f"{office.name}, {office.address}" if office else value
        return _jsonable(value)


async def export(
    session: AsyncSession,
    client_id: int,
    *,
    county: County | None = None,
    conversation_state: dict[str, Any] | None = None,
    county_texts: CountyTexts | None = None,
) -> dict[str, Any]:
    """Everything kimbot holds about the client, as JSON-ready data, by `SECTIONS`; `conversation_state` is what
    the FSM storage holds (read by the caller). The export itself is audited."""
    profile = await clients.get(session, client_id)  # LookupError for an unknown client
    staff = {sid: name for sid, name in (await session.execute(select(Staff.id, Staff.display_name))).all()}
    names = _Names(staff, county, profile.locale or "de", county_texts)
    data: dict[str, Any] = {}
    for section in SECTIONS:
        link = getattr(section.model, section.link)
        rows = (await session.scalars(select(section.model).where(link == client_id).order_by(link))).all()
        items = [{out: names.resolve(col, getattr(row, col)) for col, out in section.fields.items()} for row in rows]
        if section.model is Appointment:
            items = [item | {"place": item["place"] or "home visit"} for item in items]
        *parents, leaf = section.path
        target = data
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = (items[0] if items else None) if section.single else items
    data[CONVERSATION_STATE] = conversation_state or {}
    data["exported_at"] = utcnow().isoformat()
    audit.record(session, "data_exported", actor="client", actor_id=client_id, client_id=client_id)
    return data


# ---------------------------------------------------------------------- erasure


@dataclass(frozen=True, slots=True)
class Traces:
    """Where the client's data is outside kimbot's database, read before their rows go."""

    client_id: int
    telegram_id: int
    staff_chat_id: int | None  # the chat of their forum topic
    thread_id: int | None
    intake_message_id: int | None


# One part of the erasure outside the database (FSM storage, the staff forum): True when that part is gone.
Forget = Callable[[Traces], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Erasure:
    # False when something outside the database could not be deleted (staff were asked to delete it by hand).
    complete: bool


async def erase(
    session: AsyncSession,
    client_id: int,
    *,
    forget: Sequence[Forget] = (),
    audit_action: str | None = "client_erased",
    before_rows: Callable[[Erasure], Awaitable[None]] | None = None,
) -> Erasure:
    """Delete everything about the client: first what `forget` covers (see the module docstring), then every row.

    Their appointments, waitlist entries, no-show count, documents, conversation and message pairs, and messages
    addressed to them go with the client row (ON DELETE CASCADE); audit entries (ON DELETE SET NULL) are deleted
    first, and so are messages to staff about them (linked by their key) and the journal's copies of their
    updates. The audit keeps only that an erasure happened. `before_rows` (the client's answer) runs once the
    outside is gone and before the first row is: no message waits behind the deletes, which end with the update's
    journal row (`bot.db.unit_of_work`). The programme report's anonymous counts (bot/db/models_reporting.py) stay:
    they hold no id and no text of the client (docs/reporting.md)."""
    client = await clients.get(session, client_id)  # LookupError before anything is deleted
    conv = await handoff.conversation(session, client_id)
    traces = Traces(client_id, client.telegram_id, conv.chat_id, conv.thread_id, conv.intake_message_id)
    complete = True
    for step in forget:
        complete = await step(traces) and complete
    if before_rows is not None:
        await before_rows(Erasure(complete=complete))
    await audit.forget_client(session, client_id)
    appointments = (await session.scalars(select(Appointment.id).where(Appointment.client_id == client_id))).all()
    await outbox.forget_client(session, client_id, appointment_ids=list(appointments))
    await _forget_journal(session, client.telegram_id)
    await clients.delete(session, client_id)
    if audit_action:
        audit.record(session, audit_action, actor="system")
    await session.flush()
    return Erasure(complete=complete)


def _from_user(value: Any, telegram_id: int) -> bool:
    """Whether an update (Telegram's JSON) comes from, or is in the chat of, this user."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("from", "chat", "user") and isinstance(inner, dict) and inner.get("id") == telegram_id:
                return True
            if _from_user(inner, telegram_id):
                return True
    elif isinstance(value, list):
        return any(_from_user(inner, telegram_id) for inner in value)
    return False


async def _forget_journal(session: AsyncSession, telegram_id: int) -> None:
    """The journal's payloads of the user's updates (the one being handled, and any stuck ones) are dropped; the
    bare update id stays until the journal is pruned, so a resent update is still recognised."""
    rows = await session.execute(
        select(InboundUpdate.update_id, InboundUpdate.payload).where(
            InboundUpdate.payload.is_not(None), InboundUpdate.payload.contains(str(telegram_id))
        )
    )
    ids = [update_id for update_id, payload in rows if payload and _from_user(json.loads(payload), telegram_id)]
    if ids:
        await session.execute(
            update(InboundUpdate)
            .where(InboundUpdate.update_id.in_(ids))
            .values(status="done", payload=None, done_at=utcnow())
            .execution_options(synchronize_session=False)
        )


async def purge_candidates(
    session: AsyncSession, *, inactive_before: datetime, unfinished_before: datetime
) -> list[int]:
    """Clients the retention promise of the privacy notice says to erase: no contact since `inactive_before`, or
    onboarding never finished and no contact since `unfinished_before` – unless an appointment is still to come."""
    stale = set(await clients.inactive_since(session, inactive_before))
    stale |= set(await clients.unfinished_since(session, unfinished_before))
    keep = await booking.with_upcoming(session, sorted(stale))
    return sorted(stale - keep)

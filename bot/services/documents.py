"""My documents: a client's residence documents and when they expire, and the reminders that follow from that.

Only the type and the expiry date are stored – never document numbers or photos. Reminders are outbox rows
queued in the same transaction as the change; editing the date or deleting the document cancels them and plans
new ones. Lead times depend on the type: a residence permit's extension must be applied for months ahead, a
Duldung is usually extended at short notice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.db.models import Client
from bot.db.models_documents import Document
from bot.db.models_outbox import OutboxMessage
from bot.delivery import outbox
from bot.services import audit
from bot.services.dto import StaffDTO
from bot.services.reporting import hooks as report_hooks

DOCUMENT_TYPES = ("residence_permit", "duldung", "gestattung", "fiktion", "passport", "work_permit", "other")

# Lead times before the expiry date: "<n>w" weeks, "<n>m" calendar months, "<n>d" days.
LEAD_TIMES: dict[str, tuple[str, ...]] = {
    "residence_permit": ("12w", "8w", "4w", "2w"),
    "work_permit": ("12w", "8w", "4w", "2w"),
    "duldung": ("4w", "2w", "3d"),
    "gestattung": ("4w", "2w", "3d"),
    "fiktion": ("4w", "2w", "3d"),
    "passport": ("6m", "3m"),
    "other": ("8w", "4w", "1w"),
}
# Reminders arrive at this office time on their day.
REMINDER_TIME = time(9, 0)
DOCUMENT_TEMPLATE = "document_expiry"
MAX_YEARS_AHEAD = 15
EXPIRING_DAYS = 90


@dataclass(frozen=True, slots=True)
class DocumentDTO:
    id: int
    client_id: int
    doc_type: str
    expires_on: date


@dataclass(frozen=True, slots=True)
class ExpiringDocument:
    client_reference: str
    doc_type: str
    expires_on: date


class InvalidDocument(ValueError):
    """Unknown type, or a date in the past or implausibly far ahead."""


def _dto(row: Document) -> DocumentDTO:
    return DocumentDTO(id=row.id, client_id=row.client_id, doc_type=row.doc_type, expires_on=row.expires_on)


# ------------------------------------------------------------------ dates typed by people

# Arabic-Indic (U+0660…) and Extended Arabic-Indic / Persian (U+06F0…) digits, plus Arabic date separators.
_DIGITS = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬،",
    "01234567890123456789...",
)
_BIDI = re.compile(r"[\u200e\u200f\u061c\u2066-\u2069\u202a-\u202e]")
_YMD = re.compile(r"^(\d{4})[.\-/ ](\d{1,2})[.\-/ ](\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[.\-/ ](\d{1,2})[.\-/ ](\d{2}|\d{4})$")


def parse_date(text: str) -> date | None:
    """A date as people type it: 31.03.2027, 31/3/27, 2027-03-31, with Latin, Arabic-Indic or Persian digits.

    Day before month (as in Germany and in the clients' countries); None when it is not a date.
    """
    cleaned = _BIDI.sub("", text).translate(_DIGITS).strip().rstrip(".")
    cleaned = re.sub(r"\s*([.\-])\s*", r"\1", cleaned)
    if match := _YMD.match(cleaned):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DMY.match(cleaned):
        day, month, year = (int(g) for g in match.groups())
        if year < 100:
            year += 2000
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def validate_expiry(expires_on: date, today: date) -> None:
    if expires_on < today:
        raise InvalidDocument("in the past")
    if expires_on.year > today.year + MAX_YEARS_AHEAD:
        raise InvalidDocument("too far ahead")


# ------------------------------------------------------------------ reminder planning


def _minus(day: date, lead: str) -> date:
    amount, unit = int(lead[:-1]), lead[-1]
    if unit == "d":
        return day - timedelta(days=amount)
    if unit == "w":
        return day - timedelta(weeks=amount)
    months = day.year * 12 + day.month - 1 - amount
    year, month = divmod(months, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):  # 31 August minus 6 months: the last day of February
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def local_moment(day: date, at: time, tz: tzinfo) -> datetime:
    """Wall time `at` on `day` in the office zone, as UTC (so 09:00 stays 09:00 across DST changes)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def reminder_plan(doc_type: str, expires_on: date, tz: tzinfo, now: datetime) -> list[tuple[str, datetime]]:
    """(lead, due UTC) for every reminder still in the future."""
    plan = []
    for lead in LEAD_TIMES.get(doc_type, LEAD_TIMES["other"]):
        due = local_moment(_minus(expires_on, lead), REMINDER_TIME, tz)
        if due > now:
            plan.append((lead, due))
    return plan


def _key_prefix(document_id: int) -> str:
    return f"document:{document_id}:"


async def _queue(session: AsyncSession, row: Document, telegram_id: int, lead: str, due: datetime, tz: tzinfo) -> bool:
    return await outbox.enqueue(
        session,
        key=f"{_key_prefix(row.id)}{row.expires_on.isoformat()}:reminder:{lead}",
        chat_id=telegram_id,
        client_id=row.client_id,
        template=DOCUMENT_TEMPLATE,
        params={
            "document_id": row.id,
            "doc_type": row.doc_type,
            "expires_on": row.expires_on.isoformat(),
            "lead": lead,
        },
        due_at=due,
        # After the expiry day a "your document expires" reminder makes no sense any more.
        expires_at=local_moment(row.expires_on + timedelta(days=1), time(0, 0), tz),
    )


async def _plan(session: AsyncSession, row: Document, telegram_id: int, tz: tzinfo, now: datetime) -> list[datetime]:
    """Cancel the document's pending reminders and queue those of its current date (keys carry the date, so an
    edited date gets fresh reminders even where one of the old date was sent already)."""
    await outbox.cancel(session, _key_prefix(row.id))
    planned = []
    for lead, due in reminder_plan(row.doc_type, row.expires_on, tz, now):
        await _queue(session, row, telegram_id, lead, due, tz)
        planned.append(due)
    return planned


async def _telegram_id(session: AsyncSession, client_id: int) -> int:
    telegram_id = await session.scalar(select(Client.telegram_id).where(Client.id == client_id))
    if telegram_id is None:
        raise LookupError("client not found")
    return int(telegram_id)


async def add(
    session: AsyncSession, *, client_id: int, doc_type: str, expires_on: date, tz: tzinfo, now: datetime | None = None
) -> tuple[DocumentDTO, list[datetime]]:
    """Store the document and plan its reminders; returns it and the reminder times (UTC)."""
    now = now or utcnow()
    if doc_type not in DOCUMENT_TYPES:
        raise InvalidDocument("unknown type")
    validate_expiry(expires_on, now.astimezone(tz).date())
    row = Document(client_id=client_id, doc_type=doc_type, expires_on=expires_on)
    session.add(row)
    await session.flush()
    planned = await _plan(session, row, await _telegram_id(session, client_id), tz, now)
    audit.record(session, "document_added", actor="client", actor_id=client_id, client_id=client_id)
    return _dto(row), planned


async def _owned(session: AsyncSession, client_id: int, document_id: int) -> Document:
    row = await session.scalar(select(Document).where(Document.id == document_id, Document.client_id == client_id))
    if row is None:
        raise LookupError("document not found")
    return row


async def get(session: AsyncSession, client_id: int, document_id: int) -> DocumentDTO:
    return _dto(await _owned(session, client_id, document_id))


async def current_expiry(session: AsyncSession, client_id: int | None, document_id: int) -> date | None:
    """The document's expiry date now, or None if the client has deleted it (a queued reminder checks this)."""
    return await session.scalar(
        select(Document.expires_on).where(Document.id == document_id, Document.client_id == client_id)
    )


async def change_expiry(
    session: AsyncSession,
    *,
    client_id: int,
    document_id: int,
    expires_on: date,
    tz: tzinfo,
    now: datetime | None = None,
) -> tuple[DocumentDTO, list[datetime]]:
    now = now or utcnow()
    validate_expiry(expires_on, now.astimezone(tz).date())
    row = await _owned(session, client_id, document_id)
    old, row.expires_on = row.expires_on, expires_on
    await report_hooks.document_renewed(session, client_id, row.doc_type, old, expires_on, now.astimezone(tz).date())
    await session.flush()
    planned = await _plan(session, row, await _telegram_id(session, client_id), tz, now)
    audit.record(session, "document_changed", actor="client", actor_id=client_id, client_id=client_id)
    return _dto(row), planned


async def remove(session: AsyncSession, *, client_id: int, document_id: int) -> None:
    row = await _owned(session, client_id, document_id)
    await outbox.cancel(session, _key_prefix(row.id))
    await session.delete(row)
    await session.flush()
    audit.record(session, "document_deleted", actor="client", actor_id=client_id, client_id=client_id)


async def for_client(session: AsyncSession, client_id: int) -> list[DocumentDTO]:
    rows = await session.scalars(
        select(Document).where(Document.client_id == client_id).order_by(Document.expires_on, Document.id)
    )
    return [_dto(r) for r in rows]


async def pending_reminders(session: AsyncSession, document_id: int) -> list[datetime]:
    """Due times of the document's reminders still to come (shown to the client after saving)."""
    rows = await session.scalars(
        select(OutboxMessage.due_at)
        .where(OutboxMessage.idempotency_key.startswith(_key_prefix(document_id)), OutboxMessage.status == "pending")
        .order_by(OutboxMessage.due_at)
    )
    return list(rows)


async def expiring(
    session: AsyncSession, member: StaffDTO, today: date, days: int = EXPIRING_DAYS
) -> list[ExpiringDocument]:
    """Documents of the staff member's clients (all clients for admins) expiring within `days`."""
    query = (
        select(Client.reference, Document.doc_type, Document.expires_on)
        .join(Client, Client.id == Document.client_id)
        .where(Document.expires_on >= today, Document.expires_on <= today + timedelta(days=days))
        .order_by(Document.expires_on, Client.reference)
    )
    if not member.is_admin:
        query = query.where(Client.case_manager_id == member.id)
    rows = (await session.execute(query)).all()
    return [ExpiringDocument(reference, doc_type, expires_on) for reference, doc_type, expires_on in rows]


async def plan_missing_reminders(session: AsyncSession, tz: tzinfo, now: datetime | None = None) -> int:
    """Daily scan: every reachable client's future document gets the reminders it should have (idempotent – keys
    already present change nothing), e.g. after lead times were changed or a client became reachable again."""
    now = now or utcnow()
    today = now.astimezone(tz).date()
    rows = (
        await session.execute(
            select(Document, Client.telegram_id)
            .join(Client, Client.id == Document.client_id)
            .where(Client.reachable.is_(True), Document.expires_on >= today)
        )
    ).all()
    queued = 0
    for row, telegram_id in rows:
        for lead, due in reminder_plan(row.doc_type, row.expires_on, tz, now):
            queued += await _queue(session, row, int(telegram_id), lead, due, tz)
    return queued


async def reminders_sent(session: AsyncSession, after: datetime, until: datetime) -> list[tuple[int, str, datetime]]:
    """(client id, document type, when) of each document reminder sent in (after, until], for the programme report."""
    rows = await session.execute(
        select(OutboxMessage.client_id, OutboxMessage.params, OutboxMessage.sent_at).where(
            OutboxMessage.template == DOCUMENT_TEMPLATE,
            OutboxMessage.status == "sent",
            OutboxMessage.sent_at > after,
            OutboxMessage.sent_at <= until,
            OutboxMessage.client_id.is_not(None),
        )
    )
    return [(int(c), str((params or {}).get("doc_type", "other")), sent) for c, params, sent in rows.all()]


async def purge_expired(session: AsyncSession, before: date) -> int:
    """Retention: documents that expired before `before` are of no use any more."""
    result = await session.execute(delete(Document).where(Document.expires_on < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

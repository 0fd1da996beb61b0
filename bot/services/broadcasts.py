"""Broadcasts: the office tells many clients something at once, each in their own language.

Telegram-free. A broadcast is composed as a draft (texts per language, what to do with languages without a text,
a segment, a time), then confirmed: one outbox row per recipient is written in the same transaction, with the
idempotency key `broadcast:{id}:client:{client_id}` and `BROADCAST_PRIORITY`, so reminders overtake it, a restart
resumes it and nobody gets it twice. Pausing parks the pending rows (`paused`, which the drain never claims);
resuming puts them back; cancelling cancels them. Progress and the final report are counts over those rows.

Segments combine with AND; several values of one criterion with OR. Opted-out and unreachable clients are never
recipients, but are counted; so are clients left out because their language has no text (policy "skip").
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES
from bot.db.base import utcnow
from bot.db.models import Client, Staff
from bot.db.models_booking import Appointment
from bot.db.models_broadcasts import FALLBACK_POLICIES, Broadcast
from bot.db.models_documents import Document
from bot.db.models_outbox import OutboxMessage
from bot.delivery import outbox
from bot.services import audit
from bot.services.reporting import hooks as report_hooks
from bot.services.translator import TranslationError, Translator

BROADCAST_TEMPLATE = "broadcast"
SOURCE_LANGUAGE = "de"
# The text a client gets whose language has none, under the "en_de" policy.
FALLBACK_KEY = "en+de"
ACTIVE_STATUSES = ("scheduled", "running", "paused")
# Outbox status → outcome shown to the admin.
_OUTCOMES = {
    "sent": "sent",
    "pending": "pending",
    "sending": "pending",
    "paused": "pending",
    "unreachable": "unreachable",
    "failed": "failed",
    "dropped": "failed",
    "cancelled": "cancelled",
}
OUTCOMES = ("sent", "pending", "unreachable", "failed", "cancelled")


class BroadcastError(Exception):
    """The broadcast does not exist or cannot do that in its current state."""


# ------------------------------------------------------------------ segments


@dataclass(frozen=True, slots=True)
class Segment:
    """Who gets a broadcast. Empty = all clients."""

    languages: tuple[str, ...] = ()
    municipalities: tuple[str, ...] = ()
    offices: tuple[str, ...] = ()  # clients whose case manager works at one of these offices
    case_managers: tuple[int, ...] = ()  # staff ids
    appointment_from: date | None = None  # an upcoming booked appointment on these days (office time zone)
    appointment_to: date | None = None
    document_type: str | None = None  # a document of this type (any type when None) …
    document_days: int | None = None  # … expiring within this many days

    @property
    def is_all(self) -> bool:
        return self == Segment()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in ("languages", "municipalities", "offices", "case_managers"):
            if getattr(self, name):
                data[name] = list(getattr(self, name))
        if self.appointment_from is not None and self.appointment_to is not None:
            data["appointment_from"] = self.appointment_from.isoformat()
            data["appointment_to"] = self.appointment_to.isoformat()
        if self.document_days is not None:
            data["document_days"] = self.document_days
            data["document_type"] = self.document_type
        return data

    def toggled(self, criterion: str, value: str) -> Segment:
        """This segment with `value` added to or removed from one of the criteria with several values
        (languages, municipalities, offices, case_managers)."""
        chosen = {str(x) for x in getattr(self, criterion)} ^ {value}
        return Segment.from_json(self.to_json() | {criterion: sorted(chosen)})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Segment:
        def day(key: str) -> date | None:
            return date.fromisoformat(data[key]) if data.get(key) else None

        return cls(
            languages=tuple(data.get("languages", ())),
            municipalities=tuple(data.get("municipalities", ())),
            offices=tuple(data.get("offices", ())),
            case_managers=tuple(int(x) for x in data.get("case_managers", ())),
            appointment_from=day("appointment_from"),
            appointment_to=day("appointment_to"),
            document_type=data.get("document_type"),
            document_days=int(data["document_days"]) if data.get("document_days") is not None else None,
        )


def _criteria(segment: Segment, tz: ZoneInfo, now: datetime) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if segment.languages:
        langs = list(segment.languages)
        if DEFAULT_LOCALE in langs:  # clients who never chose a language get the default one
            where.append(Client.locale.in_(langs) | Client.locale.is_(None))
        else:
            where.append(Client.locale.in_(langs))
    if segment.municipalities:
        where.append(Client.municipality.in_(segment.municipalities))
    if segment.case_managers:
        where.append(Client.case_manager_id.in_(segment.case_managers))
    if segment.offices:
        where.append(Client.case_manager_id.in_(select(Staff.id).where(Staff.office_key.in_(segment.offices))))
    if segment.appointment_from is not None and segment.appointment_to is not None:
        start = datetime.combine(segment.appointment_from, time(0, 0), tzinfo=tz)
        end = datetime.combine(segment.appointment_to + timedelta(days=1), time(0, 0), tzinfo=tz)
        where.append(
            exists().where(
                Appointment.client_id == Client.id,
                Appointment.status == "booked",
                Appointment.starts_at >= max(start, now),
                Appointment.starts_at < end,
            )
        )
    if segment.document_days is not None:
        today = now.astimezone(tz).date()
        doc = and_(
            Document.client_id == Client.id,
            Document.expires_on >= today,
            Document.expires_on <= today + timedelta(days=segment.document_days),
        )
        if segment.document_type:
            doc = and_(doc, Document.doc_type == segment.document_type)
        where.append(exists().where(doc))
    return where


# ------------------------------------------------------------------ plain data


@dataclass(frozen=True, slots=True)
class BroadcastDTO:
    id: int
    author_staff_id: int | None
    texts: dict[str, str]
    auto_languages: tuple[str, ...]
    fallback: str
    segment: Segment
    scheduled_at: datetime | None
    status: str
    excluded: dict[str, int]
    progress_chat_id: int | None
    progress_message_id: int | None
    progress_updated_at: datetime | None
    created_at: datetime
    finished_at: datetime | None


def _dto(row: Broadcast) -> BroadcastDTO:
    return BroadcastDTO(
        id=row.id,
        author_staff_id=row.author_staff_id,
        texts=dict(row.texts or {}),
        auto_languages=tuple(row.auto_languages or ()),
        fallback=row.fallback,
        segment=Segment.from_json(dict(row.segment or {})),
        scheduled_at=row.scheduled_at,
        status=row.status,
        excluded=dict(row.excluded or {}),
        progress_chat_id=row.progress_chat_id,
        progress_message_id=row.progress_message_id,
        progress_updated_at=row.progress_updated_at,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


def text_key(texts: dict[str, str], fallback: str, locale: str) -> str | None:
    """Which text a client with `locale` gets: their own language's, English + German, or none (left out)."""
    if locale in texts:
        return locale
    if fallback == "skip":
        return None
    return FALLBACK_KEY


@dataclass
class Plan:
    """Recipients of a broadcast as it stands: per text language, and who is left out."""

    # text key → [(client id, chat id, client language)]
    recipients: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)
    by_locale: Counter[str] = field(default_factory=Counter)  # client language → recipients
    opted_out: int = 0
    unreachable: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.recipients.values())

    def counts(self) -> dict[str, int]:
        return {key: len(ids) for key, ids in self.recipients.items()}


@dataclass(frozen=True, slots=True)
class Progress:
    counts: dict[str, int]  # outcome → messages
    by_language: dict[str, dict[str, int]]  # client language at planning → outcome → messages
    excluded: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def pending(self) -> int:
        return self.counts.get("pending", 0)


# ------------------------------------------------------------------ composing


async def _row(session: AsyncSession, broadcast_id: int) -> Broadcast:
    row = await session.get(Broadcast, broadcast_id)
    if row is None:
        raise BroadcastError("broadcast not found")
    return row


async def _draft(session: AsyncSession, broadcast_id: int) -> Broadcast:
    row = await _row(session, broadcast_id)
    if row.status != "draft":
        raise BroadcastError("broadcast is no longer a draft")
    return row


async def get(session: AsyncSession, broadcast_id: int) -> BroadcastDTO:
    return _dto(await _row(session, broadcast_id))


async def create_draft(session: AsyncSession, *, author_staff_id: int, german_text: str) -> BroadcastDTO:
    text = german_text.strip()
    if not text:
        raise BroadcastError("empty text")
    row = Broadcast(author_staff_id=author_staff_id, texts={SOURCE_LANGUAGE: text}, auto_languages=[], segment={})
    row.excluded, row.fallback, row.status = {}, "en_de", "draft"
    session.add(row)
    await session.flush()
    return _dto(row)


async def set_text(session: AsyncSession, broadcast_id: int, language: str, text: str, *, auto: bool = False) -> None:
    row = await _draft(session, broadcast_id)
    if not text.strip():
        raise BroadcastError("empty text")
    row.texts = {**(row.texts or {}), language: text.strip()}
    autos = [code for code in (row.auto_languages or ()) if code != language]
    row.auto_languages = [*autos, language] if auto else autos
    await session.flush()


async def set_fallback(session: AsyncSession, broadcast_id: int, policy: str) -> None:
    if policy not in FALLBACK_POLICIES:
        raise BroadcastError(f"unknown fallback {policy!r}")
    row = await _draft(session, broadcast_id)
    row.fallback = policy
    await session.flush()


async def set_segment(session: AsyncSession, broadcast_id: int, segment: Segment) -> None:
    row = await _draft(session, broadcast_id)
    row.segment = segment.to_json()
    await session.flush()


async def set_appointment_range(session: AsyncSession, broadcast_id: int, start: date, end: date) -> None:
    """Add (or replace) the criterion "an upcoming appointment between these days"."""
    segment = Segment.from_json(dict((await _draft(session, broadcast_id)).segment or {}))
    extra = {"appointment_from": start.isoformat(), "appointment_to": end.isoformat()}
    await set_segment(session, broadcast_id, Segment.from_json(segment.to_json() | extra))


async def set_document_expiry(session: AsyncSession, broadcast_id: int, days: int, document_type: str | None) -> None:
    """Add (or replace) the criterion "a document (of this type) expiring within `days` days"."""
    segment = Segment.from_json(dict((await _draft(session, broadcast_id)).segment or {}))
    extra = {"document_days": days, "document_type": document_type}
    await set_segment(session, broadcast_id, Segment.from_json(segment.to_json() | extra))


async def translate_missing(
    session: AsyncSession, broadcast_id: int, translator: Translator | None
) -> tuple[list[str], list[str]]:
    """Machine-translate the German text into every supported language without a text (marked automatic).
    Returns (translated, still missing); when nothing is missing any more the fallback becomes "translate"."""
    draft = await get(session, broadcast_id)
    missing = [code for code in SUPPORTED_LOCALES if code not in draft.texts]
    if not missing or translator is None:
        return [], missing
    source = draft.texts[SOURCE_LANGUAGE]

    async def translate(code: str) -> tuple[str, str | None]:
        try:
            return code, await translator.translate(source, SOURCE_LANGUAGE, code)
        except TranslationError:
            return code, None

    for code, translated in await asyncio.gather(*(translate(code) for code in missing)):
        if translated:
            await set_text(session, broadcast_id, code, translated, auto=True)
    done = [code for code in missing if code in (await get(session, broadcast_id)).texts]
    missing = [code for code in missing if code not in done]
    if not missing:
        await set_fallback(session, broadcast_id, "translate")
    return done, missing


async def set_schedule(session: AsyncSession, broadcast_id: int, when: datetime | None) -> None:
    """None = now (when confirmed)."""
    if when is not None and when.tzinfo is None:
        raise BroadcastError("naive datetime")
    row = await _draft(session, broadcast_id)
    row.scheduled_at = when
    await session.flush()


async def discard(session: AsyncSession, broadcast_id: int) -> None:
    row = await _draft(session, broadcast_id)
    await session.delete(row)
    await session.flush()


async def plan(session: AsyncSession, broadcast_id: int, tz: ZoneInfo, now: datetime | None = None) -> Plan:
    """Who would get the broadcast now, by the text they would get, and who is left out (counted)."""
    row = await _row(session, broadcast_id)
    return await _plan(session, _dto(row), tz, now or utcnow())


async def _plan(session: AsyncSession, broadcast: BroadcastDTO, tz: ZoneInfo, now: datetime) -> Plan:
    query = (
        select(Client.id, Client.telegram_id, Client.locale, Client.reachable, Client.announcements_opt_out)
        .where(true(), *_criteria(broadcast.segment, tz, now))
        .order_by(Client.id)
    )
    result = Plan()
    for client_id, telegram_id, locale, reachable, opted_out in (await session.execute(query)).all():
        if opted_out:
            result.opted_out += 1
            continue
        if not reachable:
            result.unreachable += 1
            continue
        language = locale or DEFAULT_LOCALE
        key = text_key(broadcast.texts, broadcast.fallback, language)
        if key is None:
            result.skipped += 1
            continue
        result.recipients.setdefault(key, []).append((client_id, int(telegram_id), language))
        result.by_locale[language] += 1
    return result


def recipient_key(broadcast_id: int, client_id: int) -> str:
    return f"broadcast:{broadcast_id}:client:{client_id}"


async def confirm(
    session: AsyncSession,
    broadcast_id: int,
    tz: ZoneInfo,
    *,
    progress_chat_id: int | None = None,
    now: datetime | None = None,
) -> Plan:
    """Schedule the draft: one outbox row per recipient, due at the scheduled time (now if none), in this
    transaction. Rows already written for this broadcast are left alone (a second confirm adds nothing)."""
    now = now or utcnow()
    row = await _row(session, broadcast_id)
    if row.status not in ("draft", "scheduled"):
        raise BroadcastError("broadcast already started")
    due = row.scheduled_at if row.scheduled_at is not None and row.scheduled_at > now else now
    result = await _plan(session, _dto(row), tz, now)
    existing = set(
        (await session.scalars(select(OutboxMessage.client_id).where(OutboxMessage.broadcast_id == row.id))).all()
    )
    values = [
        {
            "idempotency_key": recipient_key(row.id, client_id),
            "client_id": client_id,
            "chat_id": chat_id,
            "template": BROADCAST_TEMPLATE,
            "params": {"broadcast_id": row.id, "lang": language},
            "priority": outbox.BROADCAST_PRIORITY,
            "due_at": due,
            "status": "pending",
            "attempts": 0,
            "broadcast_id": row.id,
            "created_at": now,
        }
        for ids in result.recipients.values()
        for client_id, chat_id, language in ids
        if client_id not in existing
    ]
    for start in range(0, len(values), 500):
        await session.execute(insert(OutboxMessage), values[start : start + 500])
    row.status = "scheduled" if due > now else "running"
    row.scheduled_at = due
    row.excluded = {"opted_out": result.opted_out, "unreachable": result.unreachable, "skipped": result.skipped}
    if progress_chat_id is not None:
        row.progress_chat_id = progress_chat_id
    audit.record(session, "broadcast_confirmed", actor="staff", actor_id=row.author_staff_id, broadcast=row.id)
    await session.flush()
    return result


# ------------------------------------------------------------------ running


async def pause(session: AsyncSession, broadcast_id: int) -> int:
    """Park the pending rows (messages being sent right now still go out); returns how many were parked."""
    row = await _row(session, broadcast_id)
    if row.status not in ("scheduled", "running"):
        raise BroadcastError(f"cannot pause a broadcast that is {row.status}")
    row.status = "paused"
    parked = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.broadcast_id == row.id, OutboxMessage.status == "pending")
        .values(status="paused")
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return int(parked.rowcount or 0)  # type: ignore[attr-defined]


async def resume(session: AsyncSession, broadcast_id: int, now: datetime | None = None) -> int:
    """Put the parked rows back; clients who became unreachable meanwhile are not written to."""
    now = now or utcnow()
    row = await _row(session, broadcast_id)
    if row.status != "paused":
        raise BroadcastError(f"cannot resume a broadcast that is {row.status}")
    row.status = "scheduled" if row.scheduled_at is not None and row.scheduled_at > now else "running"
    unreachable = select(Client.id).where(Client.reachable.is_(False))
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.broadcast_id == row.id,
            OutboxMessage.status == "paused",
            OutboxMessage.client_id.in_(unreachable),
        )
        .values(status="cancelled", last_error="client unreachable")
        .execution_options(synchronize_session=False)
    )
    resumed = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.broadcast_id == row.id, OutboxMessage.status == "paused")
        .values(status="pending")
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return int(resumed.rowcount or 0)  # type: ignore[attr-defined]


async def cancel(session: AsyncSession, broadcast_id: int, now: datetime | None = None) -> int:
    """Stop for good: pending and parked rows are cancelled; returns how many."""
    row = await _row(session, broadcast_id)
    if row.status not in ACTIVE_STATUSES:
        raise BroadcastError(f"cannot cancel a broadcast that is {row.status}")
    row.status = "cancelled"
    row.finished_at = now or utcnow()
    cancelled = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.broadcast_id == row.id, OutboxMessage.status.in_(("pending", "paused")))
        .values(status="cancelled", last_error="broadcast cancelled")
        .execution_options(synchronize_session=False)
    )
    audit.record(session, "broadcast_cancelled", actor="staff", broadcast=row.id)
    await session.flush()
    await report_hooks.broadcast_finished(session, (await progress(session, row.id)).by_language, utcnow())
    return int(cancelled.rowcount or 0)  # type: ignore[attr-defined]


async def progress(session: AsyncSession, broadcast_id: int) -> Progress:
    row = await _row(session, broadcast_id)
    rows = (
        await session.execute(
            select(OutboxMessage.status, OutboxMessage.params).where(OutboxMessage.broadcast_id == broadcast_id)
        )
    ).all()
    counts: Counter[str] = Counter()
    by_language: dict[str, Counter[str]] = defaultdict(Counter)
    for status, params in rows:
        outcome = _OUTCOMES.get(status, "failed")
        counts[outcome] += 1
        by_language[str((params or {}).get("lang", "?"))][outcome] += 1
    return Progress(
        counts={outcome: counts.get(outcome, 0) for outcome in OUTCOMES},
        by_language={lang: dict(c) for lang, c in sorted(by_language.items())},
        excluded=dict(row.excluded or {}),
    )


async def advance(session: AsyncSession, broadcast_id: int, now: datetime | None = None) -> BroadcastDTO:
    """Move a broadcast along by the state of its rows: scheduled → running once due, → done when nothing is
    left to send. Called by the progress job."""
    now = now or utcnow()
    row = await _row(session, broadcast_id)
    if row.status == "scheduled" and (row.scheduled_at is None or row.scheduled_at <= now):
        row.status = "running"
    if row.status == "running":
        left = await session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.broadcast_id == row.id,
                OutboxMessage.status.in_(("pending", "sending", "paused")),
            )
            .limit(1)
        )
        if left is None:
            row.status, row.finished_at = "done", now
            audit.record(session, "broadcast_done", actor="system", broadcast=row.id)
            await report_hooks.broadcast_finished(session, (await progress(session, row.id)).by_language, now)
    await session.flush()
    return _dto(row)


async def active(session: AsyncSession) -> list[BroadcastDTO]:
    rows = (
        await session.scalars(select(Broadcast).where(Broadcast.status.in_(ACTIVE_STATUSES)).order_by(Broadcast.id))
    ).all()
    return [_dto(r) for r in rows]


async def set_progress_message(
    session: AsyncSession, broadcast_id: int, chat_id: int, message_id: int, now: datetime | None = None
) -> None:
    row = await _row(session, broadcast_id)
    row.progress_chat_id, row.progress_message_id = chat_id, message_id
    row.progress_updated_at = now or utcnow()
    await session.flush()


async def touch_progress(session: AsyncSession, broadcast_id: int, now: datetime | None = None) -> None:
    await session.execute(
        update(Broadcast).where(Broadcast.id == broadcast_id).values(progress_updated_at=now or utcnow())
    )


# ------------------------------------------------------------------ clients' choice


async def set_opt_out(session: AsyncSession, client_id: int, opted_out: bool) -> bool:
    """Announcements off (True) or on; reminders about the client's own appointments and documents stay on.
    Pending broadcast messages to the client are cancelled when they opt out."""
    await session.execute(update(Client).where(Client.id == client_id).values(announcements_opt_out=opted_out))
    if opted_out:
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.client_id == client_id,
                OutboxMessage.broadcast_id.is_not(None),
                OutboxMessage.status.in_(("pending", "paused")),
            )
            .values(status="cancelled", last_error="opted out")
            .execution_options(synchronize_session=False)
        )
    audit.record(
        session,
        "announcements_off" if opted_out else "announcements_on",
        actor="client",
        actor_id=client_id,
        client_id=client_id,
    )
    return opted_out


async def is_opted_out(session: AsyncSession, client_id: int) -> bool:
    return bool(await session.scalar(select(Client.announcements_opt_out).where(Client.id == client_id)))

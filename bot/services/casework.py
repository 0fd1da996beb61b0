"""Finding a client for staff (`/find` in a private chat): by reference (all of it or a part, as read out on the
phone), by a part of the first name – only where names are stored, i.e. when topics are named with them
(HANDOFF_TOPIC_NAMES) – or by a document expiring within some days. Each hit carries the client's forum topic,
so that the view can link to it.

Telegram-free. Also keeps the first name itself (`remember_name`), written when a client's topic is created
with it; it is personal data like the topic name, exported and erased with the client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Client
from bot.db.models_casework import ClientName
from bot.db.models_documents import Document
from bot.db.models_handoff import Conversation
from bot.services.dto import StaffDTO

LIMIT = 20
MIN_PART = 2
EXPIRING_DEFAULT_DAYS = 30
MAX_EXPIRING_DAYS = 366
_EXPIRING = re.compile(r"^(?:expiring|ablaufend)(?:\s+(\d{1,3}))?$", re.IGNORECASE)
_NAME_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Query:
    """What `/find` was asked: `reference` (a part of one), `text` (a part of a reference or of a name), or
    `expiring` within `days`."""

    kind: str
    text: str = ""
    days: int = 0


@dataclass(frozen=True, slots=True)
class Found:
    client_id: int
    reference: str
    locale: str | None
    municipality: str | None
    case_manager_id: int | None
    chat_id: int | None  # the client's forum topic, when there is one
    thread_id: int | None
    first_name: str | None = None
    doc_type: str | None = None  # for `expiring`: the document and its date
    expires_on: date | None = None


def parse_query(args: str) -> Query | None:
    """`K-4F7Q2` → reference; `expiring [days]` / `ablaufend [Tage]` → expiring; anything else (`4F7`, `Ali`) →
    text, a part of a reference or of a first name. None when there is nothing to look for."""
    text = " ".join(args.split())
    if match := _EXPIRING.match(text):
        days = int(match.group(1)) if match.group(1) else EXPIRING_DEFAULT_DAYS
        return Query("expiring", days=min(max(days, 1), MAX_EXPIRING_DAYS))
    if len(text) < MIN_PART:
        return None
    if re.fullmatch(r"(?i)k-[0-9a-z]*", text):
        return Query("reference", text.upper().removeprefix("K-"))
    return Query("text", text)


def reference_part(text: str) -> str | None:
    """The part of a reference a free text can be (letters and digits, at least MIN_PART), upper case."""
    cleaned = text.upper().removeprefix("K-").replace(" ", "")
    return cleaned if len(cleaned) >= MIN_PART and cleaned.isalnum() and cleaned.isascii() else None


def _like(part: str) -> str:
    escaped = part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _base() -> Select[int, str, str | None, str | None, int | None, int | None, int | None, str]:
    return (
        select(
            Client.id,
            Client.reference,
            Client.locale,
            Client.municipality,
            Client.case_manager_id,
            Conversation.chat_id,
            Conversation.thread_id,
            ClientName.first_name,
        )
        .outerjoin(Conversation, Conversation.client_id == Client.id)
        .outerjoin(ClientName, ClientName.client_id == Client.id)
    )


def _found(row: Any, **extra: Any) -> Found:
    return Found(
        row.id,
        row.reference,
        row.locale,
        row.municipality,
        row.case_manager_id,
        row.chat_id,
        row.thread_id,
        row.first_name,
        **extra,
    )


async def by_reference(session: AsyncSession, part: str, limit: int = LIMIT) -> list[Found]:
    rows = await session.execute(
        _base().where(Client.reference.like(_like(part.upper()), escape="\\")).order_by(Client.reference).limit(limit)
    )
    return [_found(row) for row in rows.all()]


async def by_name(session: AsyncSession, part: str, limit: int = LIMIT) -> list[Found]:
    """Clients whose stored first name contains `part` (case-insensitive)."""
    rows = await session.execute(
        _base()
        .where(func.lower(ClientName.first_name).like(_like(part.lower()), escape="\\"))
        .order_by(ClientName.first_name, Client.reference)
        .limit(limit)
    )
    return [_found(row) for row in rows.all()]


async def expiring(session: AsyncSession, member: StaffDTO, today: date, days: int, limit: int = LIMIT) -> list[Found]:
    """Documents expiring from today to `days` ahead, soonest first: the staff member's clients, or every
    client's for admins (as `/expiring`)."""
    query = (
        _base()
        .add_columns(Document.doc_type, Document.expires_on)
        .join(Document, Document.client_id == Client.id)
        .where(Document.expires_on >= today, Document.expires_on <= today + timedelta(days=days))
        .order_by(Document.expires_on, Client.reference)
        .limit(limit)
    )
    if not member.is_admin:
        query = query.where(Client.case_manager_id == member.id)
    rows = await session.execute(query)
    return [_found(row, doc_type=row.doc_type, expires_on=row.expires_on) for row in rows.all()]


async def find(
    session: AsyncSession, query: Query, member: StaffDTO, today: date, *, names_stored: bool
) -> list[Found]:
    """The clients matching the query. A free text is looked up as a part of a reference and, when names are
    stored, of a first name."""
    if query.kind == "expiring":
        return await expiring(session, member, today, query.days)
    if query.kind == "reference":
        return await by_reference(session, query.text) if len(query.text) >= MIN_PART else []
    found: dict[int, Found] = {}
    if (part := reference_part(query.text)) is not None:
        found |= {f.client_id: f for f in await by_reference(session, part)}
    if names_stored:
        found |= {f.client_id: f for f in await by_name(session, query.text)}
    return list(found.values())[:LIMIT]


async def remember_name(session: AsyncSession, client_id: int, first_name: str) -> None:
    """Keep the first name the client's topic is named with (HANDOFF_TOPIC_NAMES), for `/find`."""
    name = first_name.strip()[:_NAME_LENGTH]
    if not name:
        return
    row = await session.get(ClientName, client_id)
    if row is None:
        session.add(ClientName(client_id=client_id, first_name=name))
    else:
        row.first_name = name
    await session.flush()

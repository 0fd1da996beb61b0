"""Case notes: what a staff member writes down about a client with `/note` in the client's topic – timestamped,
with its author, kept in the database and listed in `/case`. Telegram-free.

Notes are personal data about the client: exported and erased with them (`bot.services.privacy`), never sent to
the client. A `!` message in the topic stays a remark in the staff group and is not stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Staff
from bot.db.models_casework import CaseNote
from bot.services import audit

MAX_NOTE_CHARS = 3000  # a note fits one Telegram message with its heading


class EmptyNote(ValueError):
    """/note without text."""


@dataclass(frozen=True, slots=True)
class NoteDTO:
    id: int
    text: str
    author: str | None  # the staff member's display name; None when unknown
    created_at: datetime


def clean(text: str | None) -> str:
    """The note's text as stored: stripped, at most MAX_NOTE_CHARS; EmptyNote when nothing is left."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise EmptyNote
    return cleaned[:MAX_NOTE_CHARS]


async def add(session: AsyncSession, client_id: int, staff_id: int, text: str | None) -> NoteDTO:
    row = CaseNote(client_id=client_id, staff_id=staff_id, text=clean(text))
    session.add(row)
    await session.flush()
    audit.record(session, "case_note_added", actor="staff", actor_id=staff_id, client_id=client_id, note=row.id)
    author = await session.scalar(select(Staff.display_name).where(Staff.id == staff_id))
    return NoteDTO(row.id, row.text, author, row.created_at)


async def recent(session: AsyncSession, client_id: int, limit: int = 20) -> list[NoteDTO]:
    """The client's newest notes, newest first."""
    rows = await session.execute(
        select(CaseNote, Staff.display_name)
        .outerjoin(Staff, Staff.id == CaseNote.staff_id)
        .where(CaseNote.client_id == client_id)
        .order_by(CaseNote.created_at.desc(), CaseNote.id.desc())
        .limit(limit)
    )
    return [NoteDTO(row.id, row.text, name, row.created_at) for row, name in rows.all()]


async def count(session: AsyncSession, client_id: int) -> int:
    found = await session.scalar(select(func.count()).select_from(CaseNote).where(CaseNote.client_id == client_id))
    return int(found or 0)

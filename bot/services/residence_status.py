"""A client's residence status and its history: the path KIM exists for, from an insecure status (Gestattung,
Duldung) to a secure one (Niederlassungserlaubnis, Einbürgerung).

Telegram-free. Statuses and paragraphs are stored as codes (`STATUSES`, `PARAGRAPHS`; the labels are the views'),
each change with the date it took effect; the current status is the one with the newest date. Every change is
counted for the county's report (`reporting.events.record("status_change", detail="from->to")`, codes only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Staff
from bot.db.models_casework import StatusChange
from bot.services import audit
from bot.services.dto import ClientDTO
from bot.services.reporting import events

AUFENTHALTSERLAUBNIS = "aufenthaltserlaubnis"
OTHER = "other"
# In the order staff see them: roughly from insecure to secure.
STATUSES = (
    "aufenthaltsgestattung",
    "duldung",
    "duldung_60d",
    AUFENTHALTSERLAUBNIS,
    "chancen_104c",
    "niederlassungserlaubnis",
    "einbuergerung_beantragt",
    "einbuergerung_erfolgt",
    OTHER,
)
# The paragraphs of the AufenthG asked for an Aufenthaltserlaubnis (the most common in KIM's work), and "other".
PARAGRAPHS = ("16a", "18a", "18b", "22", "23", "24", "25-1", "25-2", "25-3", "25-5", "25a", "25b", "28", "36", OTHER)
NONE = "none"  # "from" of the first status recorded for a client, in the report's detail


class InvalidStatus(ValueError):
    """An unknown status or paragraph code, a paragraph where none belongs, or a date in the future."""


@dataclass(frozen=True, slots=True)
class StatusEntry:
    status: str
    paragraph: str | None
    since: date
    recorded_by: str | None  # the staff member's display name
    recorded_at: datetime

    @property
    def code(self) -> str:
        """The status as one code, with the paragraph: `aufenthaltserlaubnis_25b`."""
        return f"{self.status}_{self.paragraph}" if self.paragraph else self.status


def validate(status: str, paragraph: str | None, since: date, today: date) -> None:
    if status not in STATUSES:
        raise InvalidStatus("unknown status")
    if paragraph is not None and (status != AUFENTHALTSERLAUBNIS or paragraph not in PARAGRAPHS):
        raise InvalidStatus("unknown paragraph")
    if since > today:
        raise InvalidStatus("in the future")


def report_detail(before: StatusEntry | None, status: str, paragraph: str | None) -> str:
    """The report's detail for a change: `duldung->aufenthaltserlaubnis_25b`, `none->duldung` for the first."""
    after = f"{status}_{paragraph}" if paragraph else status
    return f"{before.code if before else NONE}->{after}"


async def history(session: AsyncSession, client_id: int) -> list[StatusEntry]:
    """Every recorded status of the client, oldest first (by the date it took effect, then by recording)."""
    rows = await session.execute(
        select(StatusChange, Staff.display_name)
        .outerjoin(Staff, Staff.id == StatusChange.staff_id)
        .where(StatusChange.client_id == client_id)
        .order_by(StatusChange.since, StatusChange.id)
    )
    return [StatusEntry(row.status, row.paragraph, row.since, name, row.created_at) for row, name in rows.all()]


async def current(session: AsyncSession, client_id: int) -> StatusEntry | None:
    entries = await history(session, client_id)
    return entries[-1] if entries else None


async def record_change(
    session: AsyncSession,
    client: ClientDTO,
    *,
    status: str,
    paragraph: str | None,
    since: date,
    staff_id: int,
    tz: tzinfo,
    today: date,
) -> tuple[StatusEntry | None, StatusEntry]:
    """Record that the client has `status` (with `paragraph` for an Aufenthaltserlaubnis) from `since` on; returns
    the status before and the new one. Counted for the report in the month the change took effect."""
    validate(status, paragraph, since, today)
    before = await current(session, client.id)
    row = StatusChange(client_id=client.id, status=status, paragraph=paragraph, since=since, staff_id=staff_id)
    session.add(row)
    await session.flush()
    audit.record(session, "residence_status_recorded", actor="staff", actor_id=staff_id, client_id=client.id)
    await events.record(
        session,
        "status_change",
        when=datetime.combine(since, time(12, 0), tzinfo=tz),
        municipality=client.municipality,
        language=client.locale,
        case_manager_id=client.case_manager_id,
        detail=report_detail(before, status, paragraph),
    )
    name = await session.scalar(select(Staff.display_name).where(Staff.id == staff_id))
    return before, StatusEntry(status, paragraph, since, name, row.created_at)

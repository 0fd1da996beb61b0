"""Counting events for the programme report, as they happen, without naming anyone.

Called by the capability that sees the event, inside its unit of work (callers never commit). Each call appends one
row to `report_events` – an INSERT, so concurrent updates never wait for each other on a shared counter row – and
`bot.services.reporting.rollup` later adds it to its cell. The dimensions are the county's own keys and short codes;
a value that looks like free text or an id is refused (ValueError), because the figures must not identify anyone
after the client's data has been erased (docs/reporting.md).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Client
from bot.db.models_reporting import ReportEvent

# KIM is a programme of North Rhine-Westphalia: its months are German calendar months, whatever zone the
# office's display uses.
REPORT_ZONE = ZoneInfo("Europe/Berlin")

# Upper bounds (seconds) of the duration histogram's buckets; the last bucket is open. Median and 90th percentile
# are estimated from them (bot/services/reporting/figures.py), so individual times are never stored.
DURATION_BUCKETS: tuple[int, ...] = (
    60,
    300,
    900,
    1800,
    3600,
    2 * 3600,
    4 * 3600,
    8 * 3600,
    86400,
    2 * 86400,
    3 * 86400,
    7 * 86400,
    14 * 86400,
    30 * 86400,
)
OPEN_BUCKET = "le_inf"

_CODE = re.compile(r"^[a-z0-9_.:>-]{0,64}$")
_EVENT = re.compile(r"^[a-z0-9_]{1,32}$")
_LANGUAGE = re.compile(r"^[A-Za-z_-]{0,16}$")

_INSERT = insert(cast(Table, ReportEvent.__table__))


def month_of(when: datetime) -> str:
    """ "2026-03": the report month `when` (an aware datetime) falls in."""
    if when.tzinfo is None:
        raise ValueError("naive datetime given to the report")
    return when.astimezone(REPORT_ZONE).strftime("%Y-%m")


def bucket_of(seconds: float) -> str:
    """The histogram bucket of a duration: "le_300" holds durations above the previous bound, up to 300 s."""
    for bound in DURATION_BUCKETS:
        if seconds <= bound:
            return f"le_{bound}"
    return OPEN_BUCKET


def _code(value: str | None, pattern: re.Pattern[str], what: str) -> str:
    value = value or ""
    if not pattern.match(value):
        raise ValueError(f"report {what} must be a short code, not {value[:20]!r}…")
    return value


async def record(
    session: AsyncSession,
    event: str,
    *,
    when: datetime,
    municipality: str | None = None,
    language: str | None = None,
    service: str | None = None,
    case_manager_id: int | None = None,
    detail: str | None = None,
    amount: int = 1,
) -> None:
    """Count `amount` for `event` in the month of `when` and the given dimensions (all optional)."""
    await session.execute(
        _INSERT,
        {
            "month": month_of(when),
            "event": _code(event, _EVENT, "event"),
            "municipality": _code(municipality, _CODE, "municipality"),
            "language": _code(language, _LANGUAGE, "language"),
            "service": _code(service, _CODE, "service"),
            "case_manager_id": int(case_manager_id or 0),
            "detail": _code(detail, _CODE, "detail"),
            "amount": int(amount),
        },
    )


async def record_duration(
    session: AsyncSession,
    event: str,
    seconds: float,
    *,
    when: datetime,
    municipality: str | None = None,
    language: str | None = None,
    case_manager_id: int | None = None,
) -> None:
    """Add one observation of `seconds` to the histogram of `event` (its bucket is the cell's detail)."""
    await record(
        session,
        event,
        when=when,
        municipality=municipality,
        language=language,
        case_manager_id=case_manager_id,
        detail=bucket_of(max(0.0, seconds)),
    )


async def record_for_client(
    session: AsyncSession,
    event: str,
    client_id: int,
    *,
    when: datetime,
    service: str | None = None,
    detail: str | None = None,
    amount: int = 1,
) -> None:
    """`record` with the client's municipality, language and case manager as they are now, read by the INSERT
    itself (one statement; nothing but these three values leaves the client row). Nothing is counted when the
    client does not exist (any more)."""
    values = select(
        literal(month_of(when)),
        literal(_code(event, _EVENT, "event")),
        func.coalesce(Client.municipality, ""),
        func.coalesce(Client.locale, ""),
        literal(_code(service, _CODE, "service")),
        func.coalesce(Client.case_manager_id, 0),
        literal(_code(detail, _CODE, "detail")),
        literal(int(amount)),
    ).where(Client.id == client_id)
    columns = ["month", "event", "municipality", "language", "service", "case_manager_id", "detail", "amount"]
    await session.execute(insert(ReportEvent).from_select(columns, values))

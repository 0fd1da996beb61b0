"""Moving counted events into their cells, and the monthly snapshot of active cases.

`roll_up` adds exactly the events it deletes to `report_cells`, summed per cell, in one transaction and in the
database: an event committed meanwhile is neither lost nor counted twice, and a failure leaves both tables as they
were. On PostgreSQL one statement does it (a DELETE … RETURNING feeding the upsert), as ids are handed out before
their rows commit; on SQLite the transaction is the only writer once it writes, so the upsert of the events up to
the newest id and their DELETE see the same rows. Reports read cells and not-yet-rolled-up events together, so
the figures never wait for this job.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any, cast

from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Client
from bot.db.models_reporting import ReportCell, ReportEvent, ReportRun
from bot.services.reporting.events import REPORT_ZONE, record
from bot.services.reporting.periods import first_day, shift

DIMENSIONS = ("month", "event", "municipality", "language", "service", "case_manager_id", "detail")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CELLS = cast(Table, ReportCell.__table__)
_EVENTS = cast(Table, ReportEvent.__table__)


def _upsert_from(dialect: str, source: Any) -> Any:
    """INSERT INTO report_cells SELECT dims, SUM(amount) FROM source GROUP BY dims, adding to existing cells."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    dims = [source.c[d] for d in DIMENSIONS]
    summed = select(*dims, func.sum(source.c.amount)).where(source.c.amount.is_not(None)).group_by(*dims)
    statement = insert(_CELLS).from_select([*DIMENSIONS, "count"], summed)
    return statement.on_conflict_do_update(
        index_elements=list(DIMENSIONS), set_={"count": _CELLS.c.count + statement.excluded["count"]}
    )


async def roll_up(session: AsyncSession) -> int:
    """Move every counted event into its cell; returns how many events were moved."""
    dialect = session.get_bind().dialect.name
    newest = await session.scalar(select(func.max(_EVENTS.c.id)))
    if newest is None:
        return 0
    if dialect == "postgresql":
        moved = delete(_EVENTS).returning(*(_EVENTS.c[d] for d in DIMENSIONS), _EVENTS.c.amount).cte("moved")
        counted = select(func.count()).select_from(moved).scalar_subquery()
        result = await session.execute(_upsert_from(dialect, moved).returning(counted))
        return int(max((row[0] for row in result.all()), default=0))
    upto = select(_EVENTS).where(_EVENTS.c.id <= newest).subquery()
    await session.execute(_upsert_from(dialect, upto))
    gone = await session.execute(delete(_EVENTS).where(_EVENTS.c.id <= newest))
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The first moment of `month` and of the month after it, in the report's zone."""
    start = datetime.combine(first_day(month), time(0, 0), tzinfo=REPORT_ZONE)
    end = datetime.combine(first_day(shift(month, 1)), time(0, 0), tzinfo=REPORT_ZONE)
    return start, end


async def claim(session: AsyncSession, key: str) -> bool:
    """Mark `key` (e.g. "active:2026-03") as done; False when it was done before."""
    if await done(session, key):
        return False
    session.add(ReportRun(key=key))
    await session.flush()
    return True


async def done(session: AsyncSession, key: str) -> bool:
    return await session.get(ReportRun, key) is not None


async def watermark(session: AsyncSession, key: str, until: datetime) -> datetime:
    """Move the watermark `key` forward to `until`; returns where it was (the epoch the first time)."""
    row = await session.get(ReportRun, key, with_for_update=True)
    if row is None:
        session.add(ReportRun(key=key, done_at=until))
        await session.flush()
        return EPOCH
    since, row.done_at = row.done_at, max(row.done_at, until)
    await session.flush()
    return since


async def snapshot_active_cases(session: AsyncSession, month: str) -> int:
    """Count the active cases of `month` once (docs/reporting.md): clients registered before the month ended who
    have been in contact since it began. Returns how many were counted (0 when the month was counted before)."""
    if not await claim(session, f"active:{month}"):
        return 0
    start, end = month_bounds(month)
    municipality = func.coalesce(Client.municipality, "")
    language = func.coalesce(Client.locale, "")
    manager = func.coalesce(Client.case_manager_id, 0)
    rows = (
        await session.execute(
            select(municipality, language, manager, func.count())
            .where(Client.created_at < end, Client.last_contact_at >= start)
            .group_by(municipality, language, manager)
        )
    ).all()
    for town, locale, manager_id, count in rows:
        await record(
            session,
            "active_case",
            when=start,
            municipality=town,
            language=locale,
            case_manager_id=manager_id,
            amount=count,
        )
    return sum(int(count) for *_, count in rows)

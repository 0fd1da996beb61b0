"""A period's figures, read from the aggregate cells (and the events not rolled up yet) into plain numbers.

Everything here is exact and unsuppressed: it is what the tests compare with the seeded counts. What people see
goes through `bot.services.reporting.tables`, which hides small cells. Definitions: docs/reporting.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Subquery, func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models_reporting import ReportCell, ReportEvent
from bot.services.reporting.events import DURATION_BUCKETS, OPEN_BUCKET
from bot.services.reporting.periods import Period

Histogram = Counter[str]  # bucket ("le_300", …, "le_inf") → observations


@dataclass
class Figures:
    period: Period
    trend_months: list[str]
    totals: Counter[str] = field(default_factory=Counter)  # "event" and "event:detail" → count
    new_by_language: Counter[str] = field(default_factory=Counter)
    active_by_language: Counter[str] = field(default_factory=Counter)
    active_by_municipality: Counter[str] = field(default_factory=Counter)
    messages_by_municipality: Counter[str] = field(default_factory=Counter)
    bookings_by_municipality: Counter[str] = field(default_factory=Counter)
    reach_by_language: Counter[str] = field(default_factory=Counter)
    # service → "booking:client" | "booking:staff" | "booking:waitlist" | "attended" | "no_show" | "cancelled" |
    # "home_visit" | "travel_minutes" | "waitlist_offer" → count
    services: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    waitlist_time: defaultdict[str, Histogram] = field(default_factory=lambda: defaultdict(Counter))  # by service
    first_response: defaultdict[str, Histogram] = field(default_factory=lambda: defaultdict(Counter))  # by month
    reminders_by_type: Counter[str] = field(default_factory=Counter)
    renewals: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))  # type → timing
    status_changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    escalations: Counter[str] = field(default_factory=Counter)


_COLUMNS = ("month", "event", "municipality", "language", "service", "detail")


def _source(period: Period, trend: list[str]) -> Subquery:
    """Cells and pending events as one selectable (month, event, …, detail, n): every event of the period's
    months, and the first answers of the trend's months before them (one scan for both)."""
    parts = []
    for table, amount in ((ReportCell.__table__, "count"), (ReportEvent.__table__, "amount")):
        month, event = table.c.month, table.c.event
        query = select(*(table.c[c] for c in _COLUMNS), table.c[amount].label("n")).where(
            month >= trend[0], month <= period.last, or_(month >= period.first, event == "first_response")
        )
        parts.append(query)
    return union_all(*parts).subquery()


async def load(session: AsyncSession, period: Period) -> Figures:
    figures = Figures(period, period.trend())
    source = _source(period, figures.trend_months)
    columns = [source.c[c] for c in _COLUMNS]
    query = select(*columns, func.sum(source.c.n)).group_by(*columns)
    for row in (await session.execute(query)).all():
        month, event, town, language, service, detail, n = tuple(row)
        count = int(n or 0)
        if event == "first_response":
            figures.first_response[month][detail] += count
        if month >= period.first:
            _add(figures, event, town, language, service, detail, count)
    return figures


def _add(f: Figures, event: str, town: str, language: str, service: str, detail: str, n: int) -> None:
    f.totals[event] += n
    if detail and event not in ("first_response", "waitlist_time"):
        f.totals[f"{event}:{detail}"] += n
    if event == "new_client":
        f.new_by_language[language] += n
    elif event == "active_case":
        f.active_by_language[language] += n
        f.active_by_municipality[town] += n
    elif event == "message" and detail == "from_client":
        f.messages_by_municipality[town] += n
    elif event == "booking":
        f.services[service][f"booking:{detail}"] += n
        f.bookings_by_municipality[town] += n
    elif event == "appointment":
        f.services[service][detail] += n
    elif event in ("home_visit", "travel_minutes", "waitlist_offer"):
        f.services[service][event] += n
    elif event == "waitlist_time":
        f.waitlist_time[service][detail] += n
    elif event == "document_reminder":
        f.reminders_by_type[detail] += n
    elif event == "document_renewal":
        doc_type, _, timing = detail.partition(":")
        f.renewals[doc_type][timing] += n
    elif event == "status_change":
        before, _, after = detail.partition("->")
        f.status_changes[(before, after)] += n
    elif event == "escalation":
        f.escalations[detail] += n
    elif event == "broadcast_reach":
        f.reach_by_language[language] += n


def _bounds() -> list[tuple[str, float, float]]:
    """(bucket, lower bound, upper bound) in seconds; the open bucket's upper bound is its lower bound."""
    lows = (0, *DURATION_BUCKETS)
    found = [(f"le_{high}", float(low), float(high)) for low, high in zip(lows, DURATION_BUCKETS, strict=False)]
    return [*found, (OPEN_BUCKET, float(DURATION_BUCKETS[-1]), float(DURATION_BUCKETS[-1]))]


def observations(histogram: Histogram) -> int:
    return sum(histogram.values())


def quantile(histogram: Histogram, q: float) -> float | None:
    """The q-quantile in seconds, interpolated linearly inside its bucket (as Prometheus' histogram_quantile);
    in the open last bucket, its lower bound. None without observations."""
    total = observations(histogram)
    if total <= 0:
        return None
    rank, seen = q * total, 0
    for bucket, low, high in _bounds():
        count = histogram.get(bucket, 0)
        if count and seen + count >= rank:
            return low + (high - low) * max(0.0, rank - seen) / count
        seen += count
    return float(DURATION_BUCKETS[-1])

"""Report periods: a month, a quarter, a year, or a range of months.

Figures are counted per calendar month (bot/services/reporting/events.py), so every period is a run of whole
months, named by "YYYY-MM" strings that sort like the months they name. A date range is a range of months.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MAX_MONTHS = 120  # a range of at most ten years
KINDS = ("month", "quarter", "year", "range")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def split(key: str) -> tuple[int, int]:
    match = _MONTH.match(key)
    if not match:
        raise ValueError(f"not a month: {key!r}")
    return int(match.group(1)), int(match.group(2))


def shift(key: str, months: int) -> str:
    """The month `months` after (or before, if negative) `key`."""
    year, month = split(key)
    index = year * 12 + month - 1 + months
    return month_key(index // 12, index % 12 + 1)


def first_day(key: str) -> date:
    year, month = split(key)
    return date(year, month, 1)


@dataclass(frozen=True, slots=True)
class Period:
    first: str  # "2026-01"
    last: str  # "2026-03", inclusive
    kind: str = "range"

    def __post_init__(self) -> None:
        split(self.first), split(self.last)
        if self.last < self.first:
            raise ValueError("a period ends after it starts")
        if len(self.months()) > MAX_MONTHS:
            raise ValueError(f"a period spans at most {MAX_MONTHS} months")

    def months(self) -> list[str]:
        (y1, m1), (y2, m2) = split(self.first), split(self.last)
        return [shift(self.first, i) for i in range((y2 * 12 + m2) - (y1 * 12 + m1) + 1)]

    def trend(self, at_least: int = 12) -> list[str]:
        """The period's months, extended backwards to `at_least` months (for charts over time)."""
        months = self.months()
        if len(months) >= at_least:
            return months
        return [shift(self.first, -i) for i in range(at_least - len(months), 0, -1)] + months

    @property
    def key(self) -> str:
        """A short, file-name-safe name: "2026-03", "2026-Q1", "2026", "2025-11_2026-02"."""
        year, month = split(self.first)
        if self.kind == "month":
            return self.first
        if self.kind == "quarter":
            return f"{year}-Q{(month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(year)
        return f"{self.first}_{self.last}"


def month(year: int, number: int) -> Period:
    key = month_key(year, number)
    return Period(key, key, "month")


def quarter(year: int, number: int) -> Period:
    if not 1 <= number <= 4:
        raise ValueError("quarters are 1 to 4")
    first = month_key(year, 3 * number - 2)
    return Period(first, shift(first, 2), "quarter")


def year(number: int) -> Period:
    return Period(month_key(number, 1), month_key(number, 12), "year")


def previous_month(today: date) -> Period:
    key = shift(month_key(today.year, today.month), -1)
    return Period(key, key, "month")


def previous_quarter(today: date) -> Period:
    number = (today.month - 1) // 3 + 1
    return quarter(today.year, number - 1) if number > 1 else quarter(today.year - 1, 4)


def parse(text: str) -> Period | None:
    """ "2026-03", "2026-Q1", "2026", or two months "2025-11 2026-02" (also with "..", "–", "bis" between them);
    None when the text is none of these or not a valid period."""
    parts = [p for p in re.split(r"\s*(?:\.\.|–|—|\s|bis)\s*", text.strip()) if p]
    try:
        if len(parts) == 2 and all(_MONTH.match(p) for p in parts):
            return Period(parts[0], parts[1], "range")
        if len(parts) != 1:
            return None
        single = parts[0]
        if _MONTH.match(single):
            return Period(single, single, "month")
        if match := _QUARTER.match(single):
            return quarter(int(match.group(1)), int(match.group(2)))
        if match := _YEAR.match(single):
            return year(int(match.group(1)))
    except ValueError:
        return None
    return None

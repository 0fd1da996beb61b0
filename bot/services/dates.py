"""Dates and date ranges as staff type them: `24.12.2026` or `2026-12-24`, a range as two such dates, a moment
as a date and a time in the office time zone. Telegram-free, so the rules are tested without a chat; a caller
that gets None asks again with an example."""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo

_DATE = r"(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\.\d{1,2}\.\d{4})"


def parse_date(raw: str) -> date:
    """One date, ISO (`2026-12-24`, leading zeros optional) or German (`24.12.2026`); ValueError when invalid."""
    if "-" in raw:
        return date.fromisoformat("-".join(part.zfill(2) for part in raw.split("-")))
    day, month, year = (int(x) for x in raw.split("."))
    return date(year, month, day)


def parse_range(text: str) -> tuple[date, date] | None:
    """Exactly two dates anywhere in `text` (any separator), the first not after the second."""
    found = re.findall(_DATE, text)
    if len(found) != 2:
        return None
    try:
        start, end = parse_date(found[0]), parse_date(found[1])
    except ValueError:
        return None
    return (start, end) if start <= end else None


def parse_when(text: str, tz: tzinfo) -> datetime | None:
    """A date and a time (`24.12.2026 09:00`, `2026-12-24T9.00`) as an aware datetime in `tz`."""
    match = re.fullmatch(_DATE + r"[ ,T]+(\d{1,2})[:.](\d{2})", text.strip())
    if match is None:
        return None
    try:
        day = parse_date(match.group(1))
        return datetime(day.year, day.month, day.day, int(match.group(2)), int(match.group(3)), tzinfo=tz)
    except ValueError:
        return None

"""Reporting: anonymous aggregate figures for the programme report (docs/reporting.md).

Nothing here names a person: no client id, no Telegram id, no free text – only a month, the county's own keys
(municipality, language, service, a short detail code), a staff id for the case manager and a count. That is why
erasing or purging a client leaves these tables alone (bot/services/privacy.py), and why the figures survive it.

Events are appended to `report_events` as they happen (one INSERT, no lock on a shared counter row that would make
concurrent updates wait for each other) and rolled up into `report_cells` by a job (bot/jobs/reporting.py).
Every dimension is NOT NULL ("" or 0 for "none") so that the cells' primary key identifies a cell on both databases.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow


class ReportEvent(Base):
    """A counted event not yet rolled up into its cell."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # "2026-03", in the county's time zone
    event: Mapped[str] = mapped_column(String(32))
    municipality: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    service: Mapped[str] = mapped_column(String(64), default="")
    case_manager_id: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str] = mapped_column(String(64), default="")
    amount: Mapped[int] = mapped_column(BigInteger, default=1)


class ReportCell(Base):
    """(month, event, municipality, language, service, case manager, detail) → count."""

    __tablename__ = "report_cells"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    event: Mapped[str] = mapped_column(String(32), primary_key=True)
    municipality: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    language: Mapped[str] = mapped_column(String(16), primary_key=True, default="")
    service: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    case_manager_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=0, autoincrement=False)
    detail: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class ReportRun(Base):
    """Work done once per month (the active-cases snapshot, the monthly message), so that a restart or a second
    worker never does it twice. `key` is e.g. "monthly:2026-03"."""

    __tablename__ = "report_runs"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

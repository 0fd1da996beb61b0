"""A report for one period: read the figures (a few queries), then render summary, charts, workbook and CSV
files from the same protected sheets. `render` is plain CPU work without the database, so the job runs it in a
worker thread and the bot keeps answering meanwhile (bot/jobs/reporting.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County
from bot.services.reporting import charts, figures, overview, tables, workbook
from bot.services.reporting.figures import Figures
from bot.services.reporting.labels import period_name
from bot.services.reporting.periods import Period
from bot.services.reporting.suppression import Sheet
from bot.services.reporting.texts import REPORT_LOCALE, Texts


@dataclass(frozen=True)
class Report:
    period: Period
    title: str
    summary: str  # HTML, one screen
    sheets: list[Sheet]  # overview, the topics, definitions
    charts: list[tuple[str, bytes]]  # (name, PNG)
    workbook: bytes  # XLSX

    @property
    def stem(self) -> str:
        """The files' name without extension: "kim-bericht-2026-03"."""
        return f"kim-bericht-{self.period.key}"

    def csv_zip(self) -> bytes:
        return workbook.csv_zip(self.sheets, self.stem)


async def gather(session: AsyncSession, period: Period) -> Figures:
    return await figures.load(session, period)


def render(found: Figures, county: County, texts: Texts, today: date, *, with_charts: bool = True) -> Report:
    t = texts
    details = tables.detail_sheets(found, county, t)
    by_key = {sheet.key: sheet for sheet in details}
    first = overview.overview(found, by_key, t)
    sheets = [first, *details, overview.definitions(t)]
    title = t.t("KIM programme report – {period}").format(period=period_name(found.period, t))
    subtitle = t.t("{county} · as of {day}").format(
        county=county.name, day=format_date(today, "d. MMMM y", locale=REPORT_LOCALE)
    )
    return Report(
        period=found.period,
        title=title,
        summary=overview.summary(title, county.name, first, by_key["languages"], t),
        sheets=sheets,
        charts=charts.draw_all(by_key, t) if with_charts else [],
        workbook=workbook.workbook(sheets, subtitle),
    )

"""The programme report's rules without a bot: event codes are refused when they look like free text, periods
parse, small cells never reach an output (sheets, charts, summary, workbook, CSV), the histogram's quantiles, and
the German `reporting` catalog holds every msgid of the code."""

from __future__ import annotations

import csv
import io
import random
import re
import zipfile
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from openpyxl import load_workbook

from bot.core.county import County
from bot.services.reporting import build, charts, events, periods, tables
from bot.services.reporting.figures import Figures, quantile
from bot.services.reporting.suppression import SECRET, SMALL, Column, Sheet, count_cells, is_small, protect
from bot.services.reporting.texts import REPORT_DOMAIN, SOURCES, Texts, load
from bot.services.reporting.workbook import HEADER_ROW, sheet_name
from tests.support import ROOT


@pytest.fixture(scope="module")
def texts(tmp_path_factory: pytest.TempPathFactory) -> Texts:
    return load(tmp_path_factory.mktemp("reporting-locales"))


# ------------------------------------------------------------------------------------------------ events


def test_months_are_german_calendar_months() -> None:
    # 23:30 UTC on 31 March is already April in Berlin.
    assert events.month_of(datetime(2026, 3, 31, 23, 30, tzinfo=UTC)) == "2026-04"
    assert events.month_of(datetime(2026, 3, 31, 21, 0, tzinfo=UTC)) == "2026-03"
    with pytest.raises(ValueError):
        events.month_of(datetime(2026, 3, 1))  # naive on purpose


def test_durations_fall_into_fixed_buckets() -> None:
    assert events.bucket_of(0) == "le_60"
    assert events.bucket_of(61) == "le_300"
    assert events.bucket_of(3600) == "le_3600"
    assert events.bucket_of(10**9) == events.OPEN_BUCKET


@pytest.mark.parametrize("field", ["event", "detail", "service", "municipality"])
@pytest.mark.parametrize("value", ["Frau Müller, Hauptstraße 5", "x" * 65, "K-4F7Q2", "drop table;"])
async def test_free_text_is_refused_before_anything_is_written(field: str, value: str) -> None:
    class NoSession:
        async def execute(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("nothing may be written")

    kwargs = {"event": "booking", field: value}
    event = kwargs.pop("event")
    with pytest.raises(ValueError):
        await events.record(NoSession(), event, when=datetime.now(UTC), **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ periods


def test_periods_parse_and_count_whole_months() -> None:
    assert periods.parse("2026-03") == periods.Period("2026-03", "2026-03", "month")
    assert periods.parse("2026-Q4") == periods.Period("2026-10", "2026-12", "quarter")
    assert periods.parse("2026") == periods.Period("2026-01", "2026-12", "year")
    assert periods.parse("2025-11 bis 2026-02") == periods.Period("2025-11", "2026-02", "range")
    for wrong in ("2026-13", "2026-Q5", "2026-03 2026-01", "März", "1990 2030", "2000-01 2030-01"):
        assert periods.parse(wrong) is None, wrong
    assert periods.previous_month(date(2026, 1, 1)) == periods.month(2025, 12)
    assert periods.previous_quarter(date(2026, 2, 10)) == periods.quarter(2025, 4)
    assert periods.month(2026, 3).trend() == [periods.shift("2026-03", -i) for i in range(11, -1, -1)]


# ------------------------------------------------------------------------------------------------ suppression


def test_small_cells_are_hidden_and_a_single_hidden_part_takes_a_second_with_it() -> None:
    columns = [Column("name", "label"), Column("n"), Column("rate", "measure", (1,))]
    sheet = Sheet("s", "S", columns, [["a", 3, 10.0], ["b", 12, 50.0], ["c", 7, 40.0], ["Total", 22, None]], True)
    shown = protect(sheet)
    assert [r[1] for r in shown.rows] == [SMALL, 12, SECRET, 22]  # c (7) hidden too: 22 - 12 - 7 would give a
    assert [r[2] for r in shown.rows] == [SECRET, 50.0, SECRET, None]
    assert not any(is_small(v) for v in count_cells(shown))


def test_a_hidden_total_needs_no_second_cell_and_zeros_stay() -> None:
    columns = [Column("name", "label"), Column("n")]
    shown = protect(Sheet("s", "S", columns, [["a", 2], ["b", 0], ["Total", 2]], True))
    assert [r[1] for r in shown.rows] == [SMALL, 0, SMALL]


def test_row_groups_protect_a_total_column() -> None:
    columns = [Column("x", "label"), Column("all"), Column("by client"), Column("by staff")]
    shown = protect(Sheet("s", "S", columns, [["x", 23, 20, 3]], row_groups=[(1, [2, 3])]))
    assert shown.rows[0] == ["x", 23, SECRET, SMALL]


def random_figures(seed: int) -> Figures:
    """Figures with many small numbers, so that every table has cells to hide."""
    rnd = random.Random(seed)
    f = Figures(periods.month(2026, 3), periods.month(2026, 3).trend())

    def n() -> int:
        return rnd.choice([0, 1, 2, 3, 4, 5, 6, 9, 17, 40])

    for code in ("ar", "uk", "fa", "ti", "ru"):
        f.new_by_language[code], f.active_by_language[code], f.reach_by_language[code] = n(), n(), n()
    for town in ("zuelpich", "kall", "euskirchen", ""):
        f.active_by_municipality[town], f.messages_by_municipality[town] = n(), n()
        f.bookings_by_municipality[town] = n()
    for service in ("kim-consultation", "home-visit", "integration-point"):
        for key in ("booking:client", "booking:staff", "booking:waitlist", "attended", "no_show", "cancelled"):
            f.services[service][key] = n()
        f.services[service]["home_visit"] = n()
        f.services[service]["travel_minutes"] = 60 * f.services[service]["home_visit"]
        f.services[service]["waitlist_offer"] = n()
        f.waitlist_time[service]["le_86400"] = n()
    for month in f.trend_months:
        f.first_response[month].update({"le_300": n(), "le_3600": n()})
    for doc in ("duldung", "residence_permit", "passport"):
        f.reminders_by_type[doc] = n()
        f.renewals[doc].update({"before": n(), "after": n()})
    for pair in (("duldung", "aufenthaltserlaubnis_25b"), ("none", "duldung"), ("aufenthaltsgestattung", "other")):
        f.status_changes[pair] = n()
    f.escalations.update({"n": n(), "2n": n()})
    f.totals.update({"message:from_staff": n(), "broadcast": n()})
    return f


def chart_texts(figure: object) -> list[str]:
    return [t.get_text() for t in figure.findobj(Text)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", range(8))
def test_no_output_shows_a_count_from_1_to_4(seed: int, texts: Texts, example_county: County) -> None:
    f = random_figures(seed)
    report = build.render(f, example_county, texts, date(2026, 4, 1), with_charts=False)
    # the sheets, i.e. workbook, CSV and charts
    for sheet in report.sheets:
        assert not [v for v in count_cells(sheet) if is_small(v)], sheet.key
    hidden = [v for sheet in report.sheets for v in count_cells(sheet) if v in (SMALL, SECRET)]
    assert hidden, "the random figures should have produced hidden cells"
    # the workbook as openpyxl reads it back
    book = load_workbook(io.BytesIO(report.workbook))
    for sheet in report.sheets:
        ws = book[sheet_name(sheet)]
        for col, column in enumerate(sheet.columns, start=1):
            if column.kind == "count":
                values = [ws.cell(row=r, column=col).value for r in range(HEADER_ROW + 1, ws.max_row + 1)]
                assert not [v for v in values if isinstance(v, int) and 0 < v < 5], (sheet.key, column.header)
    # the CSV files
    with zipfile.ZipFile(io.BytesIO(report.csv_zip())) as archive:
        for sheet in report.sheets:
            rows = list(
                csv.reader(
                    io.StringIO(archive.read(f"{report.stem}-{sheet.key}.csv").decode("utf-8-sig")), delimiter=";"
                )
            )
            for col, column in enumerate(sheet.columns):
                if column.kind == "count":
                    assert not [r[col] for r in rows[1:] if r[col] in ("1", "2", "3", "4")], sheet.key
    # the summary: every "label: value" line
    for line in report.summary.splitlines():
        if ": " in line and not line.startswith(("<b>",)):
            value = line.rsplit(": ", 1)[1]
            assert value not in ("1", "2", "3", "4"), line
    # the charts: every bar's label and height
    by_key = {sheet.key: sheet for sheet in report.sheets}
    every_label: list[str] = []
    for name, draw in charts.CHARTS:
        figure = draw(by_key, texts)
        bar_labels = [t.get_text() for ax in figure.axes for t in ax.texts]
        assert not [x for x in bar_labels if x.strip() in ("1", "2", "3", "4")], name
        heights = [p.get_width() for ax in figure.axes for p in ax.patches if isinstance(p, Rectangle)]
        assert not [h for h in heights if 0 < h < 5], name
        every_label += bar_labels
    assert SMALL in every_label  # hidden bars are drawn, labelled, with no height


def test_quantiles_come_from_the_histogram() -> None:
    histogram = Counter({"le_60": 5, "le_300": 5})
    assert quantile(histogram, 0.5) == pytest.approx(60)
    assert quantile(histogram, 0.9) == pytest.approx(60 + 240 * 0.8)
    assert quantile(Counter(), 0.5) is None
    assert quantile(Counter({"le_inf": 3}), 0.5) == 30 * 86400


def test_the_charts_are_pngs_with_german_titles(texts: Texts, example_county: County) -> None:
    report = build.render(random_figures(1), example_county, texts, date(2026, 4, 1))
    assert len(report.charts) >= 3
    assert all(image.startswith(b"\x89PNG\r\n\x1a\n") for _, image in report.charts)
    by_key = {sheet.key: sheet for sheet in report.sheets}
    titles = [chart_texts(draw(by_key, texts)) for _, draw in charts.CHARTS]
    assert any("Aktive Fälle nach Sprache und Kommune" in found for found in titles)
    assert any("Zeit bis zur ersten Antwort nach Monat" in found for found in titles)
    assert report.title == "KIM-Programmbericht – März 2026"


def test_tables_show_german_names(texts: Texts, example_county: County) -> None:
    sheets = {s.key: s for s in tables.detail_sheets(random_figures(2), example_county, texts)}
    assert "Arabisch" in [r[0] for r in sheets["languages"].rows]
    assert "Beratung im Case-Management" in [r[0] for r in sheets["appointments"].rows]
    assert ("Duldung", "Aufenthaltserlaubnis § 25b") in [(r[0], r[1]) for r in sheets["statuses"].rows]


# ------------------------------------------------------------------------------------------------ the catalog


def _msgids_in_code() -> set[str]:
    found: set[str] = set()
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            for _line, message, _comments, _context in extract_from_file(
                "python", str(path), keywords={"t": None, "R_": None}
            ):
                found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_german_reporting_catalog_is_complete() -> None:
    po = ROOT / "locales" / "de" / "LC_MESSAGES" / f"{REPORT_DOMAIN}.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="de")
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    used = _msgids_in_code()
    assert len(used) > 100
    assert sorted(used - set(translated)) == []  # every msgid has a German translation
    assert sorted(set(translated) - used) == []  # and nothing stale
    for msgid, german in translated.items():
        assert re.findall(r"\{\w+\}", str(msgid)) == re.findall(r"\{\w+\}", str(german)), msgid
    # the only catalog of the domain is German, and no reporting text leaked into `messages`
    assert [p.parent.parent.name for p in (ROOT / "locales").glob(f"*/LC_MESSAGES/{REPORT_DOMAIN}.po")] == ["de"]
    messages = (ROOT / "locales" / "messages.pot").read_text(encoding="utf-8")
    assert 'msgid "KIM programme report – {period}"' not in messages


def test_texts_translate_into_german(texts: Texts) -> None:
    assert texts.t("Active cases") == "Aktive Fälle"
    assert texts.language("ar") == "Arabisch" and texts.language("prs") == "Dari" and texts.language("") == "–"


def test_compiled_catalog_lands_in_the_fallback_when_locales_are_read_only(tmp_path: Path) -> None:
    assert isinstance(load(tmp_path), Texts)

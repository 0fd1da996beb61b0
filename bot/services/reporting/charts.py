"""The report's charts as PNG images, drawn from the protected sheets with matplotlib's Agg backend (no display,
no pyplot state: each chart is its own `Figure`, so charts can be drawn in a worker thread).

Colours are the Okabe–Ito palette, which readers with any common colour-vision deficiency can tell apart; every
bar carries its number, so nothing depends on colour alone. A hidden cell (docs/reporting.md) is drawn as an
empty bar labelled "< 5" or "·" – its height shows nothing.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.services.reporting.overview import shown
from bot.services.reporting.suppression import Cell, Sheet
from bot.services.reporting.texts import Texts

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
SIZE = (9.0, 5.0)
DPI = 110
TOP = 12  # bars per chart at most (the largest)


def _height(value: Cell) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _figure(title: str) -> Figure:
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    figure.suptitle(title, fontsize=13, fontweight="bold")
    return figure


def _empty(ax: Axes, t: Texts) -> None:
    ax.text(0.5, 0.5, t.t("No figures in this period"), ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def _hbars(ax: Axes, names: list[str], series: list[tuple[str, list[Cell]]], xlabel: str, t: Texts) -> None:
    """Horizontal bars, one group per name and one bar per series, each labelled with its (shown) value."""
    if not names:
        _empty(ax, t)
        return
    height = 0.8 / len(series)
    for index, (label, values) in enumerate(series):
        positions = [i + (index - (len(series) - 1) / 2) * height for i in range(len(names))]
        bars = ax.barh(positions, [_height(v) for v in values], height, label=label, color=OKABE_ITO[index])
        ax.bar_label(bars, labels=[shown(v) for v in values], padding=3, fontsize=8)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.margins(x=0.15)
    ax.spines[["top", "right"]].set_visible(False)
    if len(series) > 1:
        ax.legend(loc="lower right", fontsize=8)


def _body(sheet: Sheet) -> list[list[Cell]]:
    rows = sheet.rows[:-1] if sheet.total_row else sheet.rows
    return rows[:TOP]


def clients(sheets: dict[str, Sheet], t: Texts) -> Figure:
    figure = _figure(t.t("Active cases by language and municipality"))
    left, right = figure.subplots(1, 2)
    for ax, key in ((left, "languages"), (right, "municipalities")):
        rows = [r for r in _body(sheets[key]) if r[2 if key == "languages" else 1] != 0]
        col = 2 if key == "languages" else 1
        _hbars(ax, [str(r[0]) for r in rows], [(t.t("Active cases"), [r[col] for r in rows])], t.t("Active cases"), t)
        ax.set_title(sheets[key].columns[0].header)
    return figure


def responses(sheets: dict[str, Sheet], t: Texts) -> Figure:
    figure = _figure(t.t("Time to the first answer by month"))
    ax = figure.subplots()
    rows = sheets["responses"].rows[:-1]
    if not any(isinstance(r[1], int) and r[1] for r in rows):
        _empty(ax, t)
        return figure
    months = [str(r[0]) for r in rows]
    minutes = {
        col: [float(v) if isinstance(v, int | float) else math.nan for v in (r[col] for r in rows)] for col in (2, 3)
    }
    highest = max((v for v in minutes[3] if not math.isnan(v)), default=0.0)
    scale, unit = (
        (60.0, t.t("Hours until the first answer")) if highest >= 120 else (1.0, t.t("Minutes until the first answer"))
    )
    positions = list(range(len(months)))
    for index, (col, label) in enumerate(((2, t.t("Median")), (3, t.t("90th percentile")))):
        ax.plot(positions, [v / scale for v in minutes[col]], marker="o", label=label, color=OKABE_ITO[index])
    ax.set_xticks(positions, months)
    ax.set_xlim(-0.5, len(months) - 0.5)
    ax.set_ylabel(unit)
    ax.set_xlabel(t.t("Month"))
    ax.set_ylim(bottom=0)
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.legend(fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    figure.text(0.01, 0.01, t.t("Months with fewer than 5 first answers have no value."), fontsize=7)
    return figure


def appointments(sheets: dict[str, Sheet], t: Texts) -> Figure:
    figure = _figure(t.t("Appointments and no-show rate by service"))
    ax = figure.subplots()
    rows = _body(sheets["appointments"])
    rate = t.t("no-show rate")
    names = [f"{r[0]}\n({rate}: {_percent(r[8])})" if r[8] is not None else str(r[0]) for r in rows]
    series = [(t.t("Attended"), [r[5] for r in rows]), (t.t("No-show"), [r[6] for r in rows])]
    series.append((t.t("Cancelled"), [r[7] for r in rows]))
    _hbars(ax, names, series, t.t("Appointments"), t)
    return figure


def _percent(value: Cell) -> str:
    return f"{shown(value)} %" if isinstance(value, int | float) else shown(value)


def statuses(sheets: dict[str, Sheet], t: Texts) -> Figure:
    figure = _figure(t.t("Residence status changes"))
    ax = figure.subplots()
    rows = _body(sheets["statuses"])
    names = [f"{r[0]} → {r[1]}" for r in rows]
    _hbars(ax, names, [(t.t("Changes"), [r[2] for r in rows])], t.t("Changes"), t)
    return figure


def documents(sheets: dict[str, Sheet], t: Texts) -> Figure:
    figure = _figure(t.t("Document renewals before and after expiry"))
    ax = figure.subplots()
    rows = [r for r in _body(sheets["documents"]) if r[2] != 0]
    series = [(t.t("renewed before expiry"), [r[3] for r in rows]), (t.t("renewed after expiry"), [r[4] for r in rows])]
    _hbars(ax, [str(r[0]) for r in rows], series, t.t("Renewals"), t)
    return figure


CHARTS: tuple[tuple[str, Callable[[dict[str, Sheet], Texts], Figure]], ...] = (
    ("clients", clients),
    ("responses", responses),
    ("appointments", appointments),
    ("statuses", statuses),
    ("documents", documents),
)


def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def draw_all(sheets: dict[str, Sheet], t: Texts) -> list[tuple[str, bytes]]:
    """Every chart as (name, PNG bytes)."""
    return [(name, png(draw(sheets, t))) for name, draw in CHARTS]

"""The report's topics as tables (`Sheet`s), built from the exact figures and then protected against small cells.

Every output – workbook, CSV files, charts, the summary – is rendered from these protected sheets, so they all
show the same numbers and none of them a count from 1 to 4. Which figure each column holds: docs/reporting.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from bot.core.county import County
from bot.services.reporting import labels
from bot.services.reporting.figures import Figures, Histogram, observations, quantile
from bot.services.reporting.suppression import Cell, Column, Sheet, protect
from bot.services.reporting.texts import Texts

CHANNELS = ("client", "staff", "waitlist")


def _ranked(*counters: Counter[str]) -> list[str]:
    """Keys of the counters, the largest first (by the first counter, then the others), then by name."""
    keys = set().union(*(c.keys() for c in counters))
    return sorted(keys, key=lambda k: (*(-c.get(k, 0) for c in counters), k))


def _with_total(rows: list[list[Cell]], label: str, columns: list[Column]) -> list[list[Cell]]:
    total: list[Cell] = [label]
    for col, column in enumerate(columns[1:], start=1):
        total.append(sum(int(r[col] or 0) for r in rows) if column.kind == "count" else None)
    return [*rows, total]


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _minutes(seconds: float | None) -> float | None:
    return round(seconds / 60, 1) if seconds is not None else None


def languages(f: Figures, t: Texts) -> Sheet:
    columns = [
        Column(t.t("Language"), "label"),
        Column(t.t("New clients")),
        Column(t.t("Active cases")),
        Column(t.t("Reached by broadcasts")),
    ]
    rows: list[list[Cell]] = [
        [t.language(code), f.new_by_language[code], f.active_by_language[code], f.reach_by_language[code]]
        for code in _ranked(f.active_by_language, f.new_by_language, f.reach_by_language)
    ]
    return Sheet("languages", t.t("Clients by language"), columns, _with_total(rows, t.t("Total"), columns), True)


def municipalities(f: Figures, county: County, t: Texts) -> Sheet:
    columns = [
        Column(t.t("Municipality"), "label"),
        Column(t.t("Active cases")),
        Column(t.t("Messages from clients")),
        Column(t.t("Bookings")),
    ]
    towns = _ranked(f.active_by_municipality, f.messages_by_municipality, f.bookings_by_municipality)
    rows: list[list[Cell]] = [
        [
            labels.municipality(county, key, t),
            f.active_by_municipality[key],
            f.messages_by_municipality[key],
            f.bookings_by_municipality[key],
        ]
        for key in towns
    ]
    title = t.t("Clients by municipality")
    return Sheet("municipalities", title, columns, _with_total(rows, t.t("Total"), columns), True)


def responses(f: Figures, t: Texts) -> Sheet:
    """First answers by month over the trend months; the last row is the report period as a whole."""
    columns = [
        Column(t.t("Month"), "label"),
        Column(t.t("First answers")),
        Column(t.t("Median (minutes)"), "measure", (1,), "0.0"),
        Column(t.t("90th percentile (minutes)"), "measure", (1,), "0.0"),
    ]

    def row(label: str, histogram: Histogram) -> list[Cell]:
        return [
            label,
            observations(histogram),
            _minutes(quantile(histogram, 0.5)),
            _minutes(quantile(histogram, 0.9)),
        ]

    rows = [row(labels.month_name(m), f.first_response[m]) for m in f.trend_months]
    period: Histogram = Counter()
    for month in f.period.months():
        period.update(f.first_response[month])
    in_period = [i for i, m in enumerate(f.trend_months) if m in set(f.period.months())]
    rows.append(row(t.t("Report period"), period))
    groups = [((len(rows) - 1, 1), [(i, 1) for i in in_period])]
    return Sheet("responses", t.t("Time to the first answer"), columns, rows, False, groups)


def appointments(f: Figures, county: County, t: Texts) -> Sheet:
    columns = [
        Column(t.t("Service"), "label"),
        Column(t.t("Booked")),
        Column(t.t("booked by clients")),
        Column(t.t("booked by staff")),
        Column(t.t("booked from the waitlist")),
        Column(t.t("Attended")),
        Column(t.t("No-show")),
        Column(t.t("Cancelled")),
        Column(t.t("No-show rate (%)"), "measure", (5, 6), "0.0"),
        Column(t.t("Home visits")),
        Column(t.t("Travel time (minutes)"), "measure", (9,)),
    ]
    rows: list[list[Cell]] = []
    for key in sorted(f.services, key=lambda k: labels.service(county, k)):
        c = f.services[key]
        booked = [c[f"booking:{channel}"] for channel in CHANNELS]
        outcomes = [c["attended"], c["no_show"], c["cancelled"]]
        rows.append(
            [labels.service(county, key), sum(booked), *booked, *outcomes, None, c["home_visit"], c["travel_minutes"]]
        )
    rows = _with_total(rows, t.t("Total"), columns)
    total = rows[-1]
    total[10] = sum(f.services[k]["travel_minutes"] for k in f.services)
    for row in rows:
        row[8] = _rate(int(row[6] or 0), int(row[5] or 0) + int(row[6] or 0))
    title = t.t("Appointments by service")
    return Sheet("appointments", title, columns, rows, True, row_groups=[(1, [2, 3, 4])])


def waitlist(f: Figures, county: County, t: Texts) -> Sheet:
    columns = [
        Column(t.t("Service"), "label"),
        Column(t.t("Slots offered from the waitlist")),
        Column(t.t("Offers accepted")),
        Column(t.t("Median time to a slot (days)"), "measure", (2,), "0.0"),
    ]
    keys = sorted({k for k in f.services if f.services[k]["waitlist_offer"]} | set(f.waitlist_time))
    every: Histogram = Counter()
    rows: list[list[Cell]] = []
    for key in keys:
        histogram = f.waitlist_time[key]
        every.update(histogram)
        rows.append([labels.service(county, key), f.services[key]["waitlist_offer"], observations(histogram), None])
        rows[-1][3] = _days(quantile(histogram, 0.5))
    rows = _with_total(rows, t.t("Total"), columns)
    rows[-1][3] = _days(quantile(every, 0.5))
    return Sheet("waitlist", t.t("Waitlist"), columns, rows, True)


def _days(seconds: float | None) -> float | None:
    return round(seconds / 86400, 1) if seconds is not None else None


def documents(f: Figures, t: Texts) -> Sheet:
    columns = [
        Column(t.t("Document type"), "label"),
        Column(t.t("Reminders sent")),
        Column(t.t("Renewals")),
        Column(t.t("renewed before expiry")),
        Column(t.t("renewed after expiry")),
        Column(t.t("Renewed on time (%)"), "measure", (3, 4), "0.0"),
    ]
    kinds = _ranked(f.reminders_by_type, Counter({k: sum(v.values()) for k, v in f.renewals.items()}))
    rows: list[list[Cell]] = []
    for kind in kinds:
        before, after = f.renewals[kind]["before"], f.renewals[kind]["after"]
        rows.append([labels.document_type(kind, t), f.reminders_by_type[kind], before + after, before, after, None])
    rows = _with_total(rows, t.t("Total"), columns)
    for row in rows:
        row[5] = _rate(int(row[3] or 0), int(row[2] or 0))
    title = t.t("Document reminders and renewals")
    return Sheet("documents", title, columns, rows, True, row_groups=[(2, [3, 4])])


def statuses(f: Figures, t: Texts) -> Sheet:
    columns = [Column(t.t("From"), "label"), Column(t.t("To"), "label"), Column(t.t("Changes"))]
    rows: list[list[Cell]] = [
        [labels.residence_status(before, t), labels.residence_status(after, t), n]
        for (before, after), n in sorted(f.status_changes.items(), key=lambda item: (-item[1], item[0]))
    ]
    rows = _with_total(rows, t.t("Total"), columns)
    rows[-1][1] = None
    return Sheet("statuses", t.t("Residence status changes"), columns, rows, True)


def escalations(f: Figures, t: Texts) -> Sheet:
    columns = [Column(t.t("Level"), "label"), Column(t.t("Escalations"))]
    names = {"n": t.t("unanswered after the set time"), "2n": t.t("unanswered after twice the set time")}
    rows: list[list[Cell]] = [[names.get(k, k), f.escalations[k]] for k in _ranked(f.escalations)]
    return Sheet("escalations", t.t("Escalations"), columns, _with_total(rows, t.t("Total"), columns), True)


def detail_sheets(f: Figures, county: County, t: Texts) -> list[Sheet]:
    """The topic sheets, protected (the overview is made from them: bot/services/reporting/overview.py)."""
    built: Iterable[Sheet] = (
        languages(f, t),
        municipalities(f, county, t),
        responses(f, t),
        appointments(f, county, t),
        waitlist(f, county, t),
        documents(f, t),
        statuses(f, t),
        escalations(f, t),
    )
    return [protect(sheet) for sheet in built]

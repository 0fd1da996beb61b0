"""The report's first sheet and its one-screen summary, both made from the protected topic sheets (so a figure
shown in two places is the same cell, hidden or not, and no total reveals a hidden part), and the sheet of
definitions that goes into the workbook."""

from __future__ import annotations

import html

from babel.numbers import format_decimal

from bot.services.reporting.figures import Figures
from bot.services.reporting.suppression import HIDDEN, Cell, Column, Sheet, protect
from bot.services.reporting.texts import R_, REPORT_LOCALE, Texts


def _total(sheets: dict[str, Sheet], key: str, col: int) -> Cell:
    return sheets[key].rows[-1][col]


def overview(f: Figures, sheets: dict[str, Sheet], t: Texts) -> Sheet:
    columns = [Column(t.t("Figure"), "label"), Column(t.t("Count")), Column(t.t("Value"), "measure", (), "0.0")]
    response = sheets["responses"].rows[-1]
    rows: list[list[Cell]] = [
        [t.t("New clients"), _total(sheets, "languages", 1), None],
        [t.t("Active cases"), _total(sheets, "languages", 2), None],
        [t.t("Messages from clients"), _total(sheets, "municipalities", 2), None],
        [t.t("Answers from staff"), f.totals["message:from_staff"], None],
        [t.t("First answers"), response[1], None],
        [t.t("Time to the first answer, median (minutes)"), None, response[2]],
        [t.t("Time to the first answer, 90th percentile (minutes)"), None, response[3]],
        [t.t("Appointments booked"), _total(sheets, "appointments", 1), None],
        [t.t("booked by clients"), _total(sheets, "appointments", 2), None],
        [t.t("booked by staff"), _total(sheets, "appointments", 3), None],
        [t.t("booked from the waitlist"), _total(sheets, "appointments", 4), None],
        [t.t("Attended"), _total(sheets, "appointments", 5), None],
        [t.t("No-show"), _total(sheets, "appointments", 6), None],
        [t.t("No-show rate (%)"), None, _total(sheets, "appointments", 8)],
        [t.t("Cancelled"), _total(sheets, "appointments", 7), None],
        [t.t("Home visits"), _total(sheets, "appointments", 9), None],
        [t.t("Travel time (minutes)"), None, _total(sheets, "appointments", 10)],
        [t.t("Slots offered from the waitlist"), _total(sheets, "waitlist", 1), None],
        [t.t("Median time to a slot (days)"), None, _total(sheets, "waitlist", 3)],
        [t.t("Reminders sent"), _total(sheets, "documents", 1), None],
        [t.t("Renewals"), _total(sheets, "documents", 2), None],
        [t.t("Renewed on time (%)"), None, _total(sheets, "documents", 5)],
        [t.t("Residence status changes"), _total(sheets, "statuses", 2), None],
        [t.t("Escalations"), _total(sheets, "escalations", 1), None],
        [t.t("Broadcasts"), f.totals["broadcast"], None],
        [t.t("Reached by broadcasts"), _total(sheets, "languages", 3), None],
    ]
    return protect(Sheet("overview", t.t("Overview"), columns, rows))


DEFINITIONS = (
    (R_("New clients"), R_("People who wrote to kimbot for the first time in the period (counted at registration).")),
    (
        R_("Active cases"),
        R_(
            "Clients registered before the end of a month who were in contact with kimbot during that month or "
            "later, counted once per month when the month is over; over several months the monthly counts are "
            "added up."
        ),
    ),
    (
        R_("Messages from clients"),
        R_("Messages from clients passed on to the staff, including those held back briefly by flood protection."),
    ),
    (R_("Answers from staff"), R_("Answers of the staff that reached the client.")),
    (
        R_("First answers"),
        R_(
            "Client messages that received a first staff answer in the period; the times are kept as a histogram, "
            "median and 90th percentile are estimated from it."
        ),
    ),
    (
        R_("Appointments booked"),
        R_("Bookings made in the period: by the client, by staff on their behalf, or from the waitlist."),
    ),
    (R_("Attended"), R_("Appointments in the period that staff marked as attended.")),
    (
        R_("No-show"),
        R_("Appointments in the period that staff marked as not attended; rate = no-shows / (attended + no-shows)."),
    ),
    (R_("Cancelled"), R_("Appointments or offered slots cancelled in the period, by the client or by staff.")),
    (
        R_("Home visits"),
        R_("Home visits in the period marked attended or no-show, with the travel time kept free for them."),
    ),
    (
        R_("Slots offered from the waitlist"),
        R_(
            "Freed slots offered to waitlisted clients; time to a slot = from joining the waitlist to accepting "
            "the offer."
        ),
    ),
    (R_("Reminders sent"), R_("Reminders of an expiring residence document that went out to the client.")),
    (
        R_("Renewals"),
        R_("A later expiry date entered for a document; on time when entered before the old date had passed."),
    ),
    (
        R_("Residence status changes"),
        R_("Changes of a client's residence status recorded by staff, in the month they took effect, from → to."),
    ),
    (R_("Escalations"), R_("Client messages left unanswered for the set time, or for twice that time.")),
    (R_("Reached by broadcasts"), R_("Clients that the broadcasts finished in the period reached, by language.")),
    (
        "< 5",
        R_(
            "A count from 1 to 4 is not shown. “·”: kept secret, because together with a total it would reveal "
            "such a count."
        ),
    ),
)


def definitions(t: Texts) -> Sheet:
    columns = [Column(t.t("Figure"), "label"), Column(t.t("Definition"), "label")]
    rows: list[list[Cell]] = [[t.t(name) if name != "< 5" else name, t.t(text)] for name, text in DEFINITIONS]
    return Sheet("definitions", t.t("Definitions"), columns, rows)


def shown(value: Cell) -> str:
    """A cell as text, German number format; hidden cells as they are."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, float):  # measures (minutes, days, percent) always with one decimal: never read as counts
        return format_decimal(value, "#,##0.0", locale=REPORT_LOCALE)
    return format_decimal(value, locale=REPORT_LOCALE)


def summary(title: str, county_name: str, over: Sheet, languages: Sheet, t: Texts) -> str:
    """The one-screen message (HTML): the overview's counts and the five largest languages."""
    lines = [f"<b>{html.escape(title)}</b>", html.escape(county_name), ""]
    for label, count, value in over.rows:
        cell = count if count is not None else value
        lines.append(f"{html.escape(str(label))}: {html.escape(shown(cell))}")
    top = [row for row in languages.rows[:-1] if row[2] not in HIDDEN and row[2]][:5]
    if top:
        lines += [
            "",
            t.t("Largest languages (active cases): {list}").format(
                list=", ".join(html.escape(f"{row[0]} {shown(row[2])}") for row in top)
            ),
        ]
    lines += ["", html.escape(t.t("Counts from 1 to 4 are shown as “< 5”; “·” is kept secret."))]
    return "\n".join(lines)

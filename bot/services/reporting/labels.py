"""German names for what the figures are keyed by: periods, months, services, municipalities, document types and
residence statuses. Unknown codes (a service removed from the county file, a status added later) show as their
code, never as an error."""

from __future__ import annotations

from babel.dates import format_date

from bot.core.county import County
from bot.services.reporting.periods import Period, first_day, split
from bot.services.reporting.texts import REPORT_LOCALE, Texts


def month_name(key: str) -> str:
    """ "März 2026"."""
    return format_date(first_day(key), "MMMM y", locale=REPORT_LOCALE)


def short_month(key: str) -> str:
    """ "03/2026" (chart axes)."""
    year, month = split(key)
    return f"{month:02d}/{year}"


def period_name(period: Period, texts: Texts) -> str:
    year, month = split(period.first)
    if period.kind == "month":
        return month_name(period.first)
    if period.kind == "quarter":
        return texts.t("Quarter {number} {year}").format(number=(month - 1) // 3 + 1, year=year)
    if period.kind == "year":
        return str(year)
    return f"{month_name(period.first)} – {month_name(period.last)}"


def service(county: County, key: str) -> str:
    found = county.service(key) if key else None
    return found.name if found is not None else (key or "–")  # the county file is German


def municipality(county: County, key: str, texts: Texts) -> str:
    found = county.municipality(key) if key else None
    return found.name if found is not None else (key or texts.t("not stated yet"))


def document_type(code: str, texts: Texts) -> str:
    names = {
        "residence_permit": texts.t("Residence permit"),
        "duldung": texts.t("Toleration (Duldung)"),
        "gestattung": texts.t("Permission to stay (Gestattung)"),
        "fiktion": texts.t("Fictional certificate (Fiktionsbescheinigung)"),
        "passport": texts.t("Passport"),
        "work_permit": texts.t("Work permit"),
        "other": texts.t("Other document"),
    }
    return names.get(code, code)


def residence_status(code: str, texts: Texts) -> str:
    """ "aufenthaltserlaubnis_25b" → "Aufenthaltserlaubnis § 25b"; "none" → "(kein Status erfasst)"."""
    names = {
        "none": texts.t("(no status recorded)"),
        "aufenthaltsgestattung": texts.t("Permission to stay (Aufenthaltsgestattung)"),
        "duldung": texts.t("Toleration (Duldung)"),
        "duldung_60d": texts.t("Toleration for training or employment (§ 60c/60d)"),
        "aufenthaltserlaubnis": texts.t("Residence permit"),
        "chancen_104c": texts.t("Opportunity residence (§ 104c)"),
        "niederlassungserlaubnis": texts.t("Settlement permit"),
        "einbuergerung_beantragt": texts.t("Naturalisation applied for"),
        "einbuergerung_erfolgt": texts.t("Naturalised"),
        "other": texts.t("Other status"),
    }
    if code in names:
        return names[code]
    base, _, paragraph = code.partition("_")
    if base == "aufenthaltserlaubnis" and paragraph == "other":
        other = texts.t("another paragraph")
        return f"{names[base]} ({other})"
    if base == "aufenthaltserlaubnis" and paragraph:
        return f"{names[base]} § {paragraph.replace('-', ' Abs. ')}"
    return code

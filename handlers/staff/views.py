"""What staff see: /stats, the agenda entries with their buttons, and the answers to /block and to the outcome
buttons. Pure functions of their arguments (and the current gettext locale), so they are tested
without a bot."""

from __future__ import annotations

import html
from datetime import date, datetime, tzinfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.county import County
from bot.core.county_text import CountyTexts
from bot.core.i18n import fmt_date, fmt_number, fmt_time, native_name
from bot.services.booking import AgendaItem, AppointmentDTO
from bot.telegram.callbacks import AgendaCb


def stats_text(
    by_language: list[tuple[str | None, int]], by_town: list[tuple[str | None, int]], county: County, locale: str
) -> str:
    """Client counts by language and by municipality (no personal data)."""
    lines = [_("<b>Clients by language</b>")]
    lines += [f"{native_name(code) if code else '–'}: {fmt_number(n, locale)}" for code, n in by_language]
    lines += ["", _("<b>Clients by municipality</b>")]
    names = {m.key: m.name for m in county.municipalities}
    lines += [f"{names.get(key or '', '–')}: {fmt_number(n, locale)}" for key, n in by_town]
    return "\n".join(lines)


def appointment_status(appt: AppointmentDTO) -> str:
    return {
        "attended": _("attended"),
        "no_show": _("did not come"),
    }.get(appt.status, _("confirmed by the client") if appt.confirmed else _("not confirmed yet"))


def agenda_entry_text(item: AgendaItem, county: County, locale: str, tz: tzinfo, texts: CountyTexts) -> str:
    appt = item.appointment
    service = county.service(appt.service_key)
    office = county.office(appt.office_key) if appt.office_key else None
    lines = [
        f"<b>{fmt_date(appt.starts_at.astimezone(tz).date(), locale, 'EEE d MMM')}, "
        f"{fmt_time(appt.starts_at, locale, tz)}</b> · {html.escape(item.client_reference)}",
        html.escape(texts.text(service.name, locale) if service else appt.service_key),
        html.escape(office.name) if office else _("Home visit"),
        appointment_status(appt),
    ]
    return "\n".join(lines)


def agenda_entry_keyboard(appt: AppointmentDTO) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Attended"), callback_data=AgendaCb(action="attended", id=appt.id))
    kb.button(text=_("No-show"), callback_data=AgendaCb(action="no_show", id=appt.id))
    if appt.has_home_address:
        kb.button(text=_("Show address"), callback_data=AgendaCb(action="address", id=appt.id))
    kb.adjust(2, 1)
    return kb.as_markup()


def outcome_text(appt: AppointmentDTO, no_shows: int) -> str:
    return (
        (_("Marked as attended.") if appt.status == "attended" else _("Marked as no-show."))
        + " "
        + _("No-shows of this client: {count}").format(count=no_shows)
    )


def block_usage() -> str:
    return _("Usage: /block 2027-01-07 (whole day) or /block 2027-01-07 09:00-12:00 [reason]")


def blocked_text(day: date, start: datetime, end: datetime, locale: str, tz: tzinfo) -> str:
    return _("Blocked: {day}, {start} – {end}. No new appointments will be offered then.").format(
        day=fmt_date(day, locale, "EEE d MMM"),
        start=fmt_time(start, locale, tz),
        end=fmt_time(end, locale, tz),
    )

"""What a series shows: the rhythm and count buttons, the plan with the weeks that are not free (before anything is
booked), the dates booked or cancelled, and the cancel choice for an appointment of a series. Pure functions of
their data, as `views.py`."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.i18n import fmt_date, fmt_datetime
from bot.core.labels import pgettext
from bot.services import series
from bot.services.series import Occurrence
from bot.telegram.callbacks import ApptCb, ConfirmCb, SeriesCb


def rhythm_label(every_weeks: int) -> str:
    labels = {1: _("Every week"), 2: _("Every 2 weeks"), 4: _("Every 4 weeks")}
    return labels[every_weeks]


def rhythm_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for every in series.EVERY_WEEKS:
        kb.button(text=rhythm_label(every), callback_data=SeriesCb(action="every", n=every))
    kb.adjust(1)
    return kb.as_markup()


def count_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for count in series.COUNTS:
        kb.button(text=str(count), callback_data=SeriesCb(action="times", n=count))
    return kb.as_markup()


def conflict_line(week: Occurrence, staff_name: str, locale: str) -> str:
    day = fmt_date(week.local_day.date(), locale, "medium")
    if week.conflict == series.HOLIDAY:
        return "❌ " + _("week of {day}: public holiday").format(day=day)
    if week.conflict == series.INTERPRETER:
        return "❌ " + _("week of {day}: no interpreter is free").format(day=day)
    return "❌ " + _("week of {day}: {name} is not free").format(day=day, name=staff_name)


def plan_text(weeks: Sequence[Occurrence], every_weeks: int, staff_name: str, locale: str, tz: tzinfo) -> str:
    lines = [f"<b>{rhythm_label(every_weeks)}</b>"]
    for week in weeks:
        if week.slot is not None:
            lines.append("✅ " + fmt_datetime(week.slot.starts_at, locale, tz))
        else:
            lines.append(conflict_line(week, staff_name, locale))
    if not any(w.slot for w in weeks):
        lines.append(_("None of these dates is free."))
    return "\n".join(lines)


def plan_keyboard(free: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if free:
        kb.button(text=_("✅ Book the free dates ({count})").format(count=free), callback_data=SeriesCb(action="yes"))
    kb.button(text=pgettext("abort", "Cancel"), callback_data=ConfirmCb(action="stop"))
    kb.adjust(1)
    return kb.as_markup()


def dates_lines(starts: Iterable[datetime], locale: str, tz: tzinfo) -> str:
    return "\n".join("• " + fmt_datetime(moment, locale, tz) for moment in starts)


def booked_text(
    reference: str, starts: Iterable[datetime], skipped: Sequence[Occurrence], staff_name: str, locale: str, tz: tzinfo
) -> str:
    """To the staff member: the dates booked, then the weeks left out and why."""
    head = _("Booked for {reference}:").format(reference=html.escape(reference))
    lines = [head, dates_lines(starts, locale, tz), *(conflict_line(w, staff_name, locale) for w in skipped)]
    return "\n".join(lines)


def cancelled_text(starts: Iterable[datetime], locale: str, tz: tzinfo) -> str:
    return _("These appointments are cancelled:") + "\n" + dates_lines(starts, locale, tz)


def cancel_keyboard(appointment_id: int) -> InlineKeyboardMarkup:
    """For an appointment with later ones in its series: only this one, or this and all later ones."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Only this one"), callback_data=ApptCb(action="cancel_yes", id=appointment_id))
    kb.button(text=_("This and all later ones"), callback_data=SeriesCb(action="cancel_all", id=appointment_id))
    kb.button(text=_("No, keep it"), callback_data=ApptCb(action="keep", id=appointment_id))
    kb.adjust(1)
    return kb.as_markup()

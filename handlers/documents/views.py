"""What "My documents" and /expiring show: texts and keyboards as pure functions of their data (the caller passes
the locale, today's date and the time zone), so each can be tested without a bot or a database."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, datetime, tzinfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_skeleton, get_day_names

from bot.core.i18n import babel_locale, fmt_date, fmt_datetime, native_digits
from bot.core.labels import doc_type_button, doc_type_label, doc_type_short, pgettext
from bot.services.documents import DOCUMENT_TYPES, DocumentDTO, ExpiringDocument
from bot.telegram.callbacks import CalCb, DocCb, MenuCb

DATE_EXAMPLE = "31.03.2027"

# ------------------------------------------------------------------ the list


def list_text(items: Sequence[DocumentDTO], locale: str) -> str:
    lines = [_("<b>My documents</b>")]
    if not items:
        lines.append(_("You have not added any documents yet."))
    for item in items:
        lines.append(
            _("• {document}: expires on {date}").format(
                document=doc_type_button(item.doc_type), date=fmt_date(item.expires_on, locale)
            )
        )
    lines += [
        "",
        _(
            "I remind you in good time before a document expires. I only store the type and the expiry date – "
            "never document numbers or photos."
        ),
    ]
    return "\n".join(lines)


def documents_keyboard(items: Sequence[DocumentDTO]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    sizes = []
    for item in items:
        kb.button(
            # TRANSLATORS: button, at most 40 characters; {document} is the German term such as "Duldung".
            text=_("Change date: {document}").format(document=doc_type_short(item.doc_type)),
            callback_data=DocCb(action="edit", id=item.id),
        )
        kb.button(text=_("Delete"), callback_data=DocCb(action="del", id=item.id))
        sizes.append(2)
    kb.button(text=_("Add a document"), callback_data=DocCb(action="add"))
    kb.button(text=_("Back to the menu"), callback_data=MenuCb(action="home"))
    kb.adjust(*sizes, 1, 1)
    return kb.as_markup()


def types_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for doc_type in DOCUMENT_TYPES:
        kb.button(text=doc_type_button(doc_type), callback_data=DocCb(action="type", t=doc_type))
    kb.button(text=_("Back"), callback_data=DocCb(action="list"))
    kb.adjust(1)
    return kb.as_markup()


def delete_question(item: DocumentDTO, locale: str) -> str:
    return _("Delete {document}? It expires on {date}; its reminders will be stopped.").format(
        document=doc_type_label(item.doc_type), date=fmt_date(item.expires_on, locale)
    )


def delete_keyboard(document_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, delete it"), callback_data=DocCb(action="del_yes", id=document_id))
    kb.button(text=_("No, keep it"), callback_data=DocCb(action="list"))
    kb.adjust(1)
    return kb.as_markup()


# ------------------------------------------------------------------ the expiry date


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def calendar_keyboard(year: int, month: int, today: date, locale: str) -> InlineKeyboardMarkup:
    """A month on an inline keyboard, weeks starting on Monday; days before today cannot be picked."""
    kb = InlineKeyboardBuilder()
    noop = CalCb(action="noop", y=year, m=month)
    first = (year, month) <= (today.year, today.month)
    nav = [("«", -12), ("‹", -1), None, ("›", 1), ("»", 12)]
    for entry in nav:
        if entry is None:
            title = native_digits(format_skeleton("yMMMM", date(year, month, 1), locale=babel_locale(locale)), locale)
            kb.button(text=title, callback_data=noop)
            continue
        symbol, months = entry
        y, m = _shift(year, month, months)
        if months < 0 and first:
            kb.button(text=" ", callback_data=noop)
        else:
            kb.button(text=symbol, callback_data=CalCb(action="nav", y=y, m=m))
    for name in get_day_names("narrow", context="stand-alone", locale=babel_locale(locale)).values():
        kb.button(text=name, callback_data=noop)
    weeks = calendar.Calendar(firstweekday=0).monthdayscalendar(year, month)
    for week in weeks:
        for day in week:
            if day == 0 or date(year, month, day) < today:
                kb.button(text=" " if day == 0 else "·", callback_data=noop)
            else:
                label = native_digits(str(day), locale)
                kb.button(text=label, callback_data=CalCb(action="day", y=year, m=month, d=day))
    # TRANSLATORS: button that stops what the client is doing ("abort"), not "cancel an appointment".
    kb.button(text=pgettext("abort", "Cancel"), callback_data=DocCb(action="list"))
    kb.adjust(5, 7, *[7] * len(weeks), 1)
    return kb.as_markup()


def this_month(today: date, locale: str) -> InlineKeyboardMarkup:
    return calendar_keyboard(today.year, today.month, today, locale)


def date_question(doc_type: str) -> str:
    return _("When does your {document} expire? Type the date, for example {example}, or pick it below.").format(
        document=doc_type_label(doc_type), example=DATE_EXAMPLE
    )


def unreadable_date() -> str:
    return _("I could not read this date. Please type it like {example}, or pick it below.").format(
        example=DATE_EXAMPLE
    )


def invalid_date(reason: str) -> str:
    """Why the service refused the date (`InvalidDocument`'s message)."""
    if reason == "in the past":
        return _("This date is in the past. If your document has expired, please contact your case manager soon.")
    return _("Please check the date – it is too far in the future.")


def saved_text(item: DocumentDTO, planned: Sequence[datetime], locale: str, tz: tzinfo) -> str:
    lines = [
        _("Saved: {document}, expires on {date}.").format(
            document=doc_type_label(item.doc_type), date=fmt_date(item.expires_on, locale)
        )
    ]
    if planned:
        lines.append(_("I will remind you on:"))
        lines += [f"• {fmt_datetime(due, locale, tz)}" for due in planned]
    else:
        lines.append(
            _("This is soon – please contact the immigration office (Ausländerbehörde) or your case manager now.")
        )
    return "\n".join(lines)


# ------------------------------------------------------------------ staff


def expiring_text(items: Sequence[ExpiringDocument], days: int, locale: str) -> str:
    if not items:
        return _("No documents of your clients expire in the next {days} days.").format(days=days)
    lines = [_("<b>Documents expiring in the next {days} days</b>").format(days=days)]
    lines += [
        f"{fmt_date(item.expires_on, locale, 'medium')} · {item.client_reference} · {doc_type_short(item.doc_type)}"
        for item in items
    ]
    return "\n".join(lines)

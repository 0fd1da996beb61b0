"""What `/case` shows: a client's case file as pages (overview, residence status, appointments, documents,
follow-ups, notes; long notes run over several pages) with buttons to turn them. Pure functions of a
`bot.services.case_view.CaseFile`, the county, the locale and the time zone, so they are tested without a bot.

Everything here is for staff in the client's topic; nothing is sent to the client. Staff-written text (notes,
follow-ups) is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.county import County
from bot.core.i18n import fmt_date, fmt_datetime, native_name
from bot.core.labels import doc_type_label
from bot.services.booking import AppointmentDTO
from bot.services.case_view import CaseFile
from bot.telegram.callbacks import CaseCb
from handlers.staff.casework_views import status_text

PAGE_BUDGET = 3500  # characters of one page's body: Telegram allows 4096 with the heading and markup
MAX_LINES = 15  # follow-ups or past appointments on one page
SOON = timedelta(days=90)
SECTIONS = ("overview", "status", "appointments", "documents", "followups", "notes")


@dataclass(frozen=True, slots=True)
class CasePage:
    section: str
    body: str


def section_title(section: str) -> str:
    return {
        "overview": _("Overview"),
        "status": _("Residence status"),
        "appointments": _("Appointments"),
        "documents": _("Documents"),
        "followups": _("Follow-ups"),
        "notes": _("Notes"),
    }[section]


def outcome(appt: AppointmentDTO, now: datetime) -> str:
    if appt.status == "attended":
        return _("attended")
    if appt.status == "no_show":
        return _("did not come")
    if appt.status == "cancelled":
        return _("cancelled")
    if appt.ends_at <= now:
        return _("no outcome recorded")
    return _("confirmed by the client") if appt.confirmed else _("not confirmed yet")


def _appointment_line(appt: AppointmentDTO, county: County, locale: str, tz: tzinfo, now: datetime) -> str:
    service = county.service(appt.service_key)
    office = county.office(appt.office_key) if appt.office_key else None
    return " · ".join(
        [
            fmt_datetime(appt.starts_at, locale, tz),
            escape(service.name if service else appt.service_key),  # the county file's German, as staff wrote it
            escape(office.name) if office else _("Home visit"),
            outcome(appt, now),
        ]
    )


def _overview(case: CaseFile, locale: str, tz: tzinfo) -> str:
    client = case.client
    language = f"{native_name(client.locale)} ({client.locale})" if client.locale else "–"
    lines = [
        _("Language: {language}").format(language=escape(language)),
        _("Municipality: {name}").format(name=escape(case.town or "–")),
        _("Case manager: {name}").format(name=escape(case.manager.display_name if case.manager else "–")),
    ]
    if case.away is not None:
        lines.append(
            _("Away until {date}; deputy: {deputy}").format(
                date=fmt_date(case.away.until, locale, "medium"),
                deputy=escape(case.away.deputy.display_name if case.away.deputy else "–"),
            )
        )
    lines.append(_("Reachable: yes") if client.reachable else _("Reachable: no – the client blocked the bot"))
    if case.blocked:
        lines.append(_("Status: blocked by staff"))
    if client.last_contact_at is not None:
        contact = client.last_contact_at.astimezone(tz).date()
        lines.append(_("Last contact: {date}").format(date=fmt_date(contact, locale, "medium")))
    current = case.status
    if current is None:
        lines.append(_("Residence status: not recorded yet"))
    else:
        lines.append(
            _("Residence status: {status} since {date}").format(
                status=status_text(current.status, current.paragraph), date=fmt_date(current.since, locale, "medium")
            )
        )
    if case.upcoming:
        lines.append(_("Next appointment: {when}").format(when=fmt_datetime(case.upcoming[0].starts_at, locale, tz)))
    lines.append(_("Open follow-ups: {count}").format(count=len(case.followups)))
    lines.append(_("Notes: {count}").format(count=case.note_count))
    return "\n".join(lines)


def _statuses(case: CaseFile, locale: str) -> str:
    if not case.statuses:
        return _("No residence status recorded yet. /status records one.")
    lines = [
        f"{fmt_date(entry.since, locale, 'medium')} · {status_text(entry.status, entry.paragraph)}"
        + (f" ({escape(entry.recorded_by)})" if entry.recorded_by else "")
        for entry in reversed(case.statuses)
    ]
    return "\n".join(lines)


def _appointments(case: CaseFile, county: County, locale: str, tz: tzinfo, now: datetime) -> str:
    lines = ["<b>" + _("To come") + "</b>"]
    lines += [_appointment_line(a, county, locale, tz, now) for a in case.upcoming[:MAX_LINES]] or [_("none")]
    lines += ["", "<b>" + _("Past") + "</b>"]
    lines += [_appointment_line(a, county, locale, tz, now) for a in case.past[:MAX_LINES]] or [_("none")]
    return "\n".join(lines)


def _documents(case: CaseFile, locale: str, today: date) -> str:
    if not case.documents:
        return _("The client has not added any documents.")
    lines = []
    for doc in case.documents:
        mark = "⚠️ " if doc.expires_on <= today + SOON else ""
        lines.append(
            mark
            + _("{document}: expires on {date}").format(
                document=doc_type_label(doc.doc_type), date=fmt_date(doc.expires_on, locale, "medium")
            )
        )
    return "\n".join(lines)


def _followups(case: CaseFile, locale: str, tz: tzinfo) -> str:
    if not case.followups:
        return _("No open follow-ups. /followup 3d … adds one.")
    lines = [
        f"{fmt_datetime(f.due_at, locale, tz)} · {escape(f.owner_name or '–')}: {escape(f.text)}"
        for f in case.followups[:MAX_LINES]
    ]
    if len(case.followups) > MAX_LINES:
        lines.append(_("… and {count} more").format(count=len(case.followups) - MAX_LINES))
    return "\n".join(lines)


def _note_blocks(case: CaseFile, locale: str, tz: tzinfo) -> list[str]:
    """The notes, newest first, in as many pages as their length needs."""
    if not case.notes:
        return [_("No notes yet. /note … in this topic adds one.")]
    pages: list[str] = []
    current: list[str] = []
    for note in case.notes:
        entry = (
            f"<b>{fmt_datetime(note.created_at, locale, tz)} · {escape(note.author or '–')}</b>\n{escape(note.text)}"
        )
        if current and sum(len(e) + 2 for e in current) + len(entry) > PAGE_BUDGET:
            pages.append("\n\n".join(current))
            current = []
        current.append(entry)
    pages.append("\n\n".join(current))
    if case.note_count > len(case.notes):
        pages[-1] += "\n\n" + _("Older notes are in the client's data export.")
    return pages


def case_pages(case: CaseFile, county: County, locale: str, tz: tzinfo, *, now: datetime) -> list[CasePage]:
    """Every page of the case, in order (call it in the staff member's locale)."""
    today = now.astimezone(tz).date()
    makers: dict[str, Callable[[], list[str]]] = {
        "overview": lambda: [_overview(case, locale, tz)],
        "status": lambda: [_statuses(case, locale)],
        "appointments": lambda: [_appointments(case, county, locale, tz, now)],
        "documents": lambda: [_documents(case, locale, today)],
        "followups": lambda: [_followups(case, locale, tz)],
        "notes": lambda: _note_blocks(case, locale, tz),
    }
    return [CasePage(section, body) for section in SECTIONS for body in makers[section]()]


def page_text(case: CaseFile, pages: list[CasePage], index: int) -> str:
    page = pages[index]
    heading = f"🗂 <b>{escape(case.client.reference)}</b> · {section_title(page.section)} ({index + 1}/{len(pages)})"
    return f"{heading}\n\n{page.body}"


def page_keyboard(client_id: int, pages: list[CasePage], index: int) -> InlineKeyboardMarkup:
    """◀ ▶ to turn the pages, and one button per section (the current one marked)."""
    kb = InlineKeyboardBuilder()
    turn = 0
    if index > 0:
        kb.button(text="◀", callback_data=CaseCb(client=client_id, page=index - 1))
        turn += 1
    if index < len(pages) - 1:
        kb.button(text="▶", callback_data=CaseCb(client=client_id, page=index + 1))
        turn += 1
    for section in SECTIONS:
        first = next(i for i, p in enumerate(pages) if p.section == section)
        mark = "• " if pages[index].section == section else ""
        kb.button(text=mark + section_title(section), callback_data=CaseCb(client=client_id, page=first))
    kb.adjust(*([turn] if turn else []), 3, 3)
    return kb.as_markup()

"""What staff see of casework besides the case file (`case_views`): the residence status labels and buttons of
`/status`, the answers to `/note` and `/followup`, the follow-up buttons' results, the follow-ups in `/agenda`,
and the hits of `/find` with links to the clients' topics. Pure functions of their arguments and the current
gettext locale, tested without a bot. Staff-written text is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, tzinfo
from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.county import County
from bot.core.i18n import fmt_date, fmt_datetime, native_name
from bot.core.labels import doc_type_label
from bot.services.casework import Found
from bot.services.followups import FollowupDTO, Routed
from bot.services.residence_status import AUFENTHALTSERLAUBNIS, OTHER, PARAGRAPHS, STATUSES, StatusEntry
from bot.telegram.callbacks import StatusCb
from bot.telegram.topics import message_link

# ---------------------------------------------------------------------- residence status


def status_label(code: str) -> str:
    return {
        # TRANSLATORS: status button and case-file line, at most 40 characters; the German term alone is enough
        "aufenthaltsgestattung": _("Aufenthaltsgestattung (asylum procedure)"),
        # TRANSLATORS: status button and case-file line, at most 40 characters; the German term alone is enough
        "duldung": _("Duldung (toleration)"),
        # TRANSLATORS: status button and case-file line, at most 40 characters; the German term alone is enough
        "duldung_60d": _("Duldung § 60d (employment)"),
        # TRANSLATORS: status button and case-file line, at most 40 characters; the German term alone is enough
        AUFENTHALTSERLAUBNIS: _("Aufenthaltserlaubnis (residence permit)"),
        # TRANSLATORS: status button and case-file line, at most 40 characters; the German term alone is enough
        "chancen_104c": _("Chancen-Aufenthaltsrecht § 104c"),
        # TRANSLATORS: status button and case-file line, at most 40 characters; the German term alone is enough
        "niederlassungserlaubnis": _("Niederlassungserlaubnis (permanent)"),
        # TRANSLATORS: status button and case-file line, at most 40 characters; the German term alone is enough
        "einbuergerung_beantragt": _("Einbürgerung beantragt (naturalisation)"),
        # TRANSLATORS: status button and case-file line, at most 40 characters; the German term alone is enough
        "einbuergerung_erfolgt": _("Naturalised (Einbürgerung erfolgt)"),
        # TRANSLATORS: status button and case-file line, at most 40 characters; the German term alone is enough
        OTHER: _("Other status"),
    }.get(code, code)


def paragraph_label(code: str) -> str:
    """`25-5` → `§ 25 (5)`, `25b` → `§ 25b`."""
    if code == OTHER:
        return _("another paragraph")
    number, _sep, subsection = code.partition("-")
    return f"§ {number} ({subsection})" if subsection else f"§ {number}"


def status_text(status: str, paragraph: str | None) -> str:
    label = escape(status_label(status))
    return f"{label} {paragraph_label(paragraph)}" if paragraph else label


def day_code(day: date | None) -> str:
    return day.strftime("%Y%m%d") if day is not None else ""


def status_question(reference: str, current: StatusEntry | None, day: date | None, locale: str) -> str:
    lines = [_("<b>Residence status of {reference}</b>").format(reference=escape(reference))]
    if current is None:
        lines.append(_("Nothing recorded yet."))
    else:
        lines.append(
            _("Now: {status} since {date}").format(
                status=status_text(current.status, current.paragraph), date=fmt_date(current.since, locale, "medium")
            )
        )
    when = fmt_date(day, locale, "medium") if day is not None else _("today")
    lines += [
        "",
        _("Choose the new status. It takes effect {date}.").format(date=when),
        _("Another date: /status 15.01.2027"),
    ]
    return "\n".join(lines)


def status_keyboard(client_id: int, day: date | None) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code in STATUSES:
        kb.button(text=status_label(code), callback_data=StatusCb(client=client_id, code=code, day=day_code(day)))
    kb.adjust(1)
    return kb.as_markup()


def paragraph_question(reference: str) -> str:
    return _("Aufenthaltserlaubnis for {reference}: under which paragraph of the AufenthG?").format(
        reference=escape(reference)
    )


def paragraph_keyboard(client_id: int, day: date | None) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code in PARAGRAPHS:
        kb.button(
            text=paragraph_label(code),
            callback_data=StatusCb(client=client_id, code=AUFENTHALTSERLAUBNIS, para=code, day=day_code(day)),
        )
    kb.adjust(4)
    return kb.as_markup()


def status_recorded(reference: str, before: StatusEntry | None, after: StatusEntry, locale: str) -> str:
    return _("Residence status of {reference}: {before} → {after}, since {date}. Recorded by {name}.").format(
        reference=escape(reference),
        before=status_text(before.status, before.paragraph) if before else "–",
        after=status_text(after.status, after.paragraph),
        date=fmt_date(after.since, locale, "medium"),
        name=escape(after.recorded_by or "–"),
    )


def status_refused() -> str:
    return _("This status cannot be recorded (a date in the future?). Try /status again.")


# ---------------------------------------------------------------------- notes


def note_saved(reference: str) -> str:
    return _("📝 Note saved in the case file of {reference}. /case shows it; the client does not see it.").format(
        reference=escape(reference)
    )


def note_usage() -> str:
    return _("Write the note after the command: /note called the immigration office, appointment follows")


# ---------------------------------------------------------------------- follow-ups


def followup_usage() -> str:
    return _(
        "Usage: /followup 3d call about the Fiktionsbescheinigung – or 1w, tomorrow, 2027-01-15, "
        "2027-01-15 14:00 instead of 3d"
    )


def followup_created(followup: FollowupDTO, locale: str, tz: tzinfo) -> str:
    return _(
        "⏰ Follow-up for {reference} on {when}: {text}. You get a message then (your deputy, if you are away)."
    ).format(
        reference=escape(followup.client_reference),
        when=fmt_datetime(followup.due_at, locale, tz),
        text=escape(followup.text),
    )


def followup_result(followup: FollowupDTO, actor_name: str, locale: str, tz: tzinfo) -> str:
    """The due message after Done / +1 day / +1 week was tapped."""
    task = _("Follow-up for {reference}: {text}").format(
        reference=escape(followup.client_reference), text=escape(followup.text)
    )
    if followup.is_open:
        outcome = _("Moved to {when}.").format(when=fmt_datetime(followup.due_at, locale, tz))
    else:
        outcome = _("✅ Done ({name}).").format(name=escape(actor_name))
    return f"{task}\n\n{outcome}"


def agenda_followups(items: Sequence[Routed], locale: str, tz: tzinfo) -> str:
    """The follow-ups in /agenda: due today or tomorrow, overdue ones too, those of absent colleagues marked."""
    lines = [_("<b>Your follow-ups</b>")]
    for item in items:
        task = item.followup
        line = f"{fmt_datetime(task.due_at, locale, tz)} · {escape(task.client_reference)} · {escape(task.text)}"
        if item.for_deputy:
            line += " " + _("(for {name})").format(name=escape(task.owner_name or "–"))
        lines.append(line)
    return "\n".join(lines)


# ---------------------------------------------------------------------- /find


def find_usage(names_stored: bool) -> str:
    lines = [
        _("Find a client:"),
        _("/find K-4F7Q2 – by reference, or a part of it: /find 4F7"),
        _("/find expiring 30 – documents expiring within 30 days"),
    ]
    if names_stored:
        lines.append(_("/find Ali – by a part of the first name"))
    else:
        lines.append(_("Names are not stored (HANDOFF_TOPIC_NAMES is off), so there is no search by name."))
    return "\n".join(lines)


def _found_line(found: Found, county: County, managers: dict[int, str], locale: str) -> str:
    town = county.municipality(found.municipality or "")
    parts = [f"<b>{escape(found.reference)}</b>"]
    if found.first_name:
        parts.append(escape(found.first_name))
    parts.append(native_name(found.locale) if found.locale else "–")
    parts.append(escape(town.name if town else "–"))
    parts.append(escape(managers.get(found.case_manager_id or 0, "–")))
    if found.doc_type and found.expires_on:
        parts.append(f"{doc_type_label(found.doc_type)} {fmt_date(found.expires_on, locale, 'medium')}")
    if found.chat_id is not None and found.thread_id is not None:
        parts.append(f'<a href="{message_link(found.chat_id, found.thread_id)}">{_("open topic")}</a>')
    else:
        parts.append(_("no topic yet"))
    return " · ".join(parts)


def find_results(found: Sequence[Found], county: County, managers: dict[int, str], locale: str) -> str:
    if not found:
        return _("No client found.")
    lines = [_("<b>Clients found: {count}</b>").format(count=len(found))]
    lines += [_found_line(item, county, managers, locale) for item in found]
    return "\n".join(lines)

"""What the admin sees while composing a broadcast, and what a client sees under /announcements: texts and
keyboards as pure functions of plain data (drafts, plans, segments, the county), so they are tested without a
chat. Strings are gettext'ed in the current i18n locale; the handlers only decide which view to send."""

from __future__ import annotations

from datetime import tzinfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.county import County
from bot.core.i18n import SUPPORTED_LOCALES, fmt_datetime, fmt_number, native_name
from bot.core.labels import doc_type_button, doc_type_label
from bot.jobs.broadcast_progress import excluded_lines
from bot.services import broadcasts
from bot.services.broadcasts import BroadcastDTO, Plan, Segment
from bot.services.documents import DOCUMENT_TYPES
from bot.services.dto import StaffDTO
from bot.telegram.callbacks import AnnCb, BcCb

DATE_RANGE_EXAMPLE = "01.12.2026 – 15.12.2026"
WHEN_EXAMPLE = "24.12.2026 09:00"
# The segment criteria with several values, as the "pick" buttons name them → the Segment field they fill.
CRITERIA = {"lang": "languages", "town": "municipalities", "office": "offices", "cm": "case_managers"}


def _locale() -> str:
    return get_i18n().current_locale


def _names(codes: list[str]) -> str:
    return ", ".join(native_name(code) for code in codes)


# ------------------------------------------------------------------ texts per language


def languages_text(texts: dict[str, str]) -> str:
    return _(
        "Text saved for: {languages}.\nTo add another language, tap it and send its text. Tap “Done” when you "
        "have finished."
    ).format(languages=_names(list(texts)))


def languages_keyboard(texts: dict[str, str]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code in SUPPORTED_LOCALES:
        if code == broadcasts.SOURCE_LANGUAGE:
            continue
        mark = " ✓" if code in texts else ""
        kb.button(text=native_name(code) + mark, callback_data=BcCb(action="lang", v=code))
    kb.button(text=_("Done"), callback_data=BcCb(action="langs_done"))
    kb.button(text=_("Discard"), callback_data=BcCb(action="discard"))
    kb.adjust(3, 3, 3, 3, 2)
    return kb.as_markup()


def translated_text(languages: list[str]) -> str:
    return _("Translated automatically (clients will see a note): {languages}").format(languages=_names(languages))


def missing_text(languages: list[str]) -> str:
    return _("No text for: {languages}. What should clients with these languages get?").format(
        languages=_names(languages)
    )


def fallback_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("English and German text"), callback_data=BcCb(action="fallback", v="en_de"))
    kb.button(text=_("Nothing – leave these clients out"), callback_data=BcCb(action="fallback", v="skip"))
    kb.adjust(1)
    return kb.as_markup()


# ------------------------------------------------------------------ segment


def segment_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Language"), callback_data=BcCb(action="pick", v="lang"))
    kb.button(text=_("Municipality"), callback_data=BcCb(action="pick", v="town"))
    kb.button(text=_("Office"), callback_data=BcCb(action="pick", v="office"))
    kb.button(text=_("Case manager"), callback_data=BcCb(action="pick", v="cm"))
    kb.button(text=_("Appointment in a date range"), callback_data=BcCb(action="appt"))
    kb.button(text=_("Document expiring soon"), callback_data=BcCb(action="doc"))
    kb.button(text=_("All clients (reset)"), callback_data=BcCb(action="seg_reset"))
    kb.button(text=_("Continue"), callback_data=BcCb(action="seg_done"))
    kb.adjust(2, 2, 1, 1, 2)
    return kb.as_markup()


def segment_text(segment: Segment, county: County, managers: list[StaffDTO], plan: Plan) -> str:
    """The criteria chosen so far, one line each, and how many clients they reach now."""
    locale = _locale()
    lines = [_("<b>Who should get it?</b> Criteria are combined; tap “Continue” when done.")]
    if segment.is_all:
        lines.append(_("• all clients"))
    if segment.languages:
        lines.append(_("• language: {values}").format(values=_names(list(segment.languages))))
    if segment.municipalities:
        towns = {m.key: m.name for m in county.municipalities}
        values = ", ".join(towns.get(k, k) for k in segment.municipalities)
        lines.append(_("• municipality: {values}").format(values=values))
    if segment.offices:
        offices = {o.key: o.name for o in county.offices}
        lines.append(_("• office: {values}").format(values=", ".join(offices.get(k, k) for k in segment.offices)))
    if segment.case_managers:
        people = {str(m.id): m.display_name for m in managers}
        values = ", ".join(people.get(str(k), str(k)) for k in segment.case_managers)
        lines.append(_("• case manager: {values}").format(values=values))
    if segment.appointment_from and segment.appointment_to:
        start, end = segment.appointment_from.strftime("%d.%m.%Y"), segment.appointment_to.strftime("%d.%m.%Y")
        lines.append(_("• appointment between {start} and {end}").format(start=start, end=end))
    if segment.document_days is not None:
        document = doc_type_label(segment.document_type) if segment.document_type else _("any document")
        days = fmt_number(segment.document_days, locale)
        lines.append(_("• {document} expiring within {days} days").format(document=document, days=days))
    lines += ["", _("Recipients now: {count}").format(count=fmt_number(plan.total, locale))]
    return "\n".join(lines)


def choices(kind: str, county: County, managers: list[StaffDTO]) -> list[tuple[str, str]]:
    """(callback value, label) of every value one criterion can take."""
    if kind == "lang":
        return [(code, native_name(code)) for code in SUPPORTED_LOCALES]
    if kind == "town":
        return [(m.key, m.name) for m in county.municipalities]
    if kind == "office":
        return [(o.key, o.name) for o in county.offices]
    return [(str(m.id), m.display_name) for m in managers]


def selected(segment: Segment, kind: str) -> set[str]:
    return {str(value) for value in getattr(segment, CRITERIA[kind])}


def pick_text() -> str:
    return _("Tap to select or deselect; several choices are combined with “or”.")


def pick_keyboard(kind: str, options: list[tuple[str, str]], chosen: set[str]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for key, label in options:
        kb.button(text=("✓ " if key in chosen else "") + label, callback_data=BcCb(action=f"t_{kind}", v=key))
    kb.button(text=_("Back"), callback_data=BcCb(action="seg"))
    kb.adjust(2)
    return kb.as_markup()


def document_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for doc_type in DOCUMENT_TYPES:
        kb.button(text=doc_type_button(doc_type), callback_data=BcCb(action="doc_type", v=doc_type))
    kb.button(text=_("any document"), callback_data=BcCb(action="doc_type", v=""))
    kb.adjust(1)
    return kb.as_markup()


def dates_prompt() -> str:
    return _("Send the date range of the appointments, e.g. {example}.").format(example=DATE_RANGE_EXAMPLE)


def dates_retry() -> str:
    return _("Please send two dates, e.g. {example}.").format(example=DATE_RANGE_EXAMPLE)


# ------------------------------------------------------------------ when, preview


def schedule_view(zone: str) -> tuple[str, InlineKeyboardMarkup]:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Now"), callback_data=BcCb(action="now"))
    text = _("When should it be sent? Tap “Now” or send a date and time ({zone}), e.g. {example}.").format(
        zone=zone, example=WHEN_EXAMPLE
    )
    return text, kb.as_markup()


def schedule_retry() -> str:
    return _("Please send a future date and time, e.g. {example}.").format(example=WHEN_EXAMPLE)


def preview_languages(plan: Plan) -> list[str]:
    """The recipients' languages, most recipients first: the order of the preview messages."""
    return [lang for lang, _count in plan.by_locale.most_common()]


def preview_summary(draft: BroadcastDTO, plan: Plan, tz: tzinfo) -> str:
    """How many get it and when, then per language how many and which text (own, English + German, automatic)."""
    locale = _locale()
    when = fmt_datetime(draft.scheduled_at, locale, tz) if draft.scheduled_at is not None else _("right away")
    lines = [
        _("<b>Preview</b> – {total} recipients, to be sent {when}.").format(
            total=fmt_number(plan.total, locale), when=when
        ),
        _("The next messages show what each language gets, in this order:"),
    ]
    for index, lang in enumerate(preview_languages(plan), 1):
        key = broadcasts.text_key(draft.texts, draft.fallback, lang)
        note = ""
        if key == broadcasts.FALLBACK_KEY:
            note = " " + _("(English and German)")
        elif key in draft.auto_languages:
            note = " " + _("(automatic translation)")
        count = fmt_number(plan.by_locale[lang], locale)
        line = _("{number}. {language}: {count} recipients").format(
            number=index, language=native_name(lang), count=count
        )
        lines.append(line + note)
    lines += ["", *excluded_lines(plan.opted_out, plan.unreachable, plan.skipped)]
    return "\n".join(lines)


def preview_question(plan: Plan) -> tuple[str, InlineKeyboardMarkup]:
    kb = InlineKeyboardBuilder()
    if plan.total:
        kb.button(
            text=_("Send to {count} clients").format(count=fmt_number(plan.total, _locale())),
            callback_data=BcCb(action="confirm"),
        )
    kb.button(text=_("Change recipients"), callback_data=BcCb(action="seg"))
    kb.button(text=_("Discard"), callback_data=BcCb(action="discard"))
    kb.adjust(1)
    return (_("Send this broadcast?") if plan.total else _("Nobody matches these criteria.")), kb.as_markup()


# ------------------------------------------------------------------ clients: /announcements


def announcements_view(off: bool) -> tuple[str, InlineKeyboardMarkup]:
    kb = InlineKeyboardBuilder()
    if off:
        text = _(
            "Announcements from the integration management are <b>off</b>. Reminders about your own "
            "appointments and documents always stay on."
        )
        kb.button(text=_("Turn announcements on"), callback_data=AnnCb(off=False))
    else:
        text = _(
            "Announcements from the integration management are <b>on</b>. Reminders about your own "
            "appointments and documents always stay on."
        )
        kb.button(text=_("Turn announcements off"), callback_data=AnnCb(off=True))
    return text, kb.as_markup()

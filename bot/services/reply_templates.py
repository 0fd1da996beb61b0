"""Saved replies (`/t NAME` in a client's topic): which text the client gets and what fills its placeholders.

The county file keeps each template's German text (`reply_templates`); the approved translations come from the
`county` gettext domain (`CountyTexts.translate`: None means there is no approved text in the client's language,
and staff must confirm a machine translation first). Placeholders are filled from the case, in the client's
language: `{next_appointment}` (date and time of the next booked appointment), `{office}` (that appointment's
office, else the case manager's), `{documents_to_bring}` (the appointment's service's list, a county text) and
`{case_manager}` (the client's case manager, else the staff member sending). A placeholder the case cannot fill
(no appointment booked, a service without a list) keeps the template from being sent at all: a reply that says
"your appointment on –" helps nobody.

Telegram-free and without gettext of kimbot's own: everything shown is the county's text or data, HTML-escaped.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County, Office, ReplyTemplate
from bot.core.i18n import OFFICE_LOCALE, fmt_datetime, isolate
from bot.services import booking, handoff, office_hours
from bot.services.dto import ClientDTO, StaffDTO


class Texts(Protocol):
    """What is needed of `bot.core.county_text.CountyTexts`."""

    def translate(self, text: str, locale: str) -> str | None: ...

    def text(self, text: str, locale: str) -> str: ...


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the placeholders are filled from, read once per send."""

    next_appointment: datetime | None
    office: Office | None
    documents: str  # the German list of the next appointment's service; "" when there is none
    case_manager: str | None


async def case_facts(session: AsyncSession, county: County, client: ClientDTO, sender: StaffDTO) -> CaseFacts:
    coming = await booking.upcoming(session, client.id)
    appointment = coming[0] if coming else None
    service = county.service(appointment.service_key) if appointment is not None else None
    manager = await handoff.staff_by_id(session, client.case_manager_id)
    answering = manager or sender
    office = county.office(appointment.office_key) if appointment is not None and appointment.office_key else None
    office = office or office_hours.office_for(county, answering.office_key, client.municipality)
    return CaseFacts(
        next_appointment=appointment.starts_at if appointment is not None else None,
        office=office,
        documents=service.documents if service is not None else "",
        case_manager=answering.display_name,
    )


def placeholders(text: str) -> tuple[str, ...]:
    """The placeholders a text names, in order of appearance, each once."""
    names = [field for _, field, _, _ in string.Formatter().parse(text) if field]
    return tuple(dict.fromkeys(names))


def _office_line(office: Office, locale: str) -> str:
    """Name and address are proper names, shown as written (kept whole in right-to-left text), and the phone."""
    parts = [office.name, office.address] + ([f"☎ {office.phone}"] if office.phone else [])
    return ", ".join(isolate(part, locale) for part in parts)


def values(facts: CaseFacts, locale: str, tz: ZoneInfo, texts: Texts) -> dict[str, str | None]:
    """Each placeholder's value in `locale` (plain text), None when the case has none."""
    when = facts.next_appointment
    return {
        "next_appointment": fmt_datetime(when, locale, tz) if when is not None else None,
        "office": _office_line(facts.office, locale) if facts.office is not None else None,
        "documents_to_bring": texts.text(facts.documents, locale) if facts.documents else None,
        "case_manager": facts.case_manager,
    }


def _fill(text: str, filled: dict[str, str]) -> str | None:
    """`text` (escaped) with the escaped values; None when it names a placeholder that is not there or is
    malformed (a translation that mangled a `{…}`)."""
    try:
        return escape(text, quote=False).format_map({k: escape(v, quote=False) for k, v in filled.items()})
    except (KeyError, ValueError, IndexError, AttributeError):
        return None


@dataclass(frozen=True, slots=True)
class Prepared:
    """One template for one client: what staff see, what the client would get, and what stands in the way."""

    name: str
    locale: str
    german: str  # filled, HTML: what staff see in the topic
    german_plain: str  # filled, plain text: what a machine translation starts from
    approved: str | None  # filled, HTML, in the client's language; None: no approved translation
    missing: tuple[str, ...]  # placeholders the case cannot fill (then nothing is sent)

    @property
    def sendable(self) -> bool:
        return not self.missing


def prepare(template: ReplyTemplate, facts: CaseFacts, locale: str, tz: ZoneInfo, texts: Texts) -> Prepared:
    german_values = values(facts, OFFICE_LOCALE, tz, texts)
    missing = tuple(p for p in placeholders(template.text) if german_values.get(p) is None)
    if missing:
        return Prepared(template.name, locale, escape(template.text, quote=False), template.text, None, missing)
    present = {k: v for k, v in german_values.items() if v is not None}
    german = _fill(template.text, present) or escape(template.text, quote=False)
    plain = template.text.format_map(present)
    approved = None
    translation = texts.translate(template.text, locale)
    if translation is not None:
        local = {k: v for k, v in values(facts, locale, tz, texts).items() if v is not None}
        approved = _fill(translation, local)
    return Prepared(template.name, locale, german, plain, approved, ())


def approved_in(county: County, locale: str, texts: Texts) -> list[tuple[ReplyTemplate, bool]]:
    """The county's templates, each with whether an approved text exists in `locale` (for the /t list)."""
    return [(t, texts.translate(t.text, locale) is not None) for t in county.reply_templates]

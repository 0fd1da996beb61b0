"""Issue #19's "done when": a client of every language kimbot speaks books an appointment at the immigration office
end to end – the service list, the summary (what, where, what to bring), the confirmation and the 24-hour
reminder – and reads it in their language.

For a language not written in Latin letters (Arabic, Persian, Ukrainian, Tigrinya, …) no line may keep a Latin
word that is not a proper name, an address or a code: the names of offices, streets and municipalities from the
county file, German terms of the glossary (kept in brackets or first on buttons), other German words of the
county file in brackets, reference codes and /commands. For a language written in Latin letters (French, Turkish,
Kurmanji, Somali, …) the check is that no line and no county text is the English one (German is compared with
English, English with German). The test fails until translators have filled the catalogs, and says what is left.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from babel.core import get_global
from sqlalchemy import select

from bot.core.county import County
from bot.core.county_catalog import entries, gaps
from bot.core.county_text import BUTTON, CountyTexts, catalog_dir
from bot.core.i18n import BIDI_CONTROLS, SUPPORTED_LOCALES, babel_locale
from bot.db.models import Client
from bot.db.models_booking import Appointment
from bot.db.models_outbox import OutboxMessage
from bot.emulator import BotAPIEmulator
from tests.support import ROOT, Running, button_texts, onboard

SERVICE_KEY = "residence-extension"  # one office: the walk goes service → day → time → summary
FIRST_USER = 190000
LATIN_WORD = re.compile(r"[A-Za-zÀ-ɏ][A-Za-zÀ-ɏ'’-]+")
CODE = re.compile(r"\bK-[A-Z0-9]+\b|/[a-z_]+|\b\d+(?:[.:]\d+)*\b")
BRACKETED = re.compile(r"\(([^()]*)\)")


def script_of(locale: str) -> str:
    """The script a language is written in (CLDR's likely subtags), e.g. 'Arab', 'Cyrl', 'Latn'."""
    language = babel_locale(locale).language
    likely = get_global("likely_subtags").get(language, "")
    return likely.split("_")[1] if likely.count("_") >= 1 else "Latn"


def proper_names(county: County) -> list[str]:
    """What stays as written: the county's names and addresses, longest first (so they are taken out whole)."""
    names = {county.name, *(m.name for m in county.municipalities)}
    for office in county.offices:
        names |= {office.name, office.address, *office.address.split(", ")}
    names |= {"kimbot", "Telegram"}
    return sorted(names, key=len, reverse=True)


def glossary_terms() -> set[str]:
    """The German terms of H5's glossary (locales/glossary.toml), kept wherever a translation uses them."""
    glossary = ROOT / "locales" / "glossary.toml"
    if not glossary.exists():
        return set()
    return {row["de"] for row in tomllib.loads(glossary.read_text(encoding="utf-8"))["term"]}


def german_words(county: County) -> set[str]:
    """Words of the county file's German texts: kept only in brackets or first on a button (see `leftover`)."""
    return {w for entry in entries(county) for w in LATIN_WORD.findall(entry.text)} | {
        w for term in glossary_terms() for w in LATIN_WORD.findall(term)
    }


@dataclass
class Walk:
    """What one client saw: the lines of each message, and the buttons."""

    locale: str
    lines: list[str] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)

    def add(self, message: dict[str, Any]) -> None:
        text = message.get("text") or message.get("caption") or ""
        self.lines += [line for line in _plain(text).splitlines() if line.strip()]
        self.buttons += [_plain(b) for b in button_texts(message)]


def _plain(text: str) -> str:
    return "".join(ch for ch in text if ch not in BIDI_CONTROLS)


def leftover(line: str, names: list[str], terms: set[str], glossary: set[str], button: bool) -> list[str]:
    """The Latin words of a line that are not a proper name, an address, a code or a kept German term."""
    for name in names:
        line = line.replace(name, " ")
    line = CODE.sub(" ", line)
    line = BRACKETED.sub(lambda m: " " if all(w in terms for w in LATIN_WORD.findall(m.group(1))) else m.group(0), line)
    for term in sorted(glossary, key=len, reverse=True):
        line = line.replace(term, " ")
    words = LATIN_WORD.findall(line)
    if button:  # a short button starts with the German term ("Ausländerbehörde: …")
        while words and words[0] in terms:
            words.pop(0)
    return words


async def walk(kimbot: Running, emulator: BotAPIEmulator, texts: CountyTexts, user: int, locale: str) -> Walk:
    seen = Walk(locale)
    t = kimbot.app.i18n.gettext
    service = kimbot.app.county.service(SERVICE_KEY)
    assert service is not None
    menu = await onboard(kimbot, emulator, user, language=locale)
    services = await kimbot.tap(user, menu, t("Book an appointment", locale=locale))
    seen.add(services)
    days = await kimbot.tap(user, services, texts.text(service.name, locale, context=BUTTON))
    times = await kimbot.tap(user, days, button_texts(days)[2])
    summary = await kimbot.tap(user, times, button_texts(times)[0])
    seen.add(summary)
    confirmation = await kimbot.tap(user, summary, t("✅ Confirm", locale=locale))
    seen.add(confirmation)
    async with kimbot.app.sessions() as session:
        client_id = await session.scalar(select(Client.id).where(Client.telegram_id == user))
        appointment_id = await session.scalar(select(Appointment.id).where(Appointment.client_id == client_id))
        due = await session.scalar(
            select(OutboxMessage.due_at).where(
                OutboxMessage.idempotency_key.like(f"appointment:{appointment_id}:reminder:24h%")
            )
        )
    assert due is not None and kimbot.app.worker is not None
    before = emulator.last_message_id(user)
    await kimbot.app.worker.drain_once(now=due)  # earlier clients' 2-hour reminders may go out too: not read here
    seen.add(await emulator.wait_for_message(user, after=before))
    return seen


async def test_a_client_of_every_language_books_and_is_reminded_in_their_language(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    county, texts = kimbot.app.county, kimbot.app.county_texts
    walks: dict[str, Walk] = {}
    for i, locale in enumerate(SUPPORTED_LOCALES):  # one after the other: each takes the next free time
        walks[locale] = await walk(kimbot, emulator, texts, FIRST_USER + i, locale)
    async with kimbot.app.sessions() as session:
        booked = (await session.scalars(select(Appointment).where(Appointment.status == "booked"))).all()
    assert len(booked) == len(SUPPORTED_LOCALES) and {a.service_key for a in booked} == {SERVICE_KEY}
    assert all(len(w.lines) >= 8 and w.buttons for w in walks.values()), "every walk saw the list, summary, reminder"
    names, terms, glossary = proper_names(county), german_words(county), glossary_terms()

    def has_words(text: str) -> bool:
        return bool(leftover(text, names, terms, glossary, button=False))

    county_texts = [(entry.text, entry.context) for entry in entries(county)]
    problems: dict[str, list[str]] = {}
    for locale, seen in walks.items():
        found: list[str] = []
        if script_of(locale) != "Latn":
            for line in seen.lines:
                if words := leftover(line, names, terms, glossary, button=False):
                    found.append(f"Latin words {words} in {line!r}")
            for label in seen.buttons:
                if words := leftover(label, names, terms, glossary, button=True):
                    found.append(f"Latin words {words} on the button {label!r}")
        else:
            other = walks["de" if locale == "en" else "en"]
            shown = "\n".join(seen.lines + seen.buttons)
            for line in seen.lines + seen.buttons:
                if line in other.lines + other.buttons and has_words(line):
                    found.append(f"the same as in {other.locale}: {line!r}")
            # Each county text as the other language renders it must not show up here (where the two differ).
            for german, context in county_texts:
                own = texts.text(german, locale, context=context)
                foreign = texts.text(german, other.locale, context=context)
                if foreign != own and foreign in shown and has_words(foreign):
                    found.append(f"county text left in {other.locale}: {foreign!r}")
        if found:
            problems[locale] = sorted(set(found))
    assert not problems, _report(problems, county)


def _report(problems: dict[str, list[str]], county: County) -> str:
    untranslated = {g.locale: len(g.missing) + len(g.fuzzy) for g in gaps(county, catalog_dir(None), problems)}
    lines = [f"{len(problems)} of {len(SUPPORTED_LOCALES)} languages show a client words they may not read:"]
    for locale, found in problems.items():
        lines.append(f"  {locale}: {untranslated.get(locale, 0)} county texts untranslated; {len(found)} lines:")
        lines += [f"      {item}" for item in found[:6]]
        if len(found) > 6:
            lines.append(f"      … and {len(found) - 6} more")
    return "\n".join(lines)

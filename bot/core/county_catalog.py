"""What of the county file goes into its translation catalogs (domain `county`), and which translations are
missing: the extraction behind `scripts/update_catalogs.py` and the report of `kimbot check-config`.

Every text a client reads is extracted with a translator comment (`#.`) saying where it is shown. Proper names
(the county, offices, streets, municipalities, staff) are not: they are shown as written.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.core.county import County
from bot.core.county_text import BUTTON, DOMAIN, GERMAN, fallback_chain

BUTTON_CHARACTERS = 40  # what a one-column inline button shows on a phone before Telegram cuts it off


@dataclass(frozen=True)
class Entry:
    """One text of the county file: its German text (the msgid), msgctxt and translator comments."""

    text: str
    context: str | None = None
    comments: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.context, self.text)

    def label(self) -> str:
        """One line naming the entry in a report: its context and (the start of) its German text."""
        first = self.text.splitlines()[0]
        short = first if len(first) <= 90 and first == self.text else first[:90].rstrip() + " …"
        return f"[{self.context}] {short}" if self.context else short


def _texts(county: County) -> Iterator[Entry]:
    for service in county.services:
        where = f"service {service.key!r}"
        yield Entry(
            service.name,
            None,
            (f"Service name ({where}): in the list of services, the booking summary and the reminders.",),
        )
        yield Entry(
            service.name,
            BUTTON,
            (
                f"Button to choose the service ({where}): at most {BUTTON_CHARACTERS} characters. Put the German term "
                "clients know from their papers first, e.g. 'Ausländerbehörde: …'.",
            ),
        )
        yield Entry(service.description, None, (f"One-line description under the service name ({where}).",))
        yield Entry(
            service.documents,
            None,
            (
                f"Documents to bring ({where}), after 'Please bring:' in the booking summary and the reminders. "
                "A list starting with a small letter; keep German terms from the papers in brackets.",
            ),
        )
    for office in county.offices:
        where = f"office {office.name!r}"
        if office.kind:
            yield Entry(office.kind, None, (f"Office kind: what the {where} is, shown after its German name.",))
        if office.directions:
            yield Entry(
                office.directions,
                None,
                (f"Directions: how to find the {where}, shown under its address. Keep building names as written.",),
            )
    for member in county.staff:
        for day in member.outreach:
            if day.note:
                yield Entry(day.note, None, ("Outreach note: shown to a client booking a home visit on this day.",))
    if county.privacy_contact:
        yield Entry(
            county.privacy_contact,
            None,
            (
                "Privacy notice: how to reach the data protection officer. Translate the role only; keep names, "
                "addresses and e-mail addresses as written.",
            ),
        )
    for template in county.reply_templates:  # saved replies that staff send with /t NAME
        name = template.name
        yield Entry(
            template.text,
            None,
            (f"Saved reply {name!r} that staff send to a client. Keep every {{placeholder}} exactly as it is.",),
        )


def entries(county: County) -> list[Entry]:
    """Every translatable text of the county file once, in file order; comments of repeated texts merged."""
    merged: dict[tuple[str | None, str], Entry] = {}
    for entry in _texts(county):
        if not entry.text.strip():
            continue
        seen = merged.get(entry.key)
        comments = (
            entry.comments
            if seen is None
            else seen.comments + tuple(c for c in entry.comments if c not in seen.comments)
        )
        merged[entry.key] = Entry(entry.text, entry.context, comments)
    return list(merged.values())


def template(county: County) -> Catalog:
    """The `.pot` of a county file."""
    catalog = Catalog(project=f"kimbot county texts: {county.name}", copyright_holder=county.name, domain=DOMAIN)
    for entry in entries(county):
        catalog.add(entry.text, context=entry.context, auto_comments=entry.comments)
    return catalog


def read_catalog(directory: Path, locale: str) -> Catalog | None:
    po = directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return None
    with po.open("rb") as fh:
        return read_po(fh, locale=locale, domain=DOMAIN)


@dataclass
class Gaps:
    """What a language's county catalog lacks. German must repeat the source (its catalog is the identity)."""

    locale: str
    catalog_found: bool
    missing: list[Entry] = field(default_factory=list)
    fuzzy: list[Entry] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.catalog_found and not self.missing and not self.fuzzy


def gaps(county: County, directory: Path, locales: Iterable[str]) -> list[Gaps]:
    """Per language: the county texts without an approved translation (missing or fuzzy)."""
    wanted = entries(county)
    report: list[Gaps] = []
    for locale in locales:
        catalog = read_catalog(directory, locale)
        found = Gaps(locale, catalog is not None)
        for entry in wanted:
            message = catalog.get(entry.text, context=entry.context) if catalog is not None else None
            string = message.string if message is not None and isinstance(message.string, str) else ""
            if message is not None and message.fuzzy and string:
                found.fuzzy.append(entry)
            elif not string.strip() or (locale == GERMAN and string != entry.text):
                found.missing.append(entry)
        report.append(found)
    return report


def describe(report: Iterable[Gaps]) -> list[str]:
    """The report of `kimbot check-config`: every missing or fuzzy county translation, per language."""
    lines: list[str] = []
    for item in report:
        if item.complete:
            continue
        related = " → ".join(fallback_chain(item.locale)[1:])
        shown = f"clients see {related} where translated, else English" if related else "clients see English"
        if not item.catalog_found:  # every text is missing: one line says it
            lines.append(f"  {item.locale}: no county catalog – all {len(item.missing)} texts untranslated ({shown})")
            continue
        lines.append(f"  {item.locale}: {len(item.missing)} missing, {len(item.fuzzy)} fuzzy ({shown})")
        lines += [f"      missing: {entry.label()}" for entry in item.missing]
        lines += [f"      fuzzy:   {entry.label()}" for entry in item.fuzzy]
    return lines


def legacy_translations(path: Path) -> dict[str, dict[str, str]]:
    """Translations written into a county file of the older form (`name = { de = "…", en = "…" }`):
    {locale: {German text: translation}}, for update_catalogs.py to move into the catalogs."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    found: dict[str, dict[str, str]] = {}
    for service in raw.get("services", []):
        for name in ("name", "description", "documents"):
            value = service.get(name)
            if isinstance(value, dict) and isinstance(value.get(GERMAN), str):
                for locale, text in value.items():
                    if locale != GERMAN and isinstance(text, str):
                        found.setdefault(locale, {})[value[GERMAN]] = text
    return found

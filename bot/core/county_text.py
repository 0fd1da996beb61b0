"""The county's own texts in the client's language: service names, descriptions, documents to bring, office kinds
and directions, notes and saved replies, written in German in the county file and translated through a gettext
domain `county` like kimbot's own strings (`messages`).

The msgid is the German text as county staff wrote it; the catalogs are `locales/<lang>/LC_MESSAGES/county.po`
(for the example county, next to kimbot's own) or `locales/` next to a county's own file. Both are extracted and
updated by `scripts/update_catalogs.py` (`--county FILE` for a county's own file) and compiled at start-up.

Which text a client sees (decided here, documented in the README's translation section):
1. the approved translation in their language (fuzzy entries are never compiled, so never shown);
2. else one in a related language they read: Dari ↔ Persian, and Pashto → Dari → Persian (Afghan clients read
   Dari, the country's common written language). No fallback crosses scripts (Sorani ↔ Kurmanji) or a political
   line (Ukrainian → Russian);
3. else English, kimbot's own fallback language;
4. else the German text itself, which staff and the client's papers use.
`translate()` stops after step 2 and says None, so a caller can tell "no approved text for this client" (saved
replies then ask staff before machine translation); `text()` goes on to the end and never fails.
German proper names (offices, streets, municipalities) are never looked up: views show them as written.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from pathlib import Path

from babel.messages.mofile import read_mo

from bot.core.county import Office, example_county_path
from bot.core.i18n import ensure_compiled, isolate, source_catalog_dir

log = logging.getLogger("kimbot.county_text")

DOMAIN = "county"
GERMAN = "de"
ENGLISH = "en"
# msgctxt of a text shown on a button: the same German service name needs a short rendering there.
BUTTON = "button"

# Related languages a client reads, tried in order after their own (step 2 above).
RELATED: dict[str, tuple[str, ...]] = {
    "prs": ("fa",),
    "fa": ("prs",),
    "ps": ("prs", "fa"),
}

Key = tuple[str | None, str]  # (msgctxt, msgid)


def fallback_chain(locale: str) -> tuple[str, ...]:
    """The catalogs `translate()` looks in, in order: the language itself, then the related ones."""
    return (locale, *RELATED.get(locale, ()))


class CountyTexts:
    """Approved translations of the county file's texts, per language (see the module docstring for the order)."""

    def __init__(self, catalogs: Mapping[str, Mapping[Key, str]] | None = None) -> None:
        self._catalogs = {locale: dict(entries) for locale, entries in (catalogs or {}).items()}

    @classmethod
    def load(cls, directory: Path, compiled_into: Path) -> CountyTexts:
        """Compile the `.po` files under `directory` (into `compiled_into` when it is read-only) and load them."""
        return cls(read_compiled(compile_catalogs(directory, compiled_into)))

    @property
    def locales(self) -> frozenset[str]:
        """The languages with a compiled county catalog."""
        return frozenset(self._catalogs)

    def _lookup(self, locale: str, text: str, context: str | None) -> str | None:
        entries = self._catalogs.get(locale, {})
        found = entries.get((context, text)) if context is not None else None
        return found or entries.get((None, text)) or None

    def translate(self, text: str, locale: str, *, context: str | None = None) -> str | None:
        """The approved translation in the client's language or a related one; the text itself for German;
        None when there is none. `context` is the entry's msgctxt (`BUTTON` for a button's short rendering)."""
        if not text or locale == GERMAN:
            return text
        for candidate in fallback_chain(locale):
            if candidate == GERMAN:
                return text
            if (found := self._lookup(candidate, text, context)) is not None:
                return found
        return None

    def text(self, text: str, locale: str, *, context: str | None = None) -> str:
        """What the client sees: `translate()`, else the English translation, else the German text."""
        found = self.translate(text, locale, context=context)
        if found is None and locale != ENGLISH:
            found = self._lookup(ENGLISH, text, context)
        return text if found is None else found

    def office_place(self, office: Office, locale: str) -> str:
        """The office's name and address (German proper names, HTML-escaped), each kept in one piece inside
        right-to-left text, with what kind of office it is in the client's language: "KI Kreis Euskirchen
        (integration centre), Jülicher Ring 32, 53879 Euskirchen"."""
        kind = f" ({html.escape(self.text(office.kind, locale))})" if office.kind else ""
        return f"{isolate(html.escape(office.name), locale)}{kind}, {isolate(html.escape(office.address), locale)}"


def catalog_dir(county_file: Path | None) -> Path:
    """Where a county file's catalogs live: kimbot's `locales/` for the example county, else `locales/` next to
    the county file."""
    if county_file is None or county_file.resolve() == example_county_path().resolve():
        return source_catalog_dir()
    return county_file.resolve().parent / "locales"


def _po_files(source: Path) -> list[Path]:
    return sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po")) if source.is_dir() else []


def compile_catalogs(source: Path, fallback: Path) -> Path:
    """Return a directory with up-to-date `county.mo` files for every `county.po` in `source` (see
    `bot.core.i18n.ensure_compiled`); a county without catalogs yet has none to compile."""
    return ensure_compiled(source, fallback, domain=DOMAIN) if _po_files(source) else source


def read_compiled(directory: Path) -> dict[str, dict[Key, str]]:
    """{locale: {(msgctxt, German text): translation}} from the compiled catalogs under `directory`."""
    catalogs: dict[str, dict[Key, str]] = {}
    if not directory.is_dir():
        log.warning("no county catalogs in %s: county texts are shown in German", directory)
        return catalogs
    for mo in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")):
        with mo.open("rb") as fh:
            catalog = read_mo(fh)
        catalogs[mo.parts[-3]] = {
            (message.context, message.id): message.string
            for message in catalog
            if message.id and isinstance(message.id, str) and isinstance(message.string, str) and message.string
        }
    return catalogs

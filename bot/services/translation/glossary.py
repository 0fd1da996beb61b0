"""The glossary's approved renderings of administrative terms (`locales/glossary.toml`, one `[[term]]` per German
term with `rendering.<lang>`), as the instruction to a language model lists them so that "Duldung" or
"Aufenthaltserlaubnis" come out the same in every message. A missing or unreadable glossary means an instruction
without terms, never a failure."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.services.translation.base import same_language

log = logging.getLogger("kimbot.translator")


@dataclass(frozen=True, slots=True)
class Glossary:
    """German term → {locale: approved rendering}."""

    terms: tuple[tuple[str, dict[str, str]], ...] = ()

    @classmethod
    def load(cls, path: Path | None) -> Glossary:
        if path is None or not path.is_file():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            log.warning("glossary not read: %s", type(exc).__name__)
            return cls()
        terms = []
        for entry in data.get("term", []):
            rendering = entry.get("rendering") if isinstance(entry, dict) else None
            if isinstance(entry.get("de"), str) and isinstance(rendering, dict):
                terms.append((entry["de"], {str(k): str(v) for k, v in rendering.items() if isinstance(v, str)}))
        return cls(tuple(terms))

    def pairs(self, source: str, target: str) -> list[tuple[str, str]]:
        """(term in the source language, its approved rendering in the target language) for every term both
        languages have; the German term itself on the German side."""
        found = []
        for german, rendering in self.terms:
            said = german if same_language(source, "de") else self._in(rendering, source)
            meant = german if same_language(target, "de") else self._in(rendering, target)
            if said and meant and said != meant:
                found.append((said, meant))
        return found

    @staticmethod
    def _in(rendering: dict[str, str], locale: str) -> str | None:
        return rendering.get(locale) or next((v for k, v in rendering.items() if same_language(k, locale)), None)


def default_path() -> Path | None:
    """`glossary.toml` next to kimbot's catalogs (the `kimbot_locales` package), if it is installed there."""
    from bot.core.i18n import source_catalog_dir

    try:
        path = source_catalog_dir() / "glossary.toml"
    except (ModuleNotFoundError, TypeError):
        return None
    return path if path.is_file() else None

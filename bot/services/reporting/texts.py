"""The report's words. The programme report is German by specification (it goes to the county's committees and
to the state's evaluation), so its gettext domain `reporting` has one catalog, German
(locales/de/LC_MESSAGES/reporting.po). The msgids are English like everywhere in kimbot's code.

Every text is written `t("…")` with the `Texts` object the report was built with; the domain's strings are
extracted with `pybabel extract --no-default-keywords -k t -k R_` (docs/reporting.md), never into `messages`.
Names of languages come from CLDR (Babel), in German.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale

from bot.core.i18n import ensure_compiled, source_catalog_dir

REPORT_DOMAIN = "reporting"
REPORT_LOCALE = "de"
# Python files whose `t("…")` calls are the domain's msgids (the catalog test extracts from them).
SOURCES = ("bot/services/reporting/*.py", "bot/jobs/reporting.py", "handlers/staff/report.py")

_GERMAN = Locale.parse(REPORT_LOCALE)


def R_(message: str) -> str:
    """Mark a msgid of the `reporting` domain where it is translated later (`t(name)`)."""
    return message


@dataclass(frozen=True)
class Texts:
    """Translates the report's msgids into German; `t` is what the report's code calls."""

    catalog: gettext.NullTranslations

    def t(self, message: str) -> str:
        return self.catalog.gettext(message)

    def language(self, code: str) -> str:
        """A language's German name ("Arabisch"); the code itself when CLDR does not know it; "–" for none."""
        if not code:
            return "–"
        named = {"prs": self.t("Dari"), "ckb": self.t("Kurdish (Sorani)"), "ku": self.t("Kurdish (Kurmanji)")}
        if code in named:
            return named[code]
        name = _GERMAN.languages.get(code) or _GERMAN.languages.get(code.split("-")[0])
        return name or code


@cache
def load(fallback: Path) -> Texts:
    """The German report texts, compiled like the `messages` domain (next to the .po, else into `fallback`)."""
    path = ensure_compiled(source_catalog_dir(), fallback, domain=REPORT_DOMAIN)
    with (path / REPORT_LOCALE / "LC_MESSAGES" / f"{REPORT_DOMAIN}.mo").open("rb") as fh:
        return Texts(gettext.GNUTranslations(fh))

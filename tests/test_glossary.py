"""The glossary (locales/glossary.toml): every administrative term rendered in every language, and every catalog –
kimbot's own and the county's – using that rendering wherever its source uses the term."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from bot.core.i18n import SUPPORTED_LOCALES
from tests.support import ROOT
from tests.support.scripts import load_script

REQUIRED = {
    "Aufenthaltstitel",
    "Aufenthaltserlaubnis",
    "Niederlassungserlaubnis",
    "Aufenthaltsgestattung",
    "Duldung",
    "Fiktionsbescheinigung",
    "Ausländerbehörde",
    "Jobcenter",
    "Integration Point",
    "Case-Management",
    "Termin",
    "eAT",
    "Reiseausweis",
}


checker = load_script("check_translations")
GLOSSARY = checker.load_glossary()
BUTTONS = checker.buttons_in_code()


def test_every_term_in_every_language() -> None:
    assert {term.de for term in GLOSSARY} >= REQUIRED
    for term in GLOSSARY:
        assert set(SUPPORTED_LOCALES) <= set(term.rendering), (
            f"{term.de}: {set(SUPPORTED_LOCALES) - set(term.rendering)}"
        )
        assert all(text.strip() for text in term.rendering.values()), term.de
        assert isinstance(term.brackets, bool)


def test_each_rendering_passes_its_own_check() -> None:
    """A `match` pattern must accept the approved rendering itself (else the glossary contradicts itself)."""
    for term in GLOSSARY:
        for locale, text in term.rendering.items():
            assert any(p.search(text) for p in term.patterns(locale)), (term.de, locale, text)


def test_the_german_term_is_kept_where_clients_read_it_on_their_papers() -> None:
    bracketed = {term.de for term in GLOSSARY if term.brackets}
    assert {"Duldung", "Aufenthaltsgestattung", "Fiktionsbescheinigung", "Ausländerbehörde"} <= bracketed
    assert not {"Termin", "Jobcenter"} & bracketed


def _catalog_paths(locale: str) -> list[tuple[str, Path]]:
    found = []
    for domain in ("messages", "county"):
        path = ROOT / "locales" / locale / "LC_MESSAGES" / f"{domain}.po"
        if path.exists():
            found.append((domain, path))
    return found


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalogs_use_the_glossary(locale: str) -> None:
    paths = _catalog_paths(locale)
    assert paths, f"no catalog for {locale}"
    problems = []
    for domain, path in paths:
        catalog = checker.read_catalog(path)
        found = checker.check_catalog(catalog, locale, domain, GLOSSARY, BUTTONS)
        problems += [str(p) for p in found if "glossary" in p.text]
    assert not problems, f"{len(problems)} glossary problem(s): " + "; ".join(problems[:8])


def _one(source: str, translation: str, locale: str = "ru", domain: str = "messages") -> list[str]:
    catalog = Catalog(locale=locale)
    catalog.add(source, translation)
    return [p.text for p in checker.check_catalog(catalog, locale, domain, GLOSSARY, set())]


def test_a_wrong_rendering_is_reported() -> None:
    source = "Go to the immigration office (Ausländerbehörde) now."
    assert not _one(source, "Обратитесь в ведомство по делам иностранцев (Ausländerbehörde).")
    assert any("should read" in p for p in _one(source, "Обратитесь в миграционную службу (Ausländerbehörde)."))
    assert any("keep the German term" in p for p in _one(source, "Обратитесь в ведомство по делам иностранцев."))


def test_inflected_forms_are_accepted() -> None:
    assert not _one("Write to your case manager.", "Напишите своему кейс-менеджеру.")
    assert not _one("Write to your case manager.", "Écrivez à votre référent·e.", locale="fr")
    assert any("référent" in p for p in _one("Write to your case manager.", "Écrivez à votre case manager.", "fr"))


def test_county_texts_are_checked_against_their_german_source() -> None:
    source = "Verlängerung der Aufenthaltserlaubnis"
    assert not _one(source, "Extension of the residence permit (Aufenthaltserlaubnis)", locale="en", domain="county")
    problems = _one(source, "Extension of the residence permit", locale="en", domain="county")
    assert any("keep the German term" in p for p in problems)
    assert re.search("residence", "Extension of the residence permit")

"""scripts/check_translations.py: every catalog passes it, and each of its checks catches what it is meant to."""

from __future__ import annotations

import subprocess
import sys

import pytest
from babel.messages.catalog import Catalog

from bot.core.i18n import SUPPORTED_LOCALES
from tests.support import ROOT
from tests.support.scripts import load_script

SCRIPT = ROOT / "scripts" / "check_translations.py"
checker = load_script("check_translations")
GLOSSARY = checker.load_glossary()
BUTTONS = checker.buttons_in_code()


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_catalog_passes_the_quality_checks(locale: str) -> None:
    problems = checker.check_all([locale], glossary=GLOSSARY, buttons=BUTTONS)
    assert not problems, f"{len(problems)} problem(s): " + "; ".join(map(str, problems[:8]))


def test_the_script_exits_non_zero_on_a_problem_and_zero_otherwise() -> None:
    ok = subprocess.run([sys.executable, str(SCRIPT), "--domain", "messages", "--locale", "de"], cwd=ROOT)
    assert ok.returncode == 0


def _check(source: str, translation: str | tuple[str, ...], locale: str = "de", button: bool = False) -> list[str]:
    catalog = Catalog(locale=locale)
    if isinstance(translation, tuple):
        catalog.add((source, source + "s"), translation)
    else:
        catalog.add(source, translation)
    buttons = {source} if button else set()
    return [p.text for p in checker.check_catalog(catalog, locale, "messages", GLOSSARY, buttons)]


def test_placeholders_tags_and_commands_must_match_the_source() -> None:
    assert not _check("<b>Hello {name}</b>, see /menu.", "<b>Hallo {name}</b>, siehe /menu.")
    assert any("placeholders" in p for p in _check("Hello {name}.", "Hallo {nmae}."))
    assert any("HTML" in p for p in _check("<b>Hello</b>", "Hallo"))
    assert any("/commands" in p for p in _check("Use /menu.", "Nutzen Sie /menü."))


def test_a_plural_form_may_spell_out_its_number() -> None:
    forms = ("اليوم", "بعد يوم واحد", "بعد يومين", "بعد {days} أيام", "بعد {days} يومًا", "بعد {days} يوم")
    assert not _check("in {days} day", forms, locale="ar")
    assert any("placeholders" in p for p in _check("in {days} day on {date}", forms, locale="ar"))


def test_english_left_untranslated_is_reported_but_codes_and_names_are_not() -> None:
    assert any("identical" in p for p in _check("Back to the menu", "Back to the menu", locale="tr"))
    assert not _check("kimbot", "kimbot", locale="tr")
    assert not _check("Telegram ID: {id}", "Telegram ID: {id}", locale="tr")
    assert not _check("Pause", "Pause", locale="fr")  # a French word too


def test_button_labels_fit_telegrams_width() -> None:
    long_label = "Meiner Case-Managerin / meinem Case-Manager schreiben"  # the old German main-menu button
    assert any("button label of 53" in p for p in _check("Write to my case manager", long_label, button=True))
    assert not _check("Write to my case manager", "Meinem Case-Management schreiben", button=True)
    assert not _check("Write to my case manager", long_label, button=False)  # not a button: no limit
    # bidirectional controls take no width; a placeholder counts as a typical value
    assert checker.visible_length("\u2066Duldung\u2069 (تعليق الترحيل)") == len("Duldung (تعليق الترحيل)")
    assert checker.visible_length("Change date: {document}") == len("Change date: Aufenthaltsgestattung")


def test_buttons_are_found_in_the_code() -> None:
    assert {"Book an appointment", "Cancel", "Ausländerbehörde: book an appointment", "Yes, book it"} <= BUTTONS
    assert "What would you like to do?" not in BUTTONS

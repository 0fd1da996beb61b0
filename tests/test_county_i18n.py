"""The county file's texts are translated like kimbot's own strings (gettext domain `county`, German msgids):
the fallback order of `CountyTexts`, fuzzy entries never shown, what the extraction takes from the county file
(and what it leaves: proper names), the template kept up to date, the fixed source texts of the example county,
and – failing until translators have filled them – a complete county catalog for every language kimbot speaks."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot.core.county import County
from bot.core.county_catalog import entries, gaps, read_catalog
from bot.core.county_text import BUTTON, DOMAIN, CountyTexts, catalog_dir, fallback_chain
from bot.core.i18n import SUPPORTED_LOCALES
from tests.support import ROOT

NAME = "Aufenthaltstitel (Ausländerbehörde)"
TEXTS = CountyTexts(
    {
        "fa": {(None, NAME): "سند اقامت (Ausländerbehörde)", (BUTTON, NAME): "Ausländerbehörde: سند اقامت"},
        "prs": {(None, "Pass"): "پاسپورت"},
        "en": {(None, NAME): "Residence title (Aufenthaltstitel)", (None, "Pass"): "passport"},
        "uk": {(None, "Pass"): "паспорт"},
    }
)


# ------------------------------------------------------------------ which text a client sees


def test_german_is_the_source_and_needs_no_catalog() -> None:
    assert TEXTS.translate(NAME, "de") == NAME
    assert TEXTS.text(NAME, "de", context=BUTTON) == NAME
    assert TEXTS.translate("", "ar") == "" and TEXTS.text("", "ar") == ""


def test_dari_and_persian_stand_in_for_each_other_and_pashto_reads_both() -> None:
    assert fallback_chain("prs") == ("prs", "fa") and fallback_chain("ps") == ("ps", "prs", "fa")
    assert TEXTS.translate(NAME, "prs") == "سند اقامت (Ausländerbehörde)"  # from Persian
    assert TEXTS.translate("Pass", "fa") == "پاسپورت"  # from Dari
    assert TEXTS.translate("Pass", "ps") == "پاسپورت"
    assert TEXTS.translate(NAME, "ps", context=BUTTON) == "Ausländerbehörde: سند اقامت"


def test_no_fallback_across_scripts_or_to_russian_and_english_only_in_text() -> None:
    assert TEXTS.translate("Pass", "ru") is None  # Ukrainian is there, but it is not Russian
    assert TEXTS.translate("Pass", "ckb") is None
    assert TEXTS.translate(NAME, "ar") is None  # translate() says "no approved text for this client"
    assert TEXTS.text(NAME, "ar") == "Residence title (Aufenthaltstitel)"  # text() goes on to English
    assert TEXTS.text("Pass", "ru") == "passport"
    assert TEXTS.text("Unbekannt", "ar") == "Unbekannt"  # and at last to the German text


def test_a_button_falls_back_to_the_plain_rendering_in_the_same_language_first() -> None:
    assert TEXTS.translate(NAME, "fa", context=BUTTON) == "Ausländerbehörde: سند اقامت"
    assert TEXTS.text(NAME, "en", context=BUTTON) == "Residence title (Aufenthaltstitel)"
    assert TEXTS.translate("Pass", "uk", context=BUTTON) == "паспорт"


def _po(directory: Path, locale: str, messages: list[tuple[str, str, bool]]) -> None:
    catalog = Catalog(locale=locale, domain=DOMAIN)
    for msgid, translation, fuzzy in messages:
        catalog.add(msgid, translation, flags=["fuzzy"] if fuzzy else [])
    path = directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as fh:
        write_po(fh, catalog)


def test_catalogs_are_compiled_at_start_up_and_fuzzy_entries_are_never_shown(tmp_path: Path) -> None:
    source = tmp_path / "locales"
    _po(source, "ar", [("Pass", "جواز السفر", False), ("Foto", "صورة؟", True)])
    _po(source, "en", [("Foto", "photo", False)])
    texts = CountyTexts.load(source, tmp_path / "compiled")
    assert (source / "ar" / "LC_MESSAGES" / f"{DOMAIN}.mo").exists()
    assert texts.locales == {"ar", "en"}
    assert texts.translate("Pass", "ar") == "جواز السفر"
    assert texts.translate("Foto", "ar") is None  # the doubted (fuzzy) Arabic is not shown …
    assert texts.text("Foto", "ar") == "photo"  # … the approved English is
    assert CountyTexts.load(tmp_path / "nowhere", tmp_path / "compiled").text("Pass", "ar") == "Pass"


def test_a_county_keeps_its_catalogs_next_to_its_file(tmp_path: Path) -> None:
    assert catalog_dir(None) == ROOT / "locales"
    assert catalog_dir(ROOT / "bot" / "data" / "county.example.toml") == ROOT / "locales"
    assert catalog_dir(tmp_path / "kreis" / "county.toml") == tmp_path / "kreis" / "locales"


# ------------------------------------------------------------------ what is extracted


def test_everything_a_client_reads_is_extracted_with_a_comment_and_no_proper_name(example_county: County) -> None:
    found = {entry.key: entry for entry in entries(example_county)}
    for service in example_county.services:
        assert (None, service.name) in found and (BUTTON, service.name) in found
        for text in (service.description, service.documents):
            assert not text or (None, text) in found
    for office in example_county.offices:
        for extra in (office.kind, office.directions):
            assert extra is None or (None, extra) in found
    notes = [day.note for member in example_county.staff for day in member.outreach if day.note]
    assert notes and all((None, note) in found for note in notes)
    assert example_county.reply_templates
    assert all((None, template.text) in found for template in example_county.reply_templates)
    assert all(entry.comments for entry in found.values()), "every entry says where it is shown"
    assert any("Documents to bring" in c for e in found.values() for c in e.comments)
    assert any("at most 40 characters" in c for e in found.values() if e.context == BUTTON for c in e.comments)
    names = {example_county.name, *(m.name for m in example_county.municipalities)}
    names |= {o.name for o in example_county.offices} | {o.address for o in example_county.offices}
    names |= {s.display_name for s in example_county.staff}
    assert not names & {text for _, text in found}, "proper names are shown as written, not translated"


def test_the_template_and_the_german_and_english_catalogs_are_up_to_date(example_county: County) -> None:
    with (ROOT / "locales" / f"{DOMAIN}.pot").open("rb") as fh:
        pot = read_po(fh)
    wanted = [(entry.key, " ".join(entry.comments)) for entry in entries(example_county)]
    assert [((m.context, m.id), " ".join(m.auto_comments)) for m in pot if m.id] == wanted, (
        "locales/county.pot is out of date: run python scripts/update_catalogs.py --domain county"
    )
    report = {item.locale: item for item in gaps(example_county, catalog_dir(None), ("de", "en"))}
    assert report["de"].complete, "the German catalog repeats the source (run scripts/update_catalogs.py)"
    assert report["en"].complete, [entry.label() for entry in report["en"].missing + report["en"].fuzzy]


def test_the_example_county_says_what_clients_need_to_recognise(example_county: County) -> None:
    """The source texts the translation review asked to fix (issue #19), in German and in English."""
    english = read_catalog(catalog_dir(None), "en")
    assert english is not None
    service = example_county.service("residence-extension")
    assert service is not None
    assert "Aufenthaltstitel" in service.name and "(Ausländerbehörde)" in service.name
    button = english.get(service.name, context=BUTTON)
    assert button is not None and isinstance(button.string, str)
    assert button.string.startswith("Ausländerbehörde") and "Aufenthaltstitel" in button.string
    assert len(button.string) <= 40
    strings = [m.string for m in english if m.id and isinstance(m.string, str)]
    assert not any("Fictional" in s or "fictional" in s for s in strings)
    assert any("provisional residence certificate (Fiktionsbescheinigung)" in s for s in strings)
    assert not any("embassy" in s for s in strings)
    for item in example_county.services:  # after "Please bring:" a list, not a new sentence
        documents = english.get(item.documents) if item.documents else None
        assert documents is None or str(documents.string)[:1].islower(), item.key


# ------------------------------------------------------------------ every language (fails until translated)


def test_every_language_has_every_county_text(example_county: County) -> None:
    report = gaps(example_county, catalog_dir(None), SUPPORTED_LOCALES)
    missing = [item for item in report if not item.complete]
    lines = [
        f"  {item.locale}: no locales/{item.locale}/LC_MESSAGES/county.po"
        if not item.catalog_found
        else f"  {item.locale}: {len(item.missing)} missing, {len(item.fuzzy)} fuzzy"
        for item in missing
    ]
    assert not missing, (
        f"{len(missing)} of {len(report)} languages lack county translations (translate them from "
        f"locales/county.pot; `kimbot check-config` lists each text):\n" + "\n".join(lines)
    )


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_county_translations_keep_the_placeholders(locale: str) -> None:
    catalog = read_catalog(catalog_dir(None), locale)
    wrong = [
        message.id
        for message in (catalog or [])
        if message.id and message.string and _fields(str(message.id)) != _fields(str(message.string))
    ]
    assert not wrong, f"{locale}: placeholders changed in {wrong}"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}

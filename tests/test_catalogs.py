"""Every catalog is complete, consistent with the source strings, and the template is up to date."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from bot.core.i18n import SUPPORTED_LOCALES, babel_locale
from bot.emulator.markup import html_to_text
from tests.support import ROOT

LOCALES = ROOT / "locales"
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
# A plural form may spell its number out instead of the placeholder (Arabic: "بعد يومين", "in two days").
COUNTERS = {"{count}", "{days}", "{months}", "{hours}", "{weeks}", "{n}"}
COMMAND = re.compile(r"(?<![\w/])/[a-z_]+")
TAG = re.compile(r"</?[a-z-]+")


def _catalog(locale: str) -> Catalog:
    with (LOCALES / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


def _strings(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [cast(str, message.string)]


def test_twenty_or_more_catalogs() -> None:
    present = {p.parent.parent.name for p in LOCALES.glob("*/LC_MESSAGES/messages.po")}
    assert set(SUPPORTED_LOCALES) <= present
    assert len(present) >= 20


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalog_complete_and_consistent(locale: str) -> None:
    catalog = _catalog(locale)
    template = {m.id for m in _template() if m.id}
    problems: list[str] = []
    ids = {m.id for m in catalog if m.id}
    if missing := template - ids:
        problems.append(f"{len(missing)} template strings missing (run scripts/update_catalogs.py)")
    expected_plural = get_plural(str(babel_locale(locale)))  # Dari: CLDR's fa_AF
    if catalog.num_plurals != expected_plural.num_plurals:
        problems.append(f"Plural-Forms has {catalog.num_plurals} forms, CLDR says {expected_plural.num_plurals}")
    for message in catalog:
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        label = source[:50]
        if message.fuzzy:
            problems.append(f"fuzzy: {label!r}")
        strings = _strings(message)
        if not all(s and s.strip() for s in strings):
            problems.append(f"untranslated: {label!r}")
            continue
        sources = [message.id] if isinstance(message.id, str) else list(message.id)
        expected = {p for s in sources for p in PLACEHOLDER.findall(s)}
        for text in strings:
            found = set(PLACEHOLDER.findall(text))
            spelled_out = len(sources) > 1 and found <= expected and expected - found <= COUNTERS
            if found != expected and not spelled_out:
                problems.append(f"placeholders differ: {label!r}")
            if sorted(TAG.findall(text)) != sorted(TAG.findall(source)):
                problems.append(f"HTML tags differ: {label!r}")
            if sorted(COMMAND.findall(text)) != sorted(COMMAND.findall(source)):
                problems.append(f"/commands differ (keep them in Latin letters): {label!r}")
            try:
                html_to_text(text)
            except ValueError as error:
                problems.append(f"invalid Telegram HTML ({error}): {label!r}")
    assert not problems, f"{locale}: {len(problems)} problem(s): " + "; ".join(problems[:12])


def _template() -> Catalog:
    with (LOCALES / "messages.pot").open("rb") as fh:
        return read_po(fh)


def test_template_has_every_string_in_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "__",
            "-k",
            "N_",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with fresh.open("rb") as fh:
        in_code = {m.id for m in read_po(fh) if m.id}
    in_template = {m.id for m in _template() if m.id}
    missing = in_code - in_template
    assert not missing, f"strings missing from locales/messages.pot: {sorted(map(str, missing))[:5]}"

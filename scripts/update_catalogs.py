"""Translation workflow: extract strings into locales/messages.pot, merge them into every catalog,
and keep the English catalog identical to the source strings (English is the source language).

    python scripts/update_catalogs.py

Then translate the empty (or fuzzy) entries in locales/<lang>/LC_MESSAGES/messages.po; tests fail until
every catalog is complete. Compiled .mo files are built by kimbot at start-up.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
EXTRACT = [
    "extract",
    "-F",
    "babel.cfg",
    "-k",
    "_",
    "-k",
    "__",
    "-k",
    "N_",
    "--no-location",
    "--sort-output",
    "--project=kimbot",
    "--copyright-holder=kimbot contributors",
    "-o",
    str(POT),
    ".",
]


def pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], cwd=ROOT, check=True)


def fill_english() -> None:
    po = LOCALES / "en" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if message.id:
            message.string = message.id
            message.flags.discard("fuzzy")
    with po.open("wb") as fh:
        write_po(fh, catalog, no_location=True, sort_output=True, width=100)


def main() -> None:
    pybabel(*EXTRACT)
    pybabel(
        "update",
        "-i",
        str(POT),
        "-d",
        str(LOCALES),
        "-D",
        "messages",
        "--no-fuzzy-matching",
        "--ignore-obsolete",
        "-w",
        "100",
    )
    fill_english()


if __name__ == "__main__":
    main()

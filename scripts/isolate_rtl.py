"""Keep Latin fragments in one piece inside right-to-left translations (Arabic, Persian, Dari, Pashto, Sorani).

    python scripts/isolate_rtl.py            # every right-to-left catalog in locales/ (both domains)
    python scripts/isolate_rtl.py prs ckb    # only these

In a right-to-left sentence a /command reads "menu/", "Art. 6(1)(e)" scrambles, and a line that begins with a
Latin word ("kimbot …") or with a placeholder that becomes a Latin name is laid out left to right. This wraps
every /command with its Latin arguments and every run of Latin script in a left-to-right isolate (LRI … PDI,
UAX #9) and starts such lines with a right-to-left mark. It is idempotent: existing marks are replaced. Run it
after translating; tests/test_rtl.py checks the result as a reader sees it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
LRI, PDI, RLM = "\u2066", "\u2069", "\u200f"
CONTROLS = re.compile("[\u2066-\u2069\u200e\u200f]")
# A /command with its Latin arguments: codes, dates, placeholders, [reason], more commands.
COMMAND = re.compile(r"(?<![<\w/])/[a-z_]+(?: (?:/[a-z_]+|\{[a-z_]+\}|\[?[A-Za-z0-9][A-Za-z0-9:.\-]*\]?))*")
# A run of Latin script: from a Latin letter to a Latin letter, digit or ")", with digits, spaces and . - ( ) /.
LATIN = re.compile(r"[A-Za-zÀ-ÿ](?:[A-Za-zÀ-ÿ0-9 .\-()/]*[A-Za-zÀ-ÿ0-9)])?")
# Right-to-left letters (Arabic script); a line should begin with one, or get a right-to-left mark.
RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
# Tags, placeholders, bullets and emoji before the first word do not decide the direction of a line.
LEADING = re.compile(r"^(?:<[^>]+>|[\s•«»“”\"'(\[\-–—#0-9.:!?]|[\U0001F000-\U0001FFFF\u2600-\u27BF\uFE0F])*")

_FORMAT_LOCALES = {"prs": "fa_AF"}


def is_rtl_locale(code: str) -> bool:
    try:
        return Locale.parse(_FORMAT_LOCALES.get(code, code)).character_order == "right-to-left"
    except (UnknownLocaleError, ValueError):
        return False


def _balanced(run: str) -> str:
    while run.endswith(")") and run.count(")") > run.count("("):
        run = run[:-1]
    return run.rstrip(" .")


def _spans(text: str) -> list[tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in COMMAND.finditer(text)]
    for m in LATIN.finditer(text):
        if any(a <= m.start() < b for a, b in spans):
            continue
        before = text[: m.start()]
        if before.count("{") > before.count("}") or before.count("<") > before.count(">"):
            continue  # inside a placeholder or an HTML tag
        run = _balanced(m.group(0))
        if run:
            spans.append((m.start(), m.start() + len(run)))
    return sorted(spans)


def _line(text: str) -> str:
    out, pos = [], 0
    for a, b in _spans(text):
        out += [text[pos:a], LRI, text[a:b], PDI]
        pos = b
    out.append(text[pos:])
    line = "".join(out)
    rest = text[LEADING.match(text).end() :]  # type: ignore[union-attr]
    if rest and not RTL_LETTER.match(rest) and RTL_LETTER.search(text):
        line = RLM + line
    return line


def isolate_text(text: str) -> str:
    """One translation, line by line."""
    return "\n".join(_line(line) for line in CONTROLS.sub("", text).split("\n")) if text else text


def isolate_catalog(path: Path) -> int:
    """Rewrite one catalog in place; returns how many entries changed."""
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=path.parts[-3])
    changed = 0
    for message in catalog:
        if not message.id or not message.string:
            continue
        if isinstance(message.string, str):
            new: str | tuple[str, ...] = isolate_text(message.string)
        else:
            new = tuple(isolate_text(s) for s in message.string)
        if new != message.string:
            message.string = new
            changed += 1
    with path.open("wb") as fh:
        write_po(fh, catalog, no_location=True, sort_output=True, width=100, ignore_obsolete=True)
    return changed


def main(argv: list[str]) -> int:
    codes = argv or sorted(p.name for p in LOCALES.iterdir() if p.is_dir() and is_rtl_locale(p.name))
    for code in codes:
        for path in sorted((LOCALES / code / "LC_MESSAGES").glob("*.po")):
            print(f"{path.relative_to(ROOT)}: {isolate_catalog(path)} entries isolated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

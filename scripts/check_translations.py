"""Translation quality check for every catalog: kimbot's own strings (`messages`, English source) and the county's
content (`county`, German source), run by CI (.ci/run) and by tests/test_translations_quality.py.

    python scripts/check_translations.py [--locale ar] [--domain messages]

For each translated entry it checks that
- placeholders ({name}), HTML tags and /commands are those of the source (a plural form may leave out its number:
  Arabic says "بعد يومين", "in two days", without {days});
- it is not the English text left as it was, where it should differ (codes, names and commands may stay);
- a button label fits Telegram's visible width: at most 40 characters, unless the glossary's German term alone is
  longer (bidirectional controls do not count; a placeholder counts as a typical value);
- it uses the glossary's rendering (locales/glossary.toml) wherever the source uses the term, and keeps the German
  term where the source has it; on buttons the German term alone is enough (it comes first there).
Buttons are the labels passed to `.button(text=…)` or `Button(…)` in the code, the entries with msgctxt "button",
and those whose translator comment says "button".

Exit status 1 and one line per problem. Completeness (missing or fuzzy entries) is tests/test_catalogs.py's and
`kimbot check-config`'s job; fuzzy entries are skipped here."""

from __future__ import annotations

import argparse
import ast
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
GLOSSARY = LOCALES / "glossary.toml"
CODE_DIRS = ("bot", "handlers")
SOURCE_LANGUAGE = {"messages": "en", "county": "de"}
MAX_BUTTON = 40

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
TAG = re.compile(r"</?[a-z-]+")
COMMAND = re.compile(r"(?<![\w/])/[a-z_]+")
# Bidirectional controls (LRM, RLM, LRE…RLO, LRI…PDI): invisible, they take no width.
BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What a placeholder typically becomes, for the width of a button.
SAMPLES = {"document": "Aufenthaltsgestattung", "count": "1234", "name": "Anna Schmidt", "language": "Українська"}
DEFAULT_SAMPLE = "x" * 8
# Numbers a plural form may spell out instead of its placeholder.
COUNTERS = {"{count}", "{days}", "{months}", "{hours}", "{weeks}", "{n}"}
# Translations that are rightly the same as the English source (the word exists in that language).
SAME_AS_ENGLISH = {("fr", "Pause"), ("fr", "Documents"), ("fr", "Notes"), ("fr", "Date"), ("es", "Final")}
# Words that stay as they are in every language: names, codes, abbreviations.
KEPT = re.compile(
    r"kimbot|Telegram|Jobcenter|Integration Point|K-[A-Z0-9]+|eAT|GDPR|LDI NRW|NRW|AufenthG|AsylG|ID|OK|"
    r"https?://\S+|[A-Z]{2,}[a-z]*|\d[\d.:\-–/]*"
)


@dataclass(frozen=True)
class Term:
    de: str
    en: str
    brackets: bool
    rendering: dict[str, str]
    match: dict[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)

    def patterns(self, locale: str) -> tuple[re.Pattern[str], ...]:
        if locale in self.match:
            return self.match[locale]
        text = self.rendering.get(locale)
        return (re.compile(re.escape(text), re.IGNORECASE),) if text else ()

    def used_in(self, source: str, domain: str) -> bool:
        """Does the source string use the term (in the source language of its domain)?"""
        if domain == "county":
            return self.de in source
        return any(p.search(source) for p in self.patterns("en"))


@dataclass(frozen=True)
class Problem:
    locale: str
    domain: str
    msgid: str
    text: str

    def __str__(self) -> str:
        return f"{self.domain}/{self.locale}: {self.text}: {self.msgid[:70]!r}"


def load_glossary(path: Path = GLOSSARY) -> list[Term]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    terms = []
    for row in data["term"]:
        match = {
            lang: tuple(re.compile(p, re.IGNORECASE) for p in patterns)
            for lang, patterns in row.get("match", {}).items()
        }
        terms.append(Term(row["de"], row["en"], bool(row["brackets"]), dict(row["rendering"]), match))
    return terms


# ------------------------------------------------------------------ buttons


def _literal(node: ast.AST) -> str | None:
    """The msgid inside `_("…")`, `pgettext("ctx", "…")` or `_("…").format(…)`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _literal(node.func.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "__", "pgettext"):
        args = node.args[1:] if node.func.id == "pgettext" else node.args
        if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
            return args[0].value
    return None


def buttons_in_code(root: Path = ROOT, dirs: Sequence[str] = CODE_DIRS) -> set[str]:
    """Msgids used as button labels: `kb.button(text=_("…"))` and `Button(_("…"), …)`."""
    found: set[str] = set()
    for directory in dirs:
        for path in sorted((root / directory).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                label: ast.AST | None = None
                if isinstance(func, ast.Attribute) and func.attr == "button":
                    label = next((k.value for k in node.keywords if k.arg == "text"), None)
                elif isinstance(func, ast.Name) and func.id == "Button" and node.args:
                    label = node.args[0]
                if label is not None and (msgid := _literal(label)):
                    found.add(msgid)
    return found


def is_button(message: Message, in_code: set[str]) -> bool:
    msgid = _source(message)
    return (
        msgid in in_code
        or message.context == "button"
        or any("button" in comment.lower() for comment in message.auto_comments)
    )


# ------------------------------------------------------------------ one catalog


def _source(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _sources(message: Message) -> list[str]:
    return [message.id] if isinstance(message.id, str) else list(message.id)


def _strings(message: Message) -> list[str]:
    if isinstance(message.string, str):
        return [message.string]
    return [s for s in message.string if s is not None]


def visible_length(text: str) -> int:
    shown = BIDI.sub("", re.sub(r"<[^>]+>", "", text))
    return len(PLACEHOLDER.sub(lambda m: SAMPLES.get(m.group(0)[1:-1], DEFAULT_SAMPLE), shown))


def _has_words(source: str) -> bool:
    """Is there anything to translate, once placeholders, tags, commands, names and codes are taken out?"""
    rest = KEPT.sub("", COMMAND.sub("", TAG.sub("", PLACEHOLDER.sub("", source))))
    return bool(re.search(r"[^\W\d_]{2,}", rest))


def _form_problems(source: str, sources: list[str], text: str, plural: bool) -> Iterator[str]:
    expected = {p for s in sources for p in PLACEHOLDER.findall(s)}
    found = set(PLACEHOLDER.findall(text))
    if found != expected and not (plural and found <= expected and expected - found <= COUNTERS):
        yield f"placeholders {sorted(found)} instead of {sorted(expected)}"
    if sorted(TAG.findall(text)) != sorted(TAG.findall(source)):
        yield "HTML tags differ from the source"
    if sorted(COMMAND.findall(text)) != sorted(COMMAND.findall(source)):
        yield "/commands differ from the source (keep them in Latin letters)"


def _glossary_problems(
    source: str, text: str, locale: str, domain: str, button: bool, glossary: Iterable[Term]
) -> Iterator[str]:
    for term in glossary:
        german_in_source = term.de in source
        if term.used_in(source, domain) and not (button and term.de in text):
            patterns = term.patterns(locale)
            if patterns and not any(p.search(text) for p in patterns):
                yield f"glossary: {term.de!r} should read {term.rendering.get(locale)!r}"
        if german_in_source and (domain == "messages" or term.brackets) and term.de not in text:
            yield f"glossary: keep the German term {term.de!r}"


def check_catalog(
    catalog: Catalog,
    locale: str,
    domain: str,
    glossary: Sequence[Term],
    buttons: set[str],
) -> list[Problem]:
    problems: list[Problem] = []
    source_language = SOURCE_LANGUAGE[domain]
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        source = _source(message)
        sources = _sources(message)
        plural = len(sources) > 1
        texts = [t for t in _strings(message) if t and t.strip()]
        if locale == source_language:
            texts = texts or sources
        button = is_button(message, buttons)

        def report(text: str, _source: str = source) -> None:
            problems.append(Problem(locale, domain, _source, text))

        for text in texts:
            for problem in _form_problems(source, sources, text, plural):
                report(problem)
            if button:
                allowed = max([MAX_BUTTON] + [len(t.de) for t in glossary if t.de in text])
                if visible_length(text) > allowed:
                    report(f"button label of {visible_length(text)} characters (at most {allowed})")
            if locale != source_language:
                for problem in _glossary_problems(source, text, locale, domain, button, glossary):
                    report(problem)
        if (
            domain == "messages"
            and locale not in ("en", "de")
            and texts
            and texts[0].strip() == source.strip()
            and _has_words(source)
            and (locale, source) not in SAME_AS_ENGLISH
        ):
            report("identical to the English source")
    return problems


# ------------------------------------------------------------------ every catalog


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def template_comments(domain: str, locales_dir: Path = LOCALES) -> dict[str, list[str]]:
    """Translator comments from the template (catalogs may not have them yet), by msgid."""
    pot = locales_dir / f"{domain}.pot"
    if not pot.exists():
        return {}
    return {_source(m): list(m.auto_comments) for m in read_catalog(pot) if m.id}


def check_all(
    locales: Iterable[str] | None = None,
    domains: Iterable[str] = ("messages", "county"),
    locales_dir: Path = LOCALES,
    glossary: Sequence[Term] | None = None,
    buttons: set[str] | None = None,
) -> list[Problem]:
    glossary = load_glossary() if glossary is None else glossary
    buttons = buttons_in_code() if buttons is None else buttons
    wanted = set(locales) if locales is not None else None
    problems: list[Problem] = []
    for domain in domains:
        comments = template_comments(domain, locales_dir)
        for path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{domain}.po")):
            locale = path.parts[-3]
            if wanted is not None and locale not in wanted:
                continue
            catalog = read_catalog(path)
            for message in catalog:
                if message.id and not message.auto_comments:
                    message.auto_comments = comments.get(_source(message), [])
            problems += check_catalog(catalog, locale, domain, glossary, buttons)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locale", action="append", help="only this language (repeatable)")
    parser.add_argument("--domain", action="append", choices=sorted(SOURCE_LANGUAGE), help="only this domain")
    args = parser.parse_args(argv)
    problems = check_all(args.locale, args.domain or ("messages", "county"))
    for problem in problems:
        print(problem)
    print(f"{len(problems)} translation problem(s)" if problems else "All catalogs pass the translation checks.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

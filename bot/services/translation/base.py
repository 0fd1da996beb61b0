"""What every translation backend shares: the error callers catch, the interface, and the language names and codes
the servers understand (kimbot's locales are not always the servers' codes: Dari is `prs` here, `fa` there)."""

from __future__ import annotations

from typing import Protocol

from babel import Locale


class TranslationError(Exception):
    """The translator is off, down, slow or refused the request; the message goes through untranslated."""


class Translator(Protocol):
    async def translate(self, text: str, source: str, target: str) -> str: ...


# kimbot's locales → the ISO 639-1 codes LibreTranslate (Argos models) uses; Dari is written Persian there.
_SERVER_CODES = {"prs": "fa"}

# Names an instruction to a language model gives, where CLDR's English name is ambiguous or missing.
_LANGUAGE_NAMES = {
    "prs": "Dari (Afghan Persian)",
    "fa": "Persian (Farsi)",
    "ku": "Northern Kurdish (Kurmanji, Latin script)",
    "ckb": "Central Kurdish (Sorani, Arabic script)",
    "ps": "Pashto",
    "ti": "Tigrinya (Ge'ez script)",
}


def server_code(locale: str) -> str:
    """The code a translation server knows a kimbot locale by."""
    return _SERVER_CODES.get(locale, locale)


def same_language(a: str | None, b: str | None) -> bool:
    """Whether two locales are one language for translation (Dari and Persian are)."""
    return a is not None and b is not None and server_code(a) == server_code(b)


def language_name(locale: str) -> str:
    """The language's English name, as an instruction to a language model says it."""
    if locale in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[locale]
    return str(Locale("en").languages.get(locale) or locale)

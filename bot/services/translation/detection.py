"""Which language a client's message is in, when it may not be the one they chose: lingua-language-detector for
the 15 client languages it has models for (low-accuracy mode: trigram models only, about 230 MB resident, shipped
inside the wheel – nothing is downloaded), and script and letter rules for the ones it lacks: Tigrinya (Ge'ez
script), Pashto and Sorani (letters Arabic and Persian do not use), Kurmanji (ê î û and its small words, without
Turkish ı ğ ö ü). Dari is written Persian: the two are one language here.

A detection is a hint for staff and for the translator's source language, so it errs on the side of the client's
setting: short texts, unsure scores and a script the setting shares with a language only rules can tell apart
keep the setting. Accuracy on the client languages: tests/test_translation_routing.py (figures in the README).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from bot.services.translation.base import same_language

if TYPE_CHECKING:
    from lingua import LanguageDetector as Lingua

MIN_LETTERS = 12  # shorter texts ("ok", "danke", a name) say nothing reliable about their language
MIN_CONFIDENCE = 0.5  # lingua's relative confidence of its first choice
KEEP_SETTING = 0.15  # the setting's own confidence above which a message counts as written in it

# Client languages lingua knows, by kimbot locale.
LINGUA_LOCALES = ("ar", "fa", "uk", "ru", "tr", "so", "fr", "de", "en", "es", "pl", "ro", "bg", "sq", "ka")
# Told apart by the rules below only; lingua would call them Persian, Arabic or Turkish.
RULE_LOCALES = {"ps": "Arab", "ckb": "Arab", "ku": "Latn", "ti": "Ethi"}

_PASHTO_LETTERS = set("ټډړږښګڼۍېځڅ")
_PASHTO_WORDS = {"زه", "زما", "ستاسو", "دی", "ته", "د", "چې", "څخه", "کې", "وکړئ", "نشم", "کړ", "مې"}
_SORANI_LETTERS = set("ڕڵۆێە")
_KURMANJI_LETTERS = set("êîû")
_TURKISH_LETTERS = set("ıığöü")
_KURMANJI_WORDS = {"ez", "xwe", "ji", "û", "min", "dikim", "nakim", "dikarim", "nikarim", "heye", "spas", "silav"}
_KURMANJI_ALPHABET = set("abcçdeêfghiîjklmnopqrsştuûvwxyz")
_KURMANJI_WORDS |= {"kengî", "çawa", "jî", "îro", "gelek", "hevdîtin", "nexweş", "werim", "bikim", "ê"}


@dataclass(frozen=True, slots=True)
class Detection:
    language: str  # a kimbot locale
    confidence: float
    by_rule: bool = False


def script_of(text: str) -> str | None:
    """The script most of the text's letters are in: Arab, Latn, Cyrl, Ethi, Geor (or None)."""
    counts: dict[str, int] = {}
    for char in text:
        if not char.isalpha():
            continue
        name = unicodedata.name(char, "")
        script = next((s for p, s in _SCRIPT_PREFIXES if name.startswith(p)), "other")
        counts[script] = counts.get(script, 0) + 1
    return max(counts, key=lambda s: counts[s]) if counts else None


_SCRIPT_PREFIXES = (
    ("ARABIC", "Arab"),
    ("LATIN", "Latn"),
    ("CYRILLIC", "Cyrl"),
    ("ETHIOPIC", "Ethi"),
    ("GEORGIAN", "Geor"),
)


def _words(text: str) -> list[str]:
    return "".join(c if c.isalpha() or c == "'" else " " for c in text.lower()).split()


def by_rule(text: str, script: str | None) -> Detection | None:
    """Tigrinya, Pashto, Sorani and Kurmanji, from letters and words only they use."""
    if script == "Ethi":
        return Detection("ti", 1.0, True)
    letters, words = set(text.lower()), _words(text)
    if script == "Arab":
        sorani = len(letters & _SORANI_LETTERS)
        pashto = len(letters & _PASHTO_LETTERS) + sum(w in _PASHTO_WORDS for w in words)
        if sorani and sorani >= pashto:
            return Detection("ckb", 0.9, True)
        if pashto >= 2 or (pashto and letters & _PASHTO_LETTERS):
            return Detection("ps", 0.9, True)
    if script == "Latn" and not letters & _TURKISH_LETTERS:
        hits = sum(w in _KURMANJI_WORDS for w in words)
        if hits >= 2 or (hits and letters & _KURMANJI_LETTERS):
            return Detection("ku", 0.8, True)
    return None


def could_be(locale: str, text: str) -> bool:
    """Whether a text in the script of Pashto, Sorani or Kurmanji may be in that language: Sorani writes ە in
    nearly every sentence, Pashto shows its letters or small words, Kurmanji has no letters beyond its alphabet."""
    letters, words = {c for c in text.lower() if c.isalpha()}, _words(text)
    if locale == "ckb":
        return bool(letters & _SORANI_LETTERS)
    if locale == "ps":
        return bool(letters & _PASHTO_LETTERS) or any(w in _PASHTO_WORDS for w in words)
    if locale == "ku":
        return letters <= _KURMANJI_ALPHABET
    return True


@cache
def _lingua() -> Lingua:
    """Built once per process (the models are shared by every dispatcher); slow the first time (~0.3 s)."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in LINGUA_LOCALES]
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


class LanguageDetector:
    """Detects the language of a client's message among kimbot's client languages."""

    def load(self) -> None:
        """Load lingua's models now (at start-up, in a thread) rather than on the first message."""
        _lingua().compute_language_confidence_values("Guten Tag, ich brauche einen Termin")

    def detect(self, text: str) -> Detection | None:
        """The message's language, or None when the text is too short or the detector unsure."""
        if sum(c.isalpha() for c in text) < MIN_LETTERS:
            return None
        script = script_of(text)
        ruled = by_rule(text, script)
        if ruled is not None:
            return ruled
        if script == "Ethi":
            return None
        values = _lingua().compute_language_confidence_values(text)
        if not values or values[0].value < MIN_CONFIDENCE:
            return None
        return Detection(values[0].language.iso_code_639_1.name.lower(), float(values[0].value))

    def other_language(self, text: str, setting: str | None) -> Detection | None:
        """The language the message is in when it is, surely, not the client's setting; else None."""
        found = self.detect(text)
        if found is None or setting is None or same_language(found.language, setting):
            return None
        if not found.by_rule and RULE_LOCALES.get(setting) == script_of(text) and could_be(setting, text):
            return None  # Kurmanji words without ê î û look Turkish or French to lingua: keep the setting
        if not found.by_rule and setting in LINGUA_LOCALES and self._setting_confidence(text, setting) > KEEP_SETTING:
            return None
        return found

    @staticmethod
    def _setting_confidence(text: str, setting: str) -> float:
        from lingua import IsoCode639_1, Language

        code = "fa" if same_language(setting, "fa") else setting
        language = Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
        return float(_lingua().compute_language_confidence(text, language))

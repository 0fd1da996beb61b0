"""Machine translation for the handoff and broadcasts, as the rest of kimbot imports it: the interface, the error
callers catch, and `build_translator`, which puts together what is configured – LibreTranslate (TRANSLATE_URL) for
the languages its server lists, an OpenAI-compatible chat-completions model (TRANSLATE_LLM_URL and
TRANSLATE_LLM_MODEL) for the rest, the language detector – behind one router (`bot.services.translation`).
Off (None) when neither server is set.

A translation is a courtesy, never a gate: callers catch `TranslationError` and send the original with a notice.
"""

from __future__ import annotations

from bot.services.translation.base import TranslationError, Translator
from bot.services.translation.detection import LanguageDetector
from bot.services.translation.glossary import Glossary, default_path
from bot.services.translation.libretranslate import DEFAULT_TIMEOUT, LibreTranslate
from bot.services.translation.llm import ChatTranslator
from bot.services.translation.routing import RoutedTranslator, Translated

__all__ = [
    "DEFAULT_TIMEOUT",
    "ChatTranslator",
    "LibreTranslate",
    "RoutedTranslator",
    "Translated",
    "TranslationError",
    "Translator",
    "build_translator",
]


def build_translator(
    url: str | None,
    timeout: float | None = None,
    *,
    llm_url: str | None = None,
    llm_model: str | None = None,
    llm_api_key: str | None = None,
    detect: bool = True,
) -> RoutedTranslator | None:
    """The configured translator, or None when machine translation is off. Nothing is asked of the servers here:
    `RoutedTranslator.start` does that at start-up."""
    libre = LibreTranslate(url, timeout=timeout or DEFAULT_TIMEOUT) if url else None
    llm = None
    if llm_url and llm_model:
        llm = ChatTranslator(llm_url, llm_model, api_key=llm_api_key, glossary=Glossary.load(default_path()))
    if libre is None and llm is None:
        return None
    return RoutedTranslator(libre, llm, LanguageDetector() if detect else None)

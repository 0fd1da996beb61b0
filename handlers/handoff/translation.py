"""Machine translation as the handoff uses it: a courtesy, never a gate. No translation when it is off, not needed
(same language) or there is nothing to translate; a failure is reported so the original goes with a notice.
A client's message is translated from the language it is detected in when that is not their setting
(`from_client`), and staff are told so."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.i18n import OFFICE_LOCALE
from bot.services.translator import RoutedTranslator, TranslationError, Translator


async def translate(
    translator: Translator | None, text: str | None, source: str | None, target: str
) -> tuple[str | None, bool]:
    """(translation, failed)."""
    if translator is None or not text or not text.strip() or (source or target) == target:
        return None, False
    try:
        return await translator.translate(text, source or "auto", target), False
    except TranslationError:
        return None, True


@dataclass(frozen=True, slots=True)
class FromClient:
    """A client's words for staff: the translation (None: none needed or possible), whether it failed, the
    language it was translated from, and whether that language was detected rather than the client's setting."""

    translation: str | None
    failed: bool
    source: str | None
    detected: bool = False


async def from_client(translator: Translator | None, text: str | None, setting: str | None) -> FromClient:
    """A client's message into the office language, from the language it is actually written in."""
    if not isinstance(translator, RoutedTranslator) or not text or not text.strip():
        translation, failed = await translate(translator, text, setting, OFFICE_LOCALE)
        return FromClient(translation, failed, setting)
    try:
        result = await translator.translate_from(text, setting, OFFICE_LOCALE)
    except TranslationError:
        return FromClient(None, True, setting)
    translation = result.text if result.backend != "none" else None
    return FromClient(translation, False, result.source, result.detected)

"""Machine translation as the handoff uses it: a courtesy, never a gate. No translation when it is off, not needed
(same language) or there is nothing to translate; a failure is reported so the original goes with a notice."""

from __future__ import annotations

from bot.services.translator import TranslationError, Translator


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

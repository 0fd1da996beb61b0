"""Machine translation for the handoff and broadcasts: an interface and a LibreTranslate backend (off unless
TRANSLATE_URL is set).

A translation is a courtesy, never a gate: callers catch `TranslationError` and send the original with a notice.
"""

from __future__ import annotations

import logging
from typing import Protocol

import aiohttp

log = logging.getLogger("kimbot.translator")

DEFAULT_TIMEOUT = 5.0

# kimbot's locales → LibreTranslate's language codes (Argos models); unknown ones are sent as they are.
_LIBRETRANSLATE_CODES = {"ckb": "ckb", "ku": "ku", "fa": "fa", "ps": "ps", "ti": "ti", "so": "so"}


class TranslationError(Exception):
    """The translator is off, down, slow or refused the request; the message goes through untranslated."""


class Translator(Protocol):
    async def translate(self, text: str, source: str, target: str) -> str: ...


class LibreTranslate:
    """POST {url}/translate with q, source, target, format → {"translatedText": ...} (LibreTranslate's API)."""

    def __init__(self, url: str, *, api_key: str | None = None, timeout: float = DEFAULT_TIMEOUT):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    async def translate(self, text: str, source: str, target: str) -> str:
        if source == target or not text.strip():
            return text
        payload = {
            "q": text,
            "source": _LIBRETRANSLATE_CODES.get(source, source),
            "target": _LIBRETRANSLATE_CODES.get(target, target),
            "format": "text",
        }
        if self.api_key:
            payload["api_key"] = self.api_key
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as http,
                http.post(f"{self.url}/translate", json=payload) as response,
            ):
                if response.status != 200:
                    raise TranslationError(f"LibreTranslate answered {response.status}")
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("translation failed: %s", type(exc).__name__)
            raise TranslationError(type(exc).__name__) from exc
        translated = body.get("translatedText") if isinstance(body, dict) else None
        if not isinstance(translated, str) or not translated.strip():
            raise TranslationError("LibreTranslate returned no translation")
        return translated


def build_translator(url: str | None, timeout: float | None = None) -> Translator | None:
    """The configured translator, or None when machine translation is off."""
    return LibreTranslate(url, timeout=timeout or DEFAULT_TIMEOUT) if url else None

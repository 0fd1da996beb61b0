"""The LibreTranslate backend: `POST /translate` (q, source, target, format → translatedText) and `GET /languages`,
which says which languages the server's installed Argos models cover (and, per source, which targets)."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from bot.services.translation.base import TranslationError, server_code

log = logging.getLogger("kimbot.translator")

DEFAULT_TIMEOUT = 5.0


class LibreTranslate:
    """One LibreTranslate server."""

    name = "libretranslate"

    def __init__(self, url: str, *, api_key: str | None = None, timeout: float = DEFAULT_TIMEOUT):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    async def translate(self, text: str, source: str, target: str) -> str:
        if source == target or not text.strip():
            return text
        payload = {"q": text, "source": server_code(source), "target": server_code(target), "format": "text"}
        if self.api_key:
            payload["api_key"] = self.api_key
        body = await self._request("POST", "/translate", json=payload)
        translated = body.get("translatedText") if isinstance(body, dict) else None
        if not isinstance(translated, str) or not translated.strip():
            raise TranslationError("LibreTranslate returned no translation")
        return translated

    async def languages(self) -> dict[str, frozenset[str]]:
        """Each source language the server lists → the targets it lists for it (its own codes)."""
        body = await self._request("GET", "/languages")
        if not isinstance(body, list):
            raise TranslationError("LibreTranslate listed no languages")
        listed: dict[str, frozenset[str]] = {}
        codes = frozenset(str(e["code"]) for e in body if isinstance(e, dict) and e.get("code"))
        for entry in body:
            if isinstance(entry, dict) and entry.get("code"):
                targets = entry.get("targets")
                listed[str(entry["code"])] = frozenset(map(str, targets)) if isinstance(targets, list) else codes
        return listed

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as http,
                http.request(method, f"{self.url}{path}", **kwargs) as response,
            ):
                if response.status != 200:
                    raise TranslationError(f"LibreTranslate answered {response.status}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("LibreTranslate %s failed: %s", path, type(exc).__name__)
            raise TranslationError(type(exc).__name__) from exc

"""A small LibreTranslate stand-in on 127.0.0.1 speaking its real HTTP API (POST /translate with q, source, target,
format → {"translatedText": ...}), since the real models cannot be downloaded here. It "translates" by tagging the
text with the target language, so a test can see which way a text went; it can also be told to fail or be slow."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from tests.support.fake_server import FakeServer

# The client languages a server with LibreTranslate's published Argos models lists (docs.libretranslate.com,
# "Supported Languages"): no Pashto, Tigrinya, Kurmanji, Sorani, Somali or Georgian.
ARGOS = ("ar", "bg", "de", "en", "es", "fa", "fr", "pl", "ro", "ru", "sq", "tr", "uk")
# What the fake lists unless told otherwise: the languages the older tests translate into.
DEFAULT_LANGUAGES = ("ar", "de", "en", "fa", "fr", "ps", "ru", "so", "tr", "uk")


class FakeLibreTranslate(FakeServer):
    def __init__(self, languages: Sequence[str] = DEFAULT_LANGUAGES) -> None:
        super().__init__()
        self.languages = list(languages)
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.delay = 0.0
        self.app.router.add_post("/translate", self._translate)
        self.app.router.add_get("/languages", self._languages)

    @staticmethod
    def render(text: str, target: str) -> str:
        return f"[{target}] {text}"

    async def _translate(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            body = await request.json()
        else:
            body = dict(await request.post())
        self.requests.append(body)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return web.json_response({"error": "Translation failed"}, status=self.status)
        missing = [key for key in ("q", "source", "target") if not body.get(key)]
        if missing:
            return web.json_response({"error": f"Invalid request: missing {missing[0]} parameter"}, status=400)
        return web.json_response({"translatedText": self.render(body["q"], body["target"])})

    async def _languages(self, request: web.Request) -> web.Response:
        codes = self.languages
        return web.json_response([{"code": c, "name": c, "targets": codes} for c in codes])

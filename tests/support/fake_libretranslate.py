"""A small LibreTranslate stand-in on 127.0.0.1 speaking its real HTTP API (POST /translate with q, source, target,
format → {"translatedText": ...}), since the real models cannot be downloaded here. It "translates" by tagging the
text with the target language, so a test can see which way a text went; it can also be told to fail or be slow."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web


class FakeLibreTranslate:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.delay = 0.0
        self.port = 0
        self._runner: web.AppRunner | None = None
        self.app = web.Application()
        self.app.router.add_post("/translate", self._translate)
        self.app.router.add_get("/languages", self._languages)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

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
        codes = ["ar", "de", "en", "fa", "fr", "ps", "ru", "so", "tr", "uk"]
        return web.json_response([{"code": c, "name": c, "targets": codes} for c in codes])

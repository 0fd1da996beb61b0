"""A small OpenAI-compatible chat-completions stand-in on 127.0.0.1 (`POST /v1/chat/completions`, `GET
/v1/models`), since no language model runs here. It "translates" by tagging the user's message with `[llm]`, so a
test sees which server a text went through, and keeps every request (the instruction, the model, the API key);
it can be told to fail, be slow or not serve the model."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from tests.support.fake_server import FakeServer


class FakeChatCompletions(FakeServer):
    def __init__(self, model: str = "test-translate-model") -> None:
        super().__init__()
        self.model = model
        self.served = [model]
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []
        self.model_lists = 0
        self.status = 200
        self.delay = 0.0
        self.app.router.add_post("/v1/chat/completions", self._complete)
        self.app.router.add_get("/v1/models", self._models)

    @staticmethod
    def render(text: str) -> str:
        return f"[llm] {text}"

    def instructions(self) -> list[str]:
        """The system messages received, oldest first."""
        return [m["content"] for r in self.requests for m in r.get("messages", []) if m.get("role") == "system"]

    async def _complete(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.authorizations.append(request.headers.get("Authorization"))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return web.json_response({"error": {"message": "unavailable"}}, status=self.status)
        if body.get("model") not in self.served:
            return web.json_response({"error": {"message": "model not found"}}, status=404)
        user = next((m["content"] for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
        message = {"role": "assistant", "content": self.render(user)}
        return web.json_response(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            }
        )

    async def _models(self, request: web.Request) -> web.Response:
        self.model_lists += 1
        return web.json_response({"object": "list", "data": [{"id": m, "object": "model"} for m in self.served]})

"""A small OpenAI-compatible transcription stand-in on 127.0.0.1 (`POST /v1/audio/transcriptions` with multipart
file, model and response_format; `GET /v1/models` listing the model's languages as speaches does), since no
Whisper model runs here. A test tells it what a file "says" (`hear`); it answers verbose_json with segments whose
avg_logprob gives the confidence, and can be told to fail or be slow. It keeps what each request carried."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from tests.support.fake_server import FakeServer

# Whisper's languages (faster-whisper's tokenizer table) among others: no Tigrinya, no Kurdish.
WHISPER = ["af", "am", "ar", "bg", "de", "en", "es", "fa", "fr", "ka", "pl", "ps", "ro", "ru", "so", "sq", "tr", "uk"]


@dataclass
class Received:
    model: str | None
    response_format: str | None
    filename: str | None
    content_type: str | None
    size: int
    chunked: bool


class FakeSpeech(FakeServer):
    def __init__(self, model: str = "Systran/faster-whisper-small") -> None:
        super().__init__(client_max_size=50 * 1024 * 1024)
        self.model = model
        self.languages = list(WHISPER)
        self.heard: dict[bytes, dict[str, Any]] = {}
        self.received: list[Received] = []
        self.status = 200
        self.delay = 0.0
        self._stopping = asyncio.Event()
        self.app.router.add_post("/v1/audio/transcriptions", self._transcribe)
        self.app.router.add_get("/v1/models", self._models)

    async def start(self, port: int = 0) -> str:
        self._stopping.clear()
        return await super().start(port)

    async def stop(self) -> None:
        self._stopping.set()  # a slow answer still waiting ends now, so the server stops at once
        await super().stop()

    def hear(self, audio: bytes, text: str, language: str, logprob: float = -0.15) -> None:
        """What the model makes of the file `audio`: the text, the language it detects, its mean log-probability."""
        self.heard[audio] = {"text": text, "language": language, "avg_logprob": logprob}

    async def _transcribe(self, request: web.Request) -> web.Response:
        fields: dict[str, str] = {}
        audio, filename, content_type = b"", None, None
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "file":
                audio, filename = bytes(await part.read()), part.filename
                content_type = part.headers.get("Content-Type")
            elif part.name:
                fields[part.name] = await part.text()
        chunked = request.headers.get("Transfer-Encoding", "").lower() == "chunked"
        self.received.append(
            Received(fields.get("model"), fields.get("response_format"), filename, content_type, len(audio), chunked)
        )
        if self.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.delay)
        if self.status != 200:
            return web.json_response({"detail": "unavailable"}, status=self.status)
        said = self.heard.get(audio, {"text": "", "language": "en", "avg_logprob": -1.5})
        duration = max(1.0, len(said["text"]) / 12)
        segment = {"id": 0, "start": 0.0, "end": duration, "text": said["text"], "avg_logprob": said["avg_logprob"]}
        segment["no_speech_prob"] = 0.02 if said["text"] else 0.9
        body = {"task": "transcribe", "language": said["language"], "duration": duration, "text": said["text"]}
        return web.json_response(body | {"segments": [segment] if said["text"] else []})

    async def _models(self, request: web.Request) -> web.Response:
        model = {"id": self.model, "object": "model", "owned_by": "Systran", "language": self.languages}
        return web.json_response({"object": "list", "data": [model]})

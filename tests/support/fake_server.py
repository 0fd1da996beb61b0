"""The scaffolding the fake HTTP services share: an aiohttp app on 127.0.0.1 with a free port, started and stopped
by the test (`async with` or `start`/`stop`)."""

from __future__ import annotations

from typing import Any, Self

from aiohttp import web


class FakeServer:
    def __init__(self, **app_options: Any) -> None:
        self.port = 0
        self._runner: web.AppRunner | None = None
        self.app = web.Application(**app_options)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

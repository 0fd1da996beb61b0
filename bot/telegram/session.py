"""aiogram's aiohttp session, keeping two things aiogram throws away on every Bot API call.

- The parsed response type `Response[Message]` etc.: pydantic caches parametrised generics only weakly, so
  aiogram rebuilt the class (a schema build) for most calls. Holding them here keeps pydantic's cache warm.
- The JSON of the last getUpdates answer, so the inbound journal stores what Telegram sent instead of dumping
  the parsed updates again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot


class BotSession(AiohttpSession):
    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._response_types: dict[Any, type[Response[Any]]] = {}
        self._raw_updates: list[dict[str, Any]] | None = None

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._response_types:
            self._response_types[returning] = Response[returning]  # type: ignore[valid-type]
        response = super().check_response(bot, method, status_code, content)
        if isinstance(method, GetUpdates):
            self._raw_updates = self.json_loads(content)["result"]
        return response

    def take_raw_updates(self) -> list[dict[str, Any]] | None:
        """The updates of the last getUpdates answer as Telegram sent them (once; None if already taken)."""
        raw, self._raw_updates = self._raw_updates, None
        return raw

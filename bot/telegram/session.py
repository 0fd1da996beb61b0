"""aiogram's aiohttp session, with kimbot's retries of transient Bot API failures, keeping two things aiogram throws
away on every Bot API call.

- Transient failures are retried here, once for every call path that goes through aiogram (handler replies, the
  handoff's forum operations, webhook-mode replies, broadcast progress): a 5xx, a body that is not the Bot API's
  JSON (Telegram's nginx answers an outage with an HTML 502/504 page, on which aiogram raised `ClientDecodeError`),
  a timeout or a reset connection, and a 429 asking for a short wait. At most `attempts` tries, with exponential
  backoff and jitter. getUpdates is not retried here: the polling loop (`bot.telegram.inbound.poll`) has its own,
  which also notices a stop. What is still failing after the last try raises as before; for an update's handler
  that leaves the update unfinished in the journal (`bot.telegram.inbound`), to be handled again.
  The Bot API has no idempotency key: a send whose answer was lost (a timeout or a reset after Telegram accepted
  it, or a 5xx from the edge after the backend sent it) is sent again by the retry, so such a message can arrive
  twice, at most `attempts` times. A 429 or a refused connection never duplicates: the call had no effect.
- The parsed response type `Response[Message]` etc.: pydantic caches parametrised generics only weakly, so
  aiogram rebuilt the class (a schema build) for most calls. Holding them here keeps pydantic's cache warm.
- The JSON of the last getUpdates answer, so the inbound journal stores what Telegram sent instead of dumping
  the parsed updates again.
- No call while the update's database transaction has written: what it wrote commits first
  (`bot.db.unit_of_work.before_network`), so no other writer waits on Telegram.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import ClientDecodeError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientError, ClientTimeout
from pydantic import ValidationError

from bot.db.unit_of_work import before_network

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger("kimbot.telegram")
_JSON = {"Content-Type": "application/json"}

ATTEMPTS = 4  # one call and three retries: about 0.5 + 1 + 2 s of backoff (with jitter) before giving up
MAX_RETRY_AFTER = 30.0  # a longer 429 wait is not sat out inside a handler: the call fails (the update is retried)


def backoff(attempt: int, base: float, cap: float) -> float:
    """The wait after the `attempt`-th failure: base·2^(attempt-1), at most `cap`, times a random 0.5–1 ("equal
    jitter"), so processes that failed together do not come back together."""
    return float(min(cap, base * 2 ** max(attempt - 1, 0)) * random.uniform(0.5, 1.0))


class BotSession(AiohttpSession):
    def __init__(self, *, attempts: int = ATTEMPTS, backoff_base: float = 0.5, backoff_cap: float = 8.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.attempts = attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._response_types: dict[Any, type[Response[Any]]] = {}
        self._raw_updates: list[dict[str, Any]] | None = None

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        polling = isinstance(method, GetUpdates)  # (not narrowing `method`: the call below takes any method)
        if polling:  # the polling loop retries, and must notice a stop while it waits
            return await super().make_request(bot, method, timeout)
        await before_network()  # no Bot API call while the update's transaction holds write locks
        attempt = 1
        while True:
            try:
                return await self._post(bot, method, timeout)
            except TelegramRetryAfter as exc:
                if attempt >= self.attempts or exc.retry_after > MAX_RETRY_AFTER:
                    raise
                delay, why = float(exc.retry_after), "429"
            except (TelegramServerError, TelegramNetworkError) as exc:
                if attempt >= self.attempts:
                    name = type(exc).__name__
                    log.warning("%s failed %d times (%s); giving up", method.__api_method__, attempt, name)
                    raise
                delay, why = backoff(attempt, self.backoff_base, self.backoff_cap), type(exc).__name__
            log.warning(
                "%s failed (%s, try %d of %d); again in %.1f s",
                method.__api_method__,
                why,
                attempt,
                self.attempts,
                delay,
            )
            await asyncio.sleep(delay)
            attempt += 1

    async def _post(self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None) -> TelegramType:
        """aiogram's request as a JSON body (the Bot API takes either) unless it uploads a file: encoding a form
        quotes every field, and its reader unquotes them again, about a third of a call's CPU on both sides."""
        files: dict[str, Any] = {}
        body = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None and prepared != "":  # as aiogram's form leaves them out
                body[key] = prepared
        if files:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=self.json_dumps(body),
                headers=_JSON,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as error:
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        except ClientError as error:
            raise TelegramNetworkError(method=method, message=f"{type(error).__name__}: {error}") from error
        response = self.check_response(bot=bot, method=method, status_code=resp.status, content=raw_result)
        return cast(TelegramType, response.result)

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._response_types:
            self._response_types[returning] = Response[returning]  # type: ignore[valid-type]
        try:
            response = super().check_response(bot, method, status_code, content)
        except ClientDecodeError as exc:
            if isinstance(exc.original, ValidationError):
                raise  # JSON, but not a Bot API answer aiogram understands: not an outage
            # Not JSON at all: not the Bot API answering but something in front of it (Telegram's nginx in an
            # outage, a proxy). A server error, so every caller treats it as transient.
            raise TelegramServerError(
                method=method, message=f"HTTP {status_code} with a body that is not the Bot API's JSON"
            ) from exc
        if isinstance(method, GetUpdates):
            self._raw_updates = self.json_loads(content)["result"]
        return response

    def take_raw_updates(self) -> list[dict[str, Any]] | None:
        """The updates of the last getUpdates answer as Telegram sent them (once; None if already taken)."""
        raw, self._raw_updates = self._raw_updates, None
        return raw

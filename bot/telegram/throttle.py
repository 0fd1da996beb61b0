"""Per-user throttle for what clients (and anyone who is not staff) send: messages, edits and button taps, each
kind with a token bucket in memory (per process). Over the limit, a message is not handled at all and the client
is told once a minute that the last ones were not passed on (so nothing is lost silently: they know to send it
again); a tap gets a short "please wait" instead of its action (no export, no audit row). Staff are not throttled.

The same middleware answers every button no handler took (a stale or forged one in a group, say): Telegram shows a
spinner until a callback query is answered. It runs inside the client-language middleware, so its texts are in the
caller's language. The held-message cap of flood protection (`handlers.handoff.client_side`) tells the client with
`tell_once` here, so a flood is announced once whichever limit it hits first.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, TelegramObject, User
from aiogram.utils.i18n import gettext as _

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

NOTICE_INTERVAL = 60.0  # the client is told at most this often that messages were not passed on
_PRUNE_AT = 10_000  # users remembered before idle ones are forgotten


@dataclass
class TokenBuckets:
    """`capacity` at once, refilled at `per_second`; one bucket per key."""

    capacity: float
    per_second: float
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[int, tuple[float, float]] = field(default_factory=dict, init=False, repr=False)

    def take(self, key: int) -> bool:
        now = self.clock()
        tokens, at = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.per_second)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > _PRUNE_AT:
            self._prune(now)
        return True

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled completely (an unknown key starts full anyway)."""
        full_after = self.capacity / self.per_second
        for key, (_tokens, at) in list(self._buckets.items()):
            if now - at > full_after:
                del self._buckets[key]


def too_many_messages() -> str:
    return _("Too many messages at once: the last ones were not passed on. Please wait a minute and send them again.")


class Throttle(BaseMiddleware):
    """Outer middleware of the dispatcher's message, edited_message and callback_query observers."""

    def __init__(
        self,
        messages: TokenBuckets | None = None,
        callbacks: TokenBuckets | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # 30 messages at once, then one every two seconds; 30 taps at once, then two a second (a quick client books
        # with a dozen taps in a few seconds; a script tapping "send me my data" is stopped after 30).
        self.messages = messages or TokenBuckets(30, 0.5, clock)
        self.callbacks = callbacks or TokenBuckets(30, 2.0, clock)
        self._clock = clock
        self._told: dict[int, float] = {}

    def tell_once(self, user_id: int) -> bool:
        """True when the user has not been told about a flood within the last minute (and marks them told)."""
        now = self._clock()
        if now - self._told.get(user_id, -NOTICE_INTERVAL) < NOTICE_INTERVAL:
            return False
        if len(self._told) > _PRUNE_AT:
            self._told = {k: v for k, v in self._told.items() if now - v < NOTICE_INTERVAL}
        self._told[user_id] = now
        return True

    def setup(self, router: Any) -> None:
        for observer in (router.message, router.edited_message, router.callback_query):
            observer.outer_middleware(self)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        free = user is None or data.get("staff") is not None
        if isinstance(event, CallbackQuery):
            if not free and user is not None and not self.callbacks.take(user.id):
                await _answer(event, _("Please wait a moment."))
                return None
            result = await handler(event, data)
            if result is UNHANDLED:  # no handler took it: stale, forged, or from a chat no feature serves
                await _answer(event, _("This button is no longer active. Please use /menu."))
            return result
        if free or user is None or self.messages.take(user.id):
            return await handler(event, data)
        if isinstance(event, Message) and event.chat.type == "private" and self.tell_once(user.id):
            await event.answer(too_many_messages())
        return None


async def _answer(callback: CallbackQuery, text: str) -> None:
    with contextlib.suppress(TelegramAPIError):  # already answered or too old: nothing left to stop
        await callback.answer(text, show_alert=True)

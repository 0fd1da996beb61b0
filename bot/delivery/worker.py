"""The delivery worker: drains the outbox. Telegram-free – it renders through a `Renderer` and sends through a
`Sender`, both injected by the composition root (bot/delivery/renderer.py and bot/delivery/sender.py).

Each row is claimed under a lease in a short transaction of its own, rendered at send time in the recipient's
current language, sent, and its outcome recorded in another short transaction (fenced by the lease). A worker
killed between sending and recording leaves the row `sending`; once the lease runs out another drain sends it
again – so at most the rows in flight at a crash can be delivered twice, and none is lost.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.base import utcnow
from bot.delivery import outbox
from bot.delivery.outbox import ClaimedMessage
from bot.services import reachability

log = logging.getLogger("kimbot.delivery")

TEXT_LIMIT = 4096  # Telegram's limit for a message text, in UTF-16 code units after entity parsing
CAPTION_LIMIT = 1024


# ------------------------------------------------------------------ what renderers and senders exchange


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message ready to send: HTML text (any length; the worker splits it) and inline buttons."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


class Renderer(Protocol):
    async def render(self, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
        """The message in the recipient's current language; None when it no longer makes sense (dropped)."""
        ...


class Sender(Protocol):
    async def send_text(
        self, chat_id: int, thread_id: int | None, text: str, buttons: tuple[tuple[Button, ...], ...]
    ) -> int:
        """Send one HTML message; return its Telegram message id or raise a `DeliveryError`."""
        ...


class DeliveryError(Exception):
    """Why a send did not succeed, in terms the worker acts on (senders translate library errors)."""


class RetryLater(DeliveryError):
    """429: Telegram asks us to wait `seconds`."""

    def __init__(self, seconds: float, description: str = "Too Many Requests"):
        super().__init__(description)
        self.seconds = seconds


class TransientError(DeliveryError):
    """5xx, timeouts, network trouble: retried with backoff, a bounded number of times."""


class RecipientBlocked(DeliveryError):
    """403: the user blocked the bot or never started it."""


class ChatNotFound(DeliveryError):
    """400 chat not found: the chat id is wrong; retrying cannot help."""


class PermanentError(DeliveryError):
    """Any other refusal (bad markup, …): retrying cannot help."""


# ------------------------------------------------------------------ splitting long texts

_TOKEN = re.compile(r"<[^>]*>|&[#a-zA-Z0-9]+;|[\s\S]", re.UNICODE)
_TAG = re.compile(r"<\s*(/)?\s*([a-zA-Z0-9-]+)[^>]*?(/)?\s*>")


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _apply(stack: list[tuple[str, str]], token: str) -> list[tuple[str, str]]:
    """The open-tag stack after `token`."""
    match = _TAG.fullmatch(token) if token.startswith("<") else None
    if match is None or match.group(3):
        return stack
    name = match.group(2).lower()
    if match.group(1):
        return stack[:-1] if stack and stack[-1][0] == name else stack
    return [*stack, (name, token)]


def _closing(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def split_html(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split HTML into parts of at most `limit` UTF-16 units (counted on the markup, so stricter than Telegram).

    Cuts at the last paragraph break, else line break, else space in the second half of a part; never inside a
    tag or an entity; tags open at a cut are closed at the end of one part and reopened at the start of the next,
    so every part is valid HTML on its own.
    """
    if _units(text) <= limit:
        return [text]
    tokens = _TOKEN.findall(text)
    parts: list[str] = []
    stack: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        prefix = "".join(opening for _, opening in stack)
        size = _units(prefix)
        current = stack
        j = i
        candidates: dict[int, tuple[int, list[tuple[str, str]]]] = {}  # rank -> (position, stack there)
        while j < len(tokens):
            token = tokens[j]
            after = _apply(current, token)
            if size + _units(token) + _units(_closing(after)) > limit:
                break
            size += _units(token)
            current = after
            j += 1
            if token.isspace() and size * 2 >= limit:
                rank = 1 if token != "\n" else (3 if j >= 2 and tokens[j - 2] == "\n" else 2)
                candidates[rank] = (j, current)
        if j >= len(tokens):
            cut, at_cut = j, current
        else:
            cut, at_cut = candidates[max(candidates)] if candidates else (j, current)
        body = "".join(tokens[i:cut])
        part = (prefix + body).rstrip() + _closing(at_cut)
        if _TAG.sub("", part).strip():
            parts.append(part)
        stack, i = at_cut, cut
        while i < len(tokens) and tokens[i].isspace():
            i += 1
    return parts


# ------------------------------------------------------------------ the worker


@dataclass
class DrainStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unreachable: int = 0
    dropped: int = 0

    def __iadd__(self, other: DrainStats) -> DrainStats:
        for name in ("sent", "retried", "failed", "unreachable", "dropped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


@dataclass
class WorkerConfig:
    lease_seconds: float = 60.0
    batch_size: int = 30
    concurrency: int = 8
    # 5xx, timeouts, resets: retried 1, 2, 4 … 256 s apart (with jitter), so a Telegram outage of up to about
    # eight minutes delays a reminder instead of failing it; a 429 waits as asked and never fails a row.
    max_attempts: int = 10
    backoff_base: float = 1.0  # seconds; doubled per attempt
    backoff_cap: float = 300.0
    staff_chat_id: int | None = None


@dataclass
class DeliveryWorker:
    sessions: async_sessionmaker[AsyncSession]
    renderer: Renderer
    sender: Sender
    config: WorkerConfig = field(default_factory=WorkerConfig)
    clock: Callable[[], datetime] = utcnow
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def drain_once(self, now: datetime | None = None) -> DrainStats:
        """Deliver everything due now (the scheduler calls this every second). A drain already running in this
        process makes this call return at once; other processes are kept apart by the leases."""
        if self._lock.locked():
            return DrainStats()
        async with self._lock:
            clock = (lambda: now) if now is not None else self.clock
            return await self._drain(clock)

    async def _drain(self, clock: Callable[[], datetime]) -> DrainStats:
        stats = DrainStats()
        queue: asyncio.Queue[ClaimedMessage | None] = asyncio.Queue(maxsize=self.config.batch_size)

        async def consume() -> None:
            nonlocal stats
            while (message := await queue.get()) is not None:
                try:
                    stats += await self._deliver(message, clock)
                except Exception:
                    # Last line of defence (e.g. the database went away): the row keeps its lease and is sent
                    # again when the lease runs out; this consumer goes on, so the producer never blocks.
                    log.exception("outbox %s: delivery failed unexpectedly", message.id)

        consumers = [asyncio.create_task(consume()) for _ in range(self.config.concurrency)]
        try:
            while True:
                batch = await self._claim(clock())
                if not batch:
                    break
                for message in batch:
                    await queue.put(message)
            for _ in consumers:
                await queue.put(None)
            await asyncio.gather(*consumers)
        finally:
            for task in consumers:
                task.cancel()
        return stats

    async def _claim(self, now: datetime) -> list[ClaimedMessage]:
        async with self.sessions() as session, session.begin():
            return await outbox.claim(
                session, now=now, limit=self.config.batch_size, lease_seconds=self.config.lease_seconds
            )

    def _backoff(self, attempts: int) -> float:
        """Doubling per attempt, at most the cap, times a random 0.5–1: rows that failed together (an outage) are
        not all due again in the same second."""
        delay = min(self.config.backoff_base * 2 ** max(attempts - 1, 0), self.config.backoff_cap)
        return float(delay * random.uniform(0.5, 1.0))

    async def _deliver(self, message: ClaimedMessage, clock: Callable[[], datetime]) -> DrainStats:
        stats = DrainStats()
        try:
            async with self.sessions() as session:
                rendered = await self.renderer.render(session, message)
            if rendered is None:
                async with self.sessions() as session, session.begin():
                    await outbox.mark_dropped(session, message, reason="no longer relevant when due")
                stats.dropped += 1
                return stats
            parts = split_html(rendered.text)
        except Exception as exc:  # a broken template or parameters: never retried, never crashes the drain
            log.exception("outbox %s: cannot render template %s", message.id, message.template)
            async with self.sessions() as session, session.begin():
                await outbox.mark_failed(session, message, error=f"render: {type(exc).__name__}")
            stats.failed += 1
            return stats
        try:
            message_id = 0
            for index, part in enumerate(parts):
                buttons = rendered.buttons if index == len(parts) - 1 else ()
                message_id = await self.sender.send_text(message.chat_id, message.thread_id, part, buttons)
        except RetryLater as exc:
            async with self.sessions() as session, session.begin():
                due = clock() + timedelta(seconds=exc.seconds)
                await outbox.retry_later(session, message, due_at=due, error=f"429: {exc}")
            stats.retried += 1
        except TransientError as exc:
            async with self.sessions() as session, session.begin():
                if message.attempts >= self.config.max_attempts:
                    await outbox.mark_failed(session, message, error=f"gave up after {message.attempts}: {exc}")
                    stats.failed += 1
                else:
                    due = clock() + timedelta(seconds=self._backoff(message.attempts))
                    await outbox.retry_later(session, message, due_at=due, error=str(exc))
                    stats.retried += 1
            log.warning("outbox %s: transient error (attempt %s)", message.id, message.attempts)
        except RecipientBlocked as exc:
            async with self.sessions() as session, session.begin():
                if await outbox.mark_unreachable(session, message, error=str(exc)) and message.client_id is not None:
                    await reachability.became_unreachable(
                        session,
                        message.client_id,
                        now=clock(),
                        staff_chat_id=self.config.staff_chat_id,
                        cause=f"outbox:{message.id}",
                    )
            stats.unreachable += 1
        except (ChatNotFound, PermanentError) as exc:
            async with self.sessions() as session, session.begin():
                await outbox.mark_failed(session, message, error=str(exc))
            stats.failed += 1
            log.warning("outbox %s: failed permanently (%s)", message.id, type(exc).__name__)
        else:
            async with self.sessions() as session, session.begin():
                await outbox.mark_sent(session, message, telegram_message_id=message_id, now=clock())
            stats.sent += 1
        return stats

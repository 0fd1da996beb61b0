"""Filters shared by the routers, all coroutines.

aiogram runs a synchronous filter — an `F` expression or a plain function — in a worker thread
(`asyncio.to_thread`), one thread hand-off per check per update; on kimbot's router tree that cost more than the
database. These are the same checks as coroutines; `tests/test_filters.py` keeps every filter and handler async.
"""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message


async def in_private_chat(message: Message) -> bool:
    return message.chat.type == "private"


async def outside_private_chat(message: Message) -> bool:
    """In a group (the staff group): where commands that list clients are refused."""
    return message.chat.type != "private"


async def from_private_chat(callback: CallbackQuery) -> bool:
    return callback.message is not None and callback.message.chat.type == "private"


async def has_text(message: Message) -> bool:
    return bool(message.text)


async def is_command(message: Message) -> bool:
    return bool(message.text) and message.text.startswith("/")  # type: ignore[union-attr]


async def is_plain_text(message: Message) -> bool:
    """Typed text that is not a command."""
    return bool(message.text) and not message.text.startswith("/")  # type: ignore[union-attr]

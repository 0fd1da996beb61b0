"""Per-chat event isolation that keeps the order in which Telegram sent a chat's updates."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from aiogram.fsm.storage.memory import SimpleEventIsolation


class OrderedEventIsolation(BaseEventIsolation):
    """Keeps one chat's updates in the order Telegram sent them, also with Redis.

    aiogram's Redis lock lets waiting updates of a chat in by chance (it polls), so a client's messages could reach
    their topic out of order. An in-process FIFO lock per key (asyncio.Lock wakes waiters in order) in front of the
    shared lock restores the order within a process; the shared lock still keeps processes apart.
    """

    def __init__(self, shared: BaseEventIsolation):
        self.shared = shared
        self.local = SimpleEventIsolation()

    @contextlib.asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        async with self.local.lock(key), self.shared.lock(key):
            yield

    async def close(self) -> None:
        await self.shared.close()
        await self.local.close()

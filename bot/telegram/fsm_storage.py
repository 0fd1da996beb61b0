"""An aiogram FSM storage kept in kimbot's own database, so a conversation survives a restart
in the embedded (no Redis) setup. Production with Redis uses aiogram's RedisStorage instead.

Conversation state may hold what a client typed (a home-visit address), so it does not live for ever: Redis keys
expire `FSM_TTL` after their last write (`bot.app.build_fsm_storage`), database rows are pruned by the retention
job (`prune`). A client's state is read for their export and deleted on erasure through whichever storage is
configured (`client_keys`, `read`, `forget`), never by building aiogram's key layout by hand.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import FsmRecord
from bot.db.unit_of_work import current_session


class DatabaseStorage(BaseStorage):
    """FSM state and data in the `fsm_state` table; a row disappears when both are empty.

    Inside an update it uses that update's session (see `bot.db.unit_of_work`), elsewhere its own.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], key_builder: KeyBuilder | None = None):
        self._sessions = sessions
        self._keys = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    def _key(self, key: StorageKey) -> str:
        return self._keys.build(key)

    async def _write(self, key: StorageKey, **values: Any) -> None:
        session = current_session.get()
        if session is not None:
            await self._apply(session, key, values)
            await session.flush()
            return
        async with self._sessions() as own, own.begin():
            await self._apply(own, key, values)

    async def _apply(self, session: AsyncSession, key: StorageKey, values: dict[str, Any]) -> None:
        record = await session.get(FsmRecord, self._key(key), with_for_update=True)
        state = values.get("state", record.state if record else None)
        data = values.get("data", record.data if record else "{}")
        if state is None and data == "{}":
            if record is not None:
                await session.delete(record)
        elif record is None:
            session.add(FsmRecord(key=self._key(key), state=state, data=data))
        else:
            record.state, record.data = state, data

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, state=value)

    async def _read(self, key: StorageKey) -> FsmRecord | None:
        session = current_session.get()
        if session is not None:
            return await session.get(FsmRecord, self._key(key))
        async with self._sessions() as own:
            return await own.get(FsmRecord, self._key(key))

    async def get_state(self, key: StorageKey) -> str | None:
        record = await self._read(key)
        return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=json.dumps(dict(data), ensure_ascii=False, sort_keys=True))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = await self._read(key)
        return dict(json.loads(record.data)) if record else {}

    async def close(self) -> None:
        """The engine belongs to the application, which disposes of it."""


# How long a conversation in progress is kept after its last step (Redis TTL; database rows: the retention job).
FSM_TTL = timedelta(days=7)


def client_keys(bot_id: int, telegram_id: int) -> list[StorageKey]:
    """The storage keys of a client's conversation state: their private chat with the bot (chat id = user id),
    the key aiogram's FSM middleware uses there."""
    return [StorageKey(bot_id=bot_id, chat_id=telegram_id, user_id=telegram_id)]


async def read(storage: BaseStorage, keys: list[StorageKey]) -> dict[str, Any]:
    """State and data under the keys, for the data export (empty when there is none)."""
    held: dict[str, Any] = {}
    for key in keys:
        state, data = await storage.get_state(key), await storage.get_data(key)
        if state is not None or data:
            held["state"], held["data"] = state, data
    return held


async def forget(storage: BaseStorage, keys: list[StorageKey]) -> None:
    """Delete state and data under the keys: RedisStorage deletes a key set to None / {}, DatabaseStorage the row
    (in the update's transaction when there is one)."""
    for key in keys:
        await storage.set_state(key, None)
        await storage.set_data(key, {})


class _Traces(Protocol):
    @property
    def telegram_id(self) -> int: ...


def forgetter(storage: BaseStorage, bot_id: int) -> Callable[[_Traces], Awaitable[bool]]:
    """`forget` as one step of `bot.services.privacy.erase` (which passes what it knows about the client)."""

    async def run(traces: _Traces) -> bool:
        await forget(storage, client_keys(bot_id, traces.telegram_id))
        return True

    return run


async def prune(session: AsyncSession, before: datetime) -> int:
    """Retention: database conversation state last written before `before` (an abandoned booking's address)."""
    result = await session.execute(delete(FsmRecord).where(FsmRecord.updated_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

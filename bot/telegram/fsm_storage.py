"""An aiogram FSM storage kept in kimbot's own database, so a conversation survives a restart
in the embedded (no Redis) setup. Production with Redis uses aiogram's RedisStorage instead."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey
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

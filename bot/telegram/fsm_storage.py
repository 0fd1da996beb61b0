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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey
from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.base import utcnow
from bot.db.engine import insert_for
from bot.db.models import FsmRecord
from bot.db.unit_of_work import UnitOfWork, active_unit, current_session

_FSM = cast(Table, FsmRecord.__table__)
_READ = select(_FSM.c.state, _FSM.c.data).where(_FSM.c.key == bindparam("key"))
_DELETE = delete(_FSM).where(_FSM.c.key == bindparam("key"))
_EMPTY = "{}"


@dataclass
class _Row:
    """One key's state and data (JSON) as this update sees them; `stored`: the table has a row for it."""

    state: str | None
    data: str
    stored: bool
    changed: bool = False

    @property
    def empty(self) -> bool:
        return self.state is None and self.data == _EMPTY


class DatabaseStorage(BaseStorage):
    """FSM state and data in the `fsm_state` table; a row disappears when both are empty.

    Inside an update the key's row is read once, with the update's session, and a change is written once, by one
    upsert just before the update's final commit (`bot.db.unit_of_work`), together with the journal's done mark.
    Outside an update (jobs) it writes at once: in the job's transaction (`current_session`) or in its own.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], key_builder: KeyBuilder | None = None):
        self._sessions = sessions
        self._keys = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    def _key(self, key: StorageKey) -> str:
        return self._keys.build(key)

    @staticmethod
    async def _load(session: AsyncSession, key: str) -> _Row:
        found = (await session.execute(_READ, {"key": key})).first()
        return _Row(found.state, found.data, True) if found else _Row(None, _EMPTY, False)

    async def _row(self, key: StorageKey) -> _Row:
        unit = active_unit()
        name = self._key(key)
        if unit is not None:
            if name not in unit.fsm:
                unit.fsm[name] = await self._load(unit.session, name)
            return cast(_Row, unit.fsm[name])
        session = current_session.get()
        if session is not None:
            return await self._load(session, name)
        async with self._sessions() as own:
            return await self._load(own, name)

    async def _write(self, key: StorageKey, **values: Any) -> None:
        name = self._key(key)
        unit = active_unit()
        if unit is not None:
            _change(await self._row(key), values).changed = True
            unit.write_at_final_commit("fsm", lambda: _save(unit))
            return
        session = current_session.get()
        if session is not None:
            await _store(session, name, _change(await self._load(session, name), values))
            return
        async with self._sessions() as own, own.begin():
            await _store(own, name, _change(await self._load(own, name), values))

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._row(key)).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=json.dumps(dict(data), ensure_ascii=False, sort_keys=True))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return dict(json.loads((await self._row(key)).data))

    async def close(self) -> None:
        """The engine belongs to the application, which disposes of it."""


def _change(row: _Row, values: dict[str, Any]) -> _Row:
    row.state, row.data = values.get("state", row.state), values.get("data", row.data)
    return row


_UPSERTS: dict[str, Any] = {}


def _upsert(session: AsyncSession) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE, built once per dialect."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    if dialect not in _UPSERTS:
        names = ("key", "state", "data", "updated_at")
        statement = insert_for(session)(_FSM).values({name: bindparam(name) for name in names})
        changed = {name: statement.excluded[name] for name in names[1:]}
        _UPSERTS[dialect] = statement.on_conflict_do_update(index_elements=["key"], set_=changed)
    return _UPSERTS[dialect]


async def _store(session: AsyncSession, key: str, row: _Row) -> None:
    """One statement: the upsert of the row, or its delete when state and data are empty."""
    if row.empty:
        if row.stored:
            await session.execute(_DELETE, {"key": key})
        return
    await session.execute(_upsert(session), {"key": key, "state": row.state, "data": row.data, "updated_at": utcnow()})


async def _save(unit: UnitOfWork) -> None:
    for key, row in unit.fsm.items():
        if row.changed:
            await _store(unit.session, key, row)
            row.changed, row.stored = False, not row.empty


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

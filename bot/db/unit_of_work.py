"""The session of the unit of work in progress (one per update), for code that cannot receive it as a
parameter – aiogram's FSM storage. FSM changes then commit or roll back together with the update's data,
and SQLite never sees two writers from one update."""

from __future__ import annotations

from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncSession

current_session: ContextVar[AsyncSession | None] = ContextVar("kimbot_current_session", default=None)

"""The unit of work: one session per update, its transaction, and the rule that no Telegram call waits while that
transaction holds write locks.

A transaction that has written holds locks until it ends: on SQLite the write lock of the whole database, on
PostgreSQL the rows it changed. Waiting for Telegram meanwhile (tens of milliseconds, seconds in an outage with
retries) stalled every other writer: first contacts went through one at a time (issue 18). So:

- **Before a Bot API call of the update, what it has written so far commits** (`before_network`, called by
  kimbot's HTTP session for every call). The update goes on in a new transaction. Handlers read, talk to
  Telegram and write last, so most updates commit once, at the end, with the journal's done mark; one that writes
  and then sends commits twice. What committed early stays if the update fails later: handled again (the journal,
  `bot.telegram.inbound`), it finds those rows, as a repeated tap would.
- **FSM state** kept in the database (`bot.telegram.fsm_storage.DatabaseStorage`) is read once per update and
  written at the final commit, with the done mark: an update handled again after a crash is routed by the same
  state as the first time.
- **Steps after the commit** (`after_commit`) run once the update's last transaction has committed; the update is
  then marked done after them, so a crash in between hands the update to the journal again.

Code that cannot receive the unit as a parameter (aiogram's FSM storage, the HTTP session) finds it with
`active_unit()`: only in the update's own task, so a task started by a handler never touches its transaction.
Whether a transaction has written is noted per connection by the engine (`bot.db.engine`), statement by statement.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger("kimbot.db")

# Set by jobs that erase (the retention purge): DatabaseStorage then deletes in the job's transaction.
current_session: ContextVar[AsyncSession | None] = ContextVar("kimbot_current_session", default=None)

WRITTEN = "kimbot.written"  # in Connection.info (one per DBAPI connection): its transaction has written
_CONNECTION = "kimbot.connection"  # in Session.info: the connection of the session's transaction

_READING = ("SELECT", "WITH", "PRAGMA", "SHOW", "EXPLAIN", "BEGIN", "RELEASE", "ROLLBACK", "COMMIT")
_LOCKING = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE")
_kinds: dict[str, bool] = {}


def writes(statement: str) -> bool:
    """Whether a statement takes write locks: anything but a plain read (a SELECT … FOR UPDATE locks rows; a
    SAVEPOINT counts, since only writers take one here). Cached: compiled statements repeat."""
    kind = _kinds.get(statement)
    if kind is None:
        head = statement.lstrip()[:10].upper()
        kind = not head.startswith(_READING) or any(lock in statement.upper() for lock in _LOCKING)
        if len(_kinds) < 2000:
            _kinds[statement] = kind
    return kind


class UnitSession(Session):
    """The sessions kimbot makes (`bot.db.engine.create_session_factory`): each remembers the connection of its
    transaction, so the unit of work can ask whether it has written."""


@event.listens_for(UnitSession, "after_begin")
def _remember_connection(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    session.info[_CONNECTION] = connection


def has_written(session: AsyncSession) -> bool:
    """Whether the session's open transaction has written (and so holds write locks)."""
    connection: Connection | None = session.info.get(_CONNECTION)
    if connection is None or connection.closed or connection.invalidated:
        return False
    return bool(connection.info.get(WRITTEN))


Step = Callable[[], Awaitable[None]]


@dataclass
class UnitOfWork:
    session: AsyncSession
    task: asyncio.Task[Any] | None = field(default_factory=asyncio.current_task)
    fsm: dict[str, Any] = field(default_factory=dict)  # DatabaseStorage's rows of this update, by key
    at_final_commit: dict[str, Step] = field(default_factory=dict)  # written last, before the final commit
    steps_after_commit: list[Step] = field(default_factory=list)
    early_commits: int = 0

    async def before_network(self) -> None:
        """Commit what the update has written, if anything, the conversation state included: a Bot API call
        follows, and the client's next tap may reach another instance as soon as they see its message."""
        await self.flush()
        if has_written(self.session):
            self.early_commits += 1
            await self.session.commit()

    def write_at_final_commit(self, name: str, step: Step) -> None:
        """Have `step` (once per `name`) write just before the next commit: the final one, or the one before a
        Bot API call (so it must write only what changed since it last ran)."""
        self.at_final_commit.setdefault(name, step)

    def after_commit(self, step: Step) -> None:
        """Run `step` once the update's last transaction has committed (and before it is marked done)."""
        self.steps_after_commit.append(step)

    async def flush(self) -> None:
        """Write what waited for the final commit (the caller commits)."""
        for step in self.at_final_commit.values():
            await step()

    async def run_after_commit(self) -> None:
        for step in self.steps_after_commit:
            await step()


current_unit: ContextVar[UnitOfWork | None] = ContextVar("kimbot_current_unit", default=None)


def active_unit() -> UnitOfWork | None:
    """The unit of work of the update this task is handling, if any."""
    unit = current_unit.get()
    if unit is None or unit.task is not asyncio.current_task():
        return None
    return unit


async def before_network() -> None:
    """Called before every Bot API request (`bot.telegram.session.BotSession`); see the module docstring."""
    unit = active_unit()
    if unit is not None:
        await unit.before_network()

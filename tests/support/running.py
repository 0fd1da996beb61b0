"""kimbot running in the test's event loop, and how a test knows it has finished with what the users sent.

"Finished" is read from the bot's own inbound journal (`bot.telegram.inbound`), not guessed from a pause: every
update the emulator queued for the bot has a row in `inbound_updates`, and no row is still pending. An update's
unit of work marks its row done in the update's own transaction, after every Telegram call its handler made; a
failed update is marked by the processor a few milliseconds after the error handler answered. So once the journal
says done, all the bot's answers are in the emulator. The same holds behind a webhook (the update is journalled
before the 200) and for a bot in another process sharing the database.

What runs after an update's commit is not covered: the handoff's held messages (flood protection) go out on a
timer; the tests of that wait for the messages themselves."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from sqlalchemy import Table, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App
from bot.db.models import InboundUpdate
from bot.emulator import BotAPIEmulator
from bot.runtime import run

_JOURNAL = cast(Table, InboundUpdate.__table__)
POLL_SECONDS = 0.01  # how often the journal is read while waiting; it bounds the latency, not the correctness


class Handled:
    """Waits until the bot has handled every update the emulator queued for it (see the module docstring)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], emulator: BotAPIEmulator, token: str | None = None
    ) -> None:
        self.sessions = sessions
        self.emu = emulator
        self.token = token
        self._done: set[int] = set()  # a done row stays done (pruning it later changes nothing here)

    async def wait(self, timeout: float = 60.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            outstanding = [i for i in self.emu.update_ids(self.token) if i not in self._done]
            pending = await self._pending(outstanding)
            if not pending:
                return
            if loop.time() > deadline:
                raise TimeoutError(f"updates not handled within {timeout} s: {sorted(pending)[:20]}")
            await asyncio.sleep(POLL_SECONDS)

    async def _pending(self, outstanding: list[int]) -> set[int]:
        """The ids not done yet: pending rows (including ones the emulator did not queue, e.g. posted by a test to
        the webhook) and queued updates without a row so far."""
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(_JOURNAL.c.update_id, _JOURNAL.c.status).where(
                        or_(_JOURNAL.c.status == "pending", _JOURNAL.c.update_id.in_(outstanding))
                    )
                )
            ).all()
        pending: set[int] = set(outstanding)
        for update_id, status in rows:
            if status == "done":
                self._done.add(update_id)
                pending.discard(update_id)
            else:
                pending.add(update_id)
        return pending


class Running:
    """kimbot polling the emulator in this event loop, through the same `bot.runtime.run` as `kimbot run`
    (the scheduler is not started: tests drive time-based jobs themselves)."""

    def __init__(self, app: App, emulator: BotAPIEmulator):
        self.app = app
        self.emu = emulator
        self.task: asyncio.Task[None] | None = None
        self.stopping = asyncio.Event()
        token = app.settings.bot_token.get_secret_value() if app.settings.bot_token else None
        self.handled = Handled(app.sessions, emulator, token)

    async def start(self) -> None:
        self.task = asyncio.create_task(run(self.app, stop=self.stopping, start_scheduler=False))
        await self.emu.wait_for(lambda: any(c.method == "deletewebhook" for c in self.emu.calls))

    async def stop(self) -> None:
        if self.task is not None:
            self.stopping.set()
            await asyncio.wait_for(self.task, 15)
        await self.app.close()

    async def say(self, user_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        """The user sends text; returns the bot's newest message in the chat once it has handled the update."""
        chat_id = kwargs.get("chat_id", user_id)
        before = self.emu.last_message_id(chat_id)
        await self.emu.send_message(user_id, text, **kwargs)
        await self.emu.wait_for_message(chat_id, after=before + 1)
        return await self.settle(chat_id)

    async def tap(self, user_id: int, message: dict[str, Any], button: str, *, edits: bool = False) -> dict[str, Any]:
        """The user taps a button by its text. Returns the bot's newest message once the bot has handled the tap:
        a new one, or with edits=True the tapped message as edited."""
        chat_id = message["chat"]["id"]
        before = self.emu.last_message_id(chat_id)
        callback_id = await self.emu.press(user_id, message, text=button)
        await self.emu.wait_for(lambda: self.emu.callback_answers.get(callback_id) is not None)
        if edits:
            await self.settle(chat_id)
            return self.emu.messages[(chat_id, message["message_id"])]
        await self.emu.wait_for_message(chat_id, after=before)
        return await self.settle(chat_id)

    async def settle(self, chat_id: int) -> dict[str, Any]:
        """Wait until the bot has handled every update sent so far; return its newest message in the chat."""
        await self.handled.wait()
        return self.emu.last_bot_message(chat_id)

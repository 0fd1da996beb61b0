"""Messages held back by flood protection, delivered as one batch (copyMessages) per client a while later.

Held messages are rows in the database, so a restart loses none: they are delivered at the next start.
Scheduling happens after the update's commit, so the delivery always sees the rows it was scheduled for.
Built once per dispatcher by the composition root (it owns the delivery tasks; `close` cancels them).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.types import MessageId
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.i18n import OFFICE_LOCALE
from bot.services import handoff
from bot.telegram.topics import ForumTopics

log = logging.getLogger("kimbot.relay")

BATCH = 100  # message ids per copyMessages call (Telegram's limit)


class HeldDelivery:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], topics: ForumTopics) -> None:
        self.sessions = sessions
        self.topics = topics
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._again: set[int] = set()

    @property
    def scheduled(self) -> int:
        """How many clients' held messages are waiting for their turn."""
        return len(self._tasks)

    def schedule(self, client_id: int, delay: float, bot: Bot) -> None:
        """Deliver the client's held messages in `delay` seconds (again after that, if more were held meanwhile)."""
        if client_id in self._tasks:
            self._again.add(client_id)
            return
        self._tasks[client_id] = asyncio.create_task(self._run(client_id, delay, bot))

    def schedule_after_commit(self, session: AsyncSession, client_id: int, delay: float, bot: Bot) -> None:
        """`schedule`, once the update's transaction has committed (so the delivery sees the held row)."""

        def after_commit(_session: Any) -> None:
            self.schedule(client_id, delay, bot)

        event.listen(session.sync_session, "after_commit", after_commit, once=True)

    async def _run(self, client_id: int, delay: float, bot: Bot) -> None:
        try:
            await asyncio.sleep(delay)
            while True:
                self._again.discard(client_id)
                try:
                    await self.deliver(client_id, bot)
                except Exception as exc:  # a batch that cannot go now is tried again at the next start
                    log.error("held messages not delivered: %s", type(exc).__name__)
                    return
                if client_id not in self._again:
                    return
        finally:
            self._tasks.pop(client_id, None)

    async def deliver(self, client_id: int, bot: Bot) -> None:
        """One job: copy the client's held messages into their topic, 100 per copyMessages call, in order."""
        i18n = self.topics.i18n
        with i18n.context(), i18n.use_locale(OFFICE_LOCALE):
            async with self.sessions() as session, session.begin():
                client = await handoff.client(session, client_id)
                rows = await handoff.held(session, client_id)
                if client is None or not rows:
                    return
                if (await handoff.conversation(session, client_id)).blocked:  # blocked by staff while held
                    await handoff.drop_held(session, client_id)
                    return
                forum = self.topics.bind(bot, session)
                for start in range(0, len(rows), BATCH):
                    chunk = rows[start : start + BATCH]
                    ids = [r.client_message_id for r in chunk if r.client_message_id is not None]

                    async def send(thread: int, ids: list[int] = ids) -> list[MessageId]:
                        return await bot.copy_messages(
                            forum.chat_id, from_chat_id=client.telegram_id, message_ids=ids, message_thread_id=thread
                        )

                    copies = await forum.into_topic(client, send)
                    matched = len(copies) == len(chunk)
                    for index, row in enumerate(chunk):
                        copy_id = copies[index].message_id if matched else None
                        await handoff.delivered(session, row.id, forum.chat_id, copy_id)  # type: ignore[arg-type]
                await handoff.client_wrote(session, client_id)

    async def deliver_leftovers(self, bot: Bot) -> None:
        """At start: messages still held from before a restart go out now."""
        if not self.topics.available:
            return
        async with self.sessions() as session:
            pending = {row.client_id for row in await handoff.held(session)}
        for client_id in sorted(pending):
            self.schedule(client_id, 0.0, bot)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

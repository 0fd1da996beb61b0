"""Outer middlewares: one database session per update (the unit of work), the caller as client or
staff, and the client's language for aiogram's i18n."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.types import Chat, TelegramObject, Update, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.i18n import DEFAULT_LOCALE, OFFICE_LOCALE, map_language_code
from bot.db.unit_of_work import UnitOfWork, current_unit
from bot.services import clients, staff
from bot.services.dto import ClientDTO, StaffDTO
from bot.telegram.inbound import JournalEntry, mark_done

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class OneAtATimeMiddleware(BaseMiddleware):
    """One update at a time per chat and user (aiogram's event isolation, the FSM's key), held until the update's
    transaction has committed, so the next update of that chat reads what this one wrote.

    aiogram's FSM middleware would take the lock itself, but it runs inside the unit of work (FSM reads use the
    update's session) and lets go before the commit: a client's second message then found no topic for the first
    and created another one. Here the lock wraps the unit of work; the FSM middleware gets no isolation of its own.
    """

    def __init__(self, fsm: FSMContextMiddleware, isolation: BaseEventIsolation):
        self._fsm = fsm
        self._isolation = isolation

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        bot: Bot = data["bot"]
        context = self._fsm.resolve_event_context(bot, data)
        if context is None:
            return await handler(event, data)
        async with self._isolation.lock(context.key):
            return await handler(event, data)


class UnitOfWorkMiddleware(BaseMiddleware):
    """Opens a session per update (`bot.db.unit_of_work.UnitOfWork`) and commits once the handler returns; rolls
    back if it raises. What the update wrote commits before each of its Bot API calls (see that module).

    The journalled update is marked done in the final transaction, together with the FSM state and whatever else
    it writes: a crash before that commit leaves none of them, so the update is handled again. When steps follow
    the commit (`UnitOfWork.after_commit`), the mark comes after, with the journal's batch (`UpdateProcessor`); a
    crash before it means the update's replies go out again, as for any update in flight."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]):
        self._sessions = sessions

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        entry: JournalEntry | None = data.get("journal_entry")
        async with self._sessions() as session:
            unit = UnitOfWork(session)
            data["session"], data["unit"] = session, unit
            token = current_unit.set(unit)
            try:
                result = await handler(event, data)
                await unit.flush()
                # The mark commits with the last writes, even when there are none (a /help): marking it later, with
                # the journal's batch, left more updates to be answered again after a crash than are in flight.
                marked = entry is not None and not unit.steps_after_commit
                if marked and entry is not None:
                    await mark_done(session, entry)
                await session.commit()
            finally:
                current_unit.reset(token)
        if marked and entry is not None:
            entry.marked = True
        await unit.run_after_commit()
        return result


class CallerMiddleware(BaseMiddleware):
    """Puts `staff` (StaffDTO | None) and `client` (ClientDTO | None) into the handler data.

    A non-staff user writing to the bot in a private chat is registered as a client on first contact,
    with the language Telegram reports if kimbot speaks it.

    Staff come from the county file (synced at start), so only ids listed there are looked up as staff.
    """

    def __init__(self, staff_ids: frozenset[int]):
        self._staff_ids = staff_ids

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        session: AsyncSession = data["session"]
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        data["staff"] = data["client"] = None
        if user is not None and not user.is_bot:
            member = await staff.find_active(session, user.id) if user.id in self._staff_ids else None
            data["staff"] = member
            client = await clients.find_by_telegram_id(session, user.id)
            # Blocking or unblocking the bot (`my_chat_member`) is not writing to us: nobody is registered for it,
            # and it neither restarts the retention period nor marks a client reachable.
            wrote = chat is not None and chat.type == "private" and not _membership_change(event)
            if client is None and member is None and wrote:
                client = await clients.register(session, user.id, map_language_code(user.language_code))
            elif client is not None and wrote:
                await clients.note_contact(session, client)
            data["client"] = client
        return await handler(event, data)


def _membership_change(event: TelegramObject) -> bool:
    return isinstance(event, Update) and event.my_chat_member is not None


class ClientLocaleMiddleware(I18nMiddleware):
    """The stored language of the client; for staff their first supported language; else Telegram's."""

    def __init__(self, i18n: I18n):
        super().__init__(i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        client: ClientDTO | None = data.get("client")
        member: StaffDTO | None = data.get("staff")
        user: User | None = data.get("event_from_user")
        if client is not None and client.locale:
            return client.locale
        if member is not None:
            return next((lang for lang in member.languages if lang in self.i18n.available_locales), OFFICE_LOCALE)
        return map_language_code(user.language_code if user else None) or DEFAULT_LOCALE

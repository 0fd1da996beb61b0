"""Filters of the staff side: the staff group, staff members, and a client's topic – including one that is seconds
old and not yet committed by the update that created it (see `bot.telegram.topics.topic_pending`)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.services import handoff
from bot.services.dto import ClientDTO, StaffDTO
from bot.telegram.topics import topic_pending

NEW_TOPIC_GRACE_SECONDS = 1.0
NEW_TOPIC_WAIT_SECONDS = 60.0


async def in_staff_group(event: Message | CallbackQuery, settings: Settings) -> bool:
    chat = event.chat if isinstance(event, Message) else (event.message.chat if event.message else None)
    return chat is not None and settings.staff_chat_id is not None and chat.id == settings.staff_chat_id


async def is_staff(event: Any, staff: StaffDTO | None = None) -> bool:
    return staff is not None


async def _topic_client(message: Message, session: AsyncSession) -> ClientDTO | None:
    if message.message_thread_id is None or not message.is_topic_message:
        return None
    client_id = await handoff.client_id_for_topic(session, message.chat.id, message.message_thread_id)
    return await handoff.client(session, client_id) if client_id is not None else None


async def in_client_topic(message: Message, session: AsyncSession) -> dict[str, Any] | bool:
    """Only messages in a client's topic; the handler gets that client as `topic_client`. Elsewhere in the
    group (and in private chats) commands such as /block reach the other staff routers."""
    client = await _topic_client(message, session)
    if client is None and message.is_topic_message and message.message_thread_id is not None:
        intake = await handoff.staff_topic(session, handoff.INTAKE, message.chat.id)
        if message.message_thread_id != intake:
            client = await _new_topic_client(message, session)
    return {"topic_client": client} if client is not None else False


async def _new_topic_client(message: Message, session: AsyncSession) -> ClientDTO | None:
    """The client of a topic that may be seconds old: the update that created it commits only after posting its
    header and first copy, and staff can answer before that. While this process is creating topics in the chat,
    wait for them to commit; otherwise (another instance's topic, or one that is no client's) look again for a
    moment."""
    assert message.message_thread_id is not None
    chat, thread = message.chat.id, message.message_thread_id
    loop = asyncio.get_running_loop()
    grace_ends, wait_ends = loop.time() + NEW_TOPIC_GRACE_SECONDS, loop.time() + NEW_TOPIC_WAIT_SECONDS
    while loop.time() < wait_ends:
        pending = topic_pending(chat, thread)
        if isinstance(pending, asyncio.Event):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(pending.wait(), wait_ends - loop.time())
            return await _topic_client(message, session)
        if not pending and loop.time() >= grace_ends:
            return None
        await asyncio.sleep(0.05)
        client = await _topic_client(message, session)
        if client is not None:
            return client
    return None

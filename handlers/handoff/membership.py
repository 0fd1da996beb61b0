"""A client blocks or unblocks kimbot (Telegram's `my_chat_member` in their private chat): blocked, they become
unreachable at once – pending reminders cancelled, their case manager alerted once (`bot.services.reachability`,
the same as a 403 from the delivery worker) – instead of at the next failed send; unblocked, reachable again.
The header card of their topic shows it. Nobody is registered by this update (`CallerMiddleware`)."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import ChatMemberUpdated

from bot.core.config import Settings
from bot.db.base import utcnow
from bot.services import reachability
from bot.services.dto import ClientDTO
from bot.telegram.topics import Forum, with_forum

BLOCKED = "kicked"


async def in_private_chat(event: ChatMemberUpdated) -> bool:
    return event.chat.type == "private"


async def membership_changed(
    event: ChatMemberUpdated, client: ClientDTO | None, settings: Settings, forum: Forum
) -> None:
    if client is None:
        return
    if event.new_chat_member.status == BLOCKED:
        cause = f"blocked:{int(event.date.timestamp())}"  # the same update handled twice alerts once
        await reachability.became_unreachable(
            forum.session, client.id, now=utcnow(), staff_chat_id=settings.staff_chat_id, cause=cause
        )
    elif event.old_chat_member.status == BLOCKED:
        await reachability.became_reachable(forum.session, client.id)
    else:
        return
    if forum.topics.available:
        await forum.refresh_header(client.id)  # "Reachable: yes/no" on the header card, if there is a topic


def register(private: Router) -> None:
    private.my_chat_member.register(membership_changed, in_private_chat, with_forum)

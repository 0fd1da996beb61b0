"""The staff side of the handoff, in the staff forum group: what staff post in a client's topic goes to the client
(copied; internal notes starting with `!` or `/note` and commands stay), edits are mirrored, replies threaded.
The topic commands are in `commands`, Claim and Assign in `callbacks`; this module mounts them all.

Staff only: every handler checks the staff table by numeric Telegram id (the `staff` the middleware found).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.core.i18n import OFFICE_LOCALE
from bot.db.base import utcnow
from bot.services import clients, escalation, handoff, reachability
from bot.services.dto import ClientDTO, StaffDTO
from bot.services.speech import Speaker
from bot.services.translator import Translator
from bot.telegram.topics import Forum, call, kind_of, with_forum
from handlers.filters import is_command
from handlers.handoff import callbacks, commands, views
from handlers.handoff.filters import in_client_topic, in_staff_group, is_staff
from handlers.handoff.translation import translate
from handlers.read_aloud import offer_for_answer

# ---------------------------------------------------------------------- staff → client


@dataclass(frozen=True, slots=True)
class _Answer:
    """A staff member's message in a client's topic, on its way to the client."""

    message: Message
    client: ClientDTO
    staff: StaffDTO
    kind: str
    original: str


async def relay_to_client(
    message: Message,
    topic_client: ClientDTO,
    forum: Forum,
    staff: StaffDTO,
    translator: Translator | None,
    speaker: Speaker | None = None,
) -> None:
    original = message.text or message.caption or ""
    if original.startswith("!"):
        return  # an internal note: stays in the topic
    kind = kind_of(message)
    if kind is None:
        return
    conv = await handoff.conversation(forum.session, topic_client.id)
    if conv.blocked:
        await message.reply(_("Not sent: this client is blocked. /unblock to write to them again."))
        return
    answer = _Answer(message, topic_client, staff, kind, original)
    sent = await _send(answer, forum, translator)
    if sent is None:
        await _not_delivered(answer, forum)
        return
    copy_id, translation = sent
    if translation is not None:
        await offer_for_answer(forum.bot, topic_client, copy_id, speaker)  # 🔊 under the client's copy
        await message.reply(_("🌐 Sent to the client in their language:") + "\n" + escape(translation))
    await _delivered(answer, forum, copy_id, translated=translation is not None)


async def _send(answer: _Answer, forum: Forum, translator: Translator | None) -> tuple[int, str | None] | None:
    """Copy the answer to the client (in their language when translation is on); None when they are unreachable."""
    message, client = answer.message, answer.client
    reply_to = None
    if message.reply_to_message is not None and message.reply_to_message.message_id != message.message_thread_id:
        pair = await handoff.by_staff_message(forum.session, message.chat.id, message.reply_to_message.message_id)
        reply_to = pair.client_message_id if pair else None
    translation, failed = await translate(translator, answer.original, OFFICE_LOCALE, client.locale or OFFICE_LOCALE)
    composed = None
    if translation or failed:
        with forum.topics.client_locale(client):
            composed = views.outgoing_text(answer.original, translation, failed)
    try:
        copy_id = await call(
            lambda: forum.copy(message, to_chat=client.telegram_id, thread=None, reply_to=reply_to, composed=composed)
        )
    except (TelegramForbiddenError, TelegramBadRequest) as exc:
        if isinstance(exc, TelegramBadRequest) and "chat not found" not in exc.message.lower():
            raise
        return None
    return copy_id, translation


async def _not_delivered(answer: _Answer, forum: Forum) -> None:
    message, client = answer.message, answer.client
    await message.reply(_("⚠️ Not delivered – the client is unreachable (they blocked the bot or left Telegram)."))
    await handoff.record(
        forum.session,
        client.id,
        direction="out",
        kind=answer.kind,
        client_message_id=None,
        staff_chat_id=message.chat.id,
        staff_message_id=message.message_id,
        status="failed",
        staff_id=answer.staff.id,
    )
    if client.reachable:  # as a 403 of the outbox: pending reminders stopped, the case manager told once
        cause = f"answer:{message.chat.id}:{message.message_id}"
        await reachability.became_unreachable(
            forum.session, client.id, now=utcnow(), staff_chat_id=forum.settings.staff_chat_id, cause=cause
        )
        await forum.refresh_header(client.id)


async def _delivered(answer: _Answer, forum: Forum, copy_id: int, *, translated: bool) -> None:
    message, client = answer.message, answer.client
    await handoff.record(
        forum.session,
        client.id,
        direction="out",
        kind=answer.kind,
        client_message_id=copy_id,
        staff_chat_id=message.chat.id,
        staff_message_id=message.message_id,
        staff_id=answer.staff.id,
        translated=translated,
        transcript=answer.original if forum.settings.keep_transcript and answer.original else None,
    )
    await escalation.answered(forum.session, client, utcnow())  # first-response time, before the mark moves
    await handoff.staff_answered(forum.session, client.id)
    if not client.reachable:
        await clients.set_reachable(forum.session, client.id, True)
        await forum.refresh_header(client.id)


async def mirror_staff_edit(message: Message, forum: Forum, translator: Translator | None) -> None:
    pair = await handoff.by_staff_message(forum.session, message.chat.id, message.message_id)
    if pair is None or pair.direction != "out" or pair.client_message_id is None:
        return
    client = await handoff.client(forum.session, pair.client_id)
    original = message.text or message.caption
    if client is None or not original:
        return
    translation, failed = await translate(translator, original, OFFICE_LOCALE, client.locale or OFFICE_LOCALE)
    with forum.topics.client_locale(client):
        shown = views.outgoing_text(original, translation, failed)
    if await forum.edit_copy(client.telegram_id, pair.client_message_id, shown, is_text=message.text is not None):
        await handoff.edited(forum.session, pair.id, original if forum.settings.keep_transcript else None)
    else:
        await message.reply(_("The edit could not be shown to the client (Telegram no longer allows it)."))


def build_router() -> Router:
    """Mounted in the staff area; the staff filter here as well, should it ever move."""
    router = Router(name="staff_topics")
    router.message.filter(is_staff)
    router.edited_message.filter(is_staff)
    topic = (in_staff_group, in_client_topic)
    router.message.register(commands.go_away, Command("away"))
    router.message.register(commands.come_back, Command("back"))
    callbacks.register(router)
    router.message.register(commands.show_language, Command("lang"), *topic)
    router.message.register(commands.close_conversation, Command("close"), *topic, with_forum)
    router.message.register(commands.block_client, Command("block", "unblock"), *topic, with_forum)
    router.message.register(commands.offer_assignment, Command("assign"), *topic)
    router.message.register(commands.explain_booking, Command("book"), *topic)
    router.message.register(commands.ignore_command, is_command, *topic)
    router.message.register(relay_to_client, *topic, with_forum)
    router.edited_message.register(mirror_staff_edit, in_staff_group, with_forum)
    return router


def register_not_staff(router: Router) -> None:
    callbacks.register_refusal(router)

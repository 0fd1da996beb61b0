"""The client side of the handoff: "Write to my case manager" and any free message outside another flow go into the
client's forum topic in the staff group; edits are mirrored. Before that, the rules of `bot.services.handoff_rules`
decide – one gate for messages, the identity-documents notice's "send" and edits: nothing from clients who have not
finished onboarding or whom staff blocked; the first photo or document asks about identity documents (the notice
remembers which message it was about); a flood of messages is held and passed on together a minute later
(`bot.jobs.held_delivery`), and beyond a full batch dropped with a word to the client and to staff.

Messages are copied (copyMessage), never forwarded, so no sender profile leaks. Diagram: docs/flows/handoff.mmd.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.jobs.held_delivery import HeldDelivery
from bot.services import handoff, handoff_rules
from bot.services.dto import ClientDTO
from bot.services.handoff import ConversationDTO
from bot.services.translator import Translator
from bot.telegram.callbacks import IdNoticeCb, MenuCb
from bot.telegram.throttle import Throttle, too_many_messages
from bot.telegram.topics import Forum, ForumTopics, kind_of, with_forum
from handlers.handoff import membership, views
from handlers.handoff.to_staff import mirror_client_edit, pass_on

# Held messages are passed on this many seconds after flood protection stepped in (tests shorten it).
FLOOD_DELAY_SECONDS = 60.0


def _not_available() -> str:
    return _("Writing to your case manager is not available yet. Please call the office.")


async def start_writing(callback: CallbackQuery, client: ClientDTO | None, topics: ForumTopics) -> None:
    await callback.answer()
    if not isinstance(callback.message, Message) or client is None:
        return
    if not topics.available:
        await callback.message.answer(_not_available())
        return
    await callback.message.answer(
        _(
            "Write your message here – text, a voice message, a photo or a file. Your case manager will "
            "read it and answer in this chat. Please do not send identity documents."
        )
    )


async def relay_message(
    message: Message,
    client: ClientDTO,
    forum: Forum,
    translator: Translator | None,
    held_delivery: HeldDelivery,
    throttle: Throttle,
) -> None:
    conv = await forum.conversation(client.id)
    if not await _admitted(message, client, conv, forum):
        return
    kind = kind_of(message)
    gate = handoff_rules.gate(conv, kind)
    if gate == "ignore":
        return
    if kind is None or gate == "unsupported":
        await message.answer(_("This kind of message cannot be passed on. Please send text, a photo or a file."))
        return
    if gate == "id_notice":
        await _ask_about_identity_documents(message, kind, forum.session, client)
        return
    await _through_flood_protection(_Incoming(message, kind, client, conv), forum, translator, held_delivery, throttle)


async def _admitted(message: Message | None, client: ClientDTO | None, conv: ConversationDTO, forum: Forum) -> bool:
    """The one gate (`handoff_rules.admit`) in front of the staff group, for messages, the notice and edits."""
    if client is None:
        return False
    admission = handoff_rules.admit(conv, onboarded=client.onboarded, staff_chat=forum.topics.available)
    if admission == "not_available" and message is not None:
        await message.answer(_not_available())
    return admission == "pass"


@dataclass(frozen=True, slots=True)
class _Incoming:
    message: Message
    kind: str
    client: ClientDTO
    conv: ConversationDTO


async def _through_flood_protection(
    incoming: _Incoming, forum: Forum, translator: Translator | None, held_delivery: HeldDelivery, throttle: Throttle
) -> None:
    """Pass the message on now, hold it for the next batch, or – the batch being full – drop it and say so."""
    client, now = incoming.client, utcnow()
    held, recent = await handoff.flood_state(forum.session, client.id, now - handoff_rules.FLOOD_WINDOW)
    flood = handoff_rules.flood(held, recent, forum.settings.flood_limit, incoming.conv.flood_notice_at, now)
    if flood.drop:
        await _over_the_cap(incoming.message, client, forum, throttle)
    elif flood.hold:
        await hold(incoming.message, incoming.kind, forum, client, flood.tell_client, held_delivery)
    else:
        await pass_on(forum, client, incoming.message, incoming.kind, translator)


async def _over_the_cap(message: Message, client: ClientDTO, forum: Forum, throttle: Throttle) -> None:
    """Not passed on, and not silently: once a minute the client is told to send again, and staff are told."""
    if not throttle.tell_once(client.telegram_id):
        return
    await message.answer(too_many_messages())
    with forum.topics.office():
        note = _("⚠️ Too many messages at once: further ones were not passed on; the client was asked to resend them.")
    await forum.say_in_topic(client, note)


async def _ask_about_identity_documents(message: Message, kind: str, session: AsyncSession, client: ClientDTO) -> None:
    await message.answer(
        _(
            "Before you send this: please do not send identity documents (passport, residence document, ID "
            "card) through Telegram. Bring them to your appointment instead. Send this file to your case "
            "manager?"
        ),
        reply_markup=views.id_notice_keyboard(message.message_id, kind),
    )
    await handoff.issue_notice(session, client.id, message.message_id, kind)


async def hold(
    message: Message, kind: str, forum: Forum, client: ClientDTO, tell_client: bool, held_delivery: HeldDelivery
) -> None:
    """Store the message as held; it goes with the others once the update has committed and the delay passed."""
    if tell_client:
        await message.answer(
            _("You are sending many messages at once. I will pass them on to your case manager together shortly.")
        )
        await handoff.mark(forum.session, client.id, "flood_notice_at", utcnow())
    await handoff.record(
        forum.session,
        client.id,
        direction="in",
        kind=kind,
        client_message_id=message.message_id,
        status="held",
        transcript=(message.text or message.caption) if forum.settings.keep_transcript else None,
    )
    held_delivery.schedule_after_commit(forum.session, client.id, FLOOD_DELAY_SECONDS, forum.bot)


async def send_after_notice(
    callback: CallbackQuery,
    callback_data: IdNoticeCb,
    client: ClientDTO | None,
    forum: Forum,
    translator: Translator | None,
    held_delivery: HeldDelivery,
    throttle: Throttle,
) -> None:
    """ "Yes, send it": the message the notice was issued for (kept by kimbot; the callback data only names it)
    goes through the same gate and flood protection as any message."""
    notice = await handoff.take_notice(forum.session, client.id, callback_data.message) if client else None
    conv = await forum.conversation(client.id) if client else None
    if client is None or notice is None or conv is None or not isinstance(callback.message, Message):
        await callback.answer(_("This is no longer possible."), show_alert=True)
        return
    if not await _admitted(None, client, conv, forum):
        await callback.answer(_("This is no longer possible."), show_alert=True)
        return
    await callback.answer()
    original = Message.model_validate(
        {"message_id": notice.client_message_id, "date": callback.message.date, "chat": callback.message.chat}
    ).as_(forum.bot)
    try:
        incoming = _Incoming(original, notice.kind, client, conv)
        await _through_flood_protection(incoming, forum, translator, held_delivery, throttle)
    except TelegramBadRequest:
        await callback.message.edit_text(_("This file is no longer available. Please send it again."))
        return
    await callback.message.edit_text(_("Sent to your case manager."))


async def drop_after_notice(
    callback: CallbackQuery, callback_data: IdNoticeCb, client: ClientDTO | None, forum: Forum
) -> None:
    notice = await handoff.take_notice(forum.session, client.id, callback_data.message) if client else None
    if notice is None or not isinstance(callback.message, Message):
        await callback.answer(_("This is no longer possible."), show_alert=True)
        return
    await callback.answer()
    await callback.message.edit_text(_("Not sent. You can bring it to your appointment."))


async def mirror_edit(message: Message, client: ClientDTO | None, forum: Forum, translator: Translator | None) -> None:
    """An edit changes a copy already in the topic: the same gate, and the throttle limits how often."""
    if client is None or not await _admitted(None, client, await forum.conversation(client.id), forum):
        return
    await mirror_client_edit(forum, client, message, translator)


async def deliver_leftovers(bot: Bot, held_delivery: HeldDelivery) -> None:
    """At start: messages still held from before a restart go out now."""
    await held_delivery.deliver_leftovers(bot)


async def stop(held_delivery: HeldDelivery) -> None:
    await held_delivery.close()


async def _is_onboarded_client(message: Message, client: ClientDTO | None = None) -> bool:
    return client is not None and client.onboarded


async def _not_a_command(message: Message) -> bool:
    return not (message.text or "").startswith("/")


def register(private: Router) -> None:
    private.callback_query.register(start_writing, MenuCb.filter(F.action == "write"))
    private.callback_query.register(send_after_notice, IdNoticeCb.filter(F.action == "send"), with_forum)
    private.callback_query.register(drop_after_notice, IdNoticeCb.filter(F.action == "drop"), with_forum)
    private.message.register(relay_message, StateFilter(None), _is_onboarded_client, _not_a_command, with_forum)
    private.edited_message.register(mirror_edit, with_forum)
    membership.register(private)
    private.startup.register(deliver_leftovers)
    private.shutdown.register(stop)

"""The staff side of the handoff, in the staff forum group: what staff post in a client's topic goes to the client
(copied; internal notes starting with `!` or `/note` and commands stay), edits are mirrored, replies threaded;
Claim and Assign; topic commands /assign /close /lang /block /unblock; /away and /back for absences.

Staff only: every handler checks the staff table by numeric Telegram id (the `staff` the middleware found).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from datetime import date
from html import escape
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.core.i18n import OFFICE_LOCALE, fmt_date, native_name
from bot.services import clients, handoff, office_hours
from bot.services import staff as staff_service
from bot.services.dto import ClientDTO, StaffDTO
from bot.telegram.callbacks import AssignCb, ClaimCb
from handlers.filters import is_command
from handlers.handoff.client_side import TopicRelay, call, kind_of, mention, topic_pending

NEW_TOPIC_GRACE_SECONDS = 1.0
NEW_TOPIC_WAIT_SECONDS = 60.0
TOPIC_COMMANDS = ("assign", "close", "lang", "block", "unblock", "note", "book")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


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


def _relay(bot: Bot, session: AsyncSession, settings: Settings, county: County, i18n: I18n) -> TopicRelay:
    return TopicRelay(bot, session, settings, county, i18n)


# ---------------------------------------------------------------------- staff → client


async def relay_to_client(
    message: Message,
    topic_client: ClientDTO,
    bot: Bot,
    session: AsyncSession,
    staff: StaffDTO,
    settings: Settings,
    county: County,
    i18n: I18n,
) -> None:
    client = topic_client
    original = message.text or message.caption or ""
    if original.startswith("!"):
        return  # an internal note: stays in the topic
    kind = kind_of(message)
    if kind is None:
        return
    relay = _relay(bot, session, settings, county, i18n)
    conv = await handoff.conversation(session, client.id)
    if conv.blocked:
        await message.reply(_("Not sent: this client is blocked. /unblock to write to them again."))
        return
    reply_to = None
    if message.reply_to_message is not None and message.reply_to_message.message_id != message.message_thread_id:
        pair = await handoff.by_staff_message(session, message.chat.id, message.reply_to_message.message_id)
        reply_to = pair.client_message_id if pair else None
    translation, failed = await relay.translate(original, OFFICE_LOCALE, client.locale or OFFICE_LOCALE)
    composed = relay.outgoing_text(client, original, translation, failed) if (translation or failed) else None
    try:
        copy_id = await call(
            lambda: relay.copy(message, to_chat=client.telegram_id, thread=None, reply_to=reply_to, composed=composed)
        )
    except (TelegramForbiddenError, TelegramBadRequest) as exc:
        if isinstance(exc, TelegramBadRequest) and "chat not found" not in exc.message.lower():
            raise
        await message.reply(_("⚠️ Not delivered – the client is unreachable (they blocked the bot or left Telegram)."))
        await handoff.record(
            session,
            client.id,
            direction="out",
            kind=kind,
            client_message_id=None,
            staff_chat_id=message.chat.id,
            staff_message_id=message.message_id,
            status="failed",
            staff_id=staff.id,
        )
        if client.reachable:
            await clients.set_reachable(session, client.id, False)
            await relay.refresh_header(client.id)
        return
    if translation is not None:
        await message.reply(_("🌐 Sent to the client in their language:") + "\n" + escape(translation))
    await handoff.record(
        session,
        client.id,
        direction="out",
        kind=kind,
        client_message_id=copy_id,
        staff_chat_id=message.chat.id,
        staff_message_id=message.message_id,
        staff_id=staff.id,
        translated=translation is not None,
        transcript=original if settings.keep_transcript and original else None,
    )
    await handoff.staff_answered(session, client.id)
    if not client.reachable:
        await clients.set_reachable(session, client.id, True)
        await relay.refresh_header(client.id)


async def mirror_staff_edit(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    county: County,
    i18n: I18n,
) -> None:
    pair = await handoff.by_staff_message(session, message.chat.id, message.message_id)
    if pair is None or pair.direction != "out" or pair.client_message_id is None:
        return
    client = await handoff.client(session, pair.client_id)
    original = message.text or message.caption
    if client is None or not original:
        return
    relay = _relay(bot, session, settings, county, i18n)
    translation, failed = await relay.translate(original, OFFICE_LOCALE, client.locale or OFFICE_LOCALE)
    shown = relay.outgoing_text(client, original, translation, failed)
    if await relay.edit_copy(client.telegram_id, pair.client_message_id, shown, is_text=message.text is not None):
        await handoff.edited(session, pair.id, original if settings.keep_transcript else None)
    else:
        await message.reply(_("The edit could not be shown to the client (Telegram no longer allows it)."))


# ---------------------------------------------------------------------- topic commands


async def write_note(message: Message) -> None:
    """/note text: stays in the topic, like a message starting with `!`."""


async def show_language(message: Message, topic_client: ClientDTO) -> None:
    client = topic_client
    language = f"{native_name(client.locale)} ({client.locale})" if client.locale else "–"
    await message.reply(
        _("{reference} writes in {language}.").format(reference=escape(client.reference), language=escape(language))
    )


async def close_conversation(
    message: Message,
    topic_client: ClientDTO,
    bot: Bot,
    session: AsyncSession,
    staff: StaffDTO,
    settings: Settings,
    county: County,
    i18n: I18n,
) -> None:
    client = topic_client
    if message.message_thread_id is None:
        return
    relay = _relay(bot, session, settings, county, i18n)
    with relay.client_locale(client):
        goodbye = _(
            "Your case manager has closed this conversation. Thank you! If you need anything else, just write here "
            "again."
        )
    try:
        await call(lambda: bot.send_message(client.telegram_id, goodbye))
    except TelegramForbiddenError:
        await clients.set_reachable(session, client.id, False)
    await message.reply(_("Conversation closed. The client was told; their next message reopens this topic."))
    await handoff.close(session, client.id, staff.id)
    await relay.refresh_header(client.id)
    try:
        await bot.close_forum_topic(message.chat.id, message.message_thread_id)
    except TelegramBadRequest as exc:
        if "not_modified" not in exc.message.lower():
            raise


async def block_client(
    message: Message,
    topic_client: ClientDTO,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    staff: StaffDTO,
    settings: Settings,
    county: County,
    i18n: I18n,
) -> None:
    client = topic_client
    blocked = command.command == "block"
    await handoff.set_blocked(session, client.id, blocked, staff.id)
    if blocked:
        await message.reply(_("Blocked: messages from this client are no longer passed on. /unblock undoes it."))
    else:
        await message.reply(_("Unblocked: messages from this client are passed on again."))
    await _relay(bot, session, settings, county, i18n).refresh_header(client.id)


async def offer_assignment(
    message: Message,
    topic_client: ClientDTO,
    bot: Bot,
    session: AsyncSession,
    staff: StaffDTO,
    settings: Settings,
    county: County,
    i18n: I18n,
) -> None:
    if not staff.is_admin:
        await message.reply(_("Only admins can assign clients. Use the Claim button in the Intake topic."))
        return
    client = topic_client
    managers = await handoff.case_managers(session)
    await message.reply(
        _("Who should be the case manager of {reference}?").format(reference=escape(client.reference)),
        reply_markup=_relay(bot, session, settings, county, i18n).assign_keyboard(client.id, managers),
    )


async def explain_booking(message: Message, topic_client: ClientDTO) -> None:
    """Booking needs buttons only the staff member sees, so it happens in their private chat with kimbot."""
    await message.reply(
        _("To book for this client, write to me in a private chat: /bookfor {reference}").format(
            reference=escape(topic_client.reference)
        )
    )


async def ignore_command(message: Message) -> None:
    """Other commands in a topic are never relayed to the client."""


# ---------------------------------------------------------------------- claim and assign


async def _assigned(
    relay: TopicRelay, client: ClientDTO, member: StaffDTO, callback: CallbackQuery, session: AsyncSession
) -> None:
    await relay.refresh_header(client.id)
    conv = await handoff.conversation(session, client.id)
    text = _("{reference}: case manager {name}").format(
        reference=escape(client.reference), name=escape(member.display_name)
    )
    if conv.intake_message_id is not None and conv.chat_id is not None:
        with contextlib.suppress(TelegramBadRequest):  # the card may be gone with a deleted Intake topic
            await relay.bot.edit_message_text(text, chat_id=relay.chat_id, message_id=conv.intake_message_id)
    await relay.say_in_topic(client, _("Case manager: {name}").format(name=mention(member)))
    if isinstance(callback.message, Message) and callback.message.message_id != conv.intake_message_id:
        await callback.message.edit_text(text)


async def claim_client(
    callback: CallbackQuery,
    callback_data: ClaimCb,
    bot: Bot,
    session: AsyncSession,
    staff: StaffDTO,
    settings: Settings,
    county: County,
    i18n: I18n,
) -> None:
    client = await handoff.client(session, callback_data.client)
    if client is None:
        await callback.answer(_("This client no longer exists."), show_alert=True)
        return
    if not await handoff.claim(session, client.id, staff.id):
        current = await handoff.staff_by_id(session, client.case_manager_id)
        await callback.answer(
            _("Already taken by {name}.").format(name=current.display_name if current else "–"), show_alert=True
        )
        return
    await callback.answer(_("You are now the case manager of {reference}.").format(reference=client.reference))
    client = await handoff.client(session, client.id) or client
    await _assigned(_relay(bot, session, settings, county, i18n), client, staff, callback, session)


async def assign_client(
    callback: CallbackQuery,
    callback_data: AssignCb,
    bot: Bot,
    session: AsyncSession,
    staff: StaffDTO,
    settings: Settings,
    county: County,
    i18n: I18n,
) -> None:
    if not staff.is_admin:
        await callback.answer(_("Only admins can assign clients."), show_alert=True)
        return
    client = await handoff.client(session, callback_data.client)
    if client is None:
        await callback.answer(_("This client no longer exists."), show_alert=True)
        return
    relay = _relay(bot, session, settings, county, i18n)
    if callback_data.staff == 0:  # "Assign…" on the Intake card: show the case managers
        await callback.answer()
        managers = await handoff.case_managers(session)
        if isinstance(callback.message, Message):
            await callback.message.edit_reply_markup(reply_markup=relay.assign_keyboard(client.id, managers))
        return
    member = await handoff.staff_by_id(session, callback_data.staff)
    if member is None:
        await callback.answer(_("This staff member is no longer active."), show_alert=True)
        return
    await handoff.assign(session, client.id, member.id, staff.id)
    await callback.answer(_("Assigned."))
    client = await handoff.client(session, client.id) or client
    await _assigned(relay, client, member, callback, session)


async def refuse_button(callback: CallbackQuery) -> None:
    await callback.answer(_("This button is only for staff of the integration management."), show_alert=True)


# ---------------------------------------------------------------------- absence


async def go_away(
    message: Message, command: CommandObject, session: AsyncSession, staff: StaffDTO, county: County, settings: Settings
) -> None:
    """/away until 2027-01-07 [deputy's numeric Telegram id] – the deputy defaults to the one in the county file."""
    args = command.args or ""
    found = _DATE.search(args)
    today = office_hours.now().astimezone(settings.tz).date()
    try:
        until = date.fromisoformat(found.group(1)) if found else None
    except ValueError:
        until = None
    if until is None or until < today:
        await message.reply(_("Please give the last day of your absence, e.g. /away until 2027-01-07"))
        return
    rest = args.replace(found.group(1), "") if found else args
    numbers = [int(n) for n in re.findall(r"\b\d{5,}\b", rest)]
    member = next((m for m in county.staff if m.telegram_id == staff.telegram_id), None)
    deputy_telegram_id = numbers[0] if numbers else getattr(member, "deputy", None)
    deputy = None
    if deputy_telegram_id is not None:
        deputy = await staff_service.find_active(session, deputy_telegram_id)
    await handoff.set_absence(session, staff.id, until, deputy.id if deputy else None)
    absence = await handoff.absence(session, staff.id, today)
    named = absence.deputy.display_name if absence and absence.deputy else "–"
    await message.reply(
        _("Away until {date}. Your clients' messages alert {deputy}; your clients are told who answers.").format(
            date=fmt_date(until, OFFICE_LOCALE, "medium"), deputy=escape(named)
        )
    )


async def come_back(message: Message, session: AsyncSession, staff: StaffDTO) -> None:
    await handoff.clear_absence(session, staff.id)
    await message.reply(_("Welcome back. Your clients' messages alert you again."))


def build_router() -> Router:
    """Mounted in the staff area; the staff filter here as well, should it ever move."""
    router = Router(name="staff_topics")
    router.message.filter(is_staff)
    router.edited_message.filter(is_staff)
    topic = (in_staff_group, in_client_topic)
    router.message.register(go_away, Command("away"))
    router.message.register(come_back, Command("back"))
    router.callback_query.register(claim_client, ClaimCb.filter(), in_staff_group, is_staff)
    router.callback_query.register(assign_client, AssignCb.filter(), in_staff_group, is_staff)
    router.callback_query.register(refuse_button, ClaimCb.filter())
    router.callback_query.register(refuse_button, AssignCb.filter())
    router.message.register(write_note, Command("note"), *topic)
    router.message.register(show_language, Command("lang"), *topic)
    router.message.register(close_conversation, Command("close"), *topic)
    router.message.register(block_client, Command("block", "unblock"), *topic)
    router.message.register(offer_assignment, Command("assign"), *topic)
    router.message.register(explain_booking, Command("book"), *topic)
    router.message.register(ignore_command, is_command, *topic)
    router.message.register(relay_to_client, *topic)
    router.edited_message.register(mirror_staff_edit, in_staff_group)
    return router


def register_not_staff(router: Router) -> None:
    router.callback_query.register(refuse_button, ClaimCb.filter())
    router.callback_query.register(refuse_button, AssignCb.filter())

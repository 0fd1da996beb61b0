"""Saved replies in a client's topic: /t lists the county's templates as buttons, /t NAME (or a tap) sends one.

The client gets the approved text in their language with the placeholders filled from their case; staff see in
the topic what was sent, in German. Without an approved translation staff are asked first, and the reply goes out
machine-translated (through the handoff's translator) and marked so on both sides; without a translator nothing
is sent. Which text, and what fills it, is decided in `bot.services.reply_templates`; a sent reply is a staff
answer like any other (the pair is stored, the client's wait ends: `bot.services.escalation`).

Staff only, in the staff group: every button re-checks that the tapping user is staff (the caller middleware reads
the staff table) and that the topic's client still exists and is the one the button names.
"""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.core.county import County, ReplyTemplate
from bot.core.county_text import CountyTexts
from bot.core.i18n import DEFAULT_LOCALE, OFFICE_LOCALE
from bot.db.base import utcnow
from bot.services import audit, escalation, handoff, reachability, reply_templates
from bot.services.dto import ClientDTO, StaffDTO
from bot.services.reply_templates import Prepared
from bot.services.translator import TranslationError, Translator
from bot.telegram.callbacks import TemplateCb
from bot.telegram.topics import Forum, call, with_forum
from handlers.handoff import templates_views as views
from handlers.handoff.filters import in_client_topic, in_staff_group, is_staff
from handlers.handoff.views import outgoing_text

Reply = tuple[str, InlineKeyboardMarkup | None]


async def _prepare(
    forum: Forum, client: ClientDTO, staff: StaffDTO, template: ReplyTemplate, texts: CountyTexts
) -> Prepared:
    county = forum.topics.county
    facts = await reply_templates.case_facts(forum.session, county, client, staff)
    return reply_templates.prepare(template, facts, client.locale or DEFAULT_LOCALE, forum.settings.tz, texts)


async def _offer(
    forum: Forum,
    client: ClientDTO,
    staff: StaffDTO,
    template: ReplyTemplate,
    translator: Translator | None,
    texts: CountyTexts,
) -> Reply | None:
    """Send the approved text now; else say what stands in the way, or ask before a machine translation."""
    prepared = await _prepare(forum, client, staff, template, texts)
    if not prepared.sendable:
        return views.missing_text(prepared), None
    if prepared.approved is not None:
        return await _deliver(forum, client, staff, prepared, prepared.approved, machine=False)
    if translator is None:
        return views.no_translator_text(prepared), None
    with forum.topics.office():
        return views.confirm_text(prepared), views.confirm_keyboard(client.id, prepared.name)


async def _deliver(
    forum: Forum, client: ClientDTO, staff: StaffDTO, prepared: Prepared, text: str, *, machine: bool
) -> Reply | None:
    """To the client, then the German note in the topic and the pair; a reply to staff only when it failed."""
    if (await handoff.conversation(forum.session, client.id)).blocked:
        return _("Not sent: this client is blocked. /unblock to write to them again."), None
    try:
        sent = await call(lambda: forum.bot.send_message(client.telegram_id, text))
    except (TelegramForbiddenError, TelegramBadRequest) as exc:
        if isinstance(exc, TelegramBadRequest) and "chat not found" not in exc.message.lower():
            raise
        cause = f"template:{client.id}:{prepared.name}:{int(utcnow().timestamp())}"
        await reachability.became_unreachable(
            forum.session, client.id, now=utcnow(), staff_chat_id=forum.settings.staff_chat_id, cause=cause
        )
        return _("⚠️ Not delivered – the client is unreachable (they blocked the bot or left Telegram)."), None
    with forum.topics.office():
        note = views.sent_note(prepared, machine=machine)
    note_id = await forum.say_in_topic(client, note)
    await handoff.record(
        forum.session,
        client.id,
        direction="out",
        kind="text",
        client_message_id=sent.message_id,
        staff_chat_id=forum.chat_id,
        staff_message_id=note_id,
        staff_id=staff.id,
        translated=machine,
        transcript=prepared.german_plain if forum.settings.keep_transcript else None,
    )
    await escalation.answered(forum.session, client, utcnow())
    await handoff.staff_answered(forum.session, client.id)
    audit.record(
        forum.session,
        "reply_template_sent",
        actor="staff",
        actor_id=staff.id,
        client_id=client.id,
        template=prepared.name,
        machine=machine,
    )
    return None


# ---------------------------------------------------------------------- /t


async def choose_template(
    message: Message,
    command: CommandObject,
    topic_client: ClientDTO,
    forum: Forum,
    staff: StaffDTO,
    translator: Translator | None,
    county_texts: CountyTexts,
) -> None:
    county: County = forum.topics.county
    name = (command.args or "").strip().lower()
    if not name:
        locale = topic_client.locale or DEFAULT_LOCALE
        entries = reply_templates.approved_in(county, locale, county_texts)
        markup = views.list_keyboard(topic_client.id, entries) if entries else None
        await message.reply(views.list_text(topic_client, locale, len(entries)), reply_markup=markup)
        return
    template = county.reply_template(name)
    if template is None:
        await message.reply(views.unknown_text(name))
        return
    answer = await _offer(forum, topic_client, staff, template, translator, county_texts)
    if answer is not None:
        await message.reply(answer[0], reply_markup=answer[1])


async def explain_topics_only(message: Message) -> None:
    await message.reply(_("Saved replies are sent in a client's topic: write /t there."))


# ---------------------------------------------------------------------- buttons


async def _button_client(callback: CallbackQuery, data: TemplateCb, forum: Forum) -> ClientDTO | None:
    """The client of the topic the button is in, if it still exists and is the one the button names."""
    message = callback.message
    if not isinstance(message, Message) or message.message_thread_id is None:
        return None
    client_id = await handoff.client_id_for_topic(forum.session, message.chat.id, message.message_thread_id)
    if client_id is None or client_id != data.client:
        return None
    return await handoff.client(forum.session, client_id)


async def _button_template(
    callback: CallbackQuery, data: TemplateCb, forum: Forum
) -> tuple[ClientDTO, ReplyTemplate, Message] | None:
    client = await _button_client(callback, data, forum)
    template = forum.topics.county.reply_template(data.name)
    if client is None or template is None or not isinstance(callback.message, Message):
        await callback.answer(_("This is no longer possible."), show_alert=True)
        return None
    return client, template, callback.message


async def send_from_list(
    callback: CallbackQuery,
    callback_data: TemplateCb,
    forum: Forum,
    staff: StaffDTO,
    translator: Translator | None,
    county_texts: CountyTexts,
) -> None:
    found = await _button_template(callback, callback_data, forum)
    if found is None:
        return
    client, template, message = found
    await callback.answer()
    answer = await _offer(forum, client, staff, template, translator, county_texts)
    if answer is not None:
        await message.reply(answer[0], reply_markup=answer[1])


async def send_machine_translated(
    callback: CallbackQuery,
    callback_data: TemplateCb,
    forum: Forum,
    staff: StaffDTO,
    translator: Translator | None,
    county_texts: CountyTexts,
) -> None:
    """ "Send machine-translated": the German text, filled again now, through the translator, marked for both."""
    found = await _button_template(callback, callback_data, forum)
    if found is None:
        return
    client, template, message = found
    prepared = await _prepare(forum, client, staff, template, county_texts)
    if translator is None or not prepared.sendable:
        await callback.answer(_("This is no longer possible."), show_alert=True)
        return
    await callback.answer()
    try:
        translation = await translator.translate(prepared.german_plain, OFFICE_LOCALE, prepared.locale)
    except TranslationError:
        await message.edit_text(views.translation_failed_text(prepared))
        return
    with forum.topics.client_locale(client):
        text = outgoing_text(prepared.german, escape(translation, quote=False), False)
    failed = await _deliver(forum, client, staff, prepared, text, machine=True)
    await message.edit_text(failed[0] if failed else views.sent_machine_translated(), reply_markup=None)


async def do_not_send(callback: CallbackQuery, callback_data: TemplateCb, forum: Forum) -> None:
    if await _button_template(callback, callback_data, forum) is None or not isinstance(callback.message, Message):
        return
    await callback.answer()
    await callback.message.edit_text(views.not_sent_text())


async def refuse_button(callback: CallbackQuery) -> None:
    await callback.answer(_("This button is only for staff of the integration management."), show_alert=True)


def build_router() -> Router:
    """Mounted ahead of the three areas (bot/app.py): the staff area's topic router would otherwise take /t as
    an unknown command. Each handler checks the command or button first, so other updates pass quickly."""
    router = Router(name="reply_templates")
    topic = (in_staff_group, is_staff, in_client_topic, with_forum)
    router.message.register(choose_template, Command("t"), *topic)
    router.message.register(explain_topics_only, Command("t"), is_staff)
    staff_button = (in_staff_group, is_staff, with_forum)
    router.callback_query.register(send_from_list, TemplateCb.filter(F.action == "send"), *staff_button)
    router.callback_query.register(send_machine_translated, TemplateCb.filter(F.action == "mt"), *staff_button)
    router.callback_query.register(do_not_send, TemplateCb.filter(F.action == "no"), *staff_button)
    router.callback_query.register(refuse_button, TemplateCb.filter())
    return router

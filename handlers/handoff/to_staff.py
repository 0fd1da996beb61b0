"""Client → staff: one client message into their topic (translated for staff when machine translation is on),
then the handoff rules carried out (mention, absence notice, out-of-hours reply – decided by
`bot.services.handoff_rules`), the pair stored, the header card refreshed for a returning client; and a client's
edit mirrored onto the copy. Used by the client-side handlers (a free message, a file sent after the notice)."""

from __future__ import annotations

from aiogram.types import Message

from bot.core.i18n import DEFAULT_LOCALE
from bot.db.base import utcnow
from bot.services import clients, handoff, handoff_rules, office_hours
from bot.services.dto import ClientDTO
from bot.services.translator import Translator
from bot.telegram.topics import Forum
from handlers.handoff import views
from handlers.handoff.translation import from_client
from handlers.handoff.voice import transcribe_later


async def pass_on(forum: Forum, client: ClientDTO, message: Message, kind: str, translator: Translator | None) -> None:
    """Put one client message into their topic, then mention, absence notice and out-of-hours reply."""
    conv = await forum.conversation(client.id)
    original = message.text or message.caption
    incoming = await from_client(translator, original, client.locale)
    translation, failed = incoming.translation, incoming.failed
    composed = None
    if original and (translation is not None or failed):
        with forum.topics.office():
            composed = views.incoming_text(original, translation, failed, incoming.source, detected=incoming.detected)
    reply_to = await _reply_target(forum, client, message)
    await forum.topic(client, first_name=message.from_user.first_name if message.from_user else None)

    async def send(thread: int) -> int:
        return await forum.copy(message, to_chat=forum.chat_id, thread=thread, reply_to=reply_to, composed=composed)

    staff_message_id = await forum.into_topic(client, send)
    for flag in await after_client_message(forum, client, conv):
        await handoff.mark(forum.session, client.id, flag)
    await handoff.client_wrote(forum.session, client.id)
    forum.forget(client.id)
    await _record(forum, client, message, kind, staff_message_id, translated=translation is not None)
    await transcribe_later(forum, client, message, kind, staff_message_id)  # a voice note: transcribed for staff
    if not client.reachable:
        await clients.set_reachable(forum.session, client.id, True)
    if handoff_rules.refresh_header(conv, client.reachable, utcnow()):
        # A returning client: appointments or documents may have changed since the card was written.
        await forum.refresh_header(client.id)


async def _reply_target(forum: Forum, client: ClientDTO, message: Message) -> int | None:
    """The copy in the topic of the message the client replied to, if any."""
    if message.reply_to_message is None:
        return None
    pair = await handoff.by_client_message(forum.session, client.id, message.reply_to_message.message_id)
    return pair.staff_message_id if pair else None


async def _record(
    forum: Forum, client: ClientDTO, message: Message, kind: str, staff_message_id: int, *, translated: bool
) -> None:
    original = message.text or message.caption
    await handoff.record(
        forum.session,
        client.id,
        direction="in",
        kind=kind,
        client_message_id=message.message_id,
        staff_chat_id=forum.chat_id,
        staff_message_id=staff_message_id,
        translated=translated,
        transcript=original if forum.settings.keep_transcript else None,
    )


async def after_client_message(forum: Forum, client: ClientDTO, conv: handoff.ConversationDTO) -> list[str]:
    """Carry out what the rules decide after a client message; returns the flags to store."""
    now, tz = utcnow(), forum.settings.tz
    manager = await handoff.staff_by_id(forum.session, client.case_manager_id)
    today = office_hours.now().astimezone(tz).date()
    away = await handoff.absence(forum.session, manager.id, today) if manager else None
    office = office_hours.office_for(forum.topics.county, manager.office_key if manager else None, client.municipality)
    facts = handoff_rules.ClientMessageFacts(conv, manager, away, office, now, office_hours.now(), tz)
    decision = handoff_rules.after_client_message(facts)
    if manager is not None and decision.mention is not None:
        with forum.topics.office():
            if away is not None and away.deputy is not None and decision.mention == "deputy":
                text = views.deputy_alert(away.deputy, manager, away.until)
            else:
                text = views.manager_alert(manager)
        await forum.say_in_topic(client, text)
    await _tell_client(forum, client, away, decision)
    return decision.marks


async def _tell_client(
    forum: Forum, client: ClientDTO, away: handoff.AbsenceDTO | None, decision: handoff_rules.AfterMessage
) -> None:
    """Who answers during an absence, and outside office hours when – in the client's language."""
    locale = client.locale or DEFAULT_LOCALE
    if away is not None and away.deputy is not None and decision.away_notice:
        with forum.topics.client_locale(client):
            notice = views.away_notice(away.deputy, away.until, locale)
        await forum.bot.send_message(client.telegram_id, notice)
    if decision.auto_reply:
        with forum.topics.client_locale(client):
            reply = views.out_of_hours_reply(decision.opens, locale, forum.settings.tz)
        await forum.bot.send_message(client.telegram_id, reply)


async def mirror_client_edit(forum: Forum, client: ClientDTO, message: Message, translator: Translator | None) -> None:
    pair = await handoff.by_client_message(forum.session, client.id, message.message_id)
    if pair is None or pair.direction != "in" or pair.staff_message_id is None or pair.staff_chat_id is None:
        return
    original = message.text or message.caption
    if not original:
        return
    incoming = await from_client(translator, original, client.locale)
    with forum.topics.office():
        shown = views.incoming_text(
            original, incoming.translation, incoming.failed, incoming.source, detected=incoming.detected
        )
    await forum.edit_copy(pair.staff_chat_id, pair.staff_message_id, shown, is_text=message.text is not None)
    await handoff.edited(forum.session, pair.id, original if forum.settings.keep_transcript else None)

"""The client side of the handoff: "Write to my case manager" and any free message outside another flow go into the
client's forum topic in the staff group; edits are mirrored. Also home of `TopicRelay`, the small Telegram adapter
both directions share (topic on first need, recreated when deleted, reopened when closed; header card; Intake card).

Messages are copied (copyMessage), never forwarded, so no sender profile leaks. Diagram: docs/flows/handoff.mmd.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html import escape
from typing import Any, TypeVar

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, MessageId, ReplyParameters
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import Settings
from bot.core.county import County
from bot.core.i18n import DEFAULT_LOCALE, OFFICE_LOCALE, fmt_date, fmt_datetime, native_name
from bot.db.base import utcnow
from bot.services import booking, clients, documents, handoff, office_hours
from bot.services.dto import ClientDTO, StaffDTO
from bot.services.translator import TranslationError, build_translator
from bot.telegram.callbacks import AssignCb, ClaimCb, IdNoticeCb, MenuCb

log = logging.getLogger("kimbot.relay")

T = TypeVar("T")

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
FLOOD_WINDOW = timedelta(minutes=1)
DOCUMENTS_SOON = timedelta(days=90)
HEADER_REFRESH = timedelta(hours=6)
# Held messages are passed on this many seconds after flood protection stepped in (tests shorten it).
FLOOD_DELAY_SECONDS = 60.0
KINDS = (
    "text",
    "photo",
    "document",
    "voice",
    "video",
    "audio",
    "video_note",
    "animation",
    "sticker",
    "location",
    "contact",
)
_TOPIC_MISSING = ("thread not found", "topic_deleted", "topic_id_invalid", "topic not found")


def kind_of(message: Message) -> str | None:
    return next((kind for kind in KINDS if getattr(message, kind, None)), None)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split into parts of at most `limit` UTF-16 code units (Telegram's measure), at line or word breaks."""

    def size(value: str) -> int:
        return len(value.encode("utf-16-le")) // 2

    parts: list[str] = []
    rest = text
    while size(rest) > limit:
        cut = limit
        while size(rest[:cut]) > limit:
            cut -= 1
        window = rest[:cut]
        at = max(window.rfind("\n"), window.rfind(" "))
        if at < limit // 2:
            at = cut
        parts.append(rest[:at].rstrip())
        rest = rest[at:].lstrip()
    if rest:
        parts.append(rest)
    return parts


async def call(factory: Callable[[], Awaitable[T]], attempts: int = 4) -> T:
    """Call Telegram; on 429 wait as long as it asks and try again (staff groups allow ~20 messages a minute)."""
    for attempt in range(attempts):
        try:
            return await factory()
        except TelegramRetryAfter as exc:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(exc.retry_after)
    raise AssertionError("unreachable")


def mention(member: StaffDTO) -> str:
    # A mention by numeric id (tg://user?id=…) notifies the person; never by @username.
    return f'<a href="tg://user?id={member.telegram_id}">{escape(member.display_name)}</a>'


@dataclass
class _ForumState:
    """What this process knows about the staff forum beyond the database, per event loop (tests run one loop
    each): the lock around creating the Intake topic, the Intake ids known, and the client topics being created
    (createForumTopic calls in flight per chat; topics created by updates that have not committed yet)."""

    intake_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    intake_threads: dict[int, int] = field(default_factory=dict)
    topics_requested: collections.Counter[int] = field(default_factory=collections.Counter)
    uncommitted_topics: dict[tuple[int, int], asyncio.Event] = field(default_factory=dict)


_FORUM_STATE: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _ForumState] = weakref.WeakKeyDictionary()


def _forum_state() -> _ForumState:
    loop = asyncio.get_running_loop()
    if loop not in _FORUM_STATE:
        _FORUM_STATE[loop] = _ForumState()
    return _FORUM_STATE[loop]


async def _create_client_topic(bot: Bot, session: AsyncSession, chat_id: int, name: str) -> int:
    """createForumTopic, tracked until the update's transaction ends (committed or rolled back): staff can write
    in the topic as soon as Telegram has it, before kimbot has even read the answer (see `topic_pending`)."""
    state = _forum_state()
    state.topics_requested[chat_id] += 1
    try:
        created = await call(lambda: bot.create_forum_topic(chat_id, name=name))
        thread = created.message_thread_id
        ended = state.uncommitted_topics[(chat_id, thread)] = asyncio.Event()
    finally:
        state.topics_requested[chat_id] -= 1

    def on_end(_session: Any, transaction: Any) -> None:
        if transaction.parent is None and not ended.is_set():  # the update's transaction, not a savepoint in it
            if state.uncommitted_topics.get((chat_id, thread)) is ended:
                del state.uncommitted_topics[(chat_id, thread)]
            ended.set()

    event.listen(session.sync_session, "after_transaction_end", on_end)
    return thread


def topic_pending(chat_id: int, thread: int) -> asyncio.Event | bool:
    """Whether this process may still be writing down the topic `thread`: the event that is set when the update
    that created it has committed (or failed), True while a topic is being requested in the chat (its id not known
    yet), False when no update of this process is creating topics there."""
    state = _forum_state()
    return state.uncommitted_topics.get((chat_id, thread)) or state.topics_requested[chat_id] > 0


class NoStaffChat(Exception):
    """STAFF_CHAT_ID is not configured."""


@dataclass
class TopicRelay:
    """Puts things into the staff forum for one update (or one job): the topic per client, its header card, the
    Intake card, and copies in both directions. Database writes come after the Telegram calls where possible."""

    bot: Bot
    session: AsyncSession
    settings: Settings
    county: County
    i18n: I18n
    _conversations: dict[int, handoff.ConversationDTO] = field(default_factory=dict, init=False, repr=False)

    async def conversation(self, client_id: int) -> handoff.ConversationDTO:
        """The conversation, read once per update (each write below forgets it)."""
        if client_id not in self._conversations:
            self._conversations[client_id] = await handoff.conversation(self.session, client_id)
        return self._conversations[client_id]

    @property
    def chat_id(self) -> int:
        if self.settings.staff_chat_id is None:
            raise NoStaffChat
        return self.settings.staff_chat_id

    @contextlib.contextmanager
    def office(self) -> Iterator[None]:
        """Texts for the staff group are in the office language."""
        with self.i18n.use_locale(OFFICE_LOCALE):
            yield

    @contextlib.contextmanager
    def client_locale(self, client: ClientDTO) -> Iterator[None]:
        with self.i18n.use_locale(client.locale or DEFAULT_LOCALE):
            yield

    # ------------------------------------------------------------------ topic and header card

    def topic_name(self, client: ClientDTO, first_name: str | None) -> str:
        language = (client.locale or "?").upper()
        name = f"{client.reference} · {language}"
        if self.settings.topic_names and first_name:
            name = f"{name} · {first_name}"
        return name[:128]

    async def header_text(self, client: ClientDTO) -> str:
        conv = await self.conversation(client.id)
        manager = await handoff.staff_by_id(self.session, client.case_manager_id)
        town = self.county.municipality(client.municipality or "")
        lines = [f"🗂 <b>{escape(client.reference)}</b>"]
        with self.office():
            language = f"{native_name(client.locale)} ({client.locale})" if client.locale else "–"
            lines.append(_("Language: {language}").format(language=escape(language)))
            lines.append(_("Municipality: {name}").format(name=escape(town.name if town else "–")))
            if manager is None:
                lines.append(_("Case manager: none yet – see the Intake topic"))
            else:
                lines.append(_("Case manager: {name}").format(name=escape(manager.display_name)))
                today = office_hours.now().astimezone(self.settings.tz).date()
                away = await handoff.absence(self.session, manager.id, today)
                if away is not None:
                    lines.append(
                        _("Away until {date}; deputy: {deputy}").format(
                            date=fmt_date(away.until, OFFICE_LOCALE, "medium"),
                            deputy=escape(away.deputy.display_name if away.deputy else "–"),
                        )
                    )
            lines.extend(await self.case_lines(client))
            lines.append(_("Reachable: yes") if client.reachable else _("Reachable: no – the client blocked the bot"))
            if conv.blocked:
                lines.append(_("Status: blocked by staff"))
            elif conv.status == "closed":
                lines.append(_("Status: closed"))
            else:
                lines.append(_("Status: open"))
            lines.append("")
            lines.append(
                _("Messages here go to the client. Internal notes start with ! or /note. Commands: {commands}").format(
                    commands="/assign /close /lang /block /unblock /note"
                )
            )
        return "\n".join(lines)

    async def case_lines(self, client: ClientDTO) -> list[str]:
        """Next appointment and documents expiring within 90 days, for the header card (office language)."""
        tz = self.settings.tz
        coming = await booking.upcoming(self.session, client.id)
        lines = []
        if coming:
            service = next((s for s in self.county.services if s.key == coming[0].service_key), None)
            lines.append(
                _("Next appointment: {when} – {service}").format(
                    when=fmt_datetime(coming[0].starts_at, OFFICE_LOCALE, tz),
                    service=escape(service.name_for(OFFICE_LOCALE) if service else coming[0].service_key),
                )
            )
        else:
            lines.append(_("Next appointment: none"))
        today = office_hours.now().astimezone(tz).date()
        soon = [
            d for d in await documents.for_client(self.session, client.id) if d.expires_on <= today + DOCUMENTS_SOON
        ]
        if soon:
            listed = ", ".join(f"{escape(d.doc_type)} {fmt_date(d.expires_on, OFFICE_LOCALE, 'medium')}" for d in soon)
            lines.append(_("Documents expiring soon: {documents}").format(documents=listed))
        return lines

    async def refresh_header(self, client_id: int) -> None:
        """Keep the header card up to date (language, case manager, absence, reachability, status)."""
        client = await handoff.client(self.session, client_id)
        conv = await self.conversation(client_id)
        if client is None or conv.header_message_id is None or conv.chat_id is None:
            return
        text = await self.header_text(client)
        try:
            await call(
                lambda: self.bot.edit_message_text(text, chat_id=conv.chat_id, message_id=conv.header_message_id)
            )
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:
                log.info("header card not updated: %s", exc.message[:80])

    async def topic(self, client: ClientDTO, *, recreate: bool = False, first_name: str | None = None) -> int:
        """The client's topic, created on first need (or again when it was deleted)."""
        conv = await self.conversation(client.id)
        if conv.thread_id is not None and conv.chat_id == self.chat_id and not recreate:
            return conv.thread_id
        thread = await _create_client_topic(self.bot, self.session, self.chat_id, self.topic_name(client, first_name))
        header_text = await self.header_text(client)
        header = await call(
            lambda: self.bot.send_message(
                self.chat_id, header_text, message_thread_id=thread, disable_notification=True
            )
        )
        with contextlib.suppress(TelegramBadRequest):
            await self.bot.pin_chat_message(self.chat_id, header.message_id, disable_notification=True)
        if conv.thread_id is not None:
            with self.office():
                note = _(
                    "⚠️ The previous topic of this client was deleted or could not be used, so this one was created. "
                    "Messages from before are not shown here."
                )
            await call(lambda: self.bot.send_message(self.chat_id, note, message_thread_id=thread))
        card = None
        if client.case_manager_id is None and conv.intake_message_id is None:
            card = await self.post_intake_card(client)
        await handoff.set_topic(self.session, client.id, self.chat_id, thread, header.message_id)
        self._conversations.pop(client.id, None)
        if card is not None:
            await handoff.set_intake_card(self.session, client.id, card)
        return thread

    async def into_topic(self, client: ClientDTO, send: Callable[[int], Awaitable[T]]) -> T:
        """Send into the client's topic; a closed topic is reopened, a deleted one recreated, and the send repeated."""
        thread = await self.topic(client)
        try:
            return await call(lambda: send(thread))
        except TelegramBadRequest as exc:
            reason = exc.message.lower()
            if "topic_closed" in reason:
                try:
                    await call(lambda: self.bot.reopen_forum_topic(self.chat_id, thread))
                    return await call(lambda: send(thread))
                except TelegramBadRequest:
                    pass
            elif not any(marker in reason for marker in _TOPIC_MISSING):
                raise
        thread = await self.topic(client, recreate=True)
        return await call(lambda: send(thread))

    async def say_in_topic(self, client: ClientDTO, text: str, *, reply_to: int | None = None) -> int:
        reply = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None

        async def send(thread: int) -> int:
            sent = await self.bot.send_message(self.chat_id, text, message_thread_id=thread, reply_parameters=reply)
            return sent.message_id

        return await self.into_topic(client, send)

    # ------------------------------------------------------------------ intake

    async def intake_thread(self, *, broken: int | None = None) -> int:
        """The shared Intake topic, created once. Many clients' first messages arrive together: creation runs under
        a lock, and the id is remembered in this process until the creating update has committed it."""
        state = _forum_state()
        async with state.intake_lock:
            known = state.intake_threads.get(self.chat_id)
            if known is not None and known != broken:
                return known
            thread = await handoff.staff_topic(self.session, handoff.INTAKE, self.chat_id)
            if thread is None or thread == broken:
                with self.office():
                    name = _("Intake – clients without a case manager")
                created = await call(lambda: self.bot.create_forum_topic(self.chat_id, name=name[:128]))
                thread = created.message_thread_id
                await handoff.set_staff_topic(self.session, handoff.INTAKE, self.chat_id, thread)
            state.intake_threads[self.chat_id] = thread
            return thread

    async def post_intake_card(self, client: ClientDTO) -> int:
        """A card in the Intake topic with Claim (any staff) and Assign (admins); returns its message id."""
        town = self.county.municipality(client.municipality or "")
        with self.office():
            text = _("New client {reference} ({language}, {municipality}) has no case manager yet.").format(
                reference=escape(client.reference),
                language=escape(native_name(client.locale) if client.locale else "–"),
                municipality=escape(town.name if town else "–"),
            )
            kb = InlineKeyboardBuilder()
            kb.button(text=_("Claim"), callback_data=ClaimCb(client=client.id))
            kb.button(text=_("Assign…"), callback_data=AssignCb(client=client.id, staff=0))
            markup = kb.as_markup()

        async def send(thread: int) -> Message:
            return await self.bot.send_message(self.chat_id, text, message_thread_id=thread, reply_markup=markup)

        thread = await self.intake_thread()
        try:
            card = await call(lambda: send(thread))
        except TelegramBadRequest:  # the Intake topic was deleted or closed: a new one
            thread = await self.intake_thread(broken=thread)
            card = await call(lambda: send(thread))
        return card.message_id

    def assign_keyboard(self, client_id: int, managers: list[StaffDTO]) -> InlineKeyboardMarkup:
        kb = InlineKeyboardBuilder()
        for member in managers:
            kb.button(text=member.display_name, callback_data=AssignCb(client=client_id, staff=member.id))
        kb.adjust(1)
        return kb.as_markup()

    # ------------------------------------------------------------------ translation

    async def translate(self, text: str | None, source: str | None, target: str) -> tuple[str | None, bool]:
        """(translation, failed). No translation when off, not needed, or nothing to translate."""
        translator = build_translator(self.settings.translate_url)
        if translator is None or not text or not text.strip() or (source or target) == target:
            return None, False
        try:
            return await translator.translate(text, source or "auto", target), False
        except TranslationError:
            return None, True

    def incoming_text(self, original: str, translation: str | None, failed: bool, source: str | None) -> str:
        """A client's words as staff see them: the original, then the office-language translation."""
        with self.office():
            if failed:
                return (
                    original + "\n\n⚠️ " + _("Automatic translation is not available right now; this is the original.")
                )
            if translation is None:
                return original
            label = _("Machine translation ({source} → {target})").format(source=source or "?", target=OFFICE_LOCALE)
            return f"{original}\n\n🌐 {label}:\n{translation}"

    def outgoing_text(self, client: ClientDTO, original: str, translation: str | None, failed: bool) -> str:
        """A staff answer as the client sees it: their language first, the original below, a short note."""
        with self.client_locale(client):
            if failed:
                return original + "\n\nℹ️ " + _("The automatic translation is not available right now.")
            if translation is None:
                return original
            return f"{translation}\n\n— {original}\n\nℹ️ " + _("Translated automatically.")

    async def copy(
        self,
        message: Message,
        *,
        to_chat: int,
        thread: int | None,
        reply_to: int | None,
        composed: str | None,
    ) -> int:
        """Copy `message` to `to_chat` (never forward). `composed` replaces its text or caption (translation). A
        caption over 1024 characters (Telegram refuses it in a copy) is split: its beginning stays the caption, the
        rest follows as text replying to the media."""
        reply = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
        if message.text is not None and composed is not None:
            parts = split_text(composed)
            first = await self.bot.send_message(
                to_chat, parts[0], message_thread_id=thread, reply_parameters=reply, parse_mode=None
            )
            for part in parts[1:]:
                await self.bot.send_message(to_chat, part, message_thread_id=thread, parse_mode=None)
            return first.message_id
        caption = composed if composed is not None else message.caption
        overflow: list[str] = []
        kwargs: dict[str, Any] = {}
        if caption is not None and (composed is not None or len(caption) > CAPTION_LIMIT):
            head = split_text(caption, CAPTION_LIMIT)[0]
            kwargs = {"caption": head, "parse_mode": None}
            rest = caption[len(head) :].strip()
            overflow = split_text(rest) if rest else []
        try:
            copied: MessageId = await self.bot.copy_message(
                to_chat,
                from_chat_id=message.chat.id,
                message_id=message.message_id,
                message_thread_id=thread,
                reply_parameters=reply,
                **kwargs,
            )
        except TelegramBadRequest as exc:
            # A caption we could not see (a message re-sent from a button) may be too long: the media still goes.
            if "caption is too long" not in exc.message or kwargs:
                raise
            copied = await self.bot.copy_message(
                to_chat,
                from_chat_id=message.chat.id,
                message_id=message.message_id,
                message_thread_id=thread,
                reply_parameters=reply,
                caption="📎",  # aiogram leaves out an empty caption, so the original would be kept
            )
        for part in overflow:
            await self.bot.send_message(
                to_chat,
                part,
                message_thread_id=thread,
                parse_mode=None,
                reply_parameters=ReplyParameters(message_id=copied.message_id, allow_sending_without_reply=True),
            )
        return copied.message_id

    # ------------------------------------------------------------------ client → staff

    async def pass_on(self, client: ClientDTO, message: Message, kind: str) -> None:
        """Put one client message into their topic, then mention, absence notice and out-of-hours reply."""
        conv = await self.conversation(client.id)
        original = message.text or message.caption
        translation, failed = await self.translate(original, client.locale, OFFICE_LOCALE)
        composed = self.incoming_text(original, translation, failed, client.locale) if original else None
        if translation is None and not failed:
            composed = None
        reply_to = None
        if message.reply_to_message is not None:
            pair = await handoff.by_client_message(self.session, client.id, message.reply_to_message.message_id)
            reply_to = pair.staff_message_id if pair else None
        first_name = message.from_user.first_name if message.from_user else None
        await self.topic(client, first_name=first_name)

        async def send(thread: int) -> int:
            return await self.copy(message, to_chat=self.chat_id, thread=thread, reply_to=reply_to, composed=composed)

        staff_message_id = await self.into_topic(client, send)
        marks = await self.after_client_message(client, conv)
        for flag in marks:
            await handoff.mark(self.session, client.id, flag)
        await handoff.client_wrote(self.session, client.id)
        self._conversations.pop(client.id, None)
        await handoff.record(
            self.session,
            client.id,
            direction="in",
            kind=kind,
            client_message_id=message.message_id,
            staff_chat_id=self.chat_id,
            staff_message_id=staff_message_id,
            translated=translation is not None,
            transcript=original if self.settings.keep_transcript else None,
        )
        quiet_for = utcnow() - conv.last_client_message_at if conv.last_client_message_at else None
        if not client.reachable:
            await clients.set_reachable(self.session, client.id, True)
            await self.refresh_header(client.id)
        elif conv.status == "closed" or (quiet_for is not None and quiet_for > HEADER_REFRESH):
            # A returning client: appointments or documents may have changed since the card was written.
            await self.refresh_header(client.id)

    async def after_client_message(self, client: ClientDTO, conv: handoff.ConversationDTO) -> list[str]:
        """Mention the case manager (or the deputy), tell the client about an absence and, outside office hours,
        when to expect an answer – each once per conversation. Returns the flags to store."""
        now = utcnow()
        marks: list[str] = []
        manager = await handoff.staff_by_id(self.session, client.case_manager_id)
        today = office_hours.now().astimezone(self.settings.tz).date()
        away = await handoff.absence(self.session, manager.id, today) if manager else None
        deputy_not_told = away is not None and away.deputy is not None and conv.away_notice_sent_at is None
        if manager is not None and (handoff.should_mention(conv, now) or deputy_not_told):
            with self.office():
                if away is not None and away.deputy is not None:
                    text = _("🔔 {deputy}: {manager} is away until {date} – please answer for them.").format(
                        deputy=mention(away.deputy),
                        manager=escape(manager.display_name),
                        date=fmt_date(away.until, OFFICE_LOCALE, "medium"),
                    )
                else:
                    text = _("🔔 {manager}: your client wrote.").format(manager=mention(manager))
            await self.say_in_topic(client, text)
            marks.append("mentioned_at")
        if away is not None and away.deputy is not None and conv.away_notice_sent_at is None:
            with self.client_locale(client):
                notice = _("Your case manager is away until {date}. {deputy} will answer you in the meantime.").format(
                    date=fmt_date(away.until, client.locale or DEFAULT_LOCALE, "long"),
                    deputy=escape(away.deputy.display_name),
                )
            await self.bot.send_message(client.telegram_id, notice)
            marks.append("away_notice_sent_at")
        office = office_hours.office_for(self.county, manager.office_key if manager else None, client.municipality)
        moment = office_hours.now()
        if (
            office is None
            or conv.auto_reply_sent_at is not None
            or office_hours.is_open(office, moment, self.settings.tz)
        ):
            return marks
        opens = office_hours.next_opening(office, moment, self.settings.tz)
        locale = client.locale or DEFAULT_LOCALE
        with self.client_locale(client):
            if opens is not None:
                reply = _(
                    "Thank you for your message. Our office is closed right now; "
                    "your case manager will answer from {when}."
                ).format(when=fmt_datetime(opens, locale, self.settings.tz))
            else:
                reply = _(
                    "Thank you for your message. Our office is closed right now; "
                    "your case manager will answer as soon as possible."
                )
        await self.bot.send_message(client.telegram_id, reply)
        marks.append("auto_reply_sent_at")
        return marks

    async def mirror_client_edit(self, client: ClientDTO, message: Message) -> None:
        pair = await handoff.by_client_message(self.session, client.id, message.message_id)
        if pair is None or pair.direction != "in" or pair.staff_message_id is None or pair.staff_chat_id is None:
            return
        original = message.text or message.caption
        if not original:
            return
        translation, failed = await self.translate(original, client.locale, OFFICE_LOCALE)
        shown = self.incoming_text(original, translation, failed, client.locale)
        await self.edit_copy(pair.staff_chat_id, pair.staff_message_id, shown, is_text=message.text is not None)
        await handoff.edited(self.session, pair.id, original if self.settings.keep_transcript else None)

    async def edit_copy(self, chat_id: int, message_id: int, text: str, *, is_text: bool) -> bool:
        """Mirror an edit onto our copy, as long as Telegram still allows editing it."""
        try:
            if is_text:
                await call(
                    lambda: self.bot.edit_message_text(
                        split_text(text)[0], chat_id=chat_id, message_id=message_id, parse_mode=None
                    )
                )
            else:
                await call(
                    lambda: self.bot.edit_message_caption(
                        chat_id=chat_id,
                        message_id=message_id,
                        caption=split_text(text, CAPTION_LIMIT)[0],
                        parse_mode=None,
                    )
                )
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:
                log.info("edit not mirrored: %s", exc.message[:80])
                return False
        return True


# ---------------------------------------------------------------------- flood protection: held messages


class HeldDelivery:
    """Delivers messages held by flood protection as one batch (copyMessages) per client, a while later.

    Held messages are rows in the database, so a restart loses none: they are delivered at the next start.
    Scheduling happens after the update's commit, so the delivery always sees the rows it was scheduled for.
    """

    def __init__(self) -> None:
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._again: set[int] = set()

    def schedule(self, client_id: int, delay: float, deliver: Callable[[int], Awaitable[None]]) -> None:
        if client_id in self._tasks:
            self._again.add(client_id)
            return
        self._tasks[client_id] = asyncio.create_task(self._run(client_id, delay, deliver))

    async def _run(self, client_id: int, delay: float, deliver: Callable[[int], Awaitable[None]]) -> None:
        try:
            await asyncio.sleep(delay)
            while True:
                self._again.discard(client_id)
                try:
                    await deliver(client_id)
                except Exception as exc:  # a batch that cannot go now is tried again at the next start
                    log.error("held messages not delivered: %s", type(exc).__name__)
                    return
                if client_id not in self._again:
                    return
        finally:
            self._tasks.pop(client_id, None)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def deliver_held(
    client_id: int, bot: Bot, sessions: async_sessionmaker[AsyncSession], settings: Settings, county: County, i18n: I18n
) -> None:
    """One job: copy the client's held messages into their topic, 100 per copyMessages call, in order."""
    with i18n.context(), i18n.use_locale(OFFICE_LOCALE):
        async with sessions() as session, session.begin():
            client = await handoff.client(session, client_id)
            rows = await handoff.held(session, client_id)
            if client is None or not rows:
                return
            relay = TopicRelay(bot, session, settings, county, i18n)
            for start in range(0, len(rows), 100):
                chunk = rows[start : start + 100]
                ids = [r.client_message_id for r in chunk if r.client_message_id is not None]

                async def send(thread: int, ids: list[int] = ids) -> list[MessageId]:
                    return await bot.copy_messages(
                        relay.chat_id, from_chat_id=client.telegram_id, message_ids=ids, message_thread_id=thread
                    )

                copies = await relay.into_topic(client, send)
                matched = len(copies) == len(chunk)
                for index, row in enumerate(chunk):
                    copy_id = copies[index].message_id if matched else None
                    await handoff.delivered(session, row.id, relay.chat_id, copy_id)  # type: ignore[arg-type]
            await handoff.client_wrote(session, client_id)


# ---------------------------------------------------------------------- handlers


class ClientRelay:
    """The handlers; one instance per dispatcher (it owns the held-message deliveries)."""

    def __init__(self) -> None:
        self.held = HeldDelivery()

    async def start_writing(self, callback: CallbackQuery, client: ClientDTO | None, settings: Settings) -> None:
        await callback.answer()
        if not isinstance(callback.message, Message) or client is None:
            return
        if settings.staff_chat_id is None:
            await callback.message.answer(
                _("Writing to your case manager is not available yet. Please call the office.")
            )
            return
        await callback.message.answer(
            _(
                "Write your message here – text, a voice message, a photo or a file. Your case manager will "
                "read it and answer in this chat. Please do not send identity documents."
            )
        )

    async def relay_message(
        self,
        message: Message,
        bot: Bot,
        session: AsyncSession,
        client: ClientDTO,
        settings: Settings,
        county: County,
        i18n: I18n,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        if settings.staff_chat_id is None:
            await message.answer(_("Writing to your case manager is not available yet. Please call the office."))
            return
        relay = TopicRelay(bot, session, settings, county, i18n)
        conv = await relay.conversation(client.id)
        if conv.blocked:
            return
        kind = kind_of(message)
        if kind is None:
            await message.answer(_("This kind of message cannot be passed on. Please send text, a photo or a file."))
            return
        if kind in ("photo", "document") and conv.id_notice_sent_at is None:
            await message.answer(
                _(
                    "Before you send this: please do not send identity documents (passport, residence permit, ID "
                    "card) through Telegram. Bring them to your appointment instead. Send this file to your case "
                    "manager?"
                ),
                reply_markup=self.id_notice_keyboard(message.message_id, kind),
            )
            await handoff.mark(session, client.id, "id_notice_sent_at")
            return
        now = utcnow()
        held, recent = await handoff.flood_state(session, client.id, now - FLOOD_WINDOW)
        if held or recent >= settings.flood_limit:
            await self.hold(message, kind, session, client, settings, conv, bot, sessions, county, i18n)
            return
        await relay.pass_on(client, message, kind)

    async def hold(
        self,
        message: Message,
        kind: str,
        session: AsyncSession,
        client: ClientDTO,
        settings: Settings,
        conv: handoff.ConversationDTO,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        county: County,
        i18n: I18n,
    ) -> None:
        now = utcnow()
        if conv.flood_notice_at is None or now - conv.flood_notice_at > FLOOD_WINDOW:
            await message.answer(
                _("You are sending many messages at once. I will pass them on to your case manager together shortly.")
            )
            await handoff.mark(session, client.id, "flood_notice_at", now)
        await handoff.record(
            session,
            client.id,
            direction="in",
            kind=kind,
            client_message_id=message.message_id,
            status="held",
            transcript=(message.text or message.caption) if settings.keep_transcript else None,
        )

        async def deliver(client_id: int) -> None:
            await deliver_held(client_id, bot, sessions, settings, county, i18n)

        def after_commit(_session: Any) -> None:
            self.held.schedule(client.id, FLOOD_DELAY_SECONDS, deliver)

        event.listen(session.sync_session, "after_commit", after_commit, once=True)

    @staticmethod
    def id_notice_keyboard(message_id: int, kind: str) -> InlineKeyboardMarkup:
        kb = InlineKeyboardBuilder()
        kb.button(text=_("Yes, send it"), callback_data=IdNoticeCb(action="send", message=message_id, kind=kind))
        kb.button(text=_("No, don't send it"), callback_data=IdNoticeCb(action="drop", message=message_id, kind=kind))
        kb.adjust(2)
        return kb.as_markup()

    async def answer_id_notice(
        self,
        callback: CallbackQuery,
        callback_data: IdNoticeCb,
        bot: Bot,
        session: AsyncSession,
        client: ClientDTO | None,
        settings: Settings,
        county: County,
        i18n: I18n,
    ) -> None:
        await callback.answer()
        if client is None or not isinstance(callback.message, Message) or callback_data.kind not in KINDS:
            return
        chat = callback.message.chat
        if callback_data.action != "send":
            await callback.message.edit_text(_("Not sent. You can bring it to your appointment."))
            return
        relay = TopicRelay(bot, session, settings, county, i18n)
        original = Message.model_validate(
            {"message_id": callback_data.message, "date": callback.message.date, "chat": chat.model_dump()}
        ).as_(bot)
        try:
            await relay.pass_on(client, original, callback_data.kind)
        except TelegramBadRequest:
            await callback.message.edit_text(_("This file is no longer available. Please send it again."))
            return
        await callback.message.edit_text(_("Sent to your case manager."))

    async def mirror_edit(
        self,
        message: Message,
        bot: Bot,
        session: AsyncSession,
        client: ClientDTO | None,
        settings: Settings,
        county: County,
        i18n: I18n,
    ) -> None:
        if client is None or settings.staff_chat_id is None:
            return
        await TopicRelay(bot, session, settings, county, i18n).mirror_client_edit(client, message)

    async def deliver_leftovers(
        self, bot: Bot, sessions: async_sessionmaker[AsyncSession], settings: Settings, county: County, i18n: I18n
    ) -> None:
        """At start: messages still held from before a restart go out now."""
        if settings.staff_chat_id is None:
            return
        async with sessions() as session:
            pending = {row.client_id for row in await handoff.held(session)}

        async def deliver(client_id: int) -> None:
            await deliver_held(client_id, bot, sessions, settings, county, i18n)

        for client_id in sorted(pending):
            self.held.schedule(client_id, 0.0, deliver)

    async def stop(self) -> None:
        await self.held.close()


async def _is_onboarded_client(message: Message, client: ClientDTO | None = None) -> bool:
    return client is not None and client.onboarded


async def _not_a_command(message: Message) -> bool:
    return not (message.text or "").startswith("/")


def register(private: Router) -> None:
    relay = ClientRelay()
    private.callback_query.register(relay.start_writing, MenuCb.filter(F.action == "write"))
    private.callback_query.register(relay.answer_id_notice, IdNoticeCb.filter())
    private.message.register(relay.relay_message, StateFilter(None), _is_onboarded_client, _not_a_command)
    private.edited_message.register(relay.mirror_edit)
    private.startup.register(relay.deliver_leftovers)
    private.shutdown.register(relay.stop)

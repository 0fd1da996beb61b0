"""The forum-topic operations of the handoff – the Telegram adapter both directions share: a topic per client in
the staff group (created on first need, recreated when deleted, reopened when closed), its pinned header card,
the shared Intake topic and its cards, and copies in both directions (copyMessage, never forwarded, so no sender
profile leaks; captions Telegram would refuse are split).

`ForumTopics` is built once by the composition root and reaches handlers and jobs as `topics`; `bind(bot,
session)` gives the cheap per-update `Forum` that does the work (it reads each conversation once per update).
Database writes come after the Telegram calls where possible: on SQLite the first write holds the write lock.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import AiogramError, TelegramBadRequest, TelegramRetryAfter
from aiogram.types import InlineKeyboardMarkup, Message, MessageId, ReplyParameters, TelegramObject
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.core.i18n import DEFAULT_LOCALE, OFFICE_LOCALE, fmt_date, fmt_datetime, native_name
from bot.services import booking, casework, documents, handoff, office_hours
from bot.services.dto import ClientDTO, StaffDTO
from bot.services.privacy import Traces
from bot.telegram.callbacks import AssignCb, CaseCb, ClaimCb

log = logging.getLogger("kimbot.relay")

T = TypeVar("T")

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
DOCUMENTS_SOON = timedelta(days=90)
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


async def _gone(delete: Callable[[], Awaitable[object]], already: tuple[str, ...]) -> bool:
    """Delete something in the staff group: True when it is deleted or was not there any more."""
    try:
        await call(delete)
    except TelegramBadRequest as exc:
        if any(marker in exc.message.lower() for marker in already):
            return True
        log.warning("erasure: Telegram refused a deletion: %s", exc.message[:80])
        return False
    except AiogramError as exc:  # 403, 5xx, an HTML error page, a timeout
        log.warning("erasure: a deletion failed: %s", type(exc).__name__)
        return False
    return True


# ---------------------------------------------------------------------- what this process knows about the forum


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


async def _create_client_topic(bot: Bot, chat_id: int, name: str) -> tuple[int, asyncio.Event]:
    """createForumTopic, tracked as uncommitted until `_release_topic`: staff can write in the topic as soon as
    Telegram has it, before kimbot has even read the answer (see `topic_pending`)."""
    state = _forum_state()
    state.topics_requested[chat_id] += 1
    try:
        created = await call(lambda: bot.create_forum_topic(chat_id, name=name))
        thread = created.message_thread_id
        ended = state.uncommitted_topics[(chat_id, thread)] = asyncio.Event()
    finally:
        state.topics_requested[chat_id] -= 1
    return thread, ended


def _release_topic(session: AsyncSession, chat_id: int, thread: int, ended: asyncio.Event) -> None:
    """The topic stops being pending when the transaction that holds its row ends (committed or rolled back). Called
    once the row is written: an update commits before each of its Bot API calls, so an earlier end of a
    transaction (before the header card, say) would let a staff answer look for a topic not yet written down."""
    state = _forum_state()

    def release() -> None:
        if state.uncommitted_topics.get((chat_id, thread)) is ended:
            del state.uncommitted_topics[(chat_id, thread)]
        ended.set()

    if not session.in_transaction():  # nothing open that could still write it
        release()
        return

    def on_end(_session: Any, transaction: Any) -> None:
        if transaction.parent is None and not ended.is_set():  # the update's transaction, not a savepoint in it
            release()

    event.listen(session.sync_session, "after_transaction_end", on_end)


def topic_pending(chat_id: int, thread: int) -> asyncio.Event | bool:
    """Whether this process may still be writing down the topic `thread`: the event that is set when the update
    that created it has committed (or failed), True while a topic is being requested in the chat (its id not known
    yet), False when no update of this process is creating topics there."""
    state = _forum_state()
    return state.uncommitted_topics.get((chat_id, thread)) or state.topics_requested[chat_id] > 0


class NoStaffChat(Exception):
    """STAFF_CHAT_ID is not configured."""


# ---------------------------------------------------------------------- card texts (pure; office language)


def topic_name(client: ClientDTO, first_name: str | None, *, with_first_name: bool) -> str:
    language = (client.locale or "?").upper()
    name = f"{client.reference} · {language}"
    if with_first_name and first_name:
        name = f"{name} · {first_name}"
    return name[:128]


@dataclass(frozen=True, slots=True)
class HeaderFacts:
    """What the header card of a client's topic shows."""

    client: ClientDTO
    conv: handoff.ConversationDTO
    manager: StaffDTO | None
    away: handoff.AbsenceDTO | None
    town: str | None
    next_appointment: tuple[datetime, str] | None  # when, the service's name in the office language
    expiring: tuple[tuple[str, date], ...]  # documents expiring soon: type, date
    tz: ZoneInfo


def header_card(facts: HeaderFacts) -> str:
    """The pinned card at the top of a client's topic (call it in the office language)."""
    client = facts.client
    language = f"{native_name(client.locale)} ({client.locale})" if client.locale else "–"
    lines = [f"🗂 <b>{escape(client.reference)}</b>"]
    lines.append(_("Language: {language}").format(language=escape(language)))
    lines.append(_("Municipality: {name}").format(name=escape(facts.town or "–")))
    lines.extend(_manager_lines(facts.manager, facts.away))
    lines.extend(_case_lines(facts))
    lines.append(_("Reachable: yes") if client.reachable else _("Reachable: no – the client blocked the bot"))
    if facts.conv.blocked:
        lines.append(_("Status: blocked by staff"))
    elif facts.conv.status == "closed":
        lines.append(_("Status: closed"))
    else:
        lines.append(_("Status: open"))
    lines.append("")
    lines.append(
        _("Messages here go to the client. Internal notes start with ! or /note. Commands: {commands}").format(
            commands="/t /case /note /status /followup /assign /close /lang /block /unblock /book"
        )
    )
    return "\n".join(lines)


def header_keyboard(client_id: int) -> InlineKeyboardMarkup:
    """The header card's button: the client's case file (`handlers/staff/case.py`), posted into the topic."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📋 Case"), callback_data=CaseCb(client=client_id, new=True))
    return kb.as_markup()


def _manager_lines(manager: StaffDTO | None, away: handoff.AbsenceDTO | None) -> list[str]:
    if manager is None:
        return [_("Case manager: none yet – see the Intake topic")]
    lines = [_("Case manager: {name}").format(name=escape(manager.display_name))]
    if away is not None:
        lines.append(
            _("Away until {date}; deputy: {deputy}").format(
                date=fmt_date(away.until, OFFICE_LOCALE, "medium"),
                deputy=escape(away.deputy.display_name if away.deputy else "–"),
            )
        )
    return lines


def _case_lines(facts: HeaderFacts) -> list[str]:
    """Next appointment and documents expiring within 90 days."""
    lines = []
    if facts.next_appointment is not None:
        when, service = facts.next_appointment
        lines.append(
            _("Next appointment: {when} – {service}").format(
                when=fmt_datetime(when, OFFICE_LOCALE, facts.tz), service=escape(service)
            )
        )
    else:
        lines.append(_("Next appointment: none"))
    if facts.expiring:
        listed = ", ".join(f"{escape(kind)} {fmt_date(day, OFFICE_LOCALE, 'medium')}" for kind, day in facts.expiring)
        lines.append(_("Documents expiring soon: {documents}").format(documents=listed))
    return lines


def intake_card(client: ClientDTO, town: str | None) -> tuple[str, InlineKeyboardMarkup]:
    """The card in the Intake topic: Claim (any staff) and Assign… (admins)."""
    text = _("New client {reference} ({language}, {municipality}) has no case manager yet.").format(
        reference=escape(client.reference),
        language=escape(native_name(client.locale) if client.locale else "–"),
        municipality=escape(town or "–"),
    )
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Claim"), callback_data=ClaimCb(client=client.id))
    kb.button(text=_("Assign…"), callback_data=AssignCb(client=client.id, staff=0))
    return text, kb.as_markup()


def recreated_topic_note() -> str:
    return _(
        "⚠️ The previous topic of this client was deleted or could not be used, so this one was created. "
        "Messages from before are not shown here."
    )


def intake_topic_name() -> str:
    return _("Intake – clients without a case manager")[:128]


def message_link(chat_id: int, message_id: int) -> str:
    """A t.me link to a message (or topic) of the supergroup, for members of it."""
    return f"https://t.me/c/{str(chat_id).removeprefix('-100')}/{message_id}"


def erasure_note(left: list[str]) -> str:
    """The staff group's note that a client erased their data: no reference, no name; and, when Telegram refused
    to delete their topic or Intake card, the links to delete by hand."""
    if not left:
        return _("🗑 A client has erased their data. Their topic and Intake card, if there were any, are deleted.")
    return _(
        "⚠️ A client's data has been erased, but Telegram did not let kimbot delete their topic or Intake card. "
        "Please delete by hand: {links}"
    ).format(links=" ".join(left))


# ---------------------------------------------------------------------- the adapter


class ForumTopics:
    """Built once per dispatcher; `bind` it to an update's bot and session."""

    def __init__(self, settings: Settings, county: County, i18n: I18n) -> None:
        self.settings = settings
        self.county = county
        self.i18n = i18n

    @property
    def available(self) -> bool:
        return self.settings.staff_chat_id is not None

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

    def bind(self, bot: Bot, session: AsyncSession) -> Forum:
        return Forum(self, bot, session)


async def with_forum(event: TelegramObject, bot: Bot, session: AsyncSession, topics: ForumTopics) -> dict[str, Any]:
    """A filter that always passes and hands the handler `forum`: `topics` bound to this update."""
    return {"forum": topics.bind(bot, session)}


@dataclass
class Forum:
    """The staff forum for one update (or one job): topics, header cards, Intake cards, copies."""

    topics: ForumTopics
    bot: Bot
    session: AsyncSession
    _conversations: dict[int, handoff.ConversationDTO] = field(default_factory=dict, init=False, repr=False)

    @property
    def settings(self) -> Settings:
        return self.topics.settings

    @property
    def chat_id(self) -> int:
        return self.topics.chat_id

    async def conversation(self, client_id: int) -> handoff.ConversationDTO:
        """The conversation, read once per update (each write below forgets it; so does `forget`)."""
        if client_id not in self._conversations:
            self._conversations[client_id] = await handoff.conversation(self.session, client_id)
        return self._conversations[client_id]

    def forget(self, client_id: int) -> None:
        self._conversations.pop(client_id, None)

    # ------------------------------------------------------------------ topic and header card

    async def header_facts(self, client: ClientDTO) -> HeaderFacts:
        conv = await self.conversation(client.id)
        manager = await handoff.staff_by_id(self.session, client.case_manager_id)
        county, tz = self.topics.county, self.settings.tz
        town = county.municipality(client.municipality or "")
        today = office_hours.now().astimezone(tz).date()
        away = await handoff.absence(self.session, manager.id, today) if manager is not None else None
        coming = await booking.upcoming(self.session, client.id)
        next_appointment = None
        if coming:
            service = next((s for s in county.services if s.key == coming[0].service_key), None)
            name = service.name if service else coming[0].service_key  # German, as staff wrote it
            next_appointment = (coming[0].starts_at, name)
        papers = await documents.for_client(self.session, client.id)
        expiring = tuple((d.doc_type, d.expires_on) for d in papers if d.expires_on <= today + DOCUMENTS_SOON)
        return HeaderFacts(client, conv, manager, away, town.name if town else None, next_appointment, expiring, tz)

    async def header_text(self, client: ClientDTO) -> str:
        facts = await self.header_facts(client)
        with self.topics.office():
            return header_card(facts)

    async def refresh_header(self, client_id: int) -> None:
        """Keep the header card up to date (language, case manager, absence, reachability, status)."""
        client = await handoff.client(self.session, client_id)
        conv = await self.conversation(client_id)
        if client is None or conv.header_message_id is None or conv.chat_id is None:
            return
        text = await self.header_text(client)
        with self.topics.office():
            markup = header_keyboard(client.id)
        try:
            await call(
                lambda: self.bot.edit_message_text(
                    text, chat_id=conv.chat_id, message_id=conv.header_message_id, reply_markup=markup
                )
            )
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:
                log.info("header card not updated: %s", exc.message[:80])

    async def topic(self, client: ClientDTO, *, recreate: bool = False, first_name: str | None = None) -> int:
        """The client's topic, created on first need (or again when it was deleted)."""
        conv = await self.conversation(client.id)
        if conv.thread_id is not None and conv.chat_id == self.chat_id and not recreate:
            return conv.thread_id
        name = topic_name(client, first_name, with_first_name=self.settings.topic_names)
        thread, ended = await _create_client_topic(self.bot, self.chat_id, name)
        try:
            header_id = await self._post_header(client, thread)
            if conv.thread_id is not None:
                with self.topics.office():
                    note = recreated_topic_note()
                await call(lambda: self.bot.send_message(self.chat_id, note, message_thread_id=thread))
            card = None
            if client.case_manager_id is None and conv.intake_message_id is None:
                card = await self.post_intake_card(client)
            await handoff.set_topic(self.session, client.id, self.chat_id, thread, header_id)
        finally:
            _release_topic(self.session, self.chat_id, thread, ended)
        if self.settings.topic_names and first_name:  # the name is in the topic's name: /find may search it
            await casework.remember_name(self.session, client.id, first_name)
        self.forget(client.id)
        if card is not None:
            await handoff.set_intake_card(self.session, client.id, card)
        return thread

    async def _post_header(self, client: ClientDTO, thread: int) -> int:
        text = await self.header_text(client)
        with self.topics.office():
            markup = header_keyboard(client.id)
        header = await call(
            lambda: self.bot.send_message(
                self.chat_id, text, message_thread_id=thread, disable_notification=True, reply_markup=markup
            )
        )
        with contextlib.suppress(TelegramBadRequest):
            await self.bot.pin_chat_message(self.chat_id, header.message_id, disable_notification=True)
        return header.message_id

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
                with self.topics.office():
                    name = intake_topic_name()
                created = await call(lambda: self.bot.create_forum_topic(self.chat_id, name=name))
                thread = created.message_thread_id
                await handoff.set_staff_topic(self.session, handoff.INTAKE, self.chat_id, thread)
            state.intake_threads[self.chat_id] = thread
            return thread

    async def post_intake_card(self, client: ClientDTO) -> int:
        """A card in the Intake topic with Claim (any staff) and Assign (admins); returns its message id."""
        town = self.topics.county.municipality(client.municipality or "")
        with self.topics.office():
            text, markup = intake_card(client, town.name if town else None)

        async def send(thread: int) -> Message:
            return await self.bot.send_message(self.chat_id, text, message_thread_id=thread, reply_markup=markup)

        thread = await self.intake_thread()
        try:
            card = await call(lambda: send(thread))
        except TelegramBadRequest:  # the Intake topic was deleted or closed: a new one
            thread = await self.intake_thread(broken=thread)
            card = await call(lambda: send(thread))
        return card.message_id

    # ------------------------------------------------------------------ erasure

    async def erase_client(self, traces: Traces, *, announce: bool = True) -> bool:
        """Delete the client's topic (every copy in it goes too) and their Intake card; True when both are gone
        (or were gone already). Staff get a note in the Intake topic: with `announce` that a client erased their
        data, and always which topic or card to delete by hand when Telegram refused."""
        left: list[str] = []
        chat, thread, card = traces.staff_chat_id, traces.thread_id, traces.intake_message_id
        if chat is not None and thread is not None:
            deleted = await _gone(lambda: self.bot.delete_forum_topic(chat, thread), _TOPIC_MISSING)
            left += [] if deleted else [message_link(chat, thread)]
        card_chat = chat if chat is not None else self.settings.staff_chat_id
        if card_chat is not None and card is not None:
            deleted = await _gone(lambda: self.bot.delete_message(card_chat, card), ("message to delete not found",))
            left += [] if deleted else [message_link(card_chat, card)]
        if self.topics.available and (announce or left):
            with self.topics.i18n.context(), self.topics.office():
                note = erasure_note(left)
            try:
                intake = await self.intake_thread()
                await call(lambda: self.bot.send_message(self.chat_id, note, message_thread_id=intake))
            except AiogramError as exc:  # 403, 5xx, an HTML error page, a timeout
                log.warning("erasure note not posted: %s", type(exc).__name__)
        return not left

    async def edit_intake_card(self, message_id: int, text: str) -> None:
        with contextlib.suppress(TelegramBadRequest):  # the card may be gone with a deleted Intake topic
            await self.bot.edit_message_text(text, chat_id=self.chat_id, message_id=message_id)

    # ------------------------------------------------------------------ copies

    async def copy(
        self, message: Message, *, to_chat: int, thread: int | None, reply_to: int | None, composed: str | None
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
        copied = await self._copy_media(message, to_chat, thread, reply, kwargs)
        for part in overflow:
            await self.bot.send_message(
                to_chat,
                part,
                message_thread_id=thread,
                parse_mode=None,
                reply_parameters=ReplyParameters(message_id=copied.message_id, allow_sending_without_reply=True),
            )
        return copied.message_id

    async def _copy_media(
        self, message: Message, to_chat: int, thread: int | None, reply: ReplyParameters | None, kwargs: dict[str, Any]
    ) -> MessageId:
        try:
            return await self.bot.copy_message(
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
            return await self.bot.copy_message(
                to_chat,
                from_chat_id=message.chat.id,
                message_id=message.message_id,
                message_thread_id=thread,
                reply_parameters=reply,
                caption="📎",  # aiogram leaves out an empty caption, so the original would be kept
            )

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

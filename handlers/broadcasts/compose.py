"""Broadcasts: an admin composes an announcement, kimbot delivers it to a segment of clients in their languages.

Compose (admins only, private chat or staff group): /broadcast → German text → texts in other languages (tap a
language, send its text; "Done") → languages without a text: machine translation when TRANSLATE_URL is set
(marked as automatic), otherwise English + German or leave those clients out → segment (combinable criteria)
→ when (now, or a typed date and time in the office time zone) → preview (one message per language, exactly as
delivered, with the recipients per language) → send. A progress message in the admin's chat is edited by a
scheduler job at most every few seconds, with pause / resume / cancel; at the end it becomes the report.
Clients switch announcements off and on with /announcements.

Flow diagram: docs/flows/broadcasts.mmd. Delivery: outbox rows rendered by bot/delivery/templates/broadcasts.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from datetime import date, datetime, tzinfo

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.core.i18n import SUPPORTED_LOCALES, fmt_datetime, fmt_number, native_name
from bot.core.labels import doc_type_label
from bot.db.base import utcnow
from bot.delivery.templates.broadcasts import render_broadcast
from bot.jobs.broadcast_progress import excluded_lines, progress_keyboard, progress_text
from bot.services import broadcasts
from bot.services.broadcasts import BroadcastError, Plan, Segment
from bot.services.documents import DOCUMENT_TYPES
from bot.services.dto import ClientDTO, StaffDTO
from bot.services.translator import TranslationError, build_translator
from bot.telegram.callbacks import AnnCb, BcCb, BcRunCb
from handlers.filters import has_text, in_private_chat
from handlers.staff.commands import IsStaff

log = logging.getLogger("kimbot.broadcasts")


class BroadcastForm(StatesGroup):
    german = State()
    languages = State()
    language_text = State()
    fallback = State()
    segment = State()
    segment_dates = State()
    segment_days = State()
    schedule = State()
    preview = State()


def _locale() -> str:
    return get_i18n().current_locale


# ------------------------------------------------------------------ keyboards and texts


def _languages_keyboard(texts: dict[str, str]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code in SUPPORTED_LOCALES:
        if code == broadcasts.SOURCE_LANGUAGE:
            continue
        mark = " ✓" if code in texts else ""
        kb.button(text=native_name(code) + mark, callback_data=BcCb(action="lang", v=code))
    kb.button(text=_("Done"), callback_data=BcCb(action="langs_done"))
    kb.button(text=_("Discard"), callback_data=BcCb(action="discard"))
    kb.adjust(3, 3, 3, 3, 2)
    return kb.as_markup()


def _fallback_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("English and German text"), callback_data=BcCb(action="fallback", v="en_de"))
    kb.button(text=_("Nothing – leave these clients out"), callback_data=BcCb(action="fallback", v="skip"))
    kb.adjust(1)
    return kb.as_markup()


def _segment_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Language"), callback_data=BcCb(action="pick", v="lang"))
    kb.button(text=_("Municipality"), callback_data=BcCb(action="pick", v="town"))
    kb.button(text=_("Office"), callback_data=BcCb(action="pick", v="office"))
    kb.button(text=_("Case manager"), callback_data=BcCb(action="pick", v="cm"))
    kb.button(text=_("Appointment in a date range"), callback_data=BcCb(action="appt"))
    kb.button(text=_("Document expiring soon"), callback_data=BcCb(action="doc"))
    kb.button(text=_("All clients (reset)"), callback_data=BcCb(action="seg_reset"))
    kb.button(text=_("Continue"), callback_data=BcCb(action="seg_done"))
    kb.adjust(2, 2, 1, 1, 2)
    return kb.as_markup()


def _choices(kind: str, county: County, managers: list[tuple[int, str]]) -> list[tuple[str, str]]:
    if kind == "lang":
        return [(code, native_name(code)) for code in SUPPORTED_LOCALES]
    if kind == "town":
        return [(m.key, m.name) for m in county.municipalities]
    if kind == "office":
        return [(o.key, o.name) for o in county.offices]
    return [(str(staff_id), name) for staff_id, name in managers]


def _selected(segment: Segment, kind: str) -> set[str]:
    values = {
        "lang": segment.languages,
        "town": segment.municipalities,
        "office": segment.offices,
        "cm": tuple(str(x) for x in segment.case_managers),
    }[kind]
    return set(values)


def _toggle(segment: Segment, kind: str, value: str) -> Segment:
    chosen = _selected(segment, kind) ^ {value}
    data = segment.to_json()
    name = {"lang": "languages", "town": "municipalities", "office": "offices", "cm": "case_managers"}[kind]
    data[name] = sorted(chosen)
    return Segment.from_json(data)


def _pick_keyboard(kind: str, options: list[tuple[str, str]], chosen: set[str]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for key, label in options:
        kb.button(text=("✓ " if key in chosen else "") + label, callback_data=BcCb(action=f"t_{kind}", v=key))
    kb.button(text=_("Back"), callback_data=BcCb(action="seg"))
    kb.adjust(2)
    return kb.as_markup()


def _segment_text(segment: Segment, county: County, managers: list[tuple[int, str]], plan: Plan) -> str:
    locale = _locale()
    lines = [_("<b>Who should get it?</b> Criteria are combined; tap “Continue” when done.")]
    if segment.is_all:
        lines.append(_("• all clients"))
    if segment.languages:
        lines.append(_("• language: {values}").format(values=", ".join(native_name(c) for c in segment.languages)))
    if segment.municipalities:
        names = {m.key: m.name for m in county.municipalities}
        lines.append(
            _("• municipality: {values}").format(values=", ".join(names.get(k, k) for k in segment.municipalities))
        )
    if segment.offices:
        names = {o.key: o.name for o in county.offices}
        lines.append(_("• office: {values}").format(values=", ".join(names.get(k, k) for k in segment.offices)))
    if segment.case_managers:
        names = {str(i): n for i, n in managers}
        lines.append(
            _("• case manager: {values}").format(
                values=", ".join(names.get(str(k), str(k)) for k in segment.case_managers)
            )
        )
    if segment.appointment_from and segment.appointment_to:
        lines.append(
            _("• appointment between {start} and {end}").format(
                start=segment.appointment_from.strftime("%d.%m.%Y"), end=segment.appointment_to.strftime("%d.%m.%Y")
            )
        )
    if segment.document_days is not None:
        lines.append(
            _("• {document} expiring within {days} days").format(
                document=doc_type_label(segment.document_type) if segment.document_type else _("any document"),
                days=fmt_number(segment.document_days, locale),
            )
        )
    lines += ["", _("Recipients now: {count}").format(count=fmt_number(plan.total, locale))]
    return "\n".join(lines)


# ------------------------------------------------------------------ parsing typed input

_DATE = r"(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\.\d{1,2}\.\d{4})"


def _parse_date(raw: str) -> date:
    if "-" in raw:
        return date.fromisoformat("-".join(part.zfill(2) for part in raw.split("-")))
    day, month, year = (int(x) for x in raw.split("."))
    return date(year, month, day)


def parse_range(text: str) -> tuple[date, date] | None:
    found = re.findall(_DATE, text)
    if len(found) != 2:
        return None
    try:
        start, end = _parse_date(found[0]), _parse_date(found[1])
    except ValueError:
        return None
    return (start, end) if start <= end else None


def parse_when(text: str, tz: tzinfo) -> datetime | None:
    match = re.fullmatch(_DATE + r"[ ,T]+(\d{1,2})[:.](\d{2})", text.strip())
    if match is None:
        return None
    try:
        day = _parse_date(match.group(1))
        return datetime(day.year, day.month, day.day, int(match.group(2)), int(match.group(3)), tzinfo=tz)
    except ValueError:
        return None


# ------------------------------------------------------------------ compose


async def start_broadcast(message: Message, staff: StaffDTO, state: FSMContext) -> None:
    if not staff.is_admin:
        await message.answer(_("Only administrators can send broadcasts."))
        return
    await state.set_state(BroadcastForm.german)
    await state.set_data({})
    await message.answer(
        _(
            "<b>New broadcast.</b> Please send the text in German – it is the basis for every language. "
            "Do not include personal data. /cancel stops."
        )
    )


async def cancel_compose(message: Message, session: AsyncSession, state: FSMContext) -> None:
    data = await state.get_data()
    if data.get("broadcast_id"):
        with contextlib.suppress(BroadcastError):
            await broadcasts.discard(session, int(data["broadcast_id"]))
    await state.clear()
    await message.answer(_("The broadcast was discarded."))


async def take_german(message: Message, session: AsyncSession, staff: StaffDTO, state: FSMContext) -> None:
    draft = await broadcasts.create_draft(session, author_staff_id=staff.id, german_text=message.text or "")
    await state.update_data(broadcast_id=draft.id)
    await state.set_state(BroadcastForm.languages)
    await _ask_languages(message, draft.texts)


async def _ask_languages(message: Message, texts: dict[str, str]) -> None:
    await message.answer(
        _(
            "Text saved for: {languages}.\nTo add another language, tap it and send its text. Tap “Done” when you "
            "have finished."
        ).format(languages=", ".join(native_name(code) for code in texts)),
        reply_markup=_languages_keyboard(texts),
    )


async def pick_language(callback: CallbackQuery, callback_data: BcCb, state: FSMContext) -> None:
    if callback_data.v not in SUPPORTED_LOCALES or not isinstance(callback.message, Message):
        await callback.answer()
        return
    await state.update_data(lang=callback_data.v)
    await state.set_state(BroadcastForm.language_text)
    await callback.answer()
    await callback.message.answer(_("Send the text in {language}.").format(language=native_name(callback_data.v)))


async def take_language_text(message: Message, session: AsyncSession, state: FSMContext) -> None:
    data = await state.get_data()
    broadcast_id = int(data["broadcast_id"])
    await broadcasts.set_text(session, broadcast_id, str(data["lang"]), message.text or "")
    await state.set_state(BroadcastForm.languages)
    await _ask_languages(message, (await broadcasts.get(session, broadcast_id)).texts)


async def finish_languages(
    callback: CallbackQuery, session: AsyncSession, settings: Settings, county: County, state: FSMContext
) -> None:
    if not isinstance(callback.message, Message):
        return
    broadcast_id = int((await state.get_data())["broadcast_id"])
    draft = await broadcasts.get(session, broadcast_id)
    missing = [code for code in SUPPORTED_LOCALES if code not in draft.texts]
    await callback.answer()
    translator = build_translator(settings.translate_url)
    if missing and translator is not None:
        source = draft.texts[broadcasts.SOURCE_LANGUAGE]

        async def translate(code: str) -> tuple[str, str | None]:
            try:
                return code, await translator.translate(source, broadcasts.SOURCE_LANGUAGE, code)
            except TranslationError:
                return code, None

        for code, translated in await asyncio.gather(*(translate(code) for code in missing)):
            if translated:
                await broadcasts.set_text(session, broadcast_id, code, translated, auto=True)
        done = [code for code in missing if code in (await broadcasts.get(session, broadcast_id)).texts]
        if done:
            await callback.message.answer(
                _("Translated automatically (clients will see a note): {languages}").format(
                    languages=", ".join(native_name(code) for code in done)
                )
            )
        missing = [code for code in missing if code not in done]
        if not missing:
            await broadcasts.set_fallback(session, broadcast_id, "translate")
    if missing:
        await state.set_state(BroadcastForm.fallback)
        await callback.message.answer(
            _("No text for: {languages}. What should clients with these languages get?").format(
                languages=", ".join(native_name(code) for code in missing)
            ),
            reply_markup=_fallback_keyboard(),
        )
        return
    await _show_segment(callback.message, session, settings, county, state, broadcast_id)


async def choose_fallback(
    callback: CallbackQuery,
    callback_data: BcCb,
    session: AsyncSession,
    settings: Settings,
    county: County,
    state: FSMContext,
) -> None:
    if not isinstance(callback.message, Message):
        return
    broadcast_id = int((await state.get_data())["broadcast_id"])
    await broadcasts.set_fallback(session, broadcast_id, callback_data.v)
    await callback.answer()
    await _show_segment(callback.message, session, settings, county, state, broadcast_id)


async def _show_segment(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    county: County,
    state: FSMContext,
    broadcast_id: int,
    *,
    edit: bool = False,
) -> None:
    await state.set_state(BroadcastForm.segment)
    draft = await broadcasts.get(session, broadcast_id)
    plan = await broadcasts.plan(session, broadcast_id, settings.tz)
    text = _segment_text(draft.segment, county, await broadcasts.case_managers(session), plan)
    if edit:
        with contextlib.suppress(TelegramBadRequest):
            await message.edit_text(text, reply_markup=_segment_keyboard())
            return
    await message.answer(text, reply_markup=_segment_keyboard())


async def segment_action(
    callback: CallbackQuery,
    callback_data: BcCb,
    session: AsyncSession,
    settings: Settings,
    county: County,
    state: FSMContext,
) -> None:
    if not isinstance(callback.message, Message):
        return
    broadcast_id = int((await state.get_data())["broadcast_id"])
    draft = await broadcasts.get(session, broadcast_id)
    action, value = callback_data.action, callback_data.v
    managers = await broadcasts.case_managers(session)
    await callback.answer()
    if action == "pick" and value in ("lang", "town", "office", "cm"):
        options = _choices(value, county, managers)
        await callback.message.edit_text(
            _("Tap to select or deselect; several choices are combined with “or”."),
            reply_markup=_pick_keyboard(value, options, _selected(draft.segment, value)),
        )
        return
    if action.startswith("t_") and action[2:] in ("lang", "town", "office", "cm"):
        kind = action[2:]
        valid = {key for key, _label in _choices(kind, county, managers)}
        if value not in valid:
            return
        segment = _toggle(draft.segment, kind, value)
        await broadcasts.set_segment(session, broadcast_id, segment)
        await callback.message.edit_reply_markup(
            reply_markup=_pick_keyboard(kind, _choices(kind, county, managers), _selected(segment, kind))
        )
        return
    if action == "seg_reset":
        await broadcasts.set_segment(session, broadcast_id, Segment())
    if action == "appt":
        await state.set_state(BroadcastForm.segment_dates)
        await callback.message.answer(
            _("Send the date range of the appointments, e.g. {example}.").format(example="01.12.2026 – 15.12.2026")
        )
        return
    if action == "doc":
        kb = InlineKeyboardBuilder()
        for doc_type in DOCUMENT_TYPES:
            kb.button(text=doc_type_label(doc_type), callback_data=BcCb(action="doc_type", v=doc_type))
        kb.button(text=_("any document"), callback_data=BcCb(action="doc_type", v=""))
        kb.adjust(1)
        await callback.message.edit_text(_("Which document?"), reply_markup=kb.as_markup())
        return
    if action == "doc_type":
        if value and value not in DOCUMENT_TYPES:
            return
        await state.update_data(doc_type=value)
        await state.set_state(BroadcastForm.segment_days)
        await callback.message.answer(_("Expiring within how many days? Send a number."))
        return
    if action == "seg_done":
        await state.set_state(BroadcastForm.schedule)
        kb = InlineKeyboardBuilder()
        kb.button(text=_("Now"), callback_data=BcCb(action="now"))
        await callback.message.answer(
            _("When should it be sent? Tap “Now” or send a date and time ({zone}), e.g. {example}.").format(
                zone=settings.timezone, example="24.12.2026 09:00"
            ),
            reply_markup=kb.as_markup(),
        )
        return
    await _show_segment(callback.message, session, settings, county, state, broadcast_id, edit=True)


async def take_dates(
    message: Message, session: AsyncSession, settings: Settings, county: County, state: FSMContext
) -> None:
    found = parse_range(message.text or "")
    if found is None:
        await message.answer(_("Please send two dates, e.g. {example}.").format(example="01.12.2026 – 15.12.2026"))
        return
    broadcast_id = int((await state.get_data())["broadcast_id"])
    draft = await broadcasts.get(session, broadcast_id)
    data = draft.segment.to_json() | {"appointment_from": found[0].isoformat(), "appointment_to": found[1].isoformat()}
    await broadcasts.set_segment(session, broadcast_id, Segment.from_json(data))
    await _show_segment(message, session, settings, county, state, broadcast_id)


async def take_days(
    message: Message, session: AsyncSession, settings: Settings, county: County, state: FSMContext
) -> None:
    raw = (message.text or "").strip()
    if not raw.isdigit() or not 0 < int(raw) <= 3650:
        await message.answer(_("Please send a number of days, e.g. 30."))
        return
    data = await state.get_data()
    broadcast_id = int(data["broadcast_id"])
    draft = await broadcasts.get(session, broadcast_id)
    segment = draft.segment.to_json() | {"document_days": int(raw), "document_type": data.get("doc_type") or None}
    await broadcasts.set_segment(session, broadcast_id, Segment.from_json(segment))
    await _show_segment(message, session, settings, county, state, broadcast_id)


async def schedule_now(
    callback: CallbackQuery, session: AsyncSession, settings: Settings, i18n: I18n, state: FSMContext
) -> None:
    if not isinstance(callback.message, Message):
        return
    broadcast_id = int((await state.get_data())["broadcast_id"])
    await broadcasts.set_schedule(session, broadcast_id, None)
    await callback.answer()
    await _preview(callback.message, session, settings, i18n, state, broadcast_id)


async def take_schedule(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n, state: FSMContext
) -> None:
    when = parse_when(message.text or "", settings.tz)
    if when is None or when <= utcnow():
        await message.answer(
            _("Please send a future date and time, e.g. {example}.").format(example="24.12.2026 09:00")
        )
        return
    broadcast_id = int((await state.get_data())["broadcast_id"])
    await broadcasts.set_schedule(session, broadcast_id, when)
    await _preview(message, session, settings, i18n, state, broadcast_id)


async def _preview(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n, state: FSMContext, broadcast_id: int
) -> None:
    """A summary, then each language's message exactly as its clients will get it, then the confirmation."""
    await state.set_state(BroadcastForm.preview)
    draft = await broadcasts.get(session, broadcast_id)
    plan = await broadcasts.plan(session, broadcast_id, settings.tz)
    locale = _locale()
    languages = [lang for lang, _count in plan.by_locale.most_common()]
    when = fmt_datetime(draft.scheduled_at, locale, settings.tz) if draft.scheduled_at is not None else _("right away")
    lines = [
        _("<b>Preview</b> – {total} recipients, to be sent {when}.").format(
            total=fmt_number(plan.total, locale), when=when
        ),
        _("The next messages show what each language gets, in this order:"),
    ]
    for index, lang in enumerate(languages, 1):
        key = broadcasts.text_key(draft.texts, draft.fallback, lang)
        note = ""
        if key == broadcasts.FALLBACK_KEY:
            note = " " + _("(English and German)")
        elif key in draft.auto_languages:
            note = " " + _("(automatic translation)")
        lines.append(
            _("{number}. {language}: {count} recipients").format(
                number=index, language=native_name(lang), count=fmt_number(plan.by_locale[lang], locale)
            )
            + note
        )
    lines += ["", *excluded_lines(plan.opted_out, plan.unreachable, plan.skipped)]
    await message.answer("\n".join(lines))
    for lang in languages:
        with i18n.use_locale(lang):
            text = render_broadcast(draft.texts, draft.auto_languages, draft.fallback, lang)
        if text is not None:
            await message.answer(text)
    kb = InlineKeyboardBuilder()
    if plan.total:
        kb.button(
            text=_("Send to {count} clients").format(count=fmt_number(plan.total, locale)),
            callback_data=BcCb(action="confirm"),
        )
    kb.button(text=_("Change recipients"), callback_data=BcCb(action="seg"))
    kb.button(text=_("Discard"), callback_data=BcCb(action="discard"))
    kb.adjust(1)
    await message.answer(
        _("Send this broadcast?") if plan.total else _("Nobody matches these criteria."), reply_markup=kb.as_markup()
    )


async def back_to_segment(
    callback: CallbackQuery, session: AsyncSession, settings: Settings, county: County, state: FSMContext
) -> None:
    if not isinstance(callback.message, Message):
        return
    await callback.answer()
    await _show_segment(
        callback.message, session, settings, county, state, int((await state.get_data())["broadcast_id"])
    )


async def discard_draft(callback: CallbackQuery, session: AsyncSession, state: FSMContext) -> None:
    data = await state.get_data()
    if data.get("broadcast_id"):
        with contextlib.suppress(BroadcastError):
            await broadcasts.discard(session, int(data["broadcast_id"]))
    await state.clear()
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(_("The broadcast was discarded."))


async def confirm_broadcast(
    callback: CallbackQuery, session: AsyncSession, settings: Settings, state: FSMContext
) -> None:
    if not isinstance(callback.message, Message):
        return
    broadcast_id = int((await state.get_data())["broadcast_id"])
    try:
        await broadcasts.confirm(session, broadcast_id, settings.tz, progress_chat_id=callback.message.chat.id)
    except BroadcastError:
        await callback.answer(_("This broadcast has already been sent."), show_alert=True)
        return
    await state.clear()
    await callback.answer()
    with contextlib.suppress(TelegramBadRequest):
        await callback.message.edit_reply_markup(reply_markup=None)
    draft = await broadcasts.get(session, broadcast_id)
    progress = await broadcasts.progress(session, broadcast_id)
    sent = await callback.message.answer(
        progress_text(draft, progress, settings.delivery_rate, settings.tz), reply_markup=progress_keyboard(draft)
    )
    await broadcasts.set_progress_message(session, broadcast_id, sent.chat.id, sent.message_id)


# ------------------------------------------------------------------ running: pause / resume / cancel


async def control_broadcast(
    callback: CallbackQuery, callback_data: BcRunCb, session: AsyncSession, staff: StaffDTO, settings: Settings
) -> None:
    if not staff.is_admin:
        await callback.answer(_("Only administrators can send broadcasts."), show_alert=True)
        return
    actions = {"pause": broadcasts.pause, "resume": broadcasts.resume, "cancel": broadcasts.cancel}
    action = actions.get(callback_data.action)
    try:
        if action is None:
            raise BroadcastError("unknown action")
        await action(session, callback_data.id)
        draft = await broadcasts.get(session, callback_data.id)
    except BroadcastError:
        await callback.answer(_("This is no longer possible."), show_alert=True)
        return
    labels = {"pause": _("Paused."), "resume": _("Resumed."), "cancel": _("Cancelled.")}
    await callback.answer(labels[callback_data.action])
    progress = await broadcasts.progress(session, draft.id)
    if isinstance(callback.message, Message):
        with contextlib.suppress(TelegramBadRequest):
            await callback.message.edit_text(
                progress_text(draft, progress, settings.delivery_rate, settings.tz),
                reply_markup=progress_keyboard(draft),
            )
    await broadcasts.touch_progress(session, draft.id)


# ------------------------------------------------------------------ clients: /announcements


def _announcements_view(off: bool) -> tuple[str, InlineKeyboardMarkup]:
    kb = InlineKeyboardBuilder()
    if off:
        text = _(
            "Announcements from the integration management are <b>off</b>. Reminders about your own "
            "appointments and documents always stay on."
        )
        kb.button(text=_("Turn announcements on"), callback_data=AnnCb(off=False))
    else:
        text = _(
            "Announcements from the integration management are <b>on</b>. Reminders about your own "
            "appointments and documents always stay on."
        )
        kb.button(text=_("Turn announcements off"), callback_data=AnnCb(off=True))
    return text, kb.as_markup()


async def show_announcements(message: Message, session: AsyncSession, client: ClientDTO | None) -> None:
    if client is None:
        return
    text, markup = _announcements_view(await broadcasts.is_opted_out(session, client.id))
    await message.answer(text, reply_markup=markup)


async def toggle_announcements(
    callback: CallbackQuery, callback_data: AnnCb, session: AsyncSession, client: ClientDTO | None
) -> None:
    if client is None:
        await callback.answer()
        return
    off = await broadcasts.set_opt_out(session, client.id, callback_data.off)
    text, markup = _announcements_view(off)
    await callback.answer(_("Saved."))
    if isinstance(callback.message, Message):
        with contextlib.suppress(TelegramBadRequest):
            await callback.message.edit_text(text, reply_markup=markup)


# ------------------------------------------------------------------ the progress job


# ------------------------------------------------------------------ router


def build_router() -> Router:
    """The admin's compose flow, mounted in the staff area."""
    compose = Router(name="broadcasts_compose")
    compose.message.filter(IsStaff())
    compose.callback_query.filter(IsStaff())
    compose.message.register(start_broadcast, Command("broadcast"))
    compose.message.register(cancel_compose, Command("cancel"), StateFilter(BroadcastForm))
    compose.message.register(take_german, StateFilter(BroadcastForm.german), has_text)
    compose.message.register(take_language_text, StateFilter(BroadcastForm.language_text), has_text)
    compose.message.register(take_dates, StateFilter(BroadcastForm.segment_dates), has_text)
    compose.message.register(take_days, StateFilter(BroadcastForm.segment_days), has_text)
    compose.message.register(take_schedule, StateFilter(BroadcastForm.schedule), has_text)
    compose.callback_query.register(
        pick_language, BcCb.filter(F.action == "lang"), StateFilter(BroadcastForm.languages)
    )
    compose.callback_query.register(
        finish_languages, BcCb.filter(F.action == "langs_done"), StateFilter(BroadcastForm.languages)
    )
    compose.callback_query.register(
        choose_fallback, BcCb.filter(F.action == "fallback"), StateFilter(BroadcastForm.fallback)
    )
    compose.callback_query.register(discard_draft, BcCb.filter(F.action == "discard"), StateFilter(BroadcastForm))
    compose.callback_query.register(back_to_segment, BcCb.filter(F.action == "seg"), StateFilter(BroadcastForm.preview))
    compose.callback_query.register(
        segment_action,
        BcCb.filter(),
        StateFilter(BroadcastForm.segment, BroadcastForm.segment_dates, BroadcastForm.segment_days),
    )
    compose.callback_query.register(schedule_now, BcCb.filter(F.action == "now"), StateFilter(BroadcastForm.schedule))
    compose.callback_query.register(
        confirm_broadcast, BcCb.filter(F.action == "confirm"), StateFilter(BroadcastForm.preview)
    )
    compose.callback_query.register(control_broadcast, BcRunCb.filter())
    return compose


def register_not_staff(router: Router) -> None:
    """A client's choice to receive announcements or not."""
    router.message.register(show_announcements, Command("announcements"), in_private_chat)
    router.callback_query.register(toggle_announcements, AnnCb.filter())

"""What the handoff shows besides the copies themselves: a client's words as staff see them and a staff answer as
the client sees it (original and machine translation), the mention of a case manager, the notes kimbot adds after
a client message, and the buttons (identity-documents notice, Assign). Pure functions of their arguments and the
current gettext locale (the caller picks it: the office language for the staff group, the client's for them), so
they are tested without a bot. The header and Intake cards are in `bot.telegram.topics`, which posts them."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.i18n import OFFICE_LOCALE, fmt_date, fmt_datetime, isolate, native_name
from bot.services.dto import ClientDTO, StaffDTO
from bot.telegram.callbacks import AssignCb, IdNoticeCb


def mention(member: StaffDTO) -> str:
    # A mention by numeric id (tg://user?id=…) notifies the person; never by @username.
    return f'<a href="tg://user?id={member.telegram_id}">{escape(member.display_name)}</a>'


def incoming_text(
    original: str, translation: str | None, failed: bool, source: str | None, *, detected: bool = False
) -> str:
    """A client's words as staff see them: the original, then the office-language translation (saying so when the
    language was detected, not the one the client chose)."""
    if failed:
        return original + "\n\n⚠️ " + _("Automatic translation is not available right now; this is the original.")
    if translation is None:
        return original
    if detected:
        label = _("Machine translation (detected: {source} → {target})").format(source=source, target=OFFICE_LOCALE)
        return f"{original}\n\n🌐 {label}:\n{translation}"
    label = _("Machine translation ({source} → {target})").format(source=source or "?", target=OFFICE_LOCALE)
    return f"{original}\n\n🌐 {label}:\n{translation}"


def outgoing_text(original: str, translation: str | None, failed: bool) -> str:
    """A staff answer as the client sees it: their language first, the original below, a short note."""
    if failed:
        return original + "\n\nℹ️ " + _("The automatic translation is not available right now.")
    if translation is None:
        return original
    return f"{translation}\n\n— {original}\n\nℹ️ " + _("Translated automatically.")


def manager_alert(manager: StaffDTO) -> str:
    return _("🔔 {manager}: your client wrote.").format(manager=mention(manager))


def deputy_alert(deputy: StaffDTO, manager: StaffDTO, until: date) -> str:
    return _("🔔 {deputy}: {manager} is away until {date} – please answer for them.").format(
        deputy=mention(deputy),
        manager=escape(manager.display_name),
        date=fmt_date(until, OFFICE_LOCALE, "medium"),
    )


def away_notice(deputy: StaffDTO, until: date, locale: str) -> str:
    """To the client, in their language: who answers while their case manager is away."""
    return _("Your case manager is away until {date}. {deputy} will answer you in the meantime.").format(
        date=fmt_date(until, locale, "long"), deputy=isolate(escape(deputy.display_name), locale)
    )


def out_of_hours_reply(opens: datetime | None, locale: str, tz: tzinfo) -> str:
    """To the client, in their language: the office is closed; when to expect an answer."""
    if opens is not None:
        return _(
            "Thank you for your message. Our office is closed right now; your case manager will answer from {when}."
        ).format(when=fmt_datetime(opens, locale, tz))
    return _(
        "Thank you for your message. Our office is closed right now; your case manager will answer as soon as possible."
    )


def assigned_text(client: ClientDTO, member: StaffDTO) -> str:
    return _("{reference}: case manager {name}").format(
        reference=escape(client.reference), name=escape(member.display_name)
    )


def language_text(client: ClientDTO) -> str:
    language = f"{native_name(client.locale)} ({client.locale})" if client.locale else "–"
    return _("{reference} writes in {language}.").format(reference=escape(client.reference), language=escape(language))


def id_notice_keyboard(message_id: int, kind: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, send it"), callback_data=IdNoticeCb(action="send", message=message_id, kind=kind))
    kb.button(text=_("No, don't send it"), callback_data=IdNoticeCb(action="drop", message=message_id, kind=kind))
    kb.adjust(2)
    return kb.as_markup()


def assign_keyboard(client_id: int, managers: list[StaffDTO]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for member in managers:
        kb.button(text=member.display_name, callback_data=AssignCb(client=client_id, staff=member.id))
    kb.adjust(1)
    return kb.as_markup()

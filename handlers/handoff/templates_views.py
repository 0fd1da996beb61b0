"""What saved replies (/t) show: the list of templates as buttons, the note in the topic of what was sent (in
German), the question before a machine translation, and why a template was not sent. Pure functions of their
arguments and the current gettext locale (the caller picks it), tested without a bot."""

from __future__ import annotations

from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.county import ReplyTemplate
from bot.core.i18n import native_name
from bot.services.dto import ClientDTO
from bot.services.reply_templates import Prepared
from bot.telegram.callbacks import TemplateCb

APPROVED, MACHINE = "✅", "🌐"


def language(locale: str) -> str:
    return f"{native_name(locale)} ({locale})"


def list_text(client: ClientDTO, locale: str, count: int) -> str:
    if not count:
        return _("The county file has no saved replies yet ([[reply_templates]]).")
    return _(
        "Saved replies for {reference} ({language}). {approved} approved translation, {machine} only "
        "machine-translated, after you confirm. Tap one to send it, or write /t NAME."
    ).format(reference=escape(client.reference), language=escape(language(locale)), approved=APPROVED, machine=MACHINE)


def list_keyboard(client_id: int, entries: list[tuple[ReplyTemplate, bool]]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for template, approved in entries:
        mark = APPROVED if approved else MACHINE
        kb.button(
            text=f"{mark} {template.name}",
            callback_data=TemplateCb(action="send", client=client_id, name=template.name),
        )
    kb.adjust(2)
    return kb.as_markup()


def unknown_text(name: str) -> str:
    return _("There is no saved reply “{name}”. /t lists them.").format(name=escape(name))


def placeholder_label(placeholder: str) -> str:
    labels = {
        "next_appointment": _("a booked appointment"),
        "office": _("an office"),
        "documents_to_bring": _("a list of documents for the appointment's service"),
        "case_manager": _("a case manager"),
    }
    return labels.get(placeholder, placeholder)


def missing_text(prepared: Prepared) -> str:
    needs = ", ".join(placeholder_label(p) for p in prepared.missing)
    return _("Not sent: “{name}” needs {needs}, and this client has none.").format(
        name=escape(prepared.name), needs=needs
    )


def sent_note(prepared: Prepared, *, machine: bool) -> str:
    """In the topic, in German: what the client got."""
    if machine:
        head = _("📤 Saved reply “{name}” sent, machine-translated into {language}:")
    else:
        head = _("📤 Saved reply “{name}” sent in {language}:")
    return (
        head.format(name=escape(prepared.name), language=escape(language(prepared.locale))) + "\n\n" + prepared.german
    )


def confirm_text(prepared: Prepared) -> str:
    return (
        _(
            "There is no approved {language} translation of “{name}”. Send it machine-translated? The client "
            "sees that it was translated automatically."
        ).format(language=escape(language(prepared.locale)), name=escape(prepared.name))
        + "\n\n"
        + prepared.german
    )


def confirm_keyboard(client_id: int, name: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🌐 Send machine-translated"), callback_data=TemplateCb(action="mt", client=client_id, name=name))
    kb.button(text=_("Don't send"), callback_data=TemplateCb(action="no", client=client_id, name=name))
    kb.adjust(1)
    return kb.as_markup()


def no_translator_text(prepared: Prepared) -> str:
    return _(
        "Not sent: there is no approved {language} translation of “{name}”, and machine translation is not "
        "configured (TRANSLATE_URL)."
    ).format(language=escape(language(prepared.locale)), name=escape(prepared.name))


def translation_failed_text(prepared: Prepared) -> str:
    return _("Not sent: the machine translation of “{name}” failed. Please try again later.").format(
        name=escape(prepared.name)
    )


def not_sent_text() -> str:
    return _("Not sent.")


def sent_machine_translated() -> str:
    return _("🌐 Sent, machine-translated.")

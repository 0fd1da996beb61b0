"""The keyboards several client flows share: the main menu, languages, municipalities, the privacy choices. Their
callback data is in bot/telegram/callbacks.py; it is never trusted: handlers re-load whatever an id points to, with
the caller's id.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.county import County
from bot.core.i18n import SUPPORTED_LOCALES, native_name
from bot.telegram.callbacks import LanguageCb, MenuCb, PrivacyCb, ReadAloudCb, TownCb

# Two names a row: "Kurdî (Kurmancî)" and "کوردی (سۆرانی)" still fit side by side on a phone. Twenty languages
# are ten rows, one screen and one tap each; Telegram allows 100 buttons, so no paging is needed.
LANGUAGES_PER_ROW = 2


def languages() -> InlineKeyboardMarkup:
    """Every language in its own name, in the county's order of frequency."""
    kb = InlineKeyboardBuilder()
    for code in SUPPORTED_LOCALES:
        kb.button(text=native_name(code), callback_data=LanguageCb(code=code))
    kb.adjust(LANGUAGES_PER_ROW)
    return kb.as_markup()


def municipalities(county: County) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for town in county.municipalities:
        kb.button(text=town.name, callback_data=TownCb(key=town.key))
    kb.adjust(2)
    return kb.as_markup()


def privacy_acknowledge() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Understood – continue"), callback_data=PrivacyCb(action="ack"))
    return kb.as_markup()


def privacy_rights(read_aloud: bool = False) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Send me my data"), callback_data=PrivacyCb(action="export"))
    kb.button(text=_("Delete all my data"), callback_data=PrivacyCb(action="erase"))
    kb.button(text=_("Back to the menu"), callback_data=MenuCb(action="home"))
    if read_aloud:
        kb.row(read_aloud_button("privacy"))
    kb.adjust(1)
    return kb.as_markup()


def read_aloud_button(what: str, ref: int = 0) -> InlineKeyboardButton:
    """🔊 under a longer message: kimbot reads it out as a voice note (handlers/read_aloud.py)."""
    # TRANSLATORS: a button under a message: kimbot reads the message out as a voice message.
    return InlineKeyboardButton(text="🔊 " + _("Read aloud"), callback_data=ReadAloudCb(what=what, ref=ref).pack())


def erase_confirmation() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, delete everything"), callback_data=PrivacyCb(action="erase_yes"))
    kb.button(text=_("No, keep my data"), callback_data=PrivacyCb(action="erase_no"))
    kb.adjust(1)
    return kb.as_markup()


def main_menu() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    # TRANSLATORS: the main menu's buttons, each at most 40 characters (Telegram cuts longer ones off).
    kb.button(text=_("Book an appointment"), callback_data=MenuCb(action="book"))
    kb.button(text=_("My appointments"), callback_data=MenuCb(action="appointments"))
    kb.button(text=_("My documents"), callback_data=MenuCb(action="documents"))
    kb.button(text=_("Write to my case manager"), callback_data=MenuCb(action="write"))
    # TRANSLATORS: main-menu button that lets the client choose another language.
    kb.button(text=_("Language"), callback_data=MenuCb(action="language"))
    # TRANSLATORS: main-menu button that opens "your data": see it or delete it (data protection).
    kb.button(text=_("Privacy"), callback_data=MenuCb(action="privacy"))
    kb.adjust(1, 1, 1, 1, 2)
    return kb.as_markup()

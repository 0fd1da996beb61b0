"""The keyboards several client flows share: the main menu, languages, municipalities, the privacy choices. Their
callback data is in bot/telegram/callbacks.py; it is never trusted: handlers re-load whatever an id points to, with
the caller's id.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.county import County
from bot.core.i18n import SUPPORTED_LOCALES, native_name
from bot.telegram.callbacks import LanguageCb, MenuCb, PrivacyCb, TownCb


def languages() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code in SUPPORTED_LOCALES:
        kb.button(text=native_name(code), callback_data=LanguageCb(code=code))
    kb.adjust(2)
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


def privacy_rights() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Send me my data"), callback_data=PrivacyCb(action="export"))
    kb.button(text=_("Delete all my data"), callback_data=PrivacyCb(action="erase"))
    kb.button(text=_("Back to the menu"), callback_data=MenuCb(action="home"))
    kb.adjust(1)
    return kb.as_markup()


def erase_confirmation() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, delete everything"), callback_data=PrivacyCb(action="erase_yes"))
    kb.button(text=_("No, keep my data"), callback_data=PrivacyCb(action="erase_no"))
    kb.adjust(1)
    return kb.as_markup()


def main_menu() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Book an appointment"), callback_data=MenuCb(action="book"))
    kb.button(text=_("My appointments"), callback_data=MenuCb(action="appointments"))
    kb.button(text=_("My documents"), callback_data=MenuCb(action="documents"))
    kb.button(text=_("Write to my case manager"), callback_data=MenuCb(action="write"))
    kb.button(text=_("Language"), callback_data=MenuCb(action="language"))
    kb.button(text=_("Privacy"), callback_data=MenuCb(action="privacy"))
    kb.adjust(1, 1, 1, 1, 2)
    return kb.as_markup()

"""For the unit tests of views (texts and keyboards as pure functions): what a keyboard shows and sends."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup


def buttons(markup: InlineKeyboardMarkup) -> list[tuple[str, str | None]]:
    """Each button's text and callback data, row after row."""
    return [(b.text, b.callback_data) for row in markup.inline_keyboard for b in row]

"""The outbound path for messages kimbot sends on its own initiative (reminders, broadcasts, alerts):
python-telegram-bot's `ExtBot` with `AIORateLimiter`, pointed at the same Bot API server as aiogram."""

from __future__ import annotations

from typing import Any

from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.config import Settings


def create_rate_limiter(max_retries: int = 5) -> AIORateLimiter:
    """Telegram allows about 30 messages per second overall and 20 per minute per group.

    A bucket of 1 message refilled every 1/29.5 s keeps the overall rate just under the limit without the
    30-message burst that provokes 429s (../shared/notes/telegram-libraries.md); retries honour RetryAfter.
    """
    return AIORateLimiter(
        overall_max_rate=1,
        overall_time_period=1 / 29.5,
        group_max_rate=20,
        group_time_period=60,
        max_retries=max_retries,
    )


def create_delivery_bot(settings: Settings, *, rate_limiter: AIORateLimiter | None = None) -> ExtBot[Any]:
    if settings.bot_token is None:
        raise ValueError("BOT_TOKEN is required for delivery")
    base = settings.telegram_api_url
    return ExtBot(
        token=settings.bot_token.get_secret_value(),
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=HTTPXRequest(connection_pool_size=8),
        rate_limiter=rate_limiter if rate_limiter is not None else create_rate_limiter(),
    )

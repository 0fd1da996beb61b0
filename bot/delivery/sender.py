"""The outbound path for messages kimbot sends on its own initiative (reminders, broadcasts, alerts):
python-telegram-bot's `ExtBot` with `AIORateLimiter`, pointed at the same Bot API server as aiogram.

`TelegramSender` is the delivery worker's `Sender`: it turns PTB's exceptions into the worker's outcomes.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.core.config import Settings
from bot.delivery.worker import (
    Button,
    ChatNotFound,
    PermanentError,
    RecipientBlocked,
    RetryLater,
    TransientError,
)

# Telegram: about 30 messages per second overall, 20 per minute in one group.
# https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
DEFAULT_RATE = 29.7


def create_rate_limiter(rate: float = DEFAULT_RATE, max_retries: int = 5) -> AIORateLimiter:
    """A leaky bucket of capacity 1 refilled every 1/rate s: the overall rate stays just under the limit without
    the 30-message burst AIORateLimiter's defaults allow (which provokes 429s, ../shared/notes). Retries honour
    RetryAfter; after `max_retries` the worker reschedules the row itself. Just above the default rate every 429
    pauses all requests (AIORateLimiter waits retry_after + 0.1 s), so the rate sits a little below Telegram's 30:
    figures in bench/README.md (bench_delivery.py)."""
    return AIORateLimiter(
        overall_max_rate=1,
        overall_time_period=1 / rate,
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
        request=HTTPXRequest(connection_pool_size=16),
        rate_limiter=rate_limiter if rate_limiter is not None else create_rate_limiter(settings.delivery_rate),
    )


def _markup(buttons: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.callback_data, url=b.url) for b in row] for row in buttons]
    )


class TelegramSender:
    """Sends through PTB and reports outcomes as the worker's `DeliveryError`s."""

    def __init__(self, bot: ExtBot[Any]):
        self.bot = bot
        self._initialized = False

    async def send_text(
        self, chat_id: int, thread_id: int | None, text: str, buttons: tuple[tuple[Button, ...], ...]
    ) -> int:
        if not self._initialized:
            await self.bot.initialize()
            self._initialized = True
        try:
            sent = await self.bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                message_thread_id=thread_id,
                reply_markup=_markup(buttons),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except RetryAfter as exc:  # only once AIORateLimiter's own retries are used up
            wait = exc._retry_after.total_seconds()  # the timedelta form; `retry_after` is deprecated in PTB 22
            raise RetryLater(wait, exc.message) from exc
        except Forbidden as exc:
            raise RecipientBlocked(exc.message) from exc
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                raise ChatNotFound(exc.message) from exc
            raise PermanentError(exc.message) from exc
        except ChatMigrated as exc:
            raise PermanentError(f"chat migrated to {exc.new_chat_id}") from exc
        except (NetworkError, InvalidToken) as exc:  # 5xx, timeouts (TimedOut is a NetworkError), bad gateway
            raise TransientError(exc.message) from exc
        except TelegramError as exc:
            raise TransientError(exc.message) from exc
        return int(sent.message_id)

    async def close(self) -> None:
        if self._initialized:
            await self.bot.shutdown()
            self._initialized = False

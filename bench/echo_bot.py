"""A bare aiogram echo bot: the baseline the kimbot benchmarks compare against.

python bench/echo_bot.py <token> <api base url>
"""

from __future__ import annotations

import asyncio
import sys

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message


async def main(token: str, base_url: str) -> None:
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    await bot.delete_webhook()
    await dp.start_polling(bot, polling_timeout=1, tasks_concurrency_limit=100)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))

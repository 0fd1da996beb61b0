"""Benchmark: what aiogram's routing costs kimbot per update, in the real router tree, without the handlers' work.

    .venv/bin/python bench/bench_routing.py

Every handler of `handlers.build_routers()` is swapped for a no-op; the filters stay and run for real, so what is
measured is the walk to the handler that takes the update: the middleware wrapping of each router passed and the
filter checks on the way. Beside it, the same update on a dispatcher with a single router and a single handler
(what the echo bot of bench_throughput pays). Prints the median of several runs, in µs per update.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import Bot, Dispatcher, Router  # noqa: E402
from aiogram.dispatcher.event.handler import CallableObject  # noqa: E402
from aiogram.filters import Command  # noqa: E402
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, User  # noqa: E402

from bot.core.config import Settings  # noqa: E402
from bot.services.dto import ClientDTO  # noqa: E402
from handlers import build_routers  # noqa: E402
from handlers.keyboards import MenuCb  # noqa: E402

ROUNDS = 7
PER_ROUND = 2_000


def _taken_by(router: Router, taken: list[str]) -> None:
    """Every handler records its name instead of doing its work (the filters in front of it are untouched)."""
    for observer in router.observers.values():
        for handler in observer.handlers:
            name = f"{router.name}:{handler.callback.__name__}"

            async def noted(*_args: Any, _name: str = name, **_kwargs: Any) -> bool:
                taken.append(_name)
                return True

            handler.callback = noted
            CallableObject.__post_init__(handler)  # recompute what the callable accepts
    for sub in router.sub_routers:
        _taken_by(sub, taken)


def _updates() -> dict[str, tuple[str, TelegramObject]]:
    user = User(id=1_000_001, is_bot=False, first_name="B", language_code="en")
    chat = Chat(id=user.id, type="private")

    def message(text: str) -> Message:
        return Message(message_id=1, date=datetime.now(UTC), chat=chat, from_user=user, text=text)

    button = CallbackQuery(
        id="1", from_user=user, chat_instance="1", message=message("menu"), data=MenuCb(action="home").pack()
    )
    return {
        "a client's /help": ("message", message("/help")),
        "a client's free text (relay)": ("message", message("Guten Tag, ich habe eine Frage")),
        "a client's menu button": ("callback_query", button),
    }


async def _per_update_us(dp: Dispatcher, kind: str, event: TelegramObject, data: dict[str, Any]) -> float:
    for _ in range(200):
        await dp.propagate_event(kind, event, **data)
    runs = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(PER_ROUND):
            await dp.propagate_event(kind, event, **data)
        runs.append((time.perf_counter() - started) / PER_ROUND * 1e6)
    return statistics.median(runs)


async def main() -> None:
    bot = Bot("123456789:BENCH-token-for-the-emulator-only")
    client = ClientDTO(
        id=1,
        telegram_id=1_000_001,
        reference="K-B000001",
        locale="ar",
        municipality="euskirchen",
        case_manager_id=None,
        reachable=True,
        privacy_acknowledged_at=datetime.now(UTC),
        created_at=datetime.now(UTC),
    )
    # What kimbot's middlewares put into the handler data (a client, no staff, no FSM state), and a few more keys
    # as the dispatcher adds them (the copies per router grow with the data).
    data: dict[str, Any] = {
        "bot": bot,
        "client": client,
        "staff": None,
        "raw_state": None,
        "state": None,
        "settings": Settings(bot_token=None),
        "session": None,  # no database: the handler is never reached, only the filters on the way
        "topics": SimpleNamespace(bind=lambda bot, session: None),  # what the `with_forum` filter asks for
        **{f"context_{i}": i for i in range(12)},
    }
    taken: list[str] = []
    kimbot = Dispatcher()
    kimbot.include_routers(*build_routers())
    _taken_by(kimbot, taken)

    bare = Dispatcher()
    echo = Router(name="echo")

    async def answer(*_args: Any, **_kwargs: Any) -> bool:
        return True

    echo.message.register(answer, Command("help"))
    echo.message.register(answer)
    echo.callback_query.register(answer)
    bare.include_router(echo)

    print(f"routing cost per update, median of {ROUNDS} runs of {PER_ROUND}:")
    for label, (kind, event) in _updates().items():
        taken.clear()
        mine = await _per_update_us(kimbot, kind, event, data)
        alone = await _per_update_us(bare, kind, event, data)
        ratio = mine / alone
        print(f"  {label:<30} kimbot {mine:6.1f} µs   one router {alone:6.1f} µs   ({ratio:.1f} ×)   → {taken[0]}")
    await bot.session.close()


if __name__ == "__main__":
    asyncio.run(main())

"""Every filter and handler on kimbot's routers is a coroutine: aiogram hands a synchronous one (an `F` expression
included) to a worker thread on every check, which costs more than the database on the update path."""

from __future__ import annotations

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.types import Chat, Message

from handlers import build_routers
from handlers.filters import in_private_chat, is_command, is_plain_text


def _callables(router: Router) -> list[tuple[str, CallableObject]]:
    found: list[tuple[str, CallableObject]] = []
    for kind, observer in router.observers.items():
        for flt in observer._handler.filters or []:
            found.append((f"{router.name}.{kind} router filter", flt))
        for handler in observer.handlers:
            found.append((f"{router.name}.{kind} handler", handler))
            for flt in handler.filters or []:
                found.append((f"{router.name}.{kind} {handler.callback.__name__} filter", flt))
    for sub in router.sub_routers:
        found += _callables(sub)
    return found


def test_every_filter_and_handler_is_a_coroutine() -> None:
    root = Router(name="dispatcher")
    root.include_routers(*build_routers())
    found = _callables(root)
    assert len(found) > 100  # the walk reached the feature routers
    synchronous = [where for where, obj in found if not obj.awaitable]
    assert synchronous == []


def _message(text: str | None, chat_type: str = "private") -> Message:
    return Message.model_validate({"message_id": 1, "date": 0, "chat": Chat(id=5, type=chat_type), "text": text})


async def test_the_shared_filters_check_what_their_names_say() -> None:
    assert await in_private_chat(_message("hi"))
    assert not await in_private_chat(_message("hi", "supergroup"))
    assert await is_command(_message("/help"))
    assert not await is_command(_message("help"))
    assert not await is_command(_message(None))
    assert await is_plain_text(_message("12.03.2027"))
    assert not await is_plain_text(_message("/cancel"))
    assert not await is_plain_text(_message(None))

"""At LOG_LEVEL=DEBUG the log carries no message text, no names and no update JSON: the libraries that log SQL
parameters or Telegram payloads stay quiet (`bot.ops.logs.QUIET`), and the redacting filter catches what one of
them, or a library added later, would still let through."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from aiogram.types import Message

from bot.emulator import BotAPIEmulator
from bot.ops import logs
from bot.ops.logs import QUIET, configure_logging
from tests.support import Running, in_topic, onboard, thread_of

SECRET = "Zitronenfalter 7319, Hauptstraße 12"
NAME = "Olenka-Quappe"


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """kimbot's logging as `kimbot run` sets it up at LOG_LEVEL=DEBUG, writing into a buffer; restored afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET}
    buffer = io.StringIO()
    configure_logging("DEBUG")
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, old in quiet.items():
            logging.getLogger(name).setLevel(old)


# `debug_log` comes first: logging is configured before kimbot starts, as in `kimbot run`.
async def test_debug_log_of_a_client_message_holds_no_text_and_no_name(
    debug_log: io.StringIO, kimbot: Running, emulator: BotAPIEmulator
) -> None:
    await onboard(kimbot, emulator, 880)
    emulator.add_user(880, NAME, language_code="en")  # the name Telegram sends with every update from now on
    await emulator.send_message(880, SECRET)
    await kimbot.settle(880)
    await in_topic(emulator, await thread_of(kimbot, 880), lambda m: SECRET in m.get("text", ""))

    output = debug_log.getvalue()
    assert " DEBUG " in output, "the log was not at DEBUG"
    assert SECRET not in output and "Zitronenfalter" not in output
    assert NAME not in output
    assert '"update_id"' not in output and "'update_id'" not in output


def test_third_party_detail_keeps_its_wording_without_its_arguments(debug_log: io.StringIO) -> None:
    """A library nobody listed in QUIET (one added next year) logs what it was given: the words stay, the data goes."""
    logging.getLogger("somelib.sql").debug("executing %s", f"partial(execute, 'INSERT …', ('{SECRET}',))")
    logging.getLogger("somelib.wire").info("sent %r", {"chat_id": 880, "text": SECRET})
    output = debug_log.getvalue()
    assert "DEBUG somelib.sql: executing %s [arguments withheld]" in output
    assert "DEBUG somelib.wire: sent %r [arguments withheld]" in output
    assert SECRET not in output


def test_update_json_is_withheld_from_any_logger_at_any_level(debug_log: io.StringIO) -> None:
    payload = json.dumps({"update_id": 5, "message": _message()}, ensure_ascii=False)
    logging.getLogger("aiogram.dispatcher").error("Failed to handle %s", payload)
    logging.getLogger("kimbot.inbound").warning("odd update %s", payload)
    logging.getLogger("somelib").error("body: " + payload)
    logging.getLogger("kimbot.relay").warning("copy failed for %s", Message.model_validate(_message()))
    try:
        raise ValueError(payload)
    except ValueError:
        logging.getLogger("kimbot.inbound").exception("handling failed")
    lines = debug_log.getvalue().splitlines()
    assert SECRET not in "\n".join(lines) and "update_id" not in "\n".join(lines)
    assert sum(logs.WITHHELD in line for line in lines) == 4
    assert lines[-2].endswith("ERROR kimbot.inbound: handling failed")
    assert "ValueError (traceback withheld: it carried a Telegram update)" in lines


def test_kimbot_lines_and_third_party_warnings_stay_readable(debug_log: io.StringIO) -> None:
    logging.getLogger("kimbot.inbound").debug("update %s handled in %d ms", 42, 7)
    logging.getLogger("aiogram.dispatcher").warning("Failed to fetch updates - %s: %s", "TelegramNetworkError", "x")
    output = debug_log.getvalue()
    assert "DEBUG kimbot.inbound: update 42 handled in 7 ms" in output
    assert "WARNING aiogram.dispatcher: Failed to fetch updates - TelegramNetworkError: x" in output


def _message() -> dict[str, object]:
    return {
        "message_id": 9,
        "date": 0,
        "chat": {"id": 880, "type": "private"},
        "from": {"id": 880, "is_bot": False, "first_name": NAME},
        "text": SECRET,
    }


def test_every_sql_and_payload_logger_is_quiet() -> None:
    assert {"aiosqlite", "sqlalchemy.engine", "asyncpg", "aiogram.event", "telegram.Bot"} <= set(QUIET)

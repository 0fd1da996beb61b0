"""Logging set-up: plain text for a terminal, JSON (one object per line) for production log collectors.

kimbot's own log lines carry at most a client's internal id – never message text, names or Telegram ids. Other
libraries are kept from logging them in two ways:

1. `QUIET`: loggers that write the token (the Bot API URL contains it), SQL parameters (which hold the journalled
   update JSON, typed addresses and names) or Telegram payloads log only warnings, whatever LOG_LEVEL says.
2. `RedactPayloads`, a second line of defence on the handler for the loggers nobody listed yet: another library's
   line below WARNING keeps its wording but not its arguments (a library's format string is a literal in its code;
   what it was given at run time is where data arrives), and a line from any logger, at any level, that carries a
   Telegram update or message (JSON or object) is replaced by `WITHHELD`.
"""

from __future__ import annotations

import logging
import re
import sys

from aiogram.types import TelegramObject
from pythonjsonlogger.json import JsonFormatter
from telegram import TelegramObject as PTBTelegramObject

QUIET = (
    "alembic",
    "httpx",
    "httpcore",
    "aiohttp.access",
    "aiohttp.client",
    "telegram.Bot",  # python-telegram-bot at DEBUG: every request's parameters and every answer, texts included
    "telegram.ext.ExtBot",
    "apscheduler.executors",
    # SQL and its parameters: the journal's update JSON, home addresses, names, Telegram ids.
    "aiosqlite",
    "sqlalchemy.engine",
    "asyncpg",
    # aiogram's per-update lines (update and bot ids, handler timings) and its webhook request handling.
    "aiogram.event",
    "aiogram.webhook",
)

WITHHELD = "[log line withheld: it carried a Telegram update or message]"
# A Telegram update or message as JSON or a Python dict ("update_id": / 'message_id':) or as aiogram's repr
# (Update(update_id=5, …), Message(message_id=7, …)).
_PAYLOAD = re.compile(r"""["'](?:update_id|message_id)["']\s*:|\b(?:Update|Message)\((?:update_id|message_id)=""")


def _own(name: str) -> bool:
    return name == "kimbot" or name.startswith("kimbot.")


class RedactPayloads(logging.Filter):
    """The second line of defence (see the module docstring); it never drops a line, so a warning still shows
    that something happened, and it never raises."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _own(record.name) and record.levelno < logging.WARNING:
            if not isinstance(record.msg, str):
                record.msg, record.args = f"<{type(record.msg).__name__}> [withheld]", ()
            elif record.args:
                record.msg, record.args = f"{record.msg} [arguments withheld]", ()
        args = record.args.values() if isinstance(record.args, dict) else (record.args or ())
        try:
            carries = any(isinstance(a, TelegramObject | PTBTelegramObject) for a in args) or bool(
                _PAYLOAD.search(record.getMessage())
            )
        except Exception:  # a message that cannot be formatted: its arguments are unknown, so they go
            carries = True
        if carries:
            record.msg, record.args = WITHHELD, ()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            if _PAYLOAD.search(record.exc_text or logging.Formatter().formatException(record.exc_info)):
                record.exc_info = None
                record.exc_text = f"{type(error).__name__} (traceback withheld: it carried a Telegram update)"
        return True


class ThirdPartyInfoToDebug(logging.Filter):
    """Other libraries' INFO lines (APScheduler's "Adding job tentatively" and "Added job" a dozen times at every
    start, aiogram's per-update lines) are detail for whoever debugs, not news for whoever runs kimbot: they become
    DEBUG and show only at LOG_LEVEL=DEBUG. kimbot's own INFO lines and everyone's warnings stay."""

    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and not record.name.startswith("kimbot"):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record.levelno >= self.level


def configure_logging(level: str, fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ThirdPartyInfoToDebug(logging.getLevelName(level)))
    handler.addFilter(RedactPayloads())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))

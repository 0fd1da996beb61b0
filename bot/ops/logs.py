"""Logging set-up: plain text for a terminal, JSON (one object per line) for production log collectors.

The Bot API URL contains the token, so HTTP client loggers stay quiet; kimbot's own log lines carry at most a
client's internal id – never message text, names or Telegram ids.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

QUIET = (
    "alembic",
    "httpx",
    "httpcore",
    "aiohttp.access",
    "aiohttp.client",
    "telegram.ext.ExtBot",
    "apscheduler.executors",
)


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

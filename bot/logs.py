"""Logging set-up. The Bot API URL contains the token, so HTTP client loggers stay quiet."""

from __future__ import annotations

import logging

QUIET = (
    "alembic",
    "httpx",
    "httpcore",
    "aiohttp.access",
    "aiohttp.client",
    "telegram.ext.ExtBot",
    "apscheduler.executors",
)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))

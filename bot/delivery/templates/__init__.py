"""Outbox message templates, one module per capability: each turns a claimed row into the text and buttons the
recipient sees. `bot.app` registers them with the renderer."""

from __future__ import annotations

from collections.abc import Mapping

from bot.delivery.renderer import Template


def collect(*modules: Mapping[str, Template]) -> dict[str, Template]:
    """Merge the capabilities' `TEMPLATES`; a key defined twice is a programming error."""
    merged: dict[str, Template] = {}
    for templates in modules:
        for key, fn in templates.items():
            if key in merged:
                raise ValueError(f"outbox template {key!r} is defined twice")
            merged[key] = fn
    return merged

"""Broadcasts: an admin composes texts per language (compose.py), picks the recipients (segment.py), previews,
schedules and sends (preview.py) and follows the progress with pause / resume / cancel (control.py); clients can
opt out of announcements (announcements.py). Texts and keyboards are in views.py. Diagram:
docs/flows/broadcasts.mmd; delivery: bot/delivery/templates/broadcasts.py."""

from __future__ import annotations

from aiogram import Router

from handlers.broadcasts import announcements, compose, control, preview, segment
from handlers.staff.commands import IsStaff


def build_router() -> Router:
    """The admin's compose flow and the running broadcasts' buttons, mounted in the staff area."""
    router = Router(name="broadcasts_compose")
    router.message.filter(IsStaff())
    router.callback_query.filter(IsStaff())
    for part in (compose, segment, preview, control):  # in this order: compose's /cancel and Discard come first
        part.register(router)
    return router


def register_not_staff(router: Router) -> None:
    """A client's choice to receive announcements or not."""
    announcements.register(router)

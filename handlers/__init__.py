"""aiogram routers. Handlers are thin: read input, call one service, answer with `_()`.

Each module builds its router in `build_router()`, so every dispatcher (and every test) gets fresh ones.
"""

from aiogram import Router

from handlers import appointment_notices as _appointment_notices  # noqa: F401  (registers outbox templates)
from handlers import (
    appointments,
    broadcasts,
    documents,
    language,
    menu,
    onboarding,
    privacy,
    relay,
    reminders,
    staff_agenda,
    staff_commands,
    staff_topics,
)
from handlers import broadcast_notices as _broadcast_notices  # noqa: F401  (registers the broadcast template)
from handlers import help as help_


def build_root_router() -> Router:
    """All routers in the order they are tried. Staff first, then the client's flows; the relay takes free
    text that no flow wanted; the menu's fallbacks come last."""
    root = Router(name="root")
    root.include_routers(
        staff_commands.build_router(),
        broadcasts.build_router(),
        staff_topics.build_router(),
        staff_agenda.build_router(),
        onboarding.build_router(),
        language.build_router(),
        privacy.build_router(),
        help_.build_router(),
        appointments.build_router(),
        documents.build_router(),
        reminders.build_router(),
        relay.build_router(),
        menu.build_router(),
    )
    return root

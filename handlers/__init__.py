"""aiogram routers. Handlers are thin: read input, call one service, answer with `_()`.

Each module builds its router in `build_router()`, so every dispatcher (and every test) gets fresh ones.
"""

from aiogram import Router

from handlers import help as help_
from handlers import language, menu, onboarding, privacy, staff_commands


def build_root_router() -> Router:
    """All routers in the order they are tried; the menu's fallbacks come last."""
    root = Router(name="root")
    root.include_routers(
        staff_commands.build_router(),
        onboarding.build_router(),
        language.build_router(),
        privacy.build_router(),
        help_.build_router(),
        menu.build_router(),
    )
    return root

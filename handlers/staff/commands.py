"""Staff commands. Every one is checked against the staff table by numeric Telegram id."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import BaseFilter, Command
from aiogram.types import Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.county import County
from bot.services import clients
from handlers.filters import in_private_chat, outside_private_chat
from handlers.staff import report, views

# Every staff command of every feature: a client who sends one is told it is for staff only.
STAFF_COMMANDS = (
    "stats",
    "report",
    "agenda",
    "block",
    "bookfor",
    "expiring",
    "assign",
    "note",
    "close",
    "lang",
    "away",
    "back",
    "unblock",
    "broadcast",
    "case",
    "status",
    "followup",
    "find",
    "t",
)
# Staff commands whose answer is about clients: answered only in a private chat with kimbot, never posted to every
# member of the staff group.
PRIVATE_CHAT_COMMANDS = ("stats", "report", "agenda", "expiring", "find")


class IsStaff(BaseFilter):
    """True when the middleware found the caller in the staff table (active, by numeric id)."""

    def __init__(self, negate: bool = False):
        self.negate = negate

    async def __call__(self, event: Any, staff: Any = None) -> bool:
        return (staff is not None) != self.negate


async def show_stats(message: Message, session: AsyncSession, county: County) -> None:
    by_language = await clients.count_by(session, "locale")
    by_town = await clients.count_by(session, "municipality")
    await message.answer(views.stats_text(by_language, by_town, county, get_i18n().current_locale))


async def ask_for_private_chat(message: Message) -> None:
    await message.reply(_("Please use a private chat with me for this command."))


async def refuse_non_staff(message: Message) -> None:
    await message.answer(_("This command is only for staff of the integration management."))


def build_router() -> Router:
    """Mounted in the staff area (`handlers.build_routers`); the filter here as well, should it ever move."""
    router = Router(name="staff")
    router.message.register(ask_for_private_chat, IsStaff(), Command(*PRIVATE_CHAT_COMMANDS), outside_private_chat)
    router.message.register(show_stats, IsStaff(), Command("stats"), in_private_chat)
    router.include_router(report.build_router())
    return router


def register_not_staff(router: Router) -> None:
    router.message.register(refuse_non_staff, Command(*STAFF_COMMANDS))

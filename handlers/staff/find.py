"""`/find` for staff in a private chat with kimbot: a client by reference (or a part of it), by a part of the first
name where names are stored (HANDOFF_TOPIC_NAMES), or by a document expiring within some days (`/find expiring
30`); each hit links to the client's topic in the staff group. In the group itself it is refused, as every
command that lists clients (`handlers.staff.commands.PRIVATE_CHAT_COMMANDS`).
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import get_i18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.services import casework, handoff, office_hours
from bot.services.dto import StaffDTO
from handlers.filters import in_private_chat
from handlers.staff import casework_views as views
from handlers.staff.commands import IsStaff


async def find_client(
    message: Message, command: CommandObject, session: AsyncSession, staff: StaffDTO, county: County, settings: Settings
) -> None:
    query = casework.parse_query(command.args or "")
    if query is None:
        await message.answer(views.find_usage(settings.topic_names))
        return
    today = office_hours.now().astimezone(settings.tz).date()
    found = await casework.find(session, query, staff, today, names_stored=settings.topic_names)
    managers = {}
    for manager_id in {f.case_manager_id for f in found if f.case_manager_id is not None}:
        member = await handoff.staff_by_id(session, manager_id)
        managers[manager_id] = member.display_name if member else "–"
    await message.answer(views.find_results(found, county, managers, get_i18n().current_locale))


def build_router() -> Router:
    router = Router(name="staff_find")
    router.message.register(find_client, Command("find"), IsStaff(), in_private_chat)
    return router

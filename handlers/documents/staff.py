"""/expiring: a staff member sees which of their clients' documents (all clients' for admins) expire within 90 days,
by client reference only, so that they can reach out before a residence permit lapses."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import get_i18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.services import documents
from bot.services.dto import StaffDTO
from handlers.documents import views
from handlers.documents.flow import today
from handlers.filters import in_private_chat
from handlers.staff.commands import IsStaff


async def list_expiring(message: Message, session: AsyncSession, settings: Settings, staff: StaffDTO) -> None:
    items = await documents.expiring(session, staff, today(settings))
    await message.answer(views.expiring_text(items, documents.EXPIRING_DAYS, get_i18n().current_locale))


def build_staff_router() -> Router:
    """/expiring, mounted in the staff area, in a private chat only (in the staff group `handlers.staff.commands`
    asks for one; a client's /expiring is refused with the other staff commands)."""
    router = Router(name="documents_staff")
    router.message.register(list_expiring, Command("expiring"), IsStaff(), in_private_chat)
    return router

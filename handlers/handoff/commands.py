"""Staff commands of the handoff: in a client's topic /lang /close /block /unblock /assign /book (other commands
there are never relayed; /note, /case, /status and /followup are the casework's, `handlers/staff/`); anywhere,
/away and /back for absences (who answers instead of whom)."""

from __future__ import annotations

import re
from datetime import date
from html import escape

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import County
from bot.core.i18n import OFFICE_LOCALE, fmt_date
from bot.db.base import utcnow
from bot.services import handoff, office_hours, reachability
from bot.services import staff as staff_service
from bot.services.dto import ClientDTO, StaffDTO
from bot.telegram.topics import Forum, call
from handlers.handoff import views

_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


async def show_language(message: Message, topic_client: ClientDTO) -> None:
    await message.reply(views.language_text(topic_client))


async def close_conversation(message: Message, topic_client: ClientDTO, forum: Forum, staff: StaffDTO) -> None:
    client, bot = topic_client, forum.bot
    if message.message_thread_id is None:
        return
    with forum.topics.client_locale(client):
        goodbye = _(
            "Your case manager has closed this conversation. Thank you! If you need anything else, just write here "
            "again."
        )
    try:
        await call(lambda: bot.send_message(client.telegram_id, goodbye))
    except TelegramForbiddenError:
        cause = f"close:{message.chat.id}:{message.message_id}"
        await reachability.became_unreachable(
            forum.session, client.id, now=utcnow(), staff_chat_id=forum.settings.staff_chat_id, cause=cause
        )
    await message.reply(_("Conversation closed. The client was told; their next message reopens this topic."))
    await handoff.close(forum.session, client.id, staff.id)
    await forum.refresh_header(client.id)
    try:
        await bot.close_forum_topic(message.chat.id, message.message_thread_id)
    except TelegramBadRequest as exc:
        if "not_modified" not in exc.message.lower():
            raise


async def block_client(
    message: Message, topic_client: ClientDTO, command: CommandObject, forum: Forum, staff: StaffDTO
) -> None:
    blocked = command.command == "block"
    await handoff.set_blocked(forum.session, topic_client.id, blocked, staff.id)
    if blocked:
        await message.reply(_("Blocked: messages from this client are no longer passed on. /unblock undoes it."))
    else:
        await message.reply(_("Unblocked: messages from this client are passed on again."))
    await forum.refresh_header(topic_client.id)


async def offer_assignment(message: Message, topic_client: ClientDTO, session: AsyncSession, staff: StaffDTO) -> None:
    if not staff.is_admin:
        await message.reply(_("Only admins can assign clients. Use the Claim button in the Intake topic."))
        return
    managers = await staff_service.active_case_managers(session)
    await message.reply(
        _("Who should be the case manager of {reference}?").format(reference=escape(topic_client.reference)),
        reply_markup=views.assign_keyboard(topic_client.id, managers),
    )


async def explain_booking(message: Message, topic_client: ClientDTO) -> None:
    """Booking needs buttons only the staff member sees, so it happens in their private chat with kimbot."""
    await message.reply(
        _("To book for this client, write to me in a private chat: /bookfor {reference}").format(
            reference=escape(topic_client.reference)
        )
    )


async def ignore_command(message: Message) -> None:
    """Other commands in a topic are never relayed to the client."""


# ---------------------------------------------------------------------- absence


def _absence_until(args: str, settings: Settings) -> date | None:
    """The last day of the absence named in /away's arguments; None when missing, invalid or past."""
    found = _DATE.search(args)
    today = office_hours.now().astimezone(settings.tz).date()
    try:
        until = date.fromisoformat(found.group(1)) if found else None
    except ValueError:
        until = None
    return None if until is None or until < today else until


async def go_away(
    message: Message, command: CommandObject, session: AsyncSession, staff: StaffDTO, county: County, settings: Settings
) -> None:
    """/away until 2027-01-07 [deputy's numeric Telegram id] – the deputy defaults to the one in the county file."""
    args = command.args or ""
    until = _absence_until(args, settings)
    if until is None:
        await message.reply(_("Please give the last day of your absence, e.g. /away until 2027-01-07"))
        return
    numbers = [int(n) for n in re.findall(r"\b\d{5,}\b", args.replace(until.isoformat(), ""))]
    member = next((m for m in county.staff if m.telegram_id == staff.telegram_id), None)
    deputy_telegram_id = numbers[0] if numbers else getattr(member, "deputy", None)
    deputy = None
    if deputy_telegram_id is not None:
        deputy = await staff_service.find_active(session, deputy_telegram_id)
    await handoff.set_absence(session, staff.id, until, deputy.id if deputy else None)
    absence = await handoff.absence(session, staff.id, office_hours.now().astimezone(settings.tz).date())
    named = absence.deputy.display_name if absence and absence.deputy else "–"
    await message.reply(
        _("Away until {date}. Your clients' messages alert {deputy}; your clients are told who answers.").format(
            date=fmt_date(until, OFFICE_LOCALE, "medium"), deputy=escape(named)
        )
    )


async def come_back(message: Message, session: AsyncSession, staff: StaffDTO) -> None:
    await handoff.clear_absence(session, staff.id)
    await message.reply(_("Welcome back. Your clients' messages alert you again."))

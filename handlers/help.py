"""/help: what kimbot can do, in the caller's language; staff also see their commands."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import BotCommand, Message
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _

from bot.core.i18n import N_, SUPPORTED_LOCALES, rtl_lines
from bot.services.dto import StaffDTO

CLIENT_COMMANDS = {
    # TRANSLATORS: what /start does, shown in Telegram's command menu.
    "start": N_("Start or continue"),
    # TRANSLATORS: what /menu does, shown in Telegram's command menu.
    "menu": N_("Main menu"),
    # TRANSLATORS: what /language does, shown in Telegram's command menu.
    "language": N_("Change the language"),
    # TRANSLATORS: what /privacy does (see or delete your data), shown in Telegram's command menu.
    "privacy": N_("Your data"),
    # TRANSLATORS: what /help does, shown in Telegram's command menu.
    "help": N_("Help"),
}


def help_text(staff: StaffDTO | None, locale: str) -> str:
    """The overview, one command a line; in right-to-left languages every line is laid out right-to-left even
    where it begins with a Latin /command."""
    lines = [
        _("<b>What kimbot can do for you</b>"),
        _("/start – start or continue"),
        _("/menu – the main menu: appointments, documents, your case manager"),
        _("/language – change the language"),
        _("/privacy – your data: see it or delete it"),
        _("/help – this overview"),
    ]
    if staff is not None:
        lines += [
            "",
            _("<b>Staff commands</b>"),
            _("/agenda – your appointments today and tomorrow"),
            _("/bookfor K-ABC123 – book an appointment for a client (in a private chat with me)"),
            _("/block 2027-01-07 09:00-12:00 – make time unavailable"),
            _("/expiring – your clients' documents that expire in the next 90 days"),
            _("/away until 2027-01-07 – absent; your deputy is alerted"),
            _("/find – find a client: by reference code, name or expiring documents"),
            _("/stats – clients by language and municipality"),
            # TRANSLATORS: a "topic" is the forum thread of one client in the staff group.
            _("In a client's topic: /t /case /note /status /followup /assign /close /lang /block /unblock /book"),
        ]
        if staff.is_admin:
            lines.append(_("/broadcast – send an announcement to many clients"))
            lines.append(_("/report – the programme report: figures, charts and a workbook"))
    return rtl_lines("\n".join(lines), locale)


async def explain(message: Message, staff: StaffDTO | None) -> None:
    await message.answer(help_text(staff, get_i18n().current_locale))


def register(private: Router) -> None:
    private.message.register(explain, Command("help"))


def build_router() -> Router:
    """/help in groups (the staff group's general topic); private chats get it in the private area's order."""
    router = Router(name="help")
    register(router)
    return router


async def publish_commands(bot: Bot, i18n: I18n) -> None:
    """The command menu in every client language (Telegram shows the one matching the app's language)."""
    for locale in SUPPORTED_LOCALES:
        commands = [
            BotCommand(command=name, description=i18n.gettext(text, locale=locale))
            for name, text in CLIENT_COMMANDS.items()
        ]
        await bot.set_my_commands(commands, language_code=locale)

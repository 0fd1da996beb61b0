"""Texts used by more than one handler."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.core.county import County


def privacy_notice(county: County, retention_months: int) -> str:
    return _(
        "<b>Your data at kimbot</b>\n\n"
        "kimbot is run by {county} for its integration management. This is a public task "
        "(Art. 6(1)(e) GDPR and the Participation and Integration Act of North Rhine-Westphalia).\n\n"
        "<b>What we store:</b> your Telegram ID, your language, your municipality, your appointments and "
        "the expiry dates of documents you enter. Nothing else.\n"
        "<b>Why:</b> to book appointments, to remind you and to connect you with your case manager.\n"
        "<b>How long:</b> until you delete it, at the latest {months} months after your last contact.\n"
        "<b>Your rights:</b> with /privacy you can see all your data and delete it at any time. "
        "You can also contact the county's data protection officer or the data protection authority "
        "of North Rhine-Westphalia (LDI NRW).\n\n"
        "Please never send case details or copies of documents through Telegram. "
        "Bring them to your appointment."
    ).format(county=county.name, months=retention_months)


def main_menu_text() -> str:
    return _("What would you like to do?")

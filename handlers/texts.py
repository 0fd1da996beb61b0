"""Texts used by more than one handler."""

from __future__ import annotations

import html

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.core.config import Settings
from bot.core.county import County
from bot.core.county_text import CountyTexts
from bot.core.i18n import isolate
from bot.services.data_categories import CATEGORIES, UNFINISHED_ONBOARDING_DAYS


def privacy_notice(county: County, settings: Settings, county_texts: CountyTexts | None = None) -> str:
    """The privacy notice (GDPR Art. 13): short sentences, one line per point, for people who read little.

    What is stored follows `bot.services.data_categories`, the list the data export follows too. The translation
    server is named only when one is configured (TRANSLATE_URL): the notice tells what happens, not what might."""
    locale = get_i18n().current_locale
    stored = [_(category.label) for category in CATEGORIES]
    if settings.keep_transcript:
        stored.append(_("kimbot also keeps the text of your messages to your case manager."))
    seen = [
        _("Your messages are copied into a Telegram group of the integration management."),
        _("Your case managers read them there and answer you."),
        _("Staff of the integration management see your appointments and document dates."),
    ]
    if settings.translate_url or (settings.translate_llm_url and settings.translate_llm_model):
        seen.append(_("Messages between you and your case manager also go to a translation server."))
    if settings.speech_url:
        seen.append(_("Your voice messages to your case manager also go to a speech recognition server."))
    seen.append(_("Telegram keeps your chats too. Telegram's own privacy policy applies to that."))
    rights = [
        _("/privacy – your data: see it or delete it"),
        # TRANSLATORS: the LDI NRW is the data protection authority of North Rhine-Westphalia; keep its name.
        _("Questions or complaints: the county's data protection officer or the LDI NRW (data protection authority)."),
    ]
    if county.privacy_contact:
        contact = county.privacy_contact  # German in the county file: the role is translated in `county_texts`
        if county_texts is not None:
            contact = county_texts.text(contact, locale)
        contact = isolate(html.escape(contact), locale)
        rights.append(_("Data protection contact: {contact}").format(contact=contact))
    parts = [
        "<b>{}</b>".format(_("Your data at kimbot")),
        "\n".join(
            [
                _("Responsible: {county}, integration management.").format(
                    county=isolate(html.escape(county.name), locale)
                ),
                # TRANSLATORS: keep "Art. 6(1)(e)" as it is; GDPR is the EU's General Data Protection Regulation,
                # the act is the "Teilhabe- und Integrationsgesetz NRW".
                _("Legal basis: a public task (Art. 6(1)(e) GDPR, Participation and Integration Act NRW)."),
                _("Why: to book appointments, to remind you and to connect you with your case manager."),
            ]
        ),
        _section(_("What kimbot stores:"), stored),
        _section(_("Who sees it:"), seen),
        _section(
            _("How long:"),
            [
                _("Until you delete it, at the latest {months} months after your last contact.").format(
                    months=settings.retention_months
                ),
                _("If you do not finish signing up: {days} days.").format(days=UNFINISHED_ONBOARDING_DAYS),
            ],
        ),
        _section(_("Your rights:"), rights),
        _("Please do not send copies of documents here. Bring them to your appointment."),
    ]
    return "\n\n".join(parts)


def _section(title: str, lines: list[str]) -> str:
    return "\n".join([f"<b>{title}</b>", *(f"• {line}" for line in lines)])


def main_menu_text() -> str:
    return _("What would you like to do?")

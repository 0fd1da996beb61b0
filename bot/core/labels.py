"""Labels of the county's terms that handlers and message templates share, in the current gettext locale.

A residence document has three labels: one to use inside a sentence ("Your toleration (Duldung) expires…"), one for
buttons and lists that starts with the German term clients find on their papers ("Duldung (toleration)"; Telegram
cuts long buttons off at the end), and the bare German term where even that is too long. The renderings follow
`locales/glossary.toml`.
"""

from __future__ import annotations

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

# The German terms on the papers themselves; never translated.
GERMAN_TERMS = {
    "residence_permit": "Aufenthaltstitel",
    "duldung": "Duldung",
    "gestattung": "Aufenthaltsgestattung",
    "fiktion": "Fiktionsbescheinigung",
}


def pgettext(context: str, message: str) -> str:
    """gettext with a message context (msgctxt), for one English word that needs two renderings.

    aiogram's i18n has no pgettext; the compiled catalogs it loads (gettext.GNUTranslations) do."""
    i18n = get_i18n()
    translations = i18n.locales.get(i18n.current_locale)
    return translations.pgettext(context, message) if translations is not None else message


def doc_type_label(doc_type: str) -> str:
    """The document inside a sentence: lower case where the language writes it so, German term in brackets."""
    labels = {
        # TRANSLATORS: used inside sentences such as "Your {document} expires on {date}"; keep "(Aufenthaltstitel)".
        "residence_permit": _("residence title (Aufenthaltstitel)"),
        # TRANSLATORS: used inside sentences such as "Your {document} expires on {date}"; keep "(Duldung)".
        "duldung": _("toleration (Duldung)"),
        # TRANSLATORS: used inside sentences; keep "(Aufenthaltsgestattung)".
        "gestattung": _("permission to reside during the asylum procedure (Aufenthaltsgestattung)"),
        # TRANSLATORS: used inside sentences; keep "(Fiktionsbescheinigung)". It certifies that the residence
        # continues while the immigration office decides on an application.
        "fiktion": _("provisional residence certificate (Fiktionsbescheinigung)"),
        # TRANSLATORS: used inside sentences such as "Your {document} expires on {date}".
        "passport": pgettext("in a sentence", "passport"),
        # TRANSLATORS: used inside sentences such as "Your {document} expires on {date}".
        "work_permit": pgettext("in a sentence", "work permit"),
        # TRANSLATORS: used inside sentences such as "Your {document} expires on {date}".
        "other": pgettext("in a sentence", "other document"),
    }
    return labels.get(doc_type, labels["other"])


def doc_type_button(doc_type: str) -> str:
    """The document on a button or at the start of a list line: the German term first."""
    labels = {
        # TRANSLATORS: button, at most 40 characters: the German term first, then a short explanation.
        "residence_permit": _("Aufenthaltstitel (residence title)"),
        # TRANSLATORS: button, at most 40 characters: the German term first, then a short explanation.
        "duldung": _("Duldung (toleration)"),
        # TRANSLATORS: button, at most 40 characters: the German term first, then a short explanation.
        "gestattung": _("Aufenthaltsgestattung (asylum)"),
        # TRANSLATORS: button, at most 40 characters: the German term first, then a short explanation.
        "fiktion": _("Fiktionsbescheinigung (provisional)"),
        # TRANSLATORS: button, at most 40 characters.
        "passport": _("Passport"),
        # TRANSLATORS: button, at most 40 characters.
        "work_permit": _("Work permit"),
        # TRANSLATORS: button, at most 40 characters.
        "other": _("Other document"),
    }
    return labels.get(doc_type, labels["other"])


def doc_type_short(doc_type: str) -> str:
    """The shortest recognisable name: the German term for German papers, else the button label."""
    return GERMAN_TERMS.get(doc_type) or doc_type_button(doc_type)

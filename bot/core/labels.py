"""Labels of the county's terms that handlers and message templates share, in the current gettext locale."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _


def doc_type_label(doc_type: str) -> str:
    labels = {
        "residence_permit": _("Residence permit (eAT)"),
        "duldung": _("Toleration (Duldung)"),
        "gestattung": _("Permission to reside during the asylum procedure (Aufenthaltsgestattung)"),
        "fiktion": _("Fictional certificate (Fiktionsbescheinigung)"),
        "passport": _("Passport"),
        "work_permit": _("Work permit"),
        "other": _("Other document"),
    }
    return labels.get(doc_type, labels["other"])

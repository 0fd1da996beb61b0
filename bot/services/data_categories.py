"""What kimbot holds about a client, by category: one list that the privacy notice (GDPR Art. 13,
`handlers/texts.py`) and the data export (Art. 15, `bot.services.privacy.export`) both follow, so that what
clients are told and what they can download cannot drift apart.

Each category names the export's top-level sections it covers (`keys`, the parts of
`bot.services.privacy.EXPORT_PARTS`) and the line the notice shows for it (`label`, a gettext message id
translated when the notice is rendered); one section may need several lines (`client` holds the case manager
too). `tests/test_privacy_notice.py` fails when the export gains a section no category names, and when a label is
missing from the notice.
"""

from __future__ import annotations

from dataclasses import dataclass


def N_(message: str) -> str:
    """Marks a message id for extraction (scripts/update_catalogs.py); translated where it is shown."""
    return message


# People who started but never finished onboarding (language, notice, municipality) are erased after this many
# days, not after RETENTION_MONTHS; the notice says so.
UNFINISHED_ONBOARDING_DAYS = 30


@dataclass(frozen=True)
class Category:
    keys: tuple[str, ...]
    label: str


CATEGORIES: tuple[Category, ...] = (
    Category(("client",), N_("Your Telegram ID, language, municipality and a reference number (such as K-4F7Q2).")),
    Category(("appointments",), N_("Your appointments. For a home visit also your address.")),
    Category(
        ("appointment_details", "interpreters"),
        N_("For a video or phone appointment: the link or the number to call. An interpreter booked for you."),
    ),
    Category(("waitlist", "no_shows"), N_("Waiting list places, and how often you missed an appointment.")),
    Category(("client",), N_("Which case manager looks after you.")),
    Category(("documents",), N_("Your documents: only the type and the expiry date.")),
    Category(("case_file",), N_("Your case file: notes, residence status and follow-up tasks of your case managers.")),
    Category(("case_file",), N_("If staff see your first name in their group, kimbot keeps it to find you.")),
    Category(("case_manager_chat",), N_("Your chat with your case manager: when, and what kind of message.")),
    Category(("messages",), N_("Reminders and notices kimbot sends you.")),
    Category(("activity",), N_("A log of what you did, for example booked or deleted.")),
    Category(("conversation_state",), N_("What you typed in a step you have not finished yet.")),
)

EXPORT_SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(key for category in CATEGORIES for key in category.keys))
"""The export's sections about the client, in the notice's order (the export also has `exported_at`)."""


def labels_for(section: str) -> list[str]:
    """The notice's lines (message ids) that name an export section; empty when the notice does not name it."""
    return [c.label for c in CATEGORIES if section in c.keys]

"""Every button's callback data, in one place so that the prefixes can be seen side by side (a test checks they
are unique: aiogram tells factories apart by prefix only). Telegram allows 64 bytes of callback data; prefixes are
one or two letters. Callback data is input from the client's device: handlers re-check ownership in the database.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

# Onboarding, language, menu and privacy


class LanguageCb(CallbackData, prefix="lg"):
    code: str


class MenuCb(CallbackData, prefix="m"):
    action: str


class TownCb(CallbackData, prefix="t"):
    key: str


class PrivacyCb(CallbackData, prefix="p"):
    action: str


# Booking


class ServiceCb(CallbackData, prefix="bs"):
    key: str


class OfficeCb(CallbackData, prefix="bo"):
    key: str


class DayCb(CallbackData, prefix="bd"):
    day: str  # YYYYMMDD, or "" for "later" with `after`
    after: str = ""


class SlotCb(CallbackData, prefix="bt"):
    staff: int
    ts: int


class ConfirmCb(CallbackData, prefix="bf"):
    action: str  # yes | other | stop


class ApptCb(CallbackData, prefix="ap"):
    action: str  # cancel | cancel_yes | keep | move | accept | decline
    id: int


class WaitCb(CallbackData, prefix="bw"):
    key: str


# Reminders


class ReminderCb(CallbackData, prefix="rm"):
    action: str  # come | change
    appointment_id: int


# Documents


class DocCb(CallbackData, prefix="dm"):
    action: str  # list | add | type | edit | del | del_yes
    id: int = 0
    t: str = ""  # document type for action "type"


class CalCb(CallbackData, prefix="dc"):
    action: str  # day | nav | noop
    y: int
    m: int
    d: int = 0


# Handoff


class ClaimCb(CallbackData, prefix="hc"):
    client: int


class AssignCb(CallbackData, prefix="ha"):
    client: int
    staff: int


class IdNoticeCb(CallbackData, prefix="hi"):
    action: str  # send | drop
    message: int
    kind: str


# Broadcasts


class BcCb(CallbackData, prefix="bc"):
    action: str
    v: str = ""


class BcRunCb(CallbackData, prefix="br"):
    action: str  # pause | resume | cancel
    id: int


class AnnCb(CallbackData, prefix="an"):
    off: bool


# Staff


class AgendaCb(CallbackData, prefix="ag"):
    action: str  # attended | no_show | address
    id: int

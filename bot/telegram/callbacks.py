"""Every button's callback data, in one place so that the prefixes can be seen side by side (a test checks they
are unique: aiogram tells factories apart by prefix only). Telegram allows 64 bytes of callback data; prefixes are
one or two letters. Callback data is input from the client's device: handlers re-check ownership in the database.

Numbers are bounded (`DbId`, `MessageId`, …): a forged value out of range (`ap:cancel_yes:999…9`), of the wrong
type or with extra fields does not parse, so the filter does not match and the catch-all answers the button
(`bot.telegram.throttle`); no handler ever sees an id the database or `datetime` would choke on.
"""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

INT32_MAX = 2**31 - 1
# A row id (the tables' integer keys) and a Telegram message id: both fit a signed 32-bit integer.
DbId = Annotated[int, Field(ge=0, le=INT32_MAX)]
MessageId = Annotated[int, Field(ge=1, le=INT32_MAX)]
Timestamp = Annotated[int, Field(ge=0, le=2**33)]  # seconds since 1970, up to the year 2242
Short = Annotated[str, Field(max_length=32)]

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
    staff: DbId
    ts: Timestamp


class ConfirmCb(CallbackData, prefix="bf"):
    action: str  # yes | other | stop


class ApptCb(CallbackData, prefix="ap"):
    action: Short  # cancel | cancel_yes | keep | move | accept | decline
    id: DbId


class WaitCb(CallbackData, prefix="bw"):
    key: str


# Interpreters, video and phone, series (handlers/booking/interpreter.py, series.py)

InterpreterKey = Annotated[str, Field(pattern=r"^[a-z0-9_-]{0,32}$")]


class WithInterpreterCb(CallbackData, prefix="bi"):
    want: bool


class ModeCb(CallbackData, prefix="bm"):
    mode: Annotated[str, Field(pattern=r"^(video|phone)$")]


class InterpreterIcsCb(CallbackData, prefix="ic"):
    booking: DbId  # an interpreter booking; checked against the caller's Telegram id


class InterpreterCb(CallbackData, prefix="ip"):
    action: Short  # pick (show who is free) | set (that one; key "" for none)
    id: DbId  # the appointment
    key: InterpreterKey = ""


class SeriesCb(CallbackData, prefix="sr"):
    action: Short  # every (n weeks) | times (n) | yes | no | cancel_one | cancel_all
    n: Annotated[int, Field(ge=0, le=52)] = 0
    id: DbId = 0  # the appointment, for cancel_one / cancel_all


# Reminders


class ReminderCb(CallbackData, prefix="rm"):
    action: Short  # come | change
    appointment_id: DbId


# Documents


class DocCb(CallbackData, prefix="dm"):
    action: Short  # list | add | type | edit | del | del_yes
    id: DbId = 0
    t: Short = ""  # document type for action "type"


class CalCb(CallbackData, prefix="dc"):
    action: Short  # day | nav | noop
    y: Annotated[int, Field(ge=1, le=9999)]
    m: Annotated[int, Field(ge=1, le=12)]
    d: Annotated[int, Field(ge=0, le=31)] = 0


# Handoff


class ClaimCb(CallbackData, prefix="hc"):
    client: DbId


class AssignCb(CallbackData, prefix="ha"):
    client: DbId
    staff: DbId


class IdNoticeCb(CallbackData, prefix="hi"):
    action: Short  # send | drop
    message: MessageId  # a hint: the notice is checked against the one kimbot stored
    kind: Short


class TemplateCb(CallbackData, prefix="ht"):
    action: Short  # send (a template from the /t list) | mt (send it machine-translated) | no (do not)
    client: DbId  # a hint: checked against the client of the topic the button is in
    name: Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,24}$")]


# Broadcasts


class BcCb(CallbackData, prefix="bc"):
    action: str
    v: str = ""


class BcRunCb(CallbackData, prefix="br"):
    action: Short  # pause | resume | cancel
    id: DbId


class AnnCb(CallbackData, prefix="an"):
    off: bool


# Staff


class AgendaCb(CallbackData, prefix="ag"):
    action: Short  # attended | no_show | address
    id: DbId


# Casework (handlers/staff/case.py, status.py, followups.py)


class CaseCb(CallbackData, prefix="cv"):
    client: DbId
    page: Annotated[int, Field(ge=0, le=99)] = 0
    new: bool = False  # the header card's button: the case as a new message in the topic, not an edit


class StatusCb(CallbackData, prefix="cs"):
    client: DbId
    code: Short  # a code of bot.services.residence_status.STATUSES
    para: Annotated[str, Field(max_length=8)] = ""  # a paragraph code, for an Aufenthaltserlaubnis
    day: Annotated[str, Field(pattern=r"^(\d{8})?$")] = ""  # YYYYMMDD the change took effect; "" for today


class FollowupCb(CallbackData, prefix="fu"):
    action: Short  # done | day | week
    id: DbId


# Reporting (handlers/staff/report.py)

ReportMonth = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class ReportCb(CallbackData, prefix="rp"):
    action: Short  # make | csv
    first: ReportMonth
    last: ReportMonth
    kind: Annotated[str, Field(pattern=r"^(month|quarter|year|range)$")]


# Read aloud (handlers/read_aloud.py): which message to speak; the text is derived again from the database.


class ReadAloudCb(CallbackData, prefix="ra"):
    what: Annotated[str, Field(pattern=r"^(privacy|summary|booked|answer)$")]
    ref: DbId = 0  # the appointment (booked); 0 where the message itself says which (privacy, summary, answer)

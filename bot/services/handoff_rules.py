"""The handoff's rules about what happens around a client's message, as decisions: whether it is passed on at all
(`admit`: onboarded, not blocked, a staff group; `gate`: unsupported kinds, the one-time identity-documents
notice), flood protection (hold it, tell the client once a minute, drop beyond a full batch), and after a message
went into the topic: mention the case manager once per turn (or the deputy of an absent one), tell the client once
who answers during an absence, and send the out-of-hours reply once.

Telegram-free and database-free: callers read the facts, ask here, and carry out the answer (a small dataclass),
so the rules can be tested without a bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.core.county import Office
from bot.services import office_hours
from bot.services.dto import StaffDTO
from bot.services.handoff import AbsenceDTO, ConversationDTO

FLOOD_WINDOW = timedelta(minutes=1)
# A client's line is "theirs" again after a staff answer: the next message mentions the case manager again.
MENTION_INTERVAL = timedelta(hours=4)
# A client quiet this long is "returning": appointments or documents on the header card may have changed.
HEADER_REFRESH = timedelta(hours=6)
ID_NOTICE_KINDS = ("photo", "document")

Gate = Literal["ignore", "unsupported", "id_notice", "pass"]
Admission = Literal["ignore", "not_available", "pass"]


def admit(conv: ConversationDTO, *, onboarded: bool, staff_chat: bool) -> Admission:
    """The one gate in front of the staff group: every way a client's words get there (a message, the "send" of
    the identity-documents notice, an edit of an earlier copy) asks here first. Nothing from someone who has not
    finished onboarding (acknowledged the privacy notice) or whom staff blocked; "not available" without a staff
    group. Flood protection comes after it (`flood`)."""
    if not onboarded or conv.blocked:
        return "ignore"
    if not staff_chat:
        return "not_available"
    return "pass"


def gate(conv: ConversationDTO, kind: str | None) -> Gate:
    """Before anything else: a blocked client is ignored, a kind we cannot copy is refused, the first photo or
    document asks about identity documents first; everything else goes on to flood protection."""
    if conv.blocked:
        return "ignore"
    if kind is None:
        return "unsupported"
    if kind in ID_NOTICE_KINDS and conv.id_notice_sent_at is None:
        return "id_notice"
    return "pass"


@dataclass(frozen=True, slots=True)
class Flood:
    hold: bool  # store the message as held and pass it on with the others a while later
    tell_client: bool  # the client is told (at most once a minute) that their messages go together
    drop: bool = False  # the held batch is full: not passed on (the client is told to send it again later)


def flood(
    held: int, recent: int, limit: int, flood_notice_at: datetime | None, now: datetime, cap: int | None = None
) -> Flood:
    """Hold while messages are held, or once the client sent `limit` messages within the last minute; once `cap`
    messages (default: `limit`) are held, further ones are dropped until the batch has gone out. So a flood
    becomes at most `limit` copies and one batch of `cap` a minute, not one copy per message."""
    if held >= (limit if cap is None else cap):
        return Flood(hold=False, tell_client=False, drop=True)
    if not (held or recent >= limit):
        return Flood(hold=False, tell_client=False)
    return Flood(hold=True, tell_client=flood_notice_at is None or now - flood_notice_at > FLOOD_WINDOW)


def should_mention(conv: ConversationDTO, now: datetime) -> bool:
    """Mention the case manager on the first client message of a turn, not on every message."""
    if conv.mentioned_at is None:
        return True
    if conv.last_staff_message_at is not None and conv.last_staff_message_at >= conv.mentioned_at:
        return True
    return now - conv.mentioned_at > MENTION_INTERVAL


@dataclass(frozen=True, slots=True)
class AfterMessage:
    """What to do once a client's message is in their topic; `marks` are the conversation flags to store."""

    mention: Literal["manager", "deputy"] | None = None  # who is mentioned in the topic
    away_notice: bool = False  # the client is told who answers while their case manager is away
    auto_reply: bool = False  # out of hours: the client is told when to expect an answer
    opens: datetime | None = None  # the next opening named in the auto reply (None: "as soon as possible")

    @property
    def marks(self) -> list[str]:
        flags = [("mentioned_at", self.mention is not None), ("away_notice_sent_at", self.away_notice)]
        flags.append(("auto_reply_sent_at", self.auto_reply))
        return [flag for flag, done in flags if done]


@dataclass(frozen=True, slots=True)
class ClientMessageFacts:
    """What the rules after a client message look at."""

    conv: ConversationDTO  # as it was before this message
    manager: StaffDTO | None  # the client's case manager, if any (active)
    away: AbsenceDTO | None  # the case manager's absence running today, if any
    office: Office | None  # the office whose hours apply
    now: datetime  # the clock the conversation flags are stored with (UTC)
    moment: datetime  # the time office hours are measured at (office_hours.now())
    tz: ZoneInfo


def after_client_message(facts: ClientMessageFacts) -> AfterMessage:
    """Each once per conversation (a staff answer starts a new turn)."""
    conv, away = facts.conv, facts.away
    deputy_not_told = away is not None and away.deputy is not None and conv.away_notice_sent_at is None
    mention: Literal["manager", "deputy"] | None = None
    if facts.manager is not None and (should_mention(conv, facts.now) or deputy_not_told):
        mention = "deputy" if away is not None and away.deputy is not None else "manager"
    office, moment, tz = facts.office, facts.moment, facts.tz
    if office is None or conv.auto_reply_sent_at is not None or office_hours.is_open(office, moment, tz):
        return AfterMessage(mention=mention, away_notice=deputy_not_told)
    opens = office_hours.next_opening(office, moment, tz)
    return AfterMessage(mention=mention, away_notice=deputy_not_told, auto_reply=True, opens=opens)


def refresh_header(conv: ConversationDTO, reachable: bool, now: datetime) -> bool:
    """After a client message: refresh the header card when the client was unreachable, or is returning (their
    conversation was closed, or they were quiet for a while)."""
    if not reachable:
        return True
    quiet_for = now - conv.last_client_message_at if conv.last_client_message_at else None
    return conv.status == "closed" or (quiet_for is not None and quiet_for > HEADER_REFRESH)

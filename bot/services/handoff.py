"""Handoff: a client's conversation with their case manager through a forum topic in the staff group.

Telegram-free. Keeps, per client, the topic and its header card, per-conversation flags (auto reply, absence
notice, mention), the message pairs (Telegram ids of the original and its copy – never the text unless the county
keeps a transcript), assignment (claim, assign), staff absences and who answers instead. The rules that use these
flags (mention once, absence notice, auto reply, flood hold) are decisions in `handoff_rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.db.models import Client, Staff
from bot.db.models_handoff import Conversation, RelayMessage, StaffAbsence, StaffTopic
from bot.services import audit, clients
from bot.services import staff as staff_service
from bot.services.dto import ClientDTO, StaffDTO
from bot.services.reporting import hooks as report_hooks

INTAKE = "intake"


@dataclass(frozen=True, slots=True)
class ConversationDTO:
    client_id: int
    chat_id: int | None
    thread_id: int | None
    header_message_id: int | None
    intake_message_id: int | None
    status: str
    blocked: bool
    auto_reply_sent_at: datetime | None
    away_notice_sent_at: datetime | None
    mentioned_at: datetime | None
    flood_notice_at: datetime | None
    id_notice_sent_at: datetime | None
    last_staff_message_at: datetime | None
    last_client_message_at: datetime | None = None

    @classmethod
    def blank(cls, client_id: int) -> ConversationDTO:
        """A client's conversation before their first message: no topic, nothing sent yet."""
        return cls(
            client_id=client_id,
            chat_id=None,
            thread_id=None,
            header_message_id=None,
            intake_message_id=None,
            status="open",
            blocked=False,
            auto_reply_sent_at=None,
            away_notice_sent_at=None,
            mentioned_at=None,
            flood_notice_at=None,
            id_notice_sent_at=None,
            last_staff_message_at=None,
        )


@dataclass(frozen=True, slots=True)
class PairDTO:
    id: int
    client_id: int
    direction: str
    kind: str
    status: str
    client_message_id: int | None
    staff_chat_id: int | None
    staff_message_id: int | None


@dataclass(frozen=True, slots=True)
class AbsenceDTO:
    staff_id: int
    until: date
    deputy: StaffDTO | None


def _conversation_dto(row: Conversation) -> ConversationDTO:
    return ConversationDTO(
        client_id=row.client_id,
        chat_id=row.chat_id,
        thread_id=row.thread_id,
        header_message_id=row.header_message_id,
        intake_message_id=row.intake_message_id,
        status=row.status,
        blocked=row.blocked,
        auto_reply_sent_at=row.auto_reply_sent_at,
        away_notice_sent_at=row.away_notice_sent_at,
        mentioned_at=row.mentioned_at,
        flood_notice_at=row.flood_notice_at,
        id_notice_sent_at=row.id_notice_sent_at,
        last_staff_message_at=row.last_staff_message_at,
        last_client_message_at=row.last_client_message_at,
    )


def _pair_dto(row: RelayMessage) -> PairDTO:
    return PairDTO(
        id=row.id,
        client_id=row.client_id,
        direction=row.direction,
        kind=row.kind,
        status=row.status,
        client_message_id=row.client_message_id,
        staff_chat_id=row.staff_chat_id,
        staff_message_id=row.staff_message_id,
    )


# ---------------------------------------------------------------------- conversations


async def _conversation_row(session: AsyncSession, client_id: int) -> Conversation:
    row = await session.scalar(select(Conversation).where(Conversation.client_id == client_id))
    if row is None:
        row = Conversation(client_id=client_id, status="open", blocked=False)
        session.add(row)
        await session.flush()
    return row


async def conversation(session: AsyncSession, client_id: int) -> ConversationDTO:
    """The client's conversation; a blank one (not yet stored) before the first message.

    Read-only on purpose: on SQLite the first write takes the database's write lock until the update commits,
    so handlers read first, talk to Telegram, and write last.
    """
    row = (await session.execute(_CONVERSATION, {"client_id": client_id})).first()
    return ConversationDTO(**row._mapping) if row is not None else ConversationDTO.blank(client_id)


# Read for every client message: a Core select of the DTO's columns (no ORM object to build and track).
_CONVERSATION = select(*[Conversation.__table__.c[name] for name in ConversationDTO.__dataclass_fields__]).where(
    Conversation.__table__.c.client_id == bindparam("client_id")
)


async def client(session: AsyncSession, client_id: int) -> ClientDTO | None:
    row = await session.get(Client, client_id)
    return clients.to_dto(row) if row is not None else None


async def set_topic(
    session: AsyncSession, client_id: int, chat_id: int, thread_id: int, header_message_id: int | None
) -> None:
    row = await _conversation_row(session, client_id)
    row.chat_id, row.thread_id, row.header_message_id = chat_id, thread_id, header_message_id
    row.status = "open"
    await session.flush()


async def set_intake_card(session: AsyncSession, client_id: int, message_id: int | None) -> None:
    row = await _conversation_row(session, client_id)
    row.intake_message_id = message_id
    await session.flush()


async def client_id_for_topic(session: AsyncSession, chat_id: int, thread_id: int) -> int | None:
    return await session.scalar(
        select(Conversation.client_id).where(Conversation.chat_id == chat_id, Conversation.thread_id == thread_id)
    )


async def mark(session: AsyncSession, client_id: int, flag: str, at: datetime | None = None) -> None:
    """Set one of the per-conversation moments (auto_reply_sent_at, away_notice_sent_at, mentioned_at,
    flood_notice_at, id_notice_sent_at) to now (or `at`)."""
    if flag not in {
        "auto_reply_sent_at",
        "away_notice_sent_at",
        "mentioned_at",
        "flood_notice_at",
        "id_notice_sent_at",
    }:
        raise ValueError(f"unknown flag {flag}")
    row = await _conversation_row(session, client_id)
    setattr(row, flag, at or utcnow())
    await session.flush()


async def client_wrote(session: AsyncSession, client_id: int) -> None:
    """A client message arrived: the conversation is open (again). One UPDATE: this runs for every message."""
    result = await session.execute(_CLIENT_WROTE, {"cid": client_id, "now": utcnow()})
    if not getattr(result, "rowcount", 0):
        row = await _conversation_row(session, client_id)
        row.last_client_message_at = utcnow()
        await session.flush()


# Built once: constructing the statement cost more CPU than running it (the same for `flood_state`).
_CLIENT_WROTE = (
    update(Conversation)
    .where(Conversation.client_id == bindparam("cid"))
    .values(status="open", last_client_message_at=bindparam("now"), updated_at=bindparam("now"))
)


async def staff_answered(session: AsyncSession, client_id: int) -> None:
    """A staff answer ends the client's turn: the next out-of-hours message gets an auto reply again."""
    row = await _conversation_row(session, client_id)
    row.last_staff_message_at = utcnow()
    row.auto_reply_sent_at = None
    row.away_notice_sent_at = None
    await session.flush()


async def close(session: AsyncSession, client_id: int, staff_id: int) -> None:
    row = await _conversation_row(session, client_id)
    row.status = "closed"
    row.auto_reply_sent_at = row.away_notice_sent_at = row.flood_notice_at = None
    await session.flush()
    audit.record(session, "conversation_closed", actor="staff", actor_id=staff_id, client_id=client_id)


async def set_blocked(session: AsyncSession, client_id: int, blocked: bool, staff_id: int) -> None:
    row = await _conversation_row(session, client_id)
    row.blocked = blocked
    await session.flush()
    action = "client_blocked" if blocked else "client_unblocked"
    audit.record(session, action, actor="staff", actor_id=staff_id, client_id=client_id)


# ---------------------------------------------------------------------- message pairs


async def record(
    session: AsyncSession,
    client_id: int,
    *,
    direction: str,
    kind: str,
    client_message_id: int | None,
    staff_chat_id: int | None = None,
    staff_message_id: int | None = None,
    status: str = "delivered",
    staff_id: int | None = None,
    translated: bool = False,
    transcript: str | None = None,
) -> int:
    """Store one pair (ids of both copies). `transcript` is only passed when the county keeps one."""
    now = utcnow()
    values = {
        "client_id": client_id,
        "direction": direction,
        "kind": kind,
        "status": status,
        "client_message_id": client_message_id,
        "staff_chat_id": staff_chat_id,
        "staff_message_id": staff_message_id,
        "staff_id": staff_id,
        "translated": translated,
        "transcript": transcript,
        "created_at": now,
        "delivered_at": now if status == "delivered" else None,
    }
    pair_id = int((await session.execute(_RECORD, values)).scalar_one())  # one Core INSERT, no ORM flush
    await report_hooks.relayed(session, client_id, direction, status)
    return pair_id


_PAIRS = cast(Table, RelayMessage.__table__)
_RECORD = insert(_PAIRS).returning(_PAIRS.c.id)


async def delivered(session: AsyncSession, pair_id: int, staff_chat_id: int, staff_message_id: int) -> None:
    await session.execute(
        update(RelayMessage)
        .where(RelayMessage.id == pair_id)
        .values(
            status="delivered", staff_chat_id=staff_chat_id, staff_message_id=staff_message_id, delivered_at=utcnow()
        )
    )


async def drop_held(session: AsyncSession, client_id: int) -> int:
    """A blocked client's held messages are not passed on: they stay recorded as `dropped`."""
    result = await session.execute(
        update(RelayMessage)
        .where(RelayMessage.client_id == client_id, RelayMessage.status == "held")
        .values(status="dropped")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def issue_notice(session: AsyncSession, client_id: int, client_message_id: int, kind: str) -> None:
    """The identity-documents notice was sent about this message: remember which one (a pair with status
    "notice"), so that its "send" button passes on that message and no other, whatever the callback data says."""
    await record(session, client_id, direction="in", kind=kind, client_message_id=client_message_id, status="notice")
    await mark(session, client_id, "id_notice_sent_at")


async def take_notice(session: AsyncSession, client_id: int, client_message_id: int) -> PairDTO | None:
    """The notice issued for this message of the client, now answered (forgotten); None if there is none."""
    row = await session.scalar(
        select(RelayMessage).where(
            RelayMessage.client_id == client_id,
            RelayMessage.client_message_id == client_message_id,
            RelayMessage.status == "notice",
        )
    )
    if row is None:
        return None
    found = _pair_dto(row)
    await session.delete(row)
    await session.flush()
    return found


async def held(session: AsyncSession, client_id: int | None = None) -> list[PairDTO]:
    """Messages held by flood protection, oldest first (all clients when `client_id` is None)."""
    query = select(RelayMessage).where(RelayMessage.status == "held").order_by(RelayMessage.id)
    if client_id is not None:
        query = query.where(RelayMessage.client_id == client_id)
    return [_pair_dto(r) for r in (await session.scalars(query)).all()]


async def flood_state(session: AsyncSession, client_id: int, since: datetime) -> tuple[int, int]:
    """(messages held now, messages from the client since `since`) in one query."""
    row = (await session.execute(_FLOOD_STATE, {"cid": client_id, "since": since})).one()
    return int(row[0] or 0), int(row[1] or 0)


_FLOOD_STATE = select(
    func.sum(case((RelayMessage.status == "held", 1), else_=0)),
    func.sum(case((RelayMessage.created_at >= bindparam("since"), 1), else_=0)),
).where(
    RelayMessage.client_id == bindparam("cid"),
    RelayMessage.direction == "in",
    or_(RelayMessage.status == "held", RelayMessage.created_at >= bindparam("since")),
)


async def recent_inbound(session: AsyncSession, client_id: int, since: datetime) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(RelayMessage)
        .where(RelayMessage.client_id == client_id, RelayMessage.direction == "in", RelayMessage.created_at >= since)
    )
    return int(count or 0)


async def by_staff_message(session: AsyncSession, chat_id: int, message_id: int) -> PairDTO | None:
    row = await session.scalar(
        select(RelayMessage)
        .where(RelayMessage.staff_chat_id == chat_id, RelayMessage.staff_message_id == message_id)
        .order_by(RelayMessage.id)
        .limit(1)
    )
    return _pair_dto(row) if row else None


async def by_client_message(session: AsyncSession, client_id: int, message_id: int) -> PairDTO | None:
    row = await session.scalar(
        select(RelayMessage)
        .where(RelayMessage.client_id == client_id, RelayMessage.client_message_id == message_id)
        .order_by(RelayMessage.id)
        .limit(1)
    )
    return _pair_dto(row) if row else None


async def edited(session: AsyncSession, pair_id: int, transcript: str | None = None) -> None:
    values: dict[str, Any] = {"edited_at": utcnow()}
    if transcript is not None:
        values["transcript"] = transcript
    await session.execute(update(RelayMessage).where(RelayMessage.id == pair_id).values(**values))


# ---------------------------------------------------------------------- assignment


async def staff_by_id(session: AsyncSession, staff_id: int | None) -> StaffDTO | None:
    if staff_id is None:
        return None
    row = await session.get(Staff, staff_id)
    return staff_service.to_dto(row) if row is not None and row.active else None


async def claim(session: AsyncSession, client_id: int, staff_id: int) -> bool:
    """Take an unassigned client; False if someone else was quicker (one UPDATE, so two claims cannot both win)."""
    result = await session.execute(
        update(Client)
        .where(Client.id == client_id, Client.case_manager_id.is_(None))
        .values(case_manager_id=staff_id, updated_at=utcnow())
    )
    won = bool(getattr(result, "rowcount", 0))
    if won:
        audit.record(session, "client_claimed", actor="staff", actor_id=staff_id, client_id=client_id)
    return won


async def assign(session: AsyncSession, client_id: int, case_manager_id: int, by_staff_id: int) -> None:
    await session.execute(
        update(Client).where(Client.id == client_id).values(case_manager_id=case_manager_id, updated_at=utcnow())
    )
    audit.record(
        session, "client_assigned", actor="staff", actor_id=by_staff_id, client_id=client_id, staff_id=case_manager_id
    )


# ---------------------------------------------------------------------- absence


async def set_absence(session: AsyncSession, staff_id: int, until: date, deputy_id: int | None) -> None:
    row = await session.get(StaffAbsence, staff_id)
    if row is None:
        row = StaffAbsence(staff_id=staff_id, until=until, deputy_id=deputy_id)
        session.add(row)
    row.until, row.deputy_id = until, deputy_id
    await session.flush()
    audit.record(session, "staff_away", actor="staff", actor_id=staff_id)


async def clear_absence(session: AsyncSession, staff_id: int) -> bool:
    row = await session.get(StaffAbsence, staff_id)
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    audit.record(session, "staff_back", actor="staff", actor_id=staff_id)
    return True


async def absence(session: AsyncSession, staff_id: int, today: date) -> AbsenceDTO | None:
    """The staff member's absence if it still runs today; the deputy is the one set, else the first admin."""
    row = await session.get(StaffAbsence, staff_id)
    if row is None or row.until < today:
        return None
    deputy = await staff_by_id(session, row.deputy_id)
    if deputy is None:
        admin = await session.scalar(
            select(Staff).where(Staff.active.is_(True), Staff.role == "admin", Staff.id != staff_id).order_by(Staff.id)
        )
        deputy = staff_service.to_dto(admin) if admin else None
    return AbsenceDTO(staff_id=staff_id, until=row.until, deputy=deputy)


# ---------------------------------------------------------------------- shared staff topics


async def staff_topic(session: AsyncSession, key: str, chat_id: int) -> int | None:
    row = await session.get(StaffTopic, key)
    return row.thread_id if row is not None and row.chat_id == chat_id else None


async def set_staff_topic(session: AsyncSession, key: str, chat_id: int, thread_id: int) -> None:
    row = await session.get(StaffTopic, key)
    if row is None:
        session.add(StaffTopic(key=key, chat_id=chat_id, thread_id=thread_id))
    else:
        row.chat_id, row.thread_id = chat_id, thread_id
    await session.flush()

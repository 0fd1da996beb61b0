"""Handoff tables: one conversation per client (their staff forum topic), the message pairs that let replies and
edits be mirrored both ways, shared staff topics (Intake) and staff absences.

No message text is stored unless the county turns the transcript on (HANDOFF_TRANSCRIPT); only directions, kinds,
timestamps and the Telegram ids of both copies.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow


class Conversation(Base):
    """A client's line to the staff group: their forum topic, its header card and per-conversation flags."""

    __tablename__ = "handoff_conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), unique=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    header_message_id: Mapped[int | None] = mapped_column(BigInteger)
    intake_message_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Reset when a conversation ends (/close or a staff answer), so each is sent once per conversation.
    auto_reply_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    away_notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mentioned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    flood_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Once per client, ever: the notice not to send identity documents.
    id_notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_client_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_staff_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class RelayMessage(Base):
    """One relayed message: the original and its copy, by Telegram ids (client chat ↔ staff topic)."""

    __tablename__ = "handoff_messages"
    __table_args__ = (
        Index("ix_handoff_messages_client_copy", "client_id", "client_message_id"),
        Index("ix_handoff_messages_staff_copy", "staff_chat_id", "staff_message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8))  # in: client → staff · out: staff → client
    kind: Mapped[str] = mapped_column(String(16))  # text, photo, document, voice, video, location, contact, …
    status: Mapped[str] = mapped_column(String(12), default="delivered")  # delivered | held | failed
    client_message_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_message_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    translated: Mapped[bool] = mapped_column(Boolean, default=False)
    transcript: Mapped[str | None] = mapped_column(Text)  # only with HANDOFF_TRANSCRIPT=true
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffTopic(Base):
    """Topics of the staff group that belong to no client, e.g. "intake"."""

    __tablename__ = "handoff_staff_topics"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int] = mapped_column(BigInteger)


class StaffAbsence(Base):
    """A case manager away until a date (inclusive); their clients' messages alert the deputy."""

    __tablename__ = "staff_absences"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    until: Mapped[date] = mapped_column(Date)
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

"""The outbox: every message kimbot sends on its own initiative is a row here, written in the same transaction
as the change that causes it, and delivered by the scheduler's drain job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "unreachable", "cancelled", "dropped")


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "priority", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # e.g. "appointment:42:reminder:24h" – a second enqueue with the same key changes nothing.
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    # Where it goes: the client's private chat, a staff member's chat or the staff group.
    chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    # Rendered at send time, in the recipient's language at that moment.
    template: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Lower is more urgent: reminders (0) go before broadcast messages (10).
    priority: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # After this moment the message no longer makes sense (e.g. the appointment has started): dropped, not sent.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    broadcast_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

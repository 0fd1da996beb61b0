"""ORM models. Every timestamp is UTC; personal data is kept to what the service needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base, UTCDateTime, utcnow


class Staff(Base):
    """A county employee who may use staff commands; synced from the county file."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    office_key: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Client(Base):
    """A person served by the integration management, known only by their Telegram id."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    # Pseudonymous reference shown to staff instead of a name (e.g. "K-4F7Q2").
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    municipality: Mapped[str | None] = mapped_column(String(64))
    case_manager_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    announcements_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)  # broadcasts only; reminders stay
    privacy_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last time the client wrote to kimbot (to the day): data is deleted RETENTION_MONTHS after it.
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    case_manager: Mapped[Staff | None] = relationship(lazy="raise")


class AuditEntry(Base):
    """Who did what, when. `details` never holds message text or names."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(16))  # client | staff | system
    actor_id: Mapped[int | None] = mapped_column(Integer)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FsmRecord(Base):
    """aiogram FSM state and data for one storage key, so conversations survive a restart."""

    __tablename__ = "fsm_state"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class InboundUpdate(Base):
    """Telegram updates as received, until handled (bot/telegram/inbound.py). The payload – which may hold message
    text – is dropped once the update is done; the id stays a little longer to recognise a resent update."""

    __tablename__ = "inbound_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# Feature tables live in modules of their own; importing them here registers them on Base.metadata.
from bot.db import (  # noqa: E402
    models_booking,  # noqa: F401
    models_broadcasts,  # noqa: F401
    models_casework,  # noqa: F401
    models_documents,  # noqa: F401
    models_handoff,  # noqa: F401
    models_interpreters,  # noqa: F401
    models_outbox,  # noqa: F401
    models_reporting,  # noqa: F401
    models_transcription,  # noqa: F401
)

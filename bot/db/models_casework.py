"""Casework tables: what case managers keep about a client beyond the conversation – notes (`/note`), the
residence status and its changes (`/status`), follow-up tasks (`/followup`), and, only when topics show names
(HANDOFF_TOPIC_NAMES), the client's Telegram first name so that `/find` can search it.

All of it is personal data: every table is linked to the client with ON DELETE CASCADE (erased with them) and
exported by `bot.services.privacy`. Staff columns end in `staff_id` and are SET NULL: the history stays when a
staff member leaves.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow


class CaseNote(Base):
    """An internal note about a client, written by a staff member; never shown to the client."""

    __tablename__ = "casework_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))  # the author
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StatusChange(Base):
    """The client's residence status from a date on (codes of `bot.services.residence_status`); the newest
    `since` is the current status."""

    __tablename__ = "casework_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    paragraph: Mapped[str | None] = mapped_column(String(8))  # § of the AufenthG for an Aufenthaltserlaubnis
    since: Mapped[date] = mapped_column(Date)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))  # who recorded it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FollowUp(Base):
    """A task of a staff member about a client, due at a moment in working hours."""

    __tablename__ = "casework_followups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))  # whose task
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(8), default="open")  # open | done
    # When the due message for the current `due_at` was queued (None until then; reset when moved).
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ClientName(Base):
    """The client's Telegram first name, kept only while topics are named with it (HANDOFF_TOPIC_NAMES)."""

    __tablename__ = "casework_names"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

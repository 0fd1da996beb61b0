"""Appointments, staff absences and the waitlist.

Double booking is prevented by the database: on PostgreSQL an exclusion constraint over (staff, busy range) for
every appointment that occupies time (see migration 0003); on SQLite bookings serialise on `BEGIN IMMEDIATE`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow

# Statuses that occupy the staff member's time. "held" is a slot offered to a waitlisted client for a while.
OCCUPYING = ("booked", "held", "attended", "no_show")


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_staff_busy", "staff_id", "busy_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"))
    service_key: Mapped[str] = mapped_column(String(64))
    office_key: Mapped[str | None] = mapped_column(String(64))  # None for a home visit
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The time the staff member is taken: the appointment plus buffers (travel for home visits).
    busy_from: Mapped[datetime] = mapped_column(UTCDateTime())
    busy_until: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="booked")
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Home visits only; erased when the appointment is over or cancelled.
    home_address: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    booked_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE, bumped on every change
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Absence(Base):
    """Time a staff member is not available (vacation, sickness, a blocked slot)."""

    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(32), default="blocked")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WaitlistEntry(Base):
    __tablename__ = "waitlist"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    service_key: Mapped[str] = mapped_column(String(64), index=True)
    # "Earlier than my current appointment": only slots before this moment are offered.
    before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replaces_appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting | offered | done | left
    offered_appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NoShowCount(Base):
    """No-shows per client, kept as a number (the appointments themselves may be purged)."""

    __tablename__ = "no_shows"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)

"""What an appointment carries beyond its row in `appointments`: the interpreter booked with it, how it takes place
(video link, the number to call) and the series it belongs to.

No double booking of an interpreter, as for staff: on PostgreSQL an exclusion constraint over (interpreter, time)
for every active interpreter booking (migration 0015); on SQLite bookings serialise on `BEGIN IMMEDIATE` and the
service checks for overlaps under that lock (bot/services/interpreters.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow


class InterpreterBooking(Base):
    """An interpreter's time taken by an appointment; `active` turns False when they are released (the appointment
    cancelled, or staff chose another interpreter), which frees the time."""

    __tablename__ = "interpreter_bookings"
    __table_args__ = (Index("ix_interpreter_bookings_busy", "interpreter_key", "busy_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    interpreter_key: Mapped[str] = mapped_column(String(64))  # the county file's [[interpreters]] key
    language: Mapped[str] = mapped_column(String(8))  # the language interpreted (the client's)
    # Where kimbot tells them (from the county file when booked); None: the case manager passes it on.
    telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    busy_from: Mapped[datetime] = mapped_column(UTCDateTime())
    busy_until: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AppointmentSeries(Base):
    """Appointments a staff member booked for a client in one go ("every 2 weeks, 6 times")."""

    __tablename__ = "appointment_series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    every_weeks: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    booked_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AppointmentDetails(Base):
    """How the appointment takes place when it is not simply in person, and its series. The phone number is the
    client's choice and personal data: exported and erased with the client, forgotten once the appointment is
    over or cancelled (as the home address)."""

    __tablename__ = "appointment_details"

    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    mode: Mapped[str] = mapped_column(String(16), default="in_person")  # in_person | video | phone
    video_room: Mapped[str | None] = mapped_column(String(64))  # unguessable (`secrets`), kept when it moves
    video_url: Mapped[str | None] = mapped_column(Text)  # the join link: the same for client, staff and interpreter
    phone: Mapped[str | None] = mapped_column(String(32))  # the number the client wants to be called on
    series_id: Mapped[int | None] = mapped_column(ForeignKey("appointment_series.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

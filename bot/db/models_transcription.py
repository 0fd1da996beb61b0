"""The queue of voice notes waiting to be transcribed for staff (bot/jobs/transcription.py): one row per voice
note, video note or audio file a client sent, from the update that copied it into their topic until the transcript
(or a note why there is none) is posted under the copy. A crash or restart loses nothing: a row whose lease ran out
is taken up again.

Neither audio nor transcript is stored here: only Telegram's file id (to fetch the file again), its length and
size, and where the copy is. The row is deleted when the work is done, and with the client (ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow


class TranscriptionJob(Base):
    __tablename__ = "transcription_jobs"
    __table_args__ = (Index("ix_transcription_jobs_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # voice | video_note | audio
    file_id: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    duration: Mapped[int | None] = mapped_column(Integer)  # seconds, as Telegram reports it
    client_message_id: Mapped[int] = mapped_column(BigInteger)
    staff_chat_id: Mapped[int] = mapped_column(BigInteger)
    staff_message_id: Mapped[int] = mapped_column(BigInteger)  # the copy in the topic; the transcript replies to it
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | working
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notified: Mapped[bool] = mapped_column(default=False)  # staff were told it is delayed
    last_error: Mapped[str | None] = mapped_column(String(64))  # an error class or HTTP status, never content
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

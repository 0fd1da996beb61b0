"""Broadcasts: an announcement of the office to many clients, each in their own language.

The texts are the admin's own words (one per language, some machine-translated); the recipients are the outbox
rows carrying `broadcast_id`, materialised when the admin confirms. Nothing personal is stored here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow

BROADCAST_STATUSES = ("draft", "scheduled", "running", "paused", "cancelled", "done")
# What happens to clients whose language has no text: machine translation (done while composing),
# English + German, or they are left out.
FALLBACK_POLICIES = ("translate", "en_de", "skip")


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_staff_id: Mapped[int | None] = mapped_column(Integer)
    # {"de": "…", "ar": "…"}; German is always there.
    texts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Languages whose text is a machine translation (shown to clients as such).
    auto_languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    fallback: Mapped[str] = mapped_column(String(16), default="en_de")
    # Criteria combined with AND; several values of one criterion with OR (bot/services/broadcasts.py).
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    # Counted when the recipients were materialised: {"opted_out": n, "unreachable": n, "skipped": n}.
    excluded: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

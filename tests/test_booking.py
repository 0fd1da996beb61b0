"""A client books, gets the .ics, reschedules and cancels – end to end through the emulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from icalendar import Calendar
from sqlalchemy import select

from bot.db.models_booking import Appointment
from bot.db.models_outbox import OutboxMessage
from bot.emulator import BotAPIEmulator
from tests.support import Running, book_first_free, button_texts, onboard


def _ics(emulator: BotAPIEmulator, message: dict[str, Any]) -> Calendar:
    return Calendar.from_ical(emulator.file_content(message["document"]["file_id"]))


async def test_book_reschedule_cancel(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 901, town="Euskirchen")
    confirmation = await book_first_free(
        kimbot, 901, "Case management consultation", office="Kommunales Integrationszentrum Kreis Euskirchen"
    )
    assert "booked" in confirmation["caption"]
    calendar = _ics(emulator, confirmation)
    event = next(iter(calendar.walk("VEVENT")))
    uid = str(event["UID"])
    assert int(event["SEQUENCE"]) == 0  # type: ignore[arg-type]
    assert "Jülicher Ring 32" in str(event["LOCATION"])
    start = event.decoded("DTSTART")
    assert start.tzinfo is not None and start.utcoffset().total_seconds() == 0

    async with kimbot.app.sessions() as session:
        appt = await session.scalar(select(Appointment))
        assert appt is not None and appt.status == "booked" and appt.starts_at == start
        reminders = (await session.scalars(select(OutboxMessage.idempotency_key))).all()
    assert any(key.startswith(f"appointment:{appt.id}:reminder:24h") for key in reminders)

    listing = await kimbot.say(901, "/appointments")
    assert "Case management consultation" in listing["text"]
    days = await kimbot.tap(901, listing, "Reschedule")
    times = await kimbot.tap(901, days, button_texts(days)[3])
    summary = await kimbot.tap(901, times, button_texts(times)[0])
    moved = await kimbot.tap(901, summary, "✅ Confirm")
    assert "moved" in moved["caption"]
    event = next(iter(_ics(emulator, moved).walk("VEVENT")))
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 1  # type: ignore[arg-type]
    assert event.decoded("DTSTART") > start

    listing = await kimbot.say(901, "/appointments")
    question = await kimbot.tap(901, listing, "Cancel appointment")
    cancelled = await kimbot.tap(901, question, "Yes, cancel it")
    assert "cancelled" in cancelled["caption"]
    calendar = _ics(emulator, cancelled)
    assert str(calendar["METHOD"]) == "CANCEL"
    event = next(iter(calendar.walk("VEVENT")))
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 2 and str(event["STATUS"]) == "CANCELLED"  # type: ignore[arg-type]
    async with kimbot.app.sessions() as session:
        rows = (await session.scalars(select(Appointment))).all()
        assert [(r.status, r.sequence) for r in rows] == [("cancelled", 2)]
        pending = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.template == "appointment_reminder"))
        ).all()
        assert pending and all(r.status == "cancelled" for r in pending)
    assert datetime.now(UTC) < rows[0].starts_at

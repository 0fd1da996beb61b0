"""Appointment reminders: planned by the appointments service in the booking transaction, fired by the drain at
the right wall time across the spring DST change, rendered with the buttons "I will come" / "Cancel / reschedule",
whose handlers re-check ownership."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.db.models_booking import Appointment
from bot.db.models_outbox import OutboxMessage
from bot.emulator import BotAPIEmulator
from bot.telegram.callbacks import ReminderCb
from tests.support import BERLIN, Running, book_appointment, button_texts, onboard


async def test_24h_reminder_on_monday_after_spring_change_fires_at_wall_time(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    await onboard(kimbot, emulator, 711)
    emulator.add_user(100000001, "Anna")
    appointment_id = await book_appointment(kimbot, 711)

    async with kimbot.app.sessions() as session:
        reminder = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.idempotency_key.like(f"appointment:{appointment_id}:reminder:24h%")
            )
        )
    assert reminder is not None
    # Sunday 28 March, 10:00 CEST = 08:00 UTC: the same wall time as the appointment, one day before.
    assert reminder.due_at == datetime(2027, 3, 28, 8, 0, tzinfo=UTC)
    assert reminder.due_at.astimezone(BERLIN).replace(tzinfo=None) == datetime(2027, 3, 28, 10, 0)

    worker = kimbot.app.worker
    assert worker is not None
    before = len(emulator.bot_messages(711))
    await worker.drain_once(now=reminder.due_at - timedelta(seconds=1))
    assert len(emulator.bot_messages(711)) == before  # not yet
    await worker.drain_once(now=reminder.due_at)
    message = emulator.last_bot_message(711)
    assert "Reminder:" in message["text"]
    assert "Monday, March 29, 2027" in message["text"] and "10:00" in message["text"]
    assert button_texts(message) == ["I will come", "Cancel / reschedule"]
    async with kimbot.app.sessions() as session:
        sent = await session.get(OutboxMessage, reminder.id)
        assert sent is not None and sent.status == "sent" and sent.telegram_message_id == message["message_id"]
        # The 2 h reminder waits for Monday 08:00 CEST.
        rest = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.idempotency_key.like(f"appointment:{appointment_id}:reminder:2h%")
            )
        )
        assert rest is not None and rest.status == "pending"
        assert rest.due_at.astimezone(BERLIN).replace(tzinfo=None) == datetime(2027, 3, 29, 8, 0)


async def test_reminder_buttons_check_ownership(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 712)
    await onboard(kimbot, emulator, 713)
    appointment_id = await book_appointment(kimbot, 712)
    async with kimbot.app.sessions() as session:
        due = await session.scalar(
            select(OutboxMessage.due_at).where(
                OutboxMessage.idempotency_key.like(f"appointment:{appointment_id}:reminder:24h%")
            )
        )
    assert kimbot.app.worker is not None and due is not None
    await kimbot.app.worker.drain_once(now=due)
    reminder = emulator.last_bot_message(712)

    # Another client forges the button for this appointment: refused, nothing confirmed.
    forged = await emulator.press(
        713, reminder, data=ReminderCb(action="come", appointment_id=appointment_id).pack(), forge=True
    )
    await emulator.wait_for(lambda: emulator.callback_answers.get(forged) is not None)
    answer = emulator.callback_answers[forged]
    assert answer is not None and answer["show_alert"] and "no longer active" in answer["text"]
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(Appointment.confirmed_at).where(Appointment.id == appointment_id)) is None

    edited = await kimbot.tap(712, reminder, "I will come", edits=True)
    assert button_texts(edited) == ["Cancel / reschedule"]
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(Appointment.confirmed_at).where(Appointment.id == appointment_id))

    pointer = await kimbot.tap(712, edited, "Cancel / reschedule")
    assert button_texts(pointer) == ["My appointments"]

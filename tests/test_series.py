"""Issue #23, series and video appointments end to end.

Series: a case manager books "every 2 weeks, 6 times" for a client with /bookfor; the week she has blocked is
named before she confirms, the other five are booked as one series with their own reminders, the client gets one
message with the five dates, and cancelling "this and all later ones" from the third keeps the first two. The
expected dates are computed here from the calendar (the same wall-clock time every other week), not by kimbot.

Video: a client books "📹 By video"; the join link is in the confirmation, in the calendar file and in the reminder
the worker sends from the outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import holidays
import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.core.config import Settings
from bot.core.i18n import fmt_date, fmt_datetime
from bot.db.models import AuditEntry, Client, Staff
from bot.db.models_booking import Appointment
from bot.db.models_interpreters import AppointmentDetails, AppointmentSeries
from bot.db.models_outbox import OutboxMessage
from bot.emulator import BotAPIEmulator
from bot.telegram.callbacks import DayCb, SlotCb
from tests.support import ANNA, BERLIN, OFFICE, SERVICE, Running, button_texts, onboard, t

EVERY, COUNT, BLOCKED = 2, 6, 2  # the third occurrence (index 2) falls on Anna's blocked day


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"video_url_pattern": "https://meet.example.org/{room}"})


def _data(message: dict[str, Any]) -> list[str]:
    return [b.get("callback_data", "") for row in message["reply_markup"]["inline_keyboard"] for b in row]


def _button(message: dict[str, Any], data: str) -> str:
    return next(
        str(b["text"]) for row in message["reply_markup"]["inline_keyboard"] for b in row if b["callback_data"] == data
    )


def _series_days(first: date) -> list[date]:
    return [first + timedelta(weeks=EVERY * i) for i in range(COUNT)]


async def test_series_every_two_weeks_with_a_blocked_week(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 2401)
    emulator.add_user(ANNA, "Anna", language_code="de")
    async with kimbot.app.sessions() as session:
        client = await session.scalar(select(Client).where(Client.telegram_id == 2401))
        anna = await session.scalar(select(Staff.id).where(Staff.telegram_id == ANNA))
    assert client is not None and anna is not None

    services = await kimbot.say(ANNA, f"/bookfor {client.reference}")
    places = await kimbot.tap(ANNA, services, "Beratung im Case-Management")
    days = await kimbot.tap(ANNA, places, OFFICE)
    nrw = holidays.Germany(subdiv="NW", years=range(date.today().year, date.today().year + 2))
    offered = [datetime.strptime(DayCb.unpack(d).day, "%Y%m%d").date() for d in _data(days) if d.startswith("bd:")
               and DayCb.unpack(d).day]  # fmt: skip
    first_day = next(d for d in offered[1:] if not any(day in nrw for day in _series_days(d)))
    times = await kimbot.tap(ANNA, days, _button(days, DayCb(day=first_day.strftime("%Y%m%d")).pack()))
    slot = next(SlotCb.unpack(d) for d in _data(times) if d.startswith("bt:") and SlotCb.unpack(d).staff == anna)
    first = datetime.fromtimestamp(slot.ts, UTC)
    summary = await kimbot.tap(ANNA, times, _button(times, slot.pack()))

    # Anna is away on the day of the third occurrence.
    blocked_day = _series_days(first_day)[BLOCKED]
    await kimbot.say(ANNA, f"/block {blocked_day.isoformat()}")

    rhythm = await kimbot.tap(ANNA, summary, t(kimbot, "🔁 Repeat…"))
    counts = await kimbot.tap(ANNA, rhythm, t(kimbot, "Every 2 weeks"), edits=True)
    plan = await kimbot.tap(ANNA, counts, str(COUNT), edits=True)
    conflict = t(kimbot, "week of {day}: {name} is not free").format(
        day=fmt_date(blocked_day, "de", "medium"), name="Anna Becker"
    )
    wall = first.astimezone(BERLIN).time()
    expected = [
        datetime.combine(day, wall, tzinfo=BERLIN).astimezone(UTC)
        for i, day in enumerate(_series_days(first_day))
        if i != BLOCKED
    ]
    assert conflict in plan["text"]
    assert [line[2:] for line in plan["text"].splitlines() if line.startswith("✅")] == [
        fmt_datetime(moment, "de", BERLIN) for moment in expected
    ]
    async with kimbot.app.sessions() as session:
        assert (await session.scalars(select(Appointment.id))).all() == [], "nothing is booked before confirming"

    done = await kimbot.tap(ANNA, plan, t(kimbot, "✅ Book the free dates ({count})").format(count=5), edits=True)
    assert done["text"].startswith(t(kimbot, "Booked for {reference}:").format(reference=client.reference))
    assert conflict in done["text"]
    async with kimbot.app.sessions() as session:
        rows = (
            await session.execute(
                select(Appointment, AppointmentDetails.series_id)
                .join(AppointmentDetails, AppointmentDetails.appointment_id == Appointment.id)
                .order_by(Appointment.starts_at)
            )
        ).all()
        all_appointments = (await session.scalars(select(Appointment.id))).all()
        series_rows = (await session.scalars(select(AppointmentSeries))).all()
        reminders = (
            await session.scalars(
                select(OutboxMessage.idempotency_key).where(
                    OutboxMessage.idempotency_key.like("appointment:%:reminder:%")
                )
            )
        ).all()
    assert len(all_appointments) == 5
    assert [(a.starts_at, a.status, a.client_id, a.staff_id) for a, _sid in rows] == [
        (moment, "booked", client.id, anna) for moment in expected
    ]
    assert [(s.every_weeks, s.count, s.booked_by_staff_id) for s in series_rows] == [(EVERY, COUNT, anna)]
    assert {sid for _a, sid in rows} == {series_rows[0].id}
    for appointment, _sid in rows:  # the service's reminders, 24 h and 2 h ahead, for every occurrence
        assert sorted(k.split(":")[3] for k in reminders if k.startswith(f"appointment:{appointment.id}:")) == [
            "24h",
            "2h",
        ]

    # The client gets one message with the five dates.
    assert kimbot.app.worker is not None
    before = emulator.last_message_id(2401)
    await kimbot.app.worker.drain_once()
    news = await emulator.wait_for_message(2401, after=before)
    assert news["text"].startswith(
        t(kimbot, "Your case manager has booked these appointments for you ({service}):", "en").format(service=SERVICE)
    )
    assert [line[2:] for line in news["text"].splitlines()[1:]] == [fmt_datetime(m, "en", BERLIN) for m in expected]
    assert len([m for m in emulator.bot_messages(2401) if m["message_id"] > before]) == 1

    # Cancelling "this and all later ones" from the third: the first two stay.
    await kimbot.say(2401, "/appointments")
    listing = emulator.bot_messages(2401)[-5:]
    assert fmt_datetime(expected[2], "en", BERLIN) in listing[2]["text"]
    ask = await kimbot.tap(2401, listing[2], "Cancel appointment")
    assert button_texts(ask) == ["Only this one", "This and all later ones", "No, keep it"]
    cancelled = await kimbot.tap(2401, ask, "This and all later ones", edits=True)
    assert cancelled["text"].splitlines()[0] == "These appointments are cancelled:"
    assert [line[2:] for line in cancelled["text"].splitlines()[1:]] == [
        fmt_datetime(m, "en", BERLIN) for m in expected[2:]
    ]
    async with kimbot.app.sessions() as session:
        statuses = (await session.scalars(select(Appointment.status).order_by(Appointment.starts_at))).all()
        pending = (
            await session.scalars(
                select(OutboxMessage.idempotency_key).where(
                    OutboxMessage.idempotency_key.like("appointment:%:reminder:%"), OutboxMessage.status == "pending"
                )
            )
        ).all()
    assert statuses == ["booked", "booked", "cancelled", "cancelled", "cancelled"]
    kept = {str(a.id) for a, _sid in rows[:2]}
    assert pending and {k.split(":")[1] for k in pending} == kept

    # Staff cancel for the client the same way (/bookfor, then /appointments): the rest of the series goes.
    await kimbot.say(ANNA, f"/bookfor {client.reference}")
    await kimbot.say(ANNA, "/appointments")
    first_left = emulator.bot_messages(ANNA)[-2]
    assert fmt_datetime(expected[0], "de", BERLIN) in first_left["text"]
    ask = await kimbot.tap(ANNA, first_left, t(kimbot, "Cancel appointment"))
    assert t(kimbot, "This and all later ones") in button_texts(ask)
    await kimbot.tap(ANNA, ask, t(kimbot, "This and all later ones"), edits=True)
    async with kimbot.app.sessions() as session:
        statuses = (await session.scalars(select(Appointment.status).order_by(Appointment.starts_at))).all()
        actors = (
            await session.scalars(
                select(AuditEntry.actor).where(AuditEntry.action == "appointment_cancelled").order_by(AuditEntry.id)
            )
        ).all()
    assert statuses == ["cancelled"] * 5
    assert actors == ["client"] * 3 + ["staff"] * 2


async def test_video_link_in_confirmation_calendar_file_and_reminder(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 2411)
    services = await kimbot.say(2411, "/book")
    places = await kimbot.tap(2411, services, SERVICE)
    step = await kimbot.tap(2411, places, "📹 By video")
    if "Without an interpreter" in button_texts(step):
        step = await kimbot.tap(2411, step, "Without an interpreter")
    times = await kimbot.tap(2411, step, button_texts(step)[2])
    summary = await kimbot.tap(2411, times, button_texts(times)[0])
    confirmation = await kimbot.tap(2411, summary, "✅ Confirm")
    async with kimbot.app.sessions() as session:
        details = await session.scalar(select(AppointmentDetails))
    assert details is not None and details.mode == "video" and details.video_room
    link = f"https://meet.example.org/{details.video_room}"
    assert details.video_url == link

    assert link in confirmation["caption"]
    event = next(iter(Calendar.from_ical(emulator.file_content(confirmation["document"]["file_id"])).walk("VEVENT")))
    assert str(event["LOCATION"]) == link and str(event["URL"]) == link and link in str(event["DESCRIPTION"])

    async with kimbot.app.sessions() as session:
        due = await session.scalar(
            select(OutboxMessage.due_at).where(
                OutboxMessage.chat_id == 2411, OutboxMessage.idempotency_key.like("appointment:%:reminder:24h:%")
            )
        )
    assert due is not None and kimbot.app.worker is not None
    before = emulator.last_message_id(2411)
    await kimbot.app.worker.drain_once(now=due)
    reminder = await emulator.wait_for_message(2411, after=before, contains="Reminder")
    assert link in reminder["text"]

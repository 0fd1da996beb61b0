"""Issue #23, interpreters end to end: a Tigrinya client of a German-speaking case manager books "with interpreter"
and is offered only the days and times at which the county's Tigrinya interpreter (Tesfay: Monday 09–12, Thursday
13–17, two working days' notice) is free; the interpreter is told on Telegram, gets the calendar file and the
reminders; a case manager takes the interpreter off again with /interpreter, and a cancelled appointment releases
them. The expected days are computed here from the calendar and the `holidays` library, not by kimbot's code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import holidays
import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.core.config import Settings
from bot.core.county_text import BUTTON
from bot.db.models import Client
from bot.db.models_booking import Appointment
from bot.db.models_interpreters import InterpreterBooking
from bot.db.models_outbox import OutboxMessage
from bot.emulator import BotAPIEmulator
from bot.emulator.markup import html_to_text
from bot.services import availability
from bot.telegram.callbacks import DayCb, SlotCb
from tests.support import ANNA, BERLIN, OFFICE, Running, button_texts, onboard, t

TESFAY = 100000101
MONDAY, THURSDAY = 0, 3
WINDOWS = {MONDAY: (9 * 60, 12 * 60), THURSDAY: (13 * 60, 17 * 60)}  # Tesfay's hours, minutes after midnight
DURATION = 45  # kim-consultation


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"video_url_pattern": "https://meet.example.org/{room}"})


def notice_day(today: date, working_days: int) -> date:
    nrw = holidays.Germany(subdiv="NW", years=range(today.year, today.year + 2))
    day = today
    while working_days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in nrw:
            working_days -= 1
    return day


def _data(message: dict[str, Any]) -> list[str]:
    return [b.get("callback_data", "") for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def _all_days(kimbot: Running, user: int, days: dict[str, Any]) -> tuple[list[date], dict[str, Any]]:
    """Every day offered, paging with "Later days »"; returns them and the first page."""
    first, found = days, []
    while True:
        parsed = [DayCb.unpack(d) for d in _data(days) if d.startswith("bd:")]
        found += [datetime.strptime(p.day, "%Y%m%d").date() for p in parsed if p.day]
        later = [p for p in parsed if not p.day and p.after]
        if not later:
            return found, first
        days = await kimbot.tap(user, days, t(kimbot, "Later days »", "ti"))


def _times(message: dict[str, Any]) -> list[tuple[int, datetime]]:
    slots = [SlotCb.unpack(d) for d in _data(message) if d.startswith("bt:")]
    return [(s.staff, datetime.fromtimestamp(s.ts, UTC)) for s in slots]


def _day_button(kimbot: Running, days: dict[str, Any], day: date) -> str:
    wanted = DayCb(day=day.strftime("%Y%m%d")).pack()
    row = [b for r in days["reply_markup"]["inline_keyboard"] for b in r if b.get("callback_data") == wanted]
    return str(row[0]["text"])


async def _to_question(kimbot: Running, user: int, place: str) -> dict[str, Any]:
    service = kimbot.app.county.service("kim-consultation")
    assert service is not None
    services = await kimbot.say(user, "/book")
    places = await kimbot.tap(user, services, kimbot.app.county_texts.text(service.name, "ti", context=BUTTON))
    question = await kimbot.tap(user, places, place)
    assert question["text"] == t(
        kimbot, "Do you need an interpreter? Then only times when one is free for your language are offered.", "ti"
    )
    return question


def _minutes(moment: datetime) -> int:
    local = moment.astimezone(BERLIN)
    return local.hour * 60 + local.minute


async def test_tigrinya_client_gets_only_times_when_the_interpreter_is_free_and_he_is_told(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    emulator.add_user(TESFAY, "Tesfay", language_code="de")
    emulator.add_user(ANNA, "Anna", language_code="de")
    for user in (2301, 2302):
        await onboard(kimbot, emulator, user, language="ti")
    today = datetime.now(BERLIN).date()
    first_allowed = notice_day(today, 2)

    # Without an interpreter: Anna's days from today on, any weekday.
    question = await _to_question(kimbot, 2302, OFFICE)
    alone, _first = await _all_days(
        kimbot, 2302, await kimbot.tap(2302, question, t(kimbot, "Without an interpreter", "ti"))
    )
    # With one: Mondays and Thursdays from the second working day on, all of them up to the horizon.
    question = await _to_question(kimbot, 2301, OFFICE)
    days = await kimbot.tap(2301, question, t(kimbot, "With an interpreter", "ti"))
    offered, first_page = await _all_days(kimbot, 2301, days)
    nrw = holidays.Germany(subdiv="NW", years=range(today.year, today.year + 2))
    last = (datetime.now(UTC) + timedelta(weeks=8)).astimezone(BERLIN).date()
    expected = [
        first_allowed + timedelta(days=i)
        for i in range((last - first_allowed).days)
        if (first_allowed + timedelta(days=i)).weekday() in WINDOWS and first_allowed + timedelta(days=i) not in nrw
    ]
    assert [d for d in offered if d < last] == expected
    assert min(alone) < first_allowed and {d.weekday() for d in alone} - set(WINDOWS), "the filter narrows"

    # Times on the first Thursday: only inside Tesfay's 13:00–17:00, though Anna also works in the morning.
    thursday = next(d for d in offered if d.weekday() == THURSDAY)
    times = await kimbot.tap(2301, first_page, _day_button(kimbot, first_page, thursday))
    shown = _times(times)
    begin, end = WINDOWS[THURSDAY]
    assert shown and all(begin <= _minutes(s) and _minutes(s) + DURATION <= end for _staff, s in shown)
    async with kimbot.app.sessions() as session:
        plain = await availability.query_for(
            session, kimbot.app.county, kimbot.app.county.service("kim-consultation"),  # type: ignore[arg-type]
            tz=BERLIN, municipality="euskirchen", case_manager_id=None, office_key="ki",
        )  # fmt: skip
        morning = [
            s for s in await availability.free_slots(session, plain, thursday, 1) if _minutes(s.starts_at) < begin
        ]
    assert morning, "Anna is free on Thursday morning, when Tesfay is not"

    # Book the first time: the summary says an interpreter comes; the database holds Tesfay's time.
    staff_id, starts = shown[0]
    button = next(
        b
        for r in times["reply_markup"]["inline_keyboard"]
        for b in r
        if b.get("callback_data") == SlotCb(staff=staff_id, ts=int(starts.timestamp())).pack()
    )
    summary = await kimbot.tap(2301, times, button["text"])
    assert t(kimbot, "An interpreter for your language comes too.", "ti") in summary["text"]
    confirmation = await kimbot.tap(2301, summary, t(kimbot, "✅ Confirm", "ti"))
    assert "document" in confirmation
    async with kimbot.app.sessions() as session:
        appointment = await session.scalar(select(Appointment).join(Client).where(Client.telegram_id == 2301))
        assert appointment is not None and appointment.starts_at == starts
        taken = (await session.scalars(select(InterpreterBooking))).all()
        reference = await session.scalar(select(Client.reference).where(Client.telegram_id == 2301))
    assert [(b.interpreter_key, b.language, b.active, b.busy_from) for b in taken] == [("tesfay", "ti", True, starts)]

    # Tesfay hears of it on Telegram and gets the calendar file.
    assert kimbot.app.worker is not None
    before = emulator.last_message_id(TESFAY)
    await kimbot.app.worker.drain_once()
    news = await emulator.wait_for_message(TESFAY, after=before)
    assert news["text"].startswith(html_to_text(t(kimbot, "<b>You are booked as interpreter</b>")))  # German
    assert str(reference) in news["text"] and "Anna Becker" in news["text"] and OFFICE in news["text"]
    assert "Tigrinya" in news["text"]  # the language, named in German (Babel)
    ics = await kimbot.tap(TESFAY, news, t(kimbot, "📅 Calendar file"))
    event = next(iter(Calendar.from_ical(emulator.file_content(ics["document"]["file_id"])).walk("VEVENT")))
    assert event.decoded("DTSTART") == starts and OFFICE in str(event["LOCATION"])

    # ... and his reminders, a day ahead.
    async with kimbot.app.sessions() as session:
        due = await session.scalar(
            select(OutboxMessage.due_at).where(
                OutboxMessage.chat_id == TESFAY, OutboxMessage.idempotency_key.like("%:reminder:interp%:24h:%")
            )
        )
    assert due == starts - timedelta(hours=24)
    before = emulator.last_message_id(TESFAY)
    await kimbot.app.worker.drain_once(now=due)
    reminder = await emulator.wait_for_message(TESFAY, after=before)
    assert reminder["text"].startswith(html_to_text(t(kimbot, "<b>Reminder:</b> you interpret at this appointment.")))

    # A second Tigrinya client by video, with an interpreter: Yusuf would be free at that time, Tesfay is not.
    question = await _to_question(kimbot, 2302, t(kimbot, "📹 By video", "ti"))
    days = await kimbot.tap(2302, question, t(kimbot, "With an interpreter", "ti"))
    video_days, page = await _all_days(kimbot, 2302, days)
    assert thursday in video_days
    times = await kimbot.tap(2302, page, _day_button(kimbot, page, thursday))
    overlapping = [
        s
        for _staff, s in _times(times)
        if s < starts + timedelta(minutes=DURATION) and starts < s + timedelta(minutes=DURATION)
    ]
    assert overlapping == []
    async with kimbot.app.sessions() as session:
        plain = await availability.query_for(
            session, kimbot.app.county, kimbot.app.county.service("kim-consultation"),  # type: ignore[arg-type]
            tz=BERLIN, municipality="euskirchen", case_manager_id=None,
        )  # fmt: skip
        free = await availability.free_slots(session, plain, thursday, 1)
    assert any(s.starts_at == starts and s.staff_id != staff_id for s in free), "another staff member is free then"

    # Anna takes the interpreter off with /interpreter: Tesfay is released and told.
    card = await kimbot.say(ANNA, f"/interpreter {reference}")
    assert "Tesfay Gebremedhin" in card["text"]
    options = await kimbot.tap(ANNA, card, t(kimbot, "Add or change interpreter"))
    assert button_texts(options) == ["Tesfay Gebremedhin (ti, ar)", t(kimbot, "No interpreter")]
    await kimbot.tap(ANNA, options, t(kimbot, "No interpreter"), edits=True)
    async with kimbot.app.sessions() as session:
        assert (await session.scalars(select(InterpreterBooking.active))).all() == [False]
    before = emulator.last_message_id(TESFAY)
    await kimbot.app.worker.drain_once()
    released = await emulator.wait_for_message(TESFAY, after=before)
    released_line = t(kimbot, "<b>You are no longer needed for this appointment</b> – the time is free again.")
    assert released["text"].startswith(html_to_text(released_line))


async def test_cancelling_releases_the_interpreter_and_tells_him(kimbot: Running, emulator: BotAPIEmulator) -> None:
    emulator.add_user(TESFAY, "Tesfay", language_code="de")
    await onboard(kimbot, emulator, 2311, language="ti")
    question = await _to_question(kimbot, 2311, OFFICE)
    days = await kimbot.tap(2311, question, t(kimbot, "With an interpreter", "ti"))
    times = await kimbot.tap(2311, days, button_texts(days)[0])
    summary = await kimbot.tap(2311, times, button_texts(times)[0])
    await kimbot.tap(2311, summary, t(kimbot, "✅ Confirm", "ti"))
    listing = await kimbot.say(2311, "/appointments")
    ask = await kimbot.tap(2311, listing, t(kimbot, "Cancel appointment", "ti"))
    await kimbot.tap(2311, ask, t(kimbot, "Yes, cancel it", "ti"))
    async with kimbot.app.sessions() as session:
        rows = (await session.scalars(select(InterpreterBooking))).all()
        assert [(r.active, r.released_at is not None) for r in rows] == [(False, True)]
        news = (
            await session.scalars(
                select(OutboxMessage.params).where(OutboxMessage.chat_id == TESFAY).order_by(OutboxMessage.id)
            )
        ).all()
        reminders = (
            await session.scalars(
                select(OutboxMessage.status).where(OutboxMessage.idempotency_key.like("%:reminder:interp%"))
            )
        ).all()
    assert [n["event"] for n in news if "event" in n] == ["booked", "released"]
    assert reminders and set(reminders) == {"cancelled"}

"""Follow-ups: the rules without a bot (what `/followup` understands, where a due moment lands in the owner's
working hours, NRW holidays off), who gets a due task (the owner, or their deputy while they are away), and end
to end: a task written in a topic falls due while its owner is away and reaches the deputy, whose buttons move and
finish it, while a colleague's forged tap changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.core.county import County
from bot.core.i18n import fmt_datetime
from bot.db.models import Client, Staff
from bot.db.models_casework import FollowUp
from bot.db.models_outbox import OutboxMessage
from bot.emulator import BotAPIEmulator
from bot.jobs.followups import FollowupJob
from bot.jobs.scheduler import Jobs
from bot.services import followups, handoff, office_hours
from bot.services.dto import StaffDTO
from bot.services.followup_due import (
    DEFAULT_WEEK,
    DueRequest,
    WorkingCalendar,
    calendar_from,
    parse_request,
    place,
    place_after,
)
from bot.telegram.callbacks import FollowupCb
from tests.support import (
    ADMIN,
    ANNA,
    BERLIN,
    STAFF_GROUP,
    YUSUF,
    Running,
    button_texts,
    in_topic,
    onboard,
    staff_user,
    t,
    thread_of,
)

OLENA = 100000003
MONDAY = date(2027, 1, 11)
TUESDAY_MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 10:00 in Euskirchen


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


@pytest.fixture
def anna_week(example_county: County) -> WorkingCalendar:
    """Anna's hours in the example county: Mon 08:30-12:00, 13:00-16:00 … Fri 08:30-12:00."""
    return calendar_from(example_county, BERLIN, staff_telegram_id=ANNA, office_key="ki", municipality=None)


# ---------------------------------------------------------------------- what /followup understands


def test_relative_days_weeks_words_and_dates_are_understood() -> None:
    assert parse_request("3d call about the Fiktionsbescheinigung", MONDAY) == DueRequest(
        date(2027, 1, 14), None, "call about the Fiktionsbescheinigung"
    )
    assert parse_request("1w check the Jobcenter letter", MONDAY) == DueRequest(
        date(2027, 1, 18), None, "check the Jobcenter letter"
    )
    assert parse_request("2T Rückruf", MONDAY) == DueRequest(date(2027, 1, 13), None, "Rückruf")
    assert parse_request("tomorrow call", MONDAY).day == date(2027, 1, 12)  # type: ignore[union-attr]
    assert parse_request("Morgen anrufen", MONDAY).day == date(2027, 1, 12)  # type: ignore[union-attr]
    assert parse_request("heute anrufen", MONDAY).day == MONDAY  # type: ignore[union-attr]
    assert parse_request("2027-01-15 bring the passport", MONDAY) == DueRequest(
        date(2027, 1, 15), None, "bring the passport"
    )
    assert parse_request("15.01.2027 14:30 Termin ABH", MONDAY) == DueRequest(
        date(2027, 1, 15), time(14, 30), "Termin ABH"
    )


def test_what_is_no_follow_up_is_refused() -> None:
    for args in ("", "3d", "call about it", "yesterday call", "2027-01-10 too late", "800d far away", "2027-02-30 x"):
        assert parse_request(args, MONDAY) is None, args
    assert parse_request("2027-01-15 25:00 call", MONDAY) is None


# ---------------------------------------------------------------------- where the moment lands


def test_a_day_means_the_start_of_work_and_weekends_and_nrw_holidays_are_skipped(anna_week: WorkingCalendar) -> None:
    now = at(MONDAY, 10)
    assert place(DueRequest(date(2027, 1, 14), None, "x"), now, anna_week) == at(date(2027, 1, 14), 8, 30)
    saturday = date(2027, 1, 16)
    assert place(DueRequest(saturday, None, "x"), now, anna_week) == at(date(2027, 1, 18), 8, 30)
    # Fronleichnam (27 May 2027) is a holiday in North Rhine-Westphalia, not everywhere in Germany.
    assert place(DueRequest(date(2027, 5, 27), None, "x"), now, anna_week) == at(date(2027, 5, 28), 8, 30)
    # New Year's Day 2027 is a Friday: the next start of work is Monday the 4th.
    assert place(DueRequest(date(2027, 1, 1), None, "x"), at(date(2026, 12, 30), 9), anna_week) == at(
        date(2027, 1, 4), 8, 30
    )


def test_a_time_outside_working_hours_moves_to_the_next_start_and_nothing_is_due_in_the_past(
    anna_week: WorkingCalendar,
) -> None:
    now = at(MONDAY, 10)
    assert place(DueRequest(MONDAY, time(14, 0), "x"), now, anna_week) == at(MONDAY, 14)
    assert place(DueRequest(MONDAY, time(12, 30), "x"), now, anna_week) == at(MONDAY, 13)  # the lunch break
    friday = date(2027, 1, 15)
    assert place(DueRequest(friday, time(15, 0), "x"), now, anna_week) == at(date(2027, 1, 18), 8, 30)
    assert place(DueRequest(MONDAY, None, "x"), now, anna_week) == now  # "today" in working hours: now
    evening = at(MONDAY, 17)
    assert place(DueRequest(MONDAY, None, "x"), evening, anna_week) == at(date(2027, 1, 12), 8, 30)
    # +1 day on a Friday morning lands on Monday.
    assert place_after(at(friday, 10) + timedelta(days=1), anna_week) == at(date(2027, 1, 18), 8, 30)


def test_the_week_is_the_owners_then_the_offices_then_a_default(example_county: County) -> None:
    olena = calendar_from(example_county, BERLIN, staff_telegram_id=OLENA, office_key="abh", municipality=None)
    office = example_county.office("abh")
    assert office is not None and olena.week == office.opening_hours  # no hours of her own
    anna = calendar_from(example_county, BERLIN, staff_telegram_id=ANNA, office_key="ki", municipality=None)
    member = example_county.staff_member(ANNA)
    assert member is not None and anna.week == member.hours
    bare = example_county.model_copy(update={"offices": ()})
    assert calendar_from(bare, BERLIN, staff_telegram_id=None, office_key=None, municipality=None).week == DEFAULT_WEEK


# ---------------------------------------------------------------------- who gets a due task


async def _staff(kimbot: Running, telegram_id: int) -> StaffDTO:
    async with kimbot.app.sessions() as session:
        row = await session.scalar(select(Staff).where(Staff.telegram_id == telegram_id))
        assert row is not None
        found = await handoff.staff_by_id(session, row.id)
        assert found is not None
        return found


async def _client_id(kimbot: Running, telegram_id: int) -> int:
    async with kimbot.app.sessions() as session:
        client_id = await session.scalar(select(Client.id).where(Client.telegram_id == telegram_id))
        assert client_id is not None
        return int(client_id)


async def test_the_deputy_answers_for_an_absent_owner_and_may_act_others_may_not(kimbot: Running) -> None:
    anna, yusuf, olena, admin = [await _staff(kimbot, i) for i in (ANNA, YUSUF, OLENA, ADMIN)]
    async with kimbot.app.sessions() as session, session.begin():
        session.add(Client(telegram_id=9101, reference="K-FU9101", locale="ar", municipality="euskirchen"))
    client_id = await _client_id(kimbot, 9101)
    due = at(MONDAY, 9)
    async with kimbot.app.sessions() as session, session.begin():
        task = await followups.create(session, client_id=client_id, owner_id=anna.id, text="call", due_at=due)
        assert await followups.answering_for(session, anna.id, MONDAY) == anna
        await handoff.set_absence(session, anna.id, MONDAY + timedelta(days=4), yusuf.id)
        assert await followups.answering_for(session, anna.id, MONDAY) == yusuf
        assert await followups.answering_for(session, anna.id, MONDAY + timedelta(days=5)) == anna  # back
        assert [
            r.followup.id for r in await followups.routed_to(session, yusuf.id, due + timedelta(hours=1), MONDAY)
        ] == [task.id]
        assert await followups.routed_to(session, anna.id, due + timedelta(hours=1), MONDAY) == []
        assert await followups.may_act(session, task, yusuf, MONDAY)
        assert await followups.may_act(session, task, anna, MONDAY)
        assert await followups.may_act(session, task, admin, MONDAY)
        assert not await followups.may_act(session, task, olena, MONDAY)
        # Away without a deputy of their own: an admin answers.
        await handoff.set_absence(session, anna.id, MONDAY + timedelta(days=4), None)
        assert await followups.answering_for(session, anna.id, MONDAY) == admin

        queued = await followups.announce_due(session, due, MONDAY)
        assert [(r.followup.id, r.recipient) for r in queued] == [(task.id, admin)]
        assert await followups.announce_due(session, due, MONDAY) == []  # once per due moment
        with pytest.raises(followups.NotAllowed):
            await followups.act(session, task.id, olena, "done", now=due, county=kimbot.app.county, tz=BERLIN)
        moved = await followups.act(session, task.id, admin, "week", now=due, county=kimbot.app.county, tz=BERLIN)
        assert moved.due_at == due + timedelta(weeks=1) and moved.is_open
        rows = (await session.execute(select(OutboxMessage.status, OutboxMessage.chat_id))).all()
        assert [tuple(r) for r in rows] == [("cancelled", ADMIN)]  # the old due message is not sent any more
        done = await followups.act(session, task.id, anna, "done", now=due, county=kimbot.app.county, tz=BERLIN)
        assert not done.is_open
        with pytest.raises(followups.FollowupNotFound):
            await followups.act(session, task.id, anna, "day", now=due, county=kimbot.app.county, tz=BERLIN)


# ---------------------------------------------------------------------- end to end


async def test_a_follow_up_due_while_its_owner_is_away_reaches_the_deputy(
    kimbot: Running, emulator: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: TUESDAY_MORNING)
    for member in (ANNA, YUSUF, OLENA):
        staff_user(emulator, member)
    await onboard(kimbot, emulator, 9201, language="ar")
    await emulator.send_message(9201, "مرحبا")
    thread = await thread_of(kimbot, 9201)
    await in_topic(emulator, thread, lambda m: m.get("text") == "مرحبا")
    client_messages = len(emulator.bot_messages(9201))

    answer = await kimbot.say(
        ANNA, "/followup 3d call about the Fiktionsbescheinigung", chat_id=STAFF_GROUP, thread_id=thread
    )
    assert "call about the Fiktionsbescheinigung" in answer["text"] and answer["message_thread_id"] == thread
    async with kimbot.app.sessions() as session:
        task = await session.scalar(select(FollowUp))
    assert task is not None and task.status == "open" and task.text == "call about the Fiktionsbescheinigung"
    due = at(date(2026, 12, 4), 8, 30)  # Friday; Anna starts at 08:30
    assert task.due_at == due

    await kimbot.say(ANNA, "/away until 2026-12-11", chat_id=STAFF_GROUP)
    job = FollowupJob(kimbot.app.settings, kimbot.app.sessions)
    assert await job.announce(now=due - timedelta(minutes=1)) == 0  # not yet
    assert await job.announce(now=due) == 1
    assert await job.announce(now=due + timedelta(minutes=1)) == 0
    assert kimbot.app.worker is not None
    await kimbot.app.worker.drain_once(now=due.astimezone(UTC))
    message = await emulator.wait_for_message(YUSUF, contains="Fiktionsbescheinigung")
    assert "Anna Becker" in message["text"]  # Yusuf is told whose task it is
    assert button_texts(message)[:3] == [t(kimbot, s) for s in ("✅ Done", "+1 day", "+1 week")]
    link = next(b for row in message["reply_markup"]["inline_keyboard"] for b in row if b.get("url"))
    assert link["url"] == f"https://t.me/c/{str(STAFF_GROUP).removeprefix('-100')}/{thread}"
    with pytest.raises(LookupError):
        emulator.last_bot_message(ANNA)  # Anna, who is away, got nothing in her private chat
    assert not [m for m in emulator.bot_messages(ANNA) if "Fiktionsbescheinigung" in (m.get("text") or "")]

    # A colleague who is neither owner, deputy nor admin cannot act on it, even with a forged tap.
    forged = await emulator.press(OLENA, message, data=FollowupCb(action="done", id=task.id).pack(), forge=True)
    await emulator.wait_for(lambda: emulator.callback_answers.get(forged) is not None)
    assert emulator.callback_answers[forged]["show_alert"]  # type: ignore[index]
    await kimbot.settle(YUSUF)

    moved = await kimbot.tap(YUSUF, message, t(kimbot, "+1 day"), edits=True)
    async with kimbot.app.sessions() as session:
        task = await session.scalar(select(FollowUp))
    assert task is not None and task.status == "open" and task.announced_at is None
    assert task.due_at == at(date(2026, 12, 7), 8, 30)  # Saturday is no working day: Monday 08:30
    assert fmt_datetime(task.due_at, "de", BERLIN) in moved["text"] and not moved.get("reply_markup")

    await job.announce(now=task.due_at)
    await kimbot.app.worker.drain_once(now=task.due_at.astimezone(UTC))
    again = await emulator.wait_for_message(YUSUF, after=message["message_id"], contains="Fiktionsbescheinigung")
    finished = await kimbot.tap(YUSUF, again, t(kimbot, "✅ Done"), edits=True)
    assert "Yusuf Demir" in finished["text"]
    async with kimbot.app.sessions() as session:
        task = await session.scalar(select(FollowUp))
        statuses = (await session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id))).all()
    assert task is not None and task.status == "done" and task.done_by_staff_id is not None
    assert list(statuses) == ["sent", "sent"]
    assert len(emulator.bot_messages(9201)) == client_messages  # the client was told nothing


async def test_due_follow_ups_are_in_the_agenda_of_whoever_answers_for_the_owner(
    kimbot: Running, emulator: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: TUESDAY_MORNING)
    for member in (ANNA, YUSUF):
        staff_user(emulator, member)
    await onboard(kimbot, emulator, 9301, language="uk")
    await emulator.send_message(9301, "Добрий день")
    thread = await thread_of(kimbot, 9301)
    await in_topic(emulator, thread, lambda m: m.get("text") == "Добрий день")
    await kimbot.say(ANNA, "/followup tomorrow send the Jobcenter form", chat_id=STAFF_GROUP, thread_id=thread)

    own = await kimbot.say(ANNA, "/agenda")
    assert "send the Jobcenter form" in own["text"]
    await kimbot.say(ANNA, "/away until 2026-12-11", chat_id=STAFF_GROUP)
    await kimbot.say(ANNA, "/agenda")
    assert not [
        m for m in emulator.bot_messages(ANNA) if "Jobcenter" in m["text"] and m["message_id"] > own["message_id"]
    ]
    deputy = await kimbot.say(YUSUF, "/agenda")
    assert "send the Jobcenter form" in deputy["text"] and "Anna Becker" in deputy["text"]

    # The morning agenda of Wednesday, when the task is due, lists it for Yusuf.
    assert kimbot.app.worker is not None
    wednesday = at(date(2026, 12, 2), 7, 30)
    await Jobs(kimbot.app.settings, kimbot.app.sessions, kimbot.app.worker).plan_morning_agendas(now=wednesday)
    await kimbot.app.worker.drain_once(now=wednesday.astimezone(UTC))
    agenda = await emulator.wait_for_message(YUSUF, after=deputy["message_id"], contains="Jobcenter")
    assert "(" in agenda["text"] and "Anna Becker" in agenda["text"]

"""Nobody waits unseen: the rules (bot/services/escalation.py) with a controlled clock – when N and 2N working hours
are reached (weekends and Christmas closed), who is reminded – and end to end: a client's unanswered message brings
a reminder into their topic mentioning the case manager after N working hours, the deputy after 2N, not earlier
over the holidays, each once; a staff answer ends the wait (a reminder queued meanwhile is dropped) and its
first-response time is counted for the report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.core.county import County, Office
from bot.core.i18n import fmt_datetime, fmt_number
from bot.db.base import utcnow
from bot.db.models import Client, Staff
from bot.db.models_handoff import RelayMessage
from bot.db.models_outbox import OutboxMessage
from bot.db.models_reporting import ReportEvent
from bot.emulator import BotAPIEmulator
from bot.jobs.escalation import ESCALATION_JOB_ID, EscalationScan
from bot.services import escalation, office_hours
from bot.services.dto import StaffDTO
from bot.services.reporting.events import OPEN_BUCKET
from tests.support import ADMIN, ANNA, BERLIN, STAFF_GROUP, YUSUF, Running, in_topic, onboard, staff_user, thread_of

HOURS = 24


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


# Tuesday 23 December 2025, 10:00: the "ki" office counts 4 h that day, 3.5 h on Wednesday 24th, nothing on the
# holidays (Thursday 25th, Friday 26th, Thursday 1 January), 5.5 h on Monday 29th and Tuesday 30th, 3.5 h on
# Wednesday 31st (22 h so far) – so 24 h are reached on Friday 2 January 2026 at 10:30, and 48 h (after 1.5 h
# more that Friday, 5.5 + 5.5 + 3.5 + 7.5 the week after) on Friday 9 January at 09:00.
SINCE = at(2025, 12, 23, 10, 0)
N_DUE = at(2026, 1, 2, 10, 30)
TWO_N_DUE = at(2026, 1, 9, 9, 0)
# Had the holidays counted, 24 h would have been reached on Tuesday 30 December at 12:00.
AFTER_CHRISTMAS = at(2025, 12, 31, 12, 0)


@pytest.fixture
def ki(example_county: County) -> Office:
    office = example_county.office("ki")
    assert office is not None
    return office


def test_n_and_2n_are_counted_in_working_hours_and_not_over_christmas(ki: Office) -> None:
    assert escalation.due_level(ki, SINCE, AFTER_CHRISTMAS, HOURS, BERLIN) is None
    assert escalation.due_level(ki, SINCE, N_DUE - timedelta(minutes=1), HOURS, BERLIN) is None
    assert escalation.due_level(ki, SINCE, N_DUE, HOURS, BERLIN) == "n"
    assert escalation.due_level(ki, SINCE, TWO_N_DUE - timedelta(minutes=1), HOURS, BERLIN) == "n"
    assert escalation.due_level(ki, SINCE, TWO_N_DUE, HOURS, BERLIN) == "2n"
    # Weekends do not count either: Friday 11:00 + 2 working hours is Monday 09:30.
    friday = at(2026, 12, 4, 11, 0)
    assert escalation.due_level(ki, friday, at(2026, 12, 6, 23, 0), 2, BERLIN) is None
    assert escalation.due_level(ki, friday, at(2026, 12, 7, 9, 30), 2, BERLIN) == "n"


def _staff(staff_id: int, name: str, role: str = "case_manager") -> StaffDTO:
    return StaffDTO(staff_id, 100 + staff_id, name, role, ("de",), "ki")


MANAGER, DEPUTY, STANDING_IN = _staff(1, "Anna"), _staff(2, "Yusuf"), _staff(3, "Olena")
ADMINS = [_staff(9, "Büro", "admin")]


def test_who_is_reminded() -> None:
    def who(level: escalation.Level, manager: StaffDTO | None, **kw: object) -> tuple[str, list[int]]:
        found = escalation.recipients(level, manager, **{"away_deputy": None, "deputy": DEPUTY, "admins": ADMINS, **kw})  # type: ignore[arg-type]
        return found.who, [m.id for m in found.staff]

    # After N the case manager, after 2N the deputy named in the county file.
    assert who("n", MANAGER) == ("manager", [1])
    assert who("2n", MANAGER) == ("deputy", [2])
    # Without a deputy, or when the case manager is their own deputy: the admins.
    assert who("2n", MANAGER, deputy=None) == ("admins", [9])
    assert who("2n", MANAGER, deputy=MANAGER) == ("admins", [9])
    # The case manager is away: whoever answers for them after N, the admins after 2N.
    assert who("n", MANAGER, away_deputy=STANDING_IN) == ("deputy", [3])
    assert who("2n", MANAGER, away_deputy=STANDING_IN) == ("admins", [9])
    # Nobody has claimed the client: the admins, both times.
    assert who("n", None) == ("admins", [9])
    assert who("2n", None) == ("admins", [9])
    # No admins at all: the case manager again rather than nobody.
    assert who("2n", MANAGER, deputy=None, admins=[]) == ("manager", [1])


def test_the_outbox_key_names_the_client_the_wait_and_the_level() -> None:
    key = escalation.outbox_key(42, SINCE, "2n")
    assert key.startswith("client:42:")  # so the client's erasure finds it (bot.delivery.outbox.forget_client)
    assert key == f"client:42:escalation:{int(SINCE.timestamp())}:2n"


# ---------------------------------------------------------------------- end to end


async def _waiting_client(kimbot: Running, emulator: BotAPIEmulator, user_id: int, since: datetime) -> tuple[int, int]:
    """An Arabic client of Anna's whose message reached their topic at `since` (the clock of the test)."""
    await onboard(kimbot, emulator, user_id, language="ar")
    await emulator.send_message(user_id, "هل من أخبار عن طلبي؟")
    thread = await thread_of(kimbot, user_id)
    await in_topic(emulator, thread, lambda m: m.get("text") == "هل من أخبار عن طلبي؟")
    await kimbot.settle(STAFF_GROUP)
    async with kimbot.app.sessions() as session, session.begin():
        client = await session.scalar(select(Client).where(Client.telegram_id == user_id))
        anna = await session.scalar(select(Staff.id).where(Staff.telegram_id == ANNA))
        assert client is not None and anna is not None
        client.case_manager_id = anna
        await session.execute(update(RelayMessage).where(RelayMessage.client_id == client.id).values(created_at=since))
        return client.id, thread


def _reminders(emulator: BotAPIEmulator, thread: int) -> list[str]:
    return [
        c.params["text"]
        for c in emulator.sent(STAFF_GROUP, "sendMessage")
        if c.params.get("message_thread_id") == thread and "⏰" in c.params.get("text", "")
    ]


def _expected(kimbot: Running, msgid: str, reference: str, hours: int, who: str, **extra: str) -> str:
    return kimbot.app.i18n.gettext(msgid, locale="de").format(
        reference=reference,
        hours=fmt_number(hours, "de"),
        since=fmt_datetime(SINCE, "de", BERLIN),
        who=who,
        **extra,
    )


def _mention(telegram_id: int, name: str) -> str:
    return f'<a href="tg://user?id={telegram_id}">{name}</a>'


async def _events(kimbot: Running, event: str) -> list[str]:
    async with kimbot.app.sessions() as session:
        return list((await session.scalars(select(ReportEvent.detail).where(ReportEvent.event == event))).all())


async def test_an_unanswered_message_reminds_the_case_manager_after_n_and_the_deputy_after_2n(
    kimbot: Running, emulator: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff_user(emulator, ANNA)
    client_id, thread = await _waiting_client(kimbot, emulator, 1301, SINCE)
    assert kimbot.app.worker is not None
    job = kimbot.app.scheduler.get_job(ESCALATION_JOB_ID)
    assert job is not None and job.args == () and job.kwargs == {}
    scan = EscalationScan(kimbot.app.settings, kimbot.app.sessions, kimbot.app.county)

    # Not over Christmas, not a minute early.
    assert await scan.run(now=AFTER_CHRISTMAS) == []
    assert await scan.run(now=N_DUE - timedelta(minutes=1)) == []
    # After N working hours: the case manager, once – however often the scan runs (here as the scheduler runs it).
    monkeypatch.setattr(office_hours, "now", lambda: N_DUE)
    await scan.run_once()
    assert await scan.run(now=N_DUE + timedelta(hours=1)) == []
    await kimbot.app.worker.drain_once(now=N_DUE.astimezone(UTC))
    async with kimbot.app.sessions() as session:
        reference = (await session.scalar(select(Client.reference).where(Client.id == client_id))) or "?"
    first = _expected(
        kimbot,
        "⏰ {reference} has been waiting for an answer for {hours} working hours (since {since}). {who}, please "
        "answer.",
        reference,
        HOURS,
        _mention(ANNA, "Anna Becker"),
    )
    await emulator.wait_for(lambda: _reminders(emulator, thread))
    assert _reminders(emulator, thread) == [first]

    # After 2N: Anna's deputy from the county file, Yusuf, in her place.
    assert await scan.run(now=TWO_N_DUE - timedelta(minutes=1)) == []
    planned = await scan.run(now=TWO_N_DUE)
    assert [(p.client_id, p.level, p.who) for p in planned] == [(client_id, "2n", "deputy")]
    await kimbot.app.worker.drain_once(now=TWO_N_DUE.astimezone(UTC))
    second = _expected(
        kimbot,
        "⏰ {reference} has still had no answer after {hours} working hours (since {since}). {who}, please "
        "answer in place of {manager}.",
        reference,
        2 * HOURS,
        _mention(YUSUF, "Yusuf Demir"),
        manager="Anna Becker",
    )
    await emulator.wait_for(lambda: len(_reminders(emulator, thread)) == 2)
    assert _reminders(emulator, thread) == [first, second]
    async with kimbot.app.sessions() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.idempotency_key, OutboxMessage.status, OutboxMessage.thread_id).where(
                    OutboxMessage.template == escalation.ESCALATION_TEMPLATE
                )
            )
        ).all()
    assert sorted(rows) == sorted(
        [
            (escalation.outbox_key(client_id, SINCE, "n"), "sent", thread),
            (escalation.outbox_key(client_id, SINCE, "2n"), "sent", thread),
        ]
    )
    assert sorted(await _events(kimbot, "escalation")) == ["2n", "n"]

    # Anna answers: the wait is over, nothing more is sent, and the first-response time is counted.
    before = emulator.last_message_id(1301)
    await emulator.send_message(ANNA, "Wir kümmern uns darum.", chat_id=STAFF_GROUP, thread_id=thread)
    await emulator.wait_for_message(1301, after=before, contains="kümmern")
    await kimbot.settle(STAFF_GROUP)
    async with kimbot.app.sessions() as session:
        assert await escalation.waiting_since(session, client_id) is None
    assert await scan.run(now=TWO_N_DUE + timedelta(days=30)) == []
    assert await _events(kimbot, "first_response") == [OPEN_BUCKET]  # SINCE lies more than a week back


async def test_a_reminder_queued_before_the_answer_is_dropped_and_the_response_time_counted(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    staff_user(emulator, ANNA)
    since = utcnow() - timedelta(hours=3)
    client_id, thread = await _waiting_client(kimbot, emulator, 1302, since)
    scan = EscalationScan(kimbot.app.settings, kimbot.app.sessions, kimbot.app.county)
    # Far beyond 2N at once: only the 2N reminder is queued, not both.
    later = since + timedelta(days=60)
    planned = await scan.run(now=later)
    assert [(p.level, p.who) for p in planned] == [("2n", "deputy")]

    before = emulator.last_message_id(1302)
    await emulator.send_message(ANNA, "Ich melde mich morgen.", chat_id=STAFF_GROUP, thread_id=thread)
    await emulator.wait_for_message(1302, after=before, contains="morgen")
    await kimbot.settle(STAFF_GROUP)
    assert kimbot.app.worker is not None
    stats = await kimbot.app.worker.drain_once(now=later)
    assert stats.dropped == 1 and stats.sent == 0
    assert _reminders(emulator, thread) == []
    async with kimbot.app.sessions() as session:
        status = await session.scalar(
            select(OutboxMessage.status).where(
                OutboxMessage.idempotency_key == escalation.outbox_key(client_id, since, "2n")
            )
        )
    assert status == "dropped"
    assert await _events(kimbot, "first_response") == ["le_14400"]  # three hours: the bucket up to four


async def test_a_closed_conversation_waits_for_nobody_until_the_client_writes_again(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    staff_user(emulator, ANNA)
    client_id, thread = await _waiting_client(kimbot, emulator, 1303, SINCE)
    scan = EscalationScan(kimbot.app.settings, kimbot.app.sessions, kimbot.app.county)
    await kimbot.say(ANNA, "/close", chat_id=STAFF_GROUP, thread_id=thread)
    assert await scan.run(now=TWO_N_DUE) == []

    await emulator.send_message(1303, "سؤال جديد")
    await in_topic(emulator, thread, lambda m: m.get("text") == "سؤال جديد")
    await kimbot.settle(STAFF_GROUP)
    async with kimbot.app.sessions() as session:
        since = await escalation.waiting_since(session, client_id)
        newest = await session.scalar(
            select(RelayMessage.created_at).where(RelayMessage.client_id == client_id).order_by(RelayMessage.id.desc())
        )
    assert since is not None and since == newest and since > SINCE  # the wait starts with the new message


async def test_a_client_nobody_has_claimed_reminds_the_admins(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 1304, language="ti")
    await emulator.send_message(1304, "ሰላም")
    thread = await thread_of(kimbot, 1304)
    await in_topic(emulator, thread, lambda m: m.get("text") == "ሰላም")
    await kimbot.settle(STAFF_GROUP)
    async with kimbot.app.sessions() as session, session.begin():
        client = await session.scalar(select(Client).where(Client.telegram_id == 1304))
        assert client is not None and client.case_manager_id is None
        await session.execute(update(RelayMessage).where(RelayMessage.client_id == client.id).values(created_at=SINCE))
    scan = EscalationScan(kimbot.app.settings, kimbot.app.sessions, kimbot.app.county)
    planned = await scan.run(now=N_DUE)  # the client's municipality's office, "ki", counts the hours
    assert [(p.level, p.who) for p in planned] == [("n", "admins")]
    assert kimbot.app.worker is not None
    await kimbot.app.worker.drain_once(now=N_DUE.astimezone(UTC))
    await emulator.wait_for(lambda: _reminders(emulator, thread))
    [reminder] = _reminders(emulator, thread)
    assert _mention(ADMIN, "Büro KIM (Verwaltung)") in reminder and f"tg://user?id={ANNA}" not in reminder

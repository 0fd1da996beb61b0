"""The programme report's figures on the database (SQLite, and PostgreSQL when DATABASE_URL says so): a month
seeded through the real services gives exactly the expected counts; rolling the events up into cells changes no
figure; erasing a client changes no figure and leaves nothing in the aggregate tables that points to anyone; the
monthly report goes to each admin once, under the leader lock, however often the job runs."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from bot.db.base import utcnow
from bot.db.models import Client
from bot.db.models_booking import Appointment
from bot.db.models_outbox import OutboxMessage
from bot.db.models_reporting import ReportCell, ReportEvent, ReportRun
from bot.emulator import BotAPIEmulator
from bot.jobs.leader import run_exclusively
from bot.jobs.reporting import ReportJobs
from bot.services import booking, clients, documents, handoff, privacy, staff
from bot.services.availability import Slot
from bot.services.reporting import events, figures, hooks, periods, rollup
from bot.services.reporting.figures import Figures
from tests.support import ADMIN, ANNA, BERLIN, Running

CLIENTS = [  # telegram id, language, municipality
    (8101, "ar", "zuelpich"),
    (8102, "ar", "zuelpich"),
    (8103, "ar", "kall"),
    (8104, "ar", "kall"),
    (8105, "ar", "euskirchen"),
    (8106, "uk", "euskirchen"),
    (8107, "uk", "euskirchen"),
]
FREE_TEXT = "Ich heiße Olena und wohne in der Hauptstraße 5"


@dataclass
class Seeded:
    period: periods.Period
    client_ids: list[int]


def slot(staff_id: int, starts: datetime, minutes: int = 45, travel: int = 0, office: str | None = "ki") -> Slot:
    ends = starts + timedelta(minutes=minutes)
    return Slot(
        staff_id=staff_id,
        office_key=office,
        starts_at=starts,
        ends_at=ends,
        busy_from=starts - timedelta(minutes=travel),
        busy_until=ends + timedelta(minutes=travel),
    )


async def seed(kimbot: Running) -> Seeded:
    """One month of work, through the services that count it (times: this month, now)."""
    app, county = kimbot.app, kimbot.app.county
    consult, home = county.service("kim-consultation"), county.service("home-visit")
    assert consult is not None and home is not None
    now = utcnow()
    period = periods.parse(events.month_of(now))
    assert period is not None
    start, _ = rollup.month_bounds(period.first)
    base = start + timedelta(hours=9)  # the 1st at 09:00: appointments marked in this month
    async with app.sessions() as session, session.begin():
        anna = await staff.find_active(session, ANNA)
        admin = await staff.find_active(session, ADMIN)
        assert anna is not None and admin is not None
        ids = []
        for telegram_id, language, town in CLIENTS:
            client = await clients.register(session, telegram_id, language)
            await clients.set_municipality(session, client.id, town)
            ids.append(client.id)
    appointments = []
    async with app.sessions() as session, session.begin():
        for i in range(6):  # five booked by the clients, the sixth by staff for the client
            by = admin.id if i == 5 else None
            booked = await booking.book(
                session,
                client_id=ids[i],
                slot=slot(anna.id, base + timedelta(hours=i)),
                service=consult,
                booked_by_staff_id=by,
            )
            appointments.append(booked.id)
        visit = await booking.book(
            session, client_id=ids[0], slot=slot(anna.id, base + timedelta(days=1), 60, 30, None), service=home
        )
    async with app.sessions() as session, session.begin():
        for appointment_id in appointments[:5]:
            await booking.mark_outcome(session, staff_id=anna.id, appointment_id=appointment_id, outcome="attended")
        await booking.mark_outcome(session, staff_id=anna.id, appointment_id=appointments[5], outcome="no_show")
        await booking.mark_outcome(session, staff_id=anna.id, appointment_id=appointments[4], outcome="no_show")
        await booking.mark_outcome(session, staff_id=anna.id, appointment_id=visit.id, outcome="attended")
    # The waitlist: client 2 waits, client 7 cancels a slot three days ahead, client 2 takes it.
    async with app.sessions() as session, session.begin():
        await booking.join_waitlist(session, client_id=ids[1], service_key=consult.key)
        later = await booking.book(
            session, client_id=ids[6], slot=slot(anna.id, now + timedelta(days=3)), service=consult
        )
        await booking.cancel(session, county, client_id=ids[6], appointment_id=later.id, hold_minutes=15)
    async with app.sessions() as session, session.begin():
        hold_id = await session.scalar(select(Appointment.id).where(Appointment.status == "held"))
        assert hold_id is not None  # offered to client 2
        await booking.accept_offer(session, county, client_id=ids[1], appointment_id=hold_id)
    # Documents: one renewed before it expired, one after; one reminder sent.
    async with app.sessions() as session, session.begin():
        today = now.astimezone(BERLIN).date()
        doc, _ = await documents.add(
            session, client_id=ids[0], doc_type="duldung", expires_on=today + timedelta(days=40), tz=BERLIN
        )
        await documents.change_expiry(
            session, client_id=ids[0], document_id=doc.id, expires_on=today + timedelta(days=200), tz=BERLIN
        )
        past = now - timedelta(days=60)
        old, _ = await documents.add(
            session, client_id=ids[5], doc_type="passport", expires_on=today - timedelta(days=10), tz=BERLIN, now=past
        )
        await documents.change_expiry(
            session, client_id=ids[5], document_id=old.id, expires_on=today + timedelta(days=900), tz=BERLIN
        )
        reminder = await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.template == documents.DOCUMENT_TEMPLATE).limit(1)
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == reminder)
            .values(status="sent", sent_at=now - timedelta(minutes=5))
        )
    # The relay, residence statuses and first answers (counted by their capabilities through the same API).
    async with app.sessions() as session, session.begin():
        for n in range(3):
            await handoff.record(
                session, ids[0], direction="in", kind="text", client_message_id=n + 1, transcript=FREE_TEXT
            )
        await handoff.record(session, ids[0], direction="in", kind="text", client_message_id=9, status="notice")
        for n in range(2):
            await handoff.record(session, ids[0], direction="out", kind="text", client_message_id=20 + n)
        for _telegram_id, language, town in CLIENTS[:5]:
            await events.record(
                session,
                "status_change",
                when=now,
                municipality=town,
                language=language,
                detail="duldung->aufenthaltserlaubnis_25b",
            )
        for seconds in (100, 600, 600, 900, 5000):
            await events.record_duration(session, "first_response", seconds, when=now, language="ar")
        await events.record(session, "escalation", when=now, detail="n")
        await hooks.broadcast_finished(session, {"ar": {"sent": 5}, "uk": {"sent": 2, "failed": 1}}, now)
    async with app.sessions() as session, session.begin():
        await rollup.snapshot_active_cases(session, period.first)
    return Seeded(period, ids)


def expect_exact(f: Figures) -> None:
    assert f.totals["new_client"] == 7
    assert f.new_by_language == Counter({"ar": 5, "uk": 2})
    assert f.active_by_municipality == Counter({"zuelpich": 2, "kall": 2, "euskirchen": 3})
    assert f.active_by_language == Counter({"ar": 5, "uk": 2})
    assert f.totals["message:from_client"] == 3 and f.totals["message:from_staff"] == 2
    assert f.messages_by_municipality == Counter({"zuelpich": 3})
    consult, home = f.services["kim-consultation"], f.services["home-visit"]
    assert +consult == Counter(
        {
            "booking:client": 6,
            "booking:staff": 1,
            "booking:waitlist": 1,
            "attended": 4,
            "no_show": 2,
            "cancelled": 1,
            "waitlist_offer": 1,
        }
    )
    assert +home == Counter({"booking:client": 1, "attended": 1, "home_visit": 1, "travel_minutes": 60})
    assert f.waitlist_time["kim-consultation"] == Counter({"le_60": 1})
    assert f.renewals == {"duldung": Counter({"before": 1}), "passport": Counter({"after": 1})}
    assert f.reminders_by_type == Counter({"duldung": 1})
    assert f.status_changes == Counter({("duldung", "aufenthaltserlaubnis_25b"): 5})
    month = f.period.first
    assert f.first_response[month] == Counter({"le_300": 1, "le_900": 3, "le_7200": 1})
    assert figures.quantile(f.first_response[month], 0.5) == 300 + (900 - 300) * (2.5 - 1) / 3  # rank 2.5 of 5
    assert f.escalations == Counter({"n": 1})
    assert f.totals["broadcast"] == 1 and f.reach_by_language == Counter({"ar": 5, "uk": 2})
    assert f.bookings_by_municipality == Counter({"zuelpich": 4, "kall": 2, "euskirchen": 3})


async def load(kimbot: Running, period: periods.Period) -> Figures:
    async with kimbot.app.sessions() as session:
        return await figures.load(session, period)


def jobs(kimbot: Running) -> ReportJobs:
    found = kimbot.app.dispatcher["report_jobs"]
    assert isinstance(found, ReportJobs)
    return found


async def test_a_seeded_month_gives_the_exact_figures_before_and_after_the_roll_up(kimbot: Running) -> None:
    seeded = await seed(kimbot)
    async with kimbot.app.sessions() as session:
        pending = await session.scalar(select(func.count()).select_from(ReportEvent))
    expect_exact_but_reminders = await load(kimbot, seeded.period)
    assert expect_exact_but_reminders.reminders_by_type == Counter()  # counted from the outbox by the roll-up
    moved = await jobs(kimbot).roll_up()  # counts the sent reminder, moves every event into its cell
    assert moved == (pending or 0) + 1
    expect_exact(await load(kimbot, seeded.period))
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ReportEvent)) == 0
        assert (await session.scalar(select(func.count()).select_from(ReportCell)) or 0) > 10
    # Counted again after more events: cells and pending events add up; a second roll-up changes nothing.
    async with kimbot.app.sessions() as session, session.begin():
        await events.record(session, "new_client", when=utcnow(), language="fa")
    assert (await load(kimbot, seeded.period)).totals["new_client"] == 8
    await jobs(kimbot).roll_up()
    await jobs(kimbot).roll_up()
    again = await load(kimbot, seeded.period)
    assert again.totals["new_client"] == 8 and again.reminders_by_type == Counter({"duldung": 1})


async def test_the_snapshot_of_active_cases_is_taken_once_per_month(kimbot: Running) -> None:
    seeded = await seed(kimbot)
    async with kimbot.app.sessions() as session, session.begin():
        assert await rollup.snapshot_active_cases(session, seeded.period.first) == 0
    assert sum((await load(kimbot, seeded.period)).active_by_language.values()) == 7


async def test_erasing_a_client_changes_no_figure_and_leaves_nothing_identifying(kimbot: Running) -> None:
    seeded = await seed(kimbot)
    await jobs(kimbot).roll_up()
    async with kimbot.app.sessions() as session, session.begin():
        await events.record(session, "new_client", when=utcnow(), language="ti")  # not rolled up yet
    before = await load(kimbot, seeded.period)
    for client_id in seeded.client_ids[:2]:
        async with kimbot.app.sessions() as session, session.begin():
            await privacy.erase(session, client_id)
    after = await load(kimbot, seeded.period)
    assert after == before
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Client)) == len(CLIENTS) - 2
        cells = [tuple(r) for r in (await session.execute(select(ReportCell.__table__))).all()]
        pending = [tuple(r) for r in (await session.execute(select(ReportEvent.__table__))).all()]
        staff_ids = set((await session.scalars(select(staff.Staff.id))).all()) | {0}
    # No column names a client, a Telegram user or a text; every text value is a short code.
    for table in (ReportCell.__table__, ReportEvent.__table__, ReportRun.__table__):
        assert not {c.name for c in table.columns} & {"client_id", "telegram_id", "text", "transcript", "reference"}
    dumped = repr(cells + pending)
    for telegram_id, *_ in CLIENTS:
        assert str(telegram_id) not in dumped
    assert "Olena" not in dumped and "Hauptstraße" not in dumped and "K-" not in dumped
    code = re.compile(r"^[A-Za-z0-9_.:>-]{0,64}$")
    for row in cells:
        month, event, town, language, service, manager, detail, _count = row
        assert all(code.match(v) for v in (month, event, town, language, service, detail)), row
        assert manager in staff_ids, row  # a staff member's row id at most, never a client's


async def test_the_monthly_report_goes_to_each_admin_once_under_the_leader_lock(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    emulator.add_user(ADMIN, "Büro", language_code="de")
    seeded = await seed(kimbot)
    after_the_month = datetime.combine(
        periods.first_day(periods.shift(seeded.period.first, 1)), datetime.min.time(), tzinfo=BERLIN
    ) + timedelta(hours=6, minutes=30)
    report_jobs = jobs(kimbot)

    async def once() -> tuple[bool, int | None]:
        return await run_exclusively(
            kimbot.app.sessions, "report-monthly", lambda: report_jobs.monthly(kimbot.app.bot, after_the_month)
        )

    results = await asyncio.gather(once(), once(), once())
    assert sum(sent or 0 for _ran, sent in results) == 1
    assert await once() == (True, 0)  # the next morning: already sent
    intros = [m for m in emulator.bot_messages(ADMIN) if m.get("text") == "Ihr monatlicher Programmbericht."]
    assert len(intros) == 1
    photos = [m for m in emulator.bot_messages(ADMIN) if "photo" in m]
    assert len(photos) >= 3
    async with kimbot.app.sessions() as session:
        keys = set((await session.scalars(select(ReportRun.key))).all())
    assert f"active:{seeded.period.first}" in keys
    assert any(k.startswith(f"monthly:{seeded.period.first}:") for k in keys)

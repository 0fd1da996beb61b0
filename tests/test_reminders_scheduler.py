"""The scheduler's jobs: fixed ids, no arguments (nothing personal pickled), registered once however often the app
is built; the morning agenda for case managers with confirmed / not confirmed; the retention purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.db.models_outbox import OutboxMessage
from bot.delivery import outbox
from bot.emulator import BotAPIEmulator
from bot.jobs.scheduler import (
    DOCUMENT_SCAN_JOB_ID,
    DRAIN_JOB_ID,
    MORNING_AGENDA_JOB_ID,
    RETENTION_JOB_ID,
    Jobs,
    register_jobs,
)
from bot.services import booking
from tests.support import APPOINTMENT, BERLIN, Running, book_appointment, onboard


async def test_jobs_have_fixed_ids_and_no_arguments(kimbot: Running) -> None:
    scheduler = kimbot.app.scheduler
    assert kimbot.app.worker is not None
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {DRAIN_JOB_ID, DOCUMENT_SCAN_JOB_ID, MORNING_AGENDA_JOB_ID, RETENTION_JOB_ID} <= set(jobs)
    assert all(job.args == () and job.kwargs == {} for job in jobs.values())
    agenda = jobs[MORNING_AGENDA_JOB_ID].trigger
    assert isinstance(agenda, CronTrigger) and str(agenda.timezone) == "Europe/Berlin"
    assert "hour='7'" in str(agenda) and "minute='30'" in str(agenda)
    # Registering again (a restart with a persistent job store) replaces, never doubles. APScheduler applies
    # replace_existing when jobs reach the store, i.e. once it has started.
    scheduler.start(paused=True)
    register_jobs(scheduler, Jobs(kimbot.app.settings, kimbot.app.sessions, kimbot.app.worker))
    assert len(scheduler.get_jobs()) == len(jobs)


async def test_morning_agenda_shows_confirmation_state(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 721)
    await onboard(kimbot, emulator, 722)
    emulator.add_user(100000001, "Anna")
    first = await book_appointment(kimbot, 721)
    await _book_later(kimbot, 722)
    async with kimbot.app.sessions() as session, session.begin():
        client_id = await appointments_client(session, first)
        await booking.confirm_attendance(session, client_id=client_id, appointment_id=first)

    assert kimbot.app.worker is not None
    jobs = Jobs(kimbot.app.settings, kimbot.app.sessions, kimbot.app.worker)
    morning = datetime(2027, 3, 29, 7, 30, tzinfo=BERLIN)
    queued = await jobs.plan_morning_agendas(now=morning)
    assert queued == 3  # one per active case manager
    assert await jobs.plan_morning_agendas(now=morning) == 0  # the key holds the day
    await kimbot.app.worker.drain_once(now=morning.astimezone(UTC))
    async with kimbot.app.sessions() as session:
        message_id = await session.scalar(
            select(OutboxMessage.telegram_message_id).where(
                OutboxMessage.template == "morning_agenda", OutboxMessage.chat_id == 100000001
            )
        )
    agenda = emulator.messages[(100000001, cast(int, message_id))]
    # Anna's first language is German.
    confirmed, unconfirmed = (kimbot.app.i18n.gettext(s, locale="de") for s in ("confirmed", "not confirmed"))
    lines = agenda["text"].splitlines()
    assert "29" in lines[0] and "2027" in lines[0] and len(lines) == 3
    assert lines[1].startswith("10:00") and lines[1].endswith(f"· {confirmed}")
    assert lines[2].startswith("11:00") and lines[2].endswith(f"· {unconfirmed}")
    # Case managers with an empty day get nothing: their agenda rows are dropped, with the reason.
    async with kimbot.app.sessions() as session:
        statuses = dict(
            (
                await session.execute(
                    select(OutboxMessage.chat_id, OutboxMessage.status).where(
                        OutboxMessage.template == "morning_agenda"
                    )
                )
            ).all()
        )
    assert statuses[100000001] == "sent" and statuses[100000002] == "dropped"


async def appointments_client(session: AsyncSession, appointment_id: int) -> int:
    from bot.db.models_booking import Appointment

    client_id = await session.scalar(select(Appointment.client_id).where(Appointment.id == appointment_id))
    assert client_id is not None
    return int(client_id)


async def _book_later(kimbot: Running, telegram_id: int) -> int:
    from bot.db.models import Client, Staff
    from bot.services.availability import Slot

    service = kimbot.app.county.service("kim-consultation")
    assert service is not None
    async with kimbot.app.sessions() as session, session.begin():
        client_id = await session.scalar(select(Client.id).where(Client.telegram_id == telegram_id))
        staff_id = await session.scalar(select(Staff.id).where(Staff.telegram_id == 100000001))
        assert client_id is not None and staff_id is not None
        starts = (APPOINTMENT + timedelta(hours=1)).astimezone(UTC)
        ends = starts + timedelta(minutes=service.duration_minutes)
        slot = Slot(
            staff_id=staff_id, office_key="ki", starts_at=starts, ends_at=ends, busy_from=starts, busy_until=ends
        )
        return (await booking.book(session, client_id=client_id, slot=slot, service=service)).id


async def test_retention_purge_deletes_only_closed_old_rows(kimbot: Running) -> None:
    assert kimbot.app.worker is not None
    jobs = Jobs(kimbot.app.settings, kimbot.app.sessions, kimbot.app.worker)
    old = utcnow() - timedelta(days=30 * kimbot.app.settings.retention_months + 1)
    async with kimbot.app.sessions() as session, session.begin():
        for key, status, created in (
            ("old-sent", "sent", old),
            ("old-pending", "pending", old),
            ("new-sent", "sent", utcnow()),
        ):
            await outbox.enqueue(session, key=key, chat_id=1, template="x", due_at=created)
            row = await session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
            assert row is not None
            row.status, row.created_at = status, created
    messages, _ = await jobs.purge()
    assert messages == 1
    async with kimbot.app.sessions() as session:
        keys = set((await session.scalars(select(OutboxMessage.idempotency_key))).all())
        assert keys == {"old-pending", "new-sent"}
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 2

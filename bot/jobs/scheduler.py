"""Scheduled jobs. APScheduler 3 drives time; the database holds the state.

Every job has a fixed id and is added with `replace_existing`, so a restart never doubles it; the jobs take no
arguments (nothing personal is ever pickled into a job store), they look at the database when they run. Whatever
they decide to send becomes an outbox row, delivered by the drain job.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from aiogram import Bot
from aiogram.fsm.storage.base import BaseStorage
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import Settings
from bot.core.county import County
from bot.db.base import utcnow
from bot.db.unit_of_work import current_session
from bot.delivery import outbox
from bot.delivery.worker import DeliveryWorker
from bot.jobs import escalation
from bot.jobs.leader import run_exclusively
from bot.services import audit, booking, documents, privacy, staff
from bot.services.data_categories import UNFINISHED_ONBOARDING_DAYS  # the privacy notice says it
from bot.telegram import fsm_storage
from bot.telegram.inbound import UpdateJournal
from bot.telegram.topics import ForumTopics

log = logging.getLogger("kimbot.scheduler")

DRAIN_JOB_ID = "outbox-drain"
DOCUMENT_SCAN_JOB_ID = "document-expiry-scan"
MORNING_AGENDA_JOB_ID = "morning-agenda"
RETENTION_JOB_ID = "retention-purge"
WAITLIST_JOB_ID = "waitlist-offer-expiry"
DRAIN_INTERVAL_SECONDS = 1
MORNING_AGENDA_AT = time(7, 30)
MORNING_AGENDA_TEMPLATE = "morning_agenda"


@dataclass
class Jobs:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    worker: DeliveryWorker
    county: County | None = None
    # For the erasure's part outside the database (conversation state, the client's topic in the staff group).
    bot: Bot | None = None
    storage: BaseStorage | None = None
    topics: ForumTopics | None = None

    async def expire_waitlist_offers(self) -> None:
        """Offers not taken within WAITLIST_HOLD_MINUTES go to the next client on the waitlist."""
        if self.county is None:
            return
        county = self.county
        async with self.sessions() as session, session.begin():
            expired = await booking.expire_holds(session, county, self.settings.waitlist_hold_minutes)
        if expired:
            log.info("waitlist: %d expired offer(s) passed on", expired)

    async def drain_outbox(self) -> None:
        stats = await self.worker.drain_once()
        if stats.sent or stats.failed or stats.unreachable or stats.dropped:
            log.info(
                "outbox: %d sent, %d retried, %d failed, %d unreachable, %d dropped",
                stats.sent,
                stats.retried,
                stats.failed,
                stats.unreachable,
                stats.dropped,
            )

    async def scan_documents(self) -> None:
        async with self.sessions() as session, session.begin():
            queued = await documents.plan_missing_reminders(session, self.settings.tz)
        log.info("document scan: %d reminders (re)queued", queued)

    async def plan_morning_agendas(self, now: datetime | None = None) -> int:
        """One agenda message per active case manager for today; rendered (or dropped, when the day is empty)
        by the drain job. The key holds the day, so running twice queues nothing twice."""
        now = now or utcnow()
        tz = self.settings.tz
        day = now.astimezone(tz).date()
        end_of_day = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)
        queued = 0
        async with self.sessions() as session, session.begin():
            for member in await staff.active_case_managers(session):
                queued += await outbox.enqueue(
                    session,
                    key=f"agenda:{member.id}:{day.isoformat()}",
                    chat_id=int(member.telegram_id),
                    template=MORNING_AGENDA_TEMPLATE,
                    params={"staff_id": member.id, "day": day.isoformat()},
                    due_at=now,
                    expires_at=end_of_day,
                    priority=outbox.ALERT_PRIORITY,
                )
        return queued

    async def morning_agenda(self) -> None:
        await self.plan_morning_agendas()

    async def purge(self, now: datetime | None = None) -> tuple[int, int]:
        """Retention: closed outbox rows and documents that expired more than RETENTION_MONTHS ago, home addresses
        of past visits, database conversation state untouched for FSM_TTL, the journal (`UpdateJournal.prune`);
        and the erasure of clients who have not written for RETENTION_MONTHS, or never finished onboarding and
        have not written for 30 days, unless an appointment is still to come (the privacy notice's promise)."""
        now = now or utcnow()
        cutoff = now - timedelta(days=30 * self.settings.retention_months)
        async with self.sessions() as session, session.begin():
            messages = await outbox.purge_closed(session, cutoff)
            docs = await documents.purge_expired(session, cutoff.astimezone(self.settings.tz).date())
            addresses = await booking.forget_past_addresses(session)
            states = await fsm_storage.prune(session, now - fsm_storage.FSM_TTL)
            candidates = await privacy.purge_candidates(
                session,
                inactive_before=cutoff,
                unfinished_before=now - timedelta(days=UNFINISHED_ONBOARDING_DAYS),
            )
        journal = await UpdateJournal(self.sessions).prune()
        gone, incomplete = await self._erase_all(candidates)
        log.info(
            "retention purge: %d outbox rows, %d documents, %d home addresses, %d conversation states, "
            "%d journal rows, %d clients (%d left in the staff group for staff to delete)",
            messages,
            docs,
            addresses,
            states,
            journal,
            gone,
            incomplete,
        )
        return messages, docs

    async def _erase_all(self, client_ids: list[int]) -> tuple[int, int]:
        """The same erasure as "Delete all my data", one transaction per client (a failure stops only that one;
        the next purge tries again); the audit keeps a count."""
        gone = incomplete = 0
        for client_id in client_ids:
            try:
                async with self.sessions() as session, session.begin():
                    token = current_session.set(session)  # DatabaseStorage deletes in this transaction
                    try:
                        erased = await privacy.erase(
                            session, client_id, forget=self._forget(session), audit_action=None
                        )
                    finally:
                        current_session.reset(token)
            except LookupError:
                continue  # erased meanwhile
            except Exception:
                log.exception("retention purge: erasing a client failed; the next purge tries again")
                continue
            gone += 1
            incomplete += not erased.complete
        if gone:
            async with self.sessions() as session, session.begin():
                audit.record(session, "clients_purged", actor="system", count=gone)
        return gone, incomplete

    def _forget(self, session: AsyncSession) -> list[privacy.Forget]:
        steps: list[privacy.Forget] = []
        if self.bot is not None and self.topics is not None:
            forum = self.topics.bind(self.bot, session)

            async def erase_topic(traces: privacy.Traces) -> bool:
                return await forum.erase_client(traces, announce=False)

            steps.append(erase_topic)
        if self.bot is not None and self.storage is not None:
            steps.append(fsm_storage.forgetter(self.storage, self.bot.id))
        return steps


def _once(jobs: Jobs, name: str, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    """A cron job that only one worker process runs (PostgreSQL advisory lock; see bot/jobs/leader.py)."""

    async def run() -> None:
        ran, _ = await run_exclusively(jobs.sessions, name, job)
        if not ran:
            log.info("%s: another worker is running it", name)

    run.__name__ = f"{name}-once"
    return run


def register_jobs(scheduler: AsyncIOScheduler, jobs: Jobs) -> None:
    """Add kimbot's jobs (fixed ids, replace_existing). The scheduler's time zone is the office's."""
    scheduler.add_job(
        jobs.drain_outbox,
        "interval",
        seconds=DRAIN_INTERVAL_SECONDS,
        id=DRAIN_JOB_ID,
        replace_existing=True,
        # A long drain keeps running; the next tick finds the worker busy and returns at once.
        max_instances=2,
        coalesce=True,
    )
    scheduler.add_job(
        _once(jobs, DOCUMENT_SCAN_JOB_ID, jobs.scan_documents),
        "cron",
        hour=6,
        minute=0,
        id=DOCUMENT_SCAN_JOB_ID,
        replace_existing=True,
    )
    scheduler.add_job(
        _once(jobs, MORNING_AGENDA_JOB_ID, jobs.morning_agenda),
        "cron",
        day_of_week="mon-fri",
        hour=MORNING_AGENDA_AT.hour,
        minute=MORNING_AGENDA_AT.minute,
        id=MORNING_AGENDA_JOB_ID,
        replace_existing=True,
    )
    scheduler.add_job(
        _once(jobs, RETENTION_JOB_ID, jobs.purge), "cron", hour=3, minute=15, id=RETENTION_JOB_ID, replace_existing=True
    )
    scheduler.add_job(
        _once(jobs, WAITLIST_JOB_ID, jobs.expire_waitlist_offers),
        "interval",
        seconds=60,
        id=WAITLIST_JOB_ID,
        replace_existing=True,
        coalesce=True,
    )
    escalation.register(scheduler, jobs.settings, jobs.sessions, jobs.county)  # unanswered client messages

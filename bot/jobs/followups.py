"""The follow-up job: every minute, each follow-up whose moment has come gets its due message – to its owner, or
to their deputy while they are away, decided now (`bot.services.followups.announce_due`). The message is an outbox
row (key `client:{id}:followup:{id}:{due}`), sent by the drain job and rendered by
`bot/delivery/templates/casework.py`.

A fixed job id and no arguments, as every job (`bot/jobs/scheduler.py`); one worker runs it at a time
(`bot.jobs.leader`), and its outbox keys make a second run harmless anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import Settings
from bot.db.base import utcnow
from bot.jobs.leader import run_exclusively
from bot.services import followups

log = logging.getLogger("kimbot.followups")

FOLLOWUP_JOB_ID = "followups-due"
FOLLOWUP_INTERVAL_SECONDS = 60


@dataclass
class FollowupJob:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]

    async def announce(self, now: datetime | None = None) -> int:
        """Queue the due messages of the follow-ups due by `now`; returns how many (to the deputy or not)."""
        now = now or utcnow()
        async with self.sessions() as session, session.begin():
            routed = await followups.announce_due(session, now, now.astimezone(self.settings.tz).date())
        if routed:
            log.info("follow-ups: %d due (%d to a deputy)", len(routed), sum(r.for_deputy for r in routed))
        return len(routed)

    async def run(self) -> None:
        ran, _ = await run_exclusively(self.sessions, FOLLOWUP_JOB_ID, self.announce)
        if not ran:
            log.info("%s: another worker is running it", FOLLOWUP_JOB_ID)


def register_followup_job(scheduler: AsyncIOScheduler, job: FollowupJob) -> None:
    scheduler.add_job(
        job.run,
        "interval",
        seconds=FOLLOWUP_INTERVAL_SECONDS,
        id=FOLLOWUP_JOB_ID,
        replace_existing=True,
        coalesce=True,
    )

"""The escalation scan: every few minutes, reminders for client messages nobody has answered after N and 2N working
hours (the rules are in `bot.services.escalation`), queued as outbox rows for the client's topic; and the template
that renders such a row when the drain sends it, in the office language.

One worker runs the scan (the PostgreSQL advisory lock of `bot.jobs.leader`); the rows' keys hold the wait and the
level, so a second run or a second worker queues nothing twice. A row whose wait has ended by the time it is sent
(staff answered meanwhile) is dropped, not sent.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from aiogram.utils.i18n import gettext as _
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import Settings
from bot.core.county import County
from bot.core.i18n import fmt_datetime, fmt_number
from bot.delivery.outbox import ClaimedMessage
from bot.delivery.renderer import RenderContext, Template
from bot.delivery.worker import Rendered
from bot.jobs.leader import run_exclusively
from bot.services import escalation, handoff, office_hours
from bot.services import staff as staff_service
from bot.services.dto import StaffDTO

log = logging.getLogger("kimbot.escalation")

ESCALATION_JOB_ID = "handoff-escalation"
SCAN_INTERVAL_SECONDS = 300


@dataclass
class EscalationScan:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    county: County

    async def run(self, now: datetime | None = None) -> list[escalation.Planned]:
        """Queue what is due at `now` (default: `office_hours.now()`, the clock tests move)."""
        if self.settings.staff_chat_id is None:
            return []
        now = now or office_hours.now()
        async with self.sessions() as session, session.begin():
            planned = await escalation.plan(
                session, self.county, staff_chat_id=self.settings.staff_chat_id, now=now, tz=self.settings.tz
            )
        if planned:
            log.info("escalation: %d reminder(s) queued", len(planned))
        return planned

    async def run_once(self) -> None:
        ran, _ = await run_exclusively(self.sessions, ESCALATION_JOB_ID, self.run)
        if not ran:
            log.info("%s: another worker is running it", ESCALATION_JOB_ID)


def register(
    scheduler: AsyncIOScheduler, settings: Settings, sessions: async_sessionmaker[AsyncSession], county: County | None
) -> None:
    """The scan's job (fixed id, replace_existing, no arguments). Without a county file nothing is scanned."""
    if county is None:
        return
    scan = EscalationScan(settings, sessions, county)
    scheduler.add_job(
        scan.run_once,
        "interval",
        seconds=SCAN_INTERVAL_SECONDS,
        id=ESCALATION_JOB_ID,
        replace_existing=True,
        coalesce=True,
    )


# ---------------------------------------------------------------------- the reminder as sent


def mention(member: StaffDTO) -> str:
    # A mention by numeric id (tg://user?id=…) notifies the person; never by @username.
    return f'<a href="tg://user?id={member.telegram_id}">{html.escape(member.display_name)}</a>'


def reminder_text(
    level: str, reference: str, since: str, hours: str, mentioned: list[StaffDTO], manager: StaffDTO | None
) -> str:
    """In the office language: who is asked to answer, since when the client waits."""
    who = ", ".join(mention(m) for m in mentioned) or "–"
    if level == "n":
        return _(
            "⏰ {reference} has been waiting for an answer for {hours} working hours (since {since}). {who}, please "
            "answer."
        ).format(reference=html.escape(reference), hours=hours, since=since, who=who)
    if manager is not None and all(m.id != manager.id for m in mentioned):
        return _(
            "⏰ {reference} has still had no answer after {hours} working hours (since {since}). {who}, please "
            "answer in place of {manager}."
        ).format(
            reference=html.escape(reference),
            hours=hours,
            since=since,
            who=who,
            manager=html.escape(manager.display_name),
        )
    return _(
        "⏰ {reference} has still had no answer after {hours} working hours (since {since}). {who}, please answer."
    ).format(reference=html.escape(reference), hours=hours, since=since, who=who)


async def render_reminder(ctx: RenderContext, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
    params = message.params
    client_id = int(params["client_id"])
    since = await escalation.waiting_since(session, client_id)
    client = await handoff.client(session, client_id)
    if client is None or since is None or int(since.timestamp()) != int(params["since"]):
        return None  # answered (or erased) since the reminder was queued
    mentioned = [m for m in [await staff_service.get(session, int(i)) for i in params.get("to", [])] if m is not None]
    manager = await staff_service.get(session, int(params["manager"])) if params.get("manager") else None
    return Rendered(
        reminder_text(
            str(params["level"]),
            client.reference,
            fmt_datetime(datetime.fromtimestamp(int(params["since"]), UTC), ctx.locale, ctx.tz),
            fmt_number(float(params["hours"]), ctx.locale),
            mentioned,
            manager,
        )
    )


TEMPLATES: dict[str, Template] = {escalation.ESCALATION_TEMPLATE: render_reminder}

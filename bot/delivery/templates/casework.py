"""Messages to staff about their casework: a follow-up that has fallen due (with Done / +1 day / +1 week and a
link to the client's topic), and the follow-ups of the day in the morning agenda (`templates/staff.py`).

Rendered at send time in the staff member's language: a task done or moved since it was announced is dropped.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from html import escape

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import fmt_datetime
from bot.delivery.outbox import ClaimedMessage
from bot.delivery.renderer import RenderContext, Template
from bot.delivery.worker import Button, Rendered
from bot.services import followups, handoff
from bot.services.followups import FOLLOWUP_TEMPLATE
from bot.telegram.callbacks import FollowupCb
from bot.telegram.topics import message_link


async def render_followup_due(ctx: RenderContext, session: AsyncSession, message: ClaimedMessage) -> Rendered | None:
    task = await followups.still_due(
        session, int(message.params["followup_id"]), datetime.fromisoformat(message.params["due_at"])
    )
    if task is None:
        return None
    lines = [
        _("⏰ <b>Follow-up for {reference}</b>, due {when}").format(
            reference=escape(task.client_reference), when=fmt_datetime(task.due_at, ctx.locale, ctx.tz)
        ),
        escape(task.text),
    ]
    if message.params.get("recipient_id") != task.owner_id:
        lines += ["", _("{name} is away: you are their deputy.").format(name=escape(task.owner_name or "–"))]
    row = (
        Button(_("✅ Done"), FollowupCb(action="done", id=task.id).pack()),
        Button(_("+1 day"), FollowupCb(action="day", id=task.id).pack()),
        Button(_("+1 week"), FollowupCb(action="week", id=task.id).pack()),
    )
    buttons: tuple[tuple[Button, ...], ...] = (row,)
    conv = await handoff.conversation(session, task.client_id)
    if conv.chat_id is not None and conv.thread_id is not None:
        buttons += ((Button(_("Open the topic"), url=message_link(conv.chat_id, conv.thread_id)),),)
    return Rendered("\n".join(lines), buttons)


async def agenda_followups(ctx: RenderContext, session: AsyncSession, staff_id: int, day: date) -> list[str]:
    """The morning agenda's follow-up lines: tasks due by the end of `day` (overdue ones too) that go to this
    staff member that day; empty when there are none."""
    until = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ctx.tz)
    items = await followups.routed_to(session, staff_id, until, day)
    if not items:
        return []
    lines = ["", _("<b>Your follow-ups</b>")]
    for item in items:
        task = item.followup
        line = (
            f"{fmt_datetime(task.due_at, ctx.locale, ctx.tz)} · {escape(task.client_reference)} · {escape(task.text)}"
        )
        if item.for_deputy:
            line += " " + _("(for {name})").format(name=escape(task.owner_name or "–"))
        lines.append(line)
    return lines


TEMPLATES: dict[str, Template] = {FOLLOWUP_TEMPLATE: render_followup_due}

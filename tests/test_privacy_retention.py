"""The privacy notice's promise: data is deleted RETENTION_MONTHS after the last contact (unless an appointment is
still to come); a client who writes again is reachable again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.db.base import utcnow
from bot.db.models import AuditEntry, Client, Staff
from bot.db.models_booking import Appointment
from bot.emulator import BotAPIEmulator
from bot.jobs.scheduler import Jobs
from tests.support import Running, onboard


async def test_inactive_clients_are_purged_unless_an_appointment_is_ahead(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    for user_id in (1501, 1502, 1503):
        await onboard(kimbot, emulator, user_id)
    long_ago = utcnow() - timedelta(days=31 * 13)
    async with kimbot.app.sessions() as session, session.begin():
        await session.execute(
            update(Client).where(Client.telegram_id.in_((1501, 1502))).values(last_contact_at=long_ago)
        )
        keeper = await session.scalar(select(Client).where(Client.telegram_id == 1502))
        staff = await session.scalar(select(Staff))
        assert keeper is not None and staff is not None
        start = utcnow() + timedelta(days=3)
        session.add(
            Appointment(
                client_id=keeper.id,
                staff_id=staff.id,
                service_key="kim-consultation",
                office_key="ki",
                starts_at=start,
                ends_at=start + timedelta(minutes=45),
                busy_from=start,
                busy_until=start + timedelta(minutes=45),
                status="booked",
            )
        )
    assert kimbot.app.worker is not None
    jobs = Jobs(kimbot.app.settings, kimbot.app.sessions, kimbot.app.worker, kimbot.app.county)
    await jobs.purge()
    async with kimbot.app.sessions() as session:
        left = set((await session.scalars(select(Client.telegram_id))).all())
        purged = await session.scalar(select(AuditEntry).where(AuditEntry.action == "clients_purged"))
    assert left == {1502, 1503}
    assert purged is not None and purged.details == {"count": 1} and purged.client_id is None


async def test_writing_again_makes_a_client_reachable(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 1601)
    async with kimbot.app.sessions() as session, session.begin():
        await session.execute(update(Client).where(Client.telegram_id == 1601).values(reachable=False))
    await kimbot.say(1601, "/help")
    async with kimbot.app.sessions() as session:
        client = await session.scalar(select(Client).where(Client.telegram_id == 1601))
    assert client is not None and client.reachable is True
    assert client.last_contact_at is not None and utcnow() - client.last_contact_at < timedelta(minutes=1)

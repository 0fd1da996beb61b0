"""A client who blocks kimbot is unreachable at once (Telegram's `my_chat_member`), not at the next failed send:
their pending reminders are cancelled and their case manager (or the staff group) is alerted once – the same
service as the delivery worker's 403. Unblocking makes them reachable again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.db.base import utcnow
from bot.db.models import Client, Staff
from bot.db.models_outbox import OutboxMessage
from bot.delivery import outbox
from bot.emulator import BotAPIEmulator
from tests.support import ANNA, STAFF_GROUP, Running, onboard


async def _client(kimbot: Running, telegram_id: int) -> Client:
    async with kimbot.app.sessions() as session:
        row = await session.scalar(select(Client).where(Client.telegram_id == telegram_id))
        assert row is not None
        return row


async def _queue_reminders(kimbot: Running, client: Client) -> None:
    async with kimbot.app.sessions() as session, session.begin():
        for hours in (24, 48):
            await outbox.enqueue(
                session,
                key=f"test:{client.id}:{hours}",
                chat_id=client.telegram_id,
                client_id=client.id,
                template="staff_client_unreachable",  # any template: these rows are never sent
                params={"reference": client.reference},
                due_at=utcnow() + timedelta(hours=hours),
            )


async def _statuses(kimbot: Running, client_id: int) -> list[str]:
    async with kimbot.app.sessions() as session:
        rows = await session.scalars(select(OutboxMessage.status).where(OutboxMessage.client_id == client_id))
        return sorted(rows.all())


def _alerts(emulator: BotAPIEmulator, chat_id: int, reference: str) -> list[dict[str, object]]:
    return [m for m in emulator.bot_messages(chat_id) if reference in str(m.get("text"))]


async def test_blocking_the_bot_makes_the_client_unreachable_and_alerts_staff_once(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    await onboard(kimbot, emulator, 1801)
    client = await _client(kimbot, 1801)
    await _queue_reminders(kimbot, client)
    worker = kimbot.app.worker
    assert worker is not None

    await emulator.set_blocked(1801)
    await kimbot.handled.wait()
    assert (await _client(kimbot, 1801)).reachable is False
    assert await _statuses(kimbot, client.id) == ["cancelled", "cancelled"]
    await worker.drain_once()
    assert len(_alerts(emulator, STAFF_GROUP, client.reference)) == 1

    # Something new for the client meanwhile: its 403 does not alert a second time.
    async with kimbot.app.sessions() as session, session.begin():
        await outbox.enqueue(
            session,
            key=f"test:{client.id}:now",
            chat_id=1801,
            client_id=client.id,
            template="staff_client_unreachable",
            params={"reference": client.reference},
            due_at=utcnow(),
        )
    await worker.drain_once()
    await worker.drain_once()
    assert "unreachable" in await _statuses(kimbot, client.id)
    assert len(_alerts(emulator, STAFF_GROUP, client.reference)) == 1

    await emulator.set_blocked(1801, blocked=False)
    await kimbot.handled.wait()
    assert (await _client(kimbot, 1801)).reachable is True


async def test_the_case_manager_gets_the_alert_when_there_is_one(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 1802)
    emulator.add_user(ANNA, "Anna", language_code="de")
    async with kimbot.app.sessions() as session, session.begin():
        anna = await session.scalar(select(Staff.id).where(Staff.telegram_id == ANNA))
        await session.execute(update(Client).where(Client.telegram_id == 1802).values(case_manager_id=anna))
    client = await _client(kimbot, 1802)
    await emulator.set_blocked(1802)
    await kimbot.handled.wait()
    assert kimbot.app.worker is not None
    await kimbot.app.worker.drain_once()
    assert len(_alerts(emulator, ANNA, client.reference)) == 1
    assert _alerts(emulator, STAFF_GROUP, client.reference) == []

"""My documents, end to end through the emulator: add with a typed date (Arabic-Indic digits), change the date on
the inline calendar, delete; reminders planned, moved and cancelled in the outbox; a due reminder delivered with
what to do, what to bring and a booking button; staff /expiring."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from bot.db.base import utcnow
from bot.db.models import Client, Staff
from bot.db.models_documents import Document
from bot.db.models_outbox import OutboxMessage
from bot.emulator import BotAPIEmulator
from bot.services import documents
from tests.support import BERLIN, Running, button_texts, onboard

ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


async def _reminders(kimbot: Running, status: str = "pending") -> list[OutboxMessage]:
    async with kimbot.app.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == "document_expiry", OutboxMessage.status == status)
            .order_by(OutboxMessage.due_at)
        )
        return list(rows)


async def test_add_change_delete_document_with_reminders(kimbot: Running, emulator: BotAPIEmulator) -> None:
    menu = await onboard(kimbot, emulator, 701)
    listing = await kimbot.tap(701, menu, "My documents")
    assert "You have not added any documents yet." in listing["text"]
    types = await kimbot.tap(701, listing, "Add a document")
    question = await kimbot.tap(701, types, "Aufenthaltstitel (residence title)")
    assert "When does your residence title (Aufenthaltstitel) expire?" in question["text"]
    assert "›" in button_texts(question)  # the calendar

    wrong = await kimbot.say(701, "soon")
    assert "I could not read this date" in wrong["text"]
    past = await kimbot.say(701, "01.01.2020")
    assert "in the past" in past["text"]

    today = utcnow().astimezone(BERLIN).date()
    expires = today + timedelta(days=200)
    typed = expires.strftime("%d.%m.%Y").translate(ARABIC_DIGITS)
    await kimbot.say(701, typed)
    saved = [m for m in emulator.bot_messages(701) if m["text"].startswith("Saved:")][-1]
    assert "residence title (Aufenthaltstitel)" in saved["text"] and "I will remind you on:" in saved["text"]

    async with kimbot.app.sessions() as session:
        doc = await session.scalar(select(Document))
        assert doc is not None and (doc.doc_type, doc.expires_on) == ("residence_permit", expires)
    planned = await _reminders(kimbot)
    assert [r.idempotency_key.rsplit(":", 1)[1] for r in planned] == ["12w", "8w", "4w", "2w"]
    for row, weeks in zip(planned, (12, 8, 4, 2), strict=True):
        local = row.due_at.astimezone(BERLIN)
        assert local.date() == expires - timedelta(weeks=weeks) and (local.hour, local.minute) == (9, 0)
        assert row.client_id == doc.client_id and row.chat_id == 701

    # Change the date on the calendar: one month ahead, the 15th.
    listing = kimbot.emu.last_bot_message(701)
    question = await kimbot.tap(701, listing, "Change date: Aufenthaltstitel")
    calendar = await kimbot.tap(701, question, "›", edits=True)
    await kimbot.tap(701, calendar, "15")
    month_ahead = date(today.year + today.month // 12, today.month % 12 + 1, 15)
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(Document.expires_on)) == month_ahead
    assert len(await _reminders(kimbot, "cancelled")) == 4
    moved = await _reminders(kimbot)
    assert all(month_ahead.isoformat() in r.idempotency_key for r in moved)
    assert all(r.due_at > utcnow() for r in moved)  # leads already past are not planned

    # Delete: the reminders stop.
    listing = kimbot.emu.last_bot_message(701)
    confirm = await kimbot.tap(701, listing, "Delete")
    after = await kimbot.tap(701, confirm, "Yes, delete it")
    assert "You have not added any documents yet." in after["text"]
    assert await _reminders(kimbot) == []
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(Document)) is None


async def test_due_document_reminder_is_delivered_with_advice(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 702)
    async with kimbot.app.sessions() as session, session.begin():
        client_id = await session.scalar(select(Client.id).where(Client.telegram_id == 702))
        assert client_id is not None
        await documents.add(
            session,
            client_id=client_id,
            doc_type="duldung",
            expires_on=utcnow().astimezone(BERLIN).date() + timedelta(days=20),
            tz=BERLIN,
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.idempotency_key.like("document:%:reminder:2w"))
            .values(due_at=utcnow() - timedelta(minutes=1))
        )
    assert kimbot.app.worker is not None
    stats = await kimbot.app.worker.drain_once()
    assert stats.sent == 1
    reminder = emulator.last_bot_message(702)
    assert "Your toleration (Duldung) expires on" in reminder["text"] and "in 20 days" in reminder["text"]
    assert "Please bring:" in reminder["text"]
    assert button_texts(reminder) == ["Ausländerbehörde: book an appointment", "My documents"]
    listing = await kimbot.tap(702, reminder, "My documents")
    assert "Duldung (toleration): expires on" in listing["text"]


async def test_staff_expiring_lists_only_their_clients(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 703)
    await onboard(kimbot, emulator, 704)
    today = utcnow().astimezone(BERLIN).date()
    async with kimbot.app.sessions() as session, session.begin():
        anna = await session.scalar(select(Staff.id).where(Staff.telegram_id == 100000001))
        mine = await session.scalar(select(Client).where(Client.telegram_id == 703))
        other = await session.scalar(select(Client).where(Client.telegram_id == 704))
        assert mine is not None and other is not None
        mine.case_manager_id = anna
        for client, days in ((mine, 30), (mine, 200), (other, 10)):
            await documents.add(
                session, client_id=client.id, doc_type="passport", expires_on=today + timedelta(days=days), tz=BERLIN
            )
        references = (mine.reference, other.reference)

    emulator.add_user(100000001, "Anna", language_code="en")
    answer = await kimbot.say(100000001, "/expiring")
    # Anna's first language in the county file is German: staff get the office language.
    assert references[0] in answer["text"] and kimbot.app.i18n.gettext("Passport", locale="de") in answer["text"]
    assert references[1] not in answer["text"]
    assert len(answer["text"].splitlines()) == 2  # title + the one document within 90 days

    refused = await kimbot.say(703, "/expiring")
    assert "only for staff" in refused["text"]


def test_typed_dates_in_common_formats() -> None:
    expected = date(2027, 3, 31)
    for typed in ("31.03.2027", "31.3.27", "2027-03-31", "31/03/2027", "٣١٫٠٣٫٢٠٢٧", "۳۱/۰۳/۲۰۲۷", "\u200f31.03.2027"):
        assert documents.parse_date(typed) == expected, typed
    for typed in ("31.02.2027", "tomorrow", "2027", ""):
        assert documents.parse_date(typed) is None, typed


def test_document_reminders_keep_office_wall_time_across_dst() -> None:
    """A Duldung expiring Wednesday 31 March 2027: the 3-day reminder falls on the Sunday of the spring change
    (CEST, UTC+2), the 4-week one in winter (CET, UTC+1) – both at 09:00 office time."""
    plan = dict(documents.reminder_plan("duldung", date(2027, 3, 31), BERLIN, datetime(2027, 1, 10, tzinfo=UTC)))
    assert plan["3d"] == datetime(2027, 3, 28, 7, 0, tzinfo=UTC)
    assert plan["4w"] == datetime(2027, 3, 3, 8, 0, tzinfo=UTC)
    passport = dict(documents.reminder_plan("passport", date(2027, 8, 31), BERLIN, datetime(2027, 1, 1, tzinfo=UTC)))
    assert passport["6m"].astimezone(BERLIN).date() == date(2027, 2, 28)  # no 31 February


async def test_reminder_is_rendered_in_the_language_of_the_moment(kimbot: Running, emulator: BotAPIEmulator) -> None:
    """Queued while the client used English; they switched to German before it was due: German it is."""
    await onboard(kimbot, emulator, 705)
    expires = date(2027, 3, 31)
    async with kimbot.app.sessions() as session, session.begin():
        client = await session.scalar(select(Client).where(Client.telegram_id == 705))
        assert client is not None
        await documents.add(
            session,
            client_id=client.id,
            doc_type="duldung",
            expires_on=expires,
            tz=BERLIN,
            now=datetime(2027, 1, 1, tzinfo=UTC),
        )
        client.locale = "de"
    due = datetime(2027, 3, 28, 7, 0, tzinfo=UTC)  # the 3-day reminder
    assert kimbot.app.worker is not None
    await kimbot.app.worker.drain_once(now=due)
    reminder = emulator.last_bot_message(705)
    assert "31. März 2027" in reminder["text"]
    assert "March" not in reminder["text"]

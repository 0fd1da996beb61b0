"""Forged ids, the waitlist and its offer, and the staff agenda – end to end through the emulator."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db.base import utcnow
from bot.db.models import Client, Staff
from bot.db.models_booking import Appointment
from bot.db.models_outbox import OutboxMessage
from bot.emulator import BotAPIEmulator
from bot.telegram.callbacks import ApptCb
from tests.support import ANNA, OFFICE, SERVICE, Running, book_first_free, button_texts, onboard


async def test_cancel_with_another_clients_id_is_not_found(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 1101)
    await book_first_free(kimbot, 1101, SERVICE, office=OFFICE)
    menu = await onboard(kimbot, emulator, 1102)
    async with kimbot.app.sessions() as session:
        victim = await session.scalar(select(Appointment))
    assert victim is not None
    for action in ("cancel_yes", "move", "accept"):
        forged = ApptCb(action=action, id=victim.id).pack()
        callback_id = await emulator.press(1102, menu, data=forged, forge=True)

        def answered(cid: str = callback_id) -> bool:
            return emulator.callback_answers.get(cid) is not None

        await emulator.wait_for(answered)
        answer = emulator.callback_answers[callback_id]
        assert answer is not None and answer["text"] == "This appointment was not found."
    async with kimbot.app.sessions() as session:
        again = await session.get(Appointment, victim.id)
        assert again is not None and again.status == "booked" and again.sequence == 0


async def test_waitlisted_client_gets_the_freed_slot(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 1201)
    await book_first_free(kimbot, 1201, SERVICE, office=OFFICE)
    await onboard(kimbot, emulator, 1202)
    services = await kimbot.say(1202, "/book")
    offices = await kimbot.tap(1202, services, SERVICE)
    days = await kimbot.tap(1202, offices, OFFICE)
    joined = await kimbot.tap(1202, days, "None suits me – put me on the waitlist")
    assert "waitlist" in joined["text"]

    listing = await kimbot.say(1201, "/appointments")
    question = await kimbot.tap(1201, listing, "Cancel appointment")
    await kimbot.tap(1201, question, "Yes, cancel it")
    async with kimbot.app.sessions() as session:
        held = await session.scalar(select(Appointment).where(Appointment.status == "held"))
        waitlisted = await session.scalar(select(Client.id).where(Client.telegram_id == 1202))
        assert held is not None and held.client_id == waitlisted
        assert held.hold_expires_at is not None
        assert timedelta(minutes=14) < held.hold_expires_at - utcnow() <= timedelta(minutes=15)

    assert kimbot.app.worker is not None
    before = emulator.last_message_id(1202)
    await kimbot.app.worker.drain_once()
    offer = await emulator.wait_for_message(1202, after=before, contains="has become free")
    assert button_texts(offer) == ["Yes, book it", "No, thanks"]
    office = next(o for o in kimbot.app.county.offices if o.name == OFFICE)
    assert office.kind and f"{OFFICE} ({kimbot.app.county_texts.text(office.kind, 'en')})" in offer["text"]
    booked = await kimbot.tap(1202, offer, "Yes, book it")
    assert "booked" in booked["caption"]
    async with kimbot.app.sessions() as session:
        row = await session.get(Appointment, held.id)
        assert row is not None and row.status == "booked" and row.client_id == waitlisted
        query = select(OutboxMessage.params).where(OutboxMessage.template == "staff_appointment_event")
        events = (await session.scalars(query)).all()
        assert {e["event"] for e in events} >= {"booked", "cancelled"}


async def test_staff_agenda_marks_no_show(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await onboard(kimbot, emulator, 1301)
    start = utcnow() + timedelta(hours=3)
    async with kimbot.app.sessions() as session, session.begin():
        client = await session.scalar(select(Client).where(Client.telegram_id == 1301))
        anna = await session.scalar(select(Staff).where(Staff.telegram_id == ANNA))
        assert client is not None and anna is not None
        session.add(
            Appointment(
                client_id=client.id,
                staff_id=anna.id,
                service_key="kim-consultation",
                office_key="ki",
                starts_at=start,
                ends_at=start + timedelta(minutes=45),
                busy_from=start,
                busy_until=start + timedelta(minutes=60),
                status="booked",
            )
        )
        reference = client.reference
    emulator.add_user(ANNA, "Anna", language_code="de")
    refused = await kimbot.say(1301, "/agenda")
    assert refused["text"] == "This command is only for staff of the integration management."

    await kimbot.say(ANNA, "/agenda")
    card = emulator.last_bot_message(ANNA)
    assert reference in card["text"] and "Beratung im Case-Management" in card["text"]
    assert kimbot.app.i18n.gettext("not confirmed yet", locale="de") in card["text"]
    no_show = kimbot.app.i18n.gettext("No-show", locale="de")
    assert no_show in button_texts(card)
    callback_id = await emulator.press(ANNA, card, text=no_show)
    await emulator.wait_for(lambda: emulator.callback_answers.get(callback_id) is not None)
    await kimbot.settle(ANNA)  # the answer goes out before the update commits
    answer = emulator.callback_answers[callback_id]
    assert answer is not None and answer["text"].endswith("1")
    async with kimbot.app.sessions() as session:
        row = await session.scalar(select(Appointment))
        assert row is not None and row.status == "no_show"


async def test_staff_blocks_time_and_no_slots_are_offered_then(kimbot: Running, emulator: BotAPIEmulator) -> None:
    emulator.add_user(ANNA, "Anna", language_code="en")
    usage = await kimbot.say(ANNA, "/block tomorrow")
    # Staff are answered in their first language from the county file (German for Anna).
    assert usage["text"] == kimbot.app.i18n.gettext(
        "Usage: /block 2027-01-07 (whole day) or /block 2027-01-07 09:00-12:00 [reason]", locale="de"
    )
    day = (utcnow() + timedelta(days=7)).date()
    done = await kimbot.say(ANNA, f"/block {day.isoformat()} vacation")
    blocked = kimbot.app.i18n.gettext(
        "Blocked: {day}, {start} – {end}. No new appointments will be offered then.", locale="de"
    )
    assert done["text"].startswith(blocked.split("{day}")[0])
    async with kimbot.app.sessions() as session:
        from bot.services import availability

        service = kimbot.app.county.service("integration-point")
        assert service is not None
        query = await availability.query_for(
            session,
            kimbot.app.county,
            service,
            tz=kimbot.app.settings.tz,
            municipality="euskirchen",
            case_manager_id=None,
        )
        assert await availability.free_slots(session, query, day, 1) == []


async def test_staff_books_for_a_client_and_nothing_else_acts_for_that_client(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    """/bookfor: the booking flow in the case manager's chat acts on the client (the booking handlers' flag); the
    privacy menu in the middle of it still sees the case manager, never the client's data."""
    await onboard(kimbot, emulator, 1301)
    async with kimbot.app.sessions() as session:
        client = await session.scalar(select(Client).where(Client.telegram_id == 1301))
    assert client is not None
    emulator.add_user(ANNA, "Anna", language_code="en")  # Anna's first language in the county file is German
    services = await kimbot.say(ANNA, f"/bookfor {client.reference.lower()}")
    assert "Beratung im Case-Management" in button_texts(services)
    refused = await kimbot.say(ANNA, "/privacy")
    assert refused["text"] == kimbot.app.i18n.gettext("This chat is for clients. Staff commands: /help", locale="de")
    offices = await kimbot.tap(ANNA, services, "Beratung im Case-Management")
    days = await kimbot.tap(ANNA, offices, OFFICE)
    times = await kimbot.tap(ANNA, days, button_texts(days)[1])
    summary = await kimbot.tap(ANNA, times, button_texts(times)[0])
    confirm = next(text for text in button_texts(summary) if text.startswith("✅"))
    await kimbot.tap(ANNA, summary, confirm)
    async with kimbot.app.sessions() as session:
        booked = (await session.scalars(select(Appointment))).all()
    assert [(a.client_id, a.status) for a in booked] == [(client.id, "booked")]

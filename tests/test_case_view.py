"""`/case`: the case assembled from every capability (appointments to come and past with their outcome, documents,
status history, follow-ups, notes, reachability), paged so that every page fits a Telegram message, turned with
buttons, opened from the header card's "Case" button as well; and nothing of it reaches the client."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from aiogram.utils.i18n import I18n
from sqlalchemy import select

from bot.core.county import County
from bot.core.i18n import fmt_datetime
from bot.db.models import Client
from bot.emulator import BotAPIEmulator
from bot.services import booking, casework_notes, clients, documents, followups, office_hours, residence_status
from bot.services.booking import AppointmentDTO
from bot.services.case_view import CaseFile, split_appointments
from bot.services.casework_notes import NoteDTO
from bot.services.dto import ClientDTO
from bot.telegram.callbacks import CaseCb
from handlers.staff import case_views
from tests.support import (
    ANNA,
    APPOINTMENT,
    BERLIN,
    STAFF_GROUP,
    Running,
    book_appointment,
    button_texts,
    in_topic,
    onboard,
    staff_user,
    t,
    thread_of,
)
from tests.support.views import buttons

NOW = datetime(2027, 3, 22, 9, 0, tzinfo=UTC)  # a Monday, a week before APPOINTMENT
CLIENT = ClientDTO(7, 7007, "K-CASE7", "ti", "euskirchen", 1, True, NOW, NOW, NOW)


def _appointment(id_: int, starts: datetime, status: str, confirmed: bool = False) -> AppointmentDTO:
    return AppointmentDTO(
        id_, 7, 1, "kim-consultation", "ki", starts, starts + timedelta(hours=1), status, 0, confirmed, None, False
    )


def _case(**changes: object) -> CaseFile:
    base = CaseFile(CLIENT, "Euskirchen", None, None, False, (), (), (), (), (), (), 0)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_appointments_split_into_to_come_and_past_with_cancelled_ones_past() -> None:
    soon = _appointment(1, NOW + timedelta(days=2), "booked")
    later = _appointment(2, NOW + timedelta(days=9), "booked")
    cancelled = _appointment(3, NOW + timedelta(days=5), "cancelled")
    attended = _appointment(4, NOW - timedelta(days=30), "attended")
    missed = _appointment(5, NOW - timedelta(days=3), "booked")  # past, no outcome recorded
    coming, past = split_appointments([later, attended, cancelled, soon, missed], NOW)
    assert [a.id for a in coming] == [1, 2]
    assert [a.id for a in past] == [3, 5, 4]  # newest first


def test_pages_cover_every_section_long_notes_run_over_and_every_page_fits(
    german: I18n, example_county: County
) -> None:
    notes = tuple(NoteDTO(i, "Gespräch " + "x" * 900, "Anna Becker", NOW - timedelta(days=i)) for i in range(10))
    coming = (_appointment(1, NOW + timedelta(days=2), "booked", confirmed=True),)
    past = (_appointment(2, NOW - timedelta(days=3), "no_show"),)
    case = _case(notes=notes, note_count=14, upcoming=coming, past=past)
    pages = case_views.case_pages(case, example_county, "de", BERLIN, now=NOW)
    sections = [p.section for p in pages]
    assert sections[:5] == ["overview", "status", "appointments", "documents", "followups"]
    assert sections[5:] == ["notes"] * (len(pages) - 5) and len(pages) > 6
    assert all(len(case_views.page_text(case, pages, i)) <= 4096 for i in range(len(pages)))
    shown = "".join(p.body for p in pages if p.section == "notes")
    assert shown.count("Gespräch") == 10  # every note once, newest first
    assert german.gettext("Older notes are in the client's data export.") in shown  # 14 notes, 10 shown
    appointments = next(p.body for p in pages if p.section == "appointments")
    assert german.gettext("did not come") in appointments and german.gettext("confirmed by the client") in appointments


def test_the_keyboard_turns_pages_and_jumps_to_sections(german: I18n, example_county: County) -> None:
    case = _case()
    pages = case_views.case_pages(case, example_county, "de", BERLIN, now=NOW)
    first = buttons(case_views.page_keyboard(7, pages, 0))
    assert first[0] == ("▶", CaseCb(client=7, page=1).pack())
    assert ("• " + german.gettext("Overview"), CaseCb(client=7, page=0).pack()) in first
    last = buttons(case_views.page_keyboard(7, pages, len(pages) - 1))
    assert last[0] == ("◀", CaseCb(client=7, page=len(pages) - 2).pack()) and "▶" not in [b[0] for b in last]


# ---------------------------------------------------------------------- end to end


async def test_case_shows_the_whole_case_pages_and_the_header_button(
    kimbot: Running, emulator: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: NOW)
    staff_user(emulator, ANNA)
    await onboard(kimbot, emulator, 9501, language="ti")
    await book_appointment(kimbot, 9501)
    async with kimbot.app.sessions() as session, session.begin():
        client = await session.scalar(select(Client).where(Client.telegram_id == 9501))
        assert client is not None
        staff_id = (await booking.upcoming(session, client.id))[0].staff_id  # Anna, who has the appointment
        await documents.add(
            session, client_id=client.id, doc_type="duldung", expires_on=date(2027, 4, 30), tz=BERLIN, now=NOW
        )
        await casework_notes.add(session, client.id, staff_id, "Spoke with the Jobcenter")
        await followups.create(
            session, client_id=client.id, owner_id=staff_id, text="ask for the school certificate", due_at=NOW
        )
        await residence_status.record_change(
            session,
            await clients.get(session, client.id),
            status="duldung",
            paragraph=None,
            since=date(2026, 5, 1),
            staff_id=staff_id,
            tz=BERLIN,
            today=NOW.date(),
        )
    await emulator.send_message(9501, "ሰላም")
    thread = await thread_of(kimbot, 9501)
    await in_topic(emulator, thread, lambda m: m.get("text") == "ሰላም")
    await kimbot.settle(STAFF_GROUP)
    seen_by_client = len(emulator.bot_messages(9501))

    case = await kimbot.say(ANNA, "/case", chat_id=STAFF_GROUP, thread_id=thread)
    assert case["message_thread_id"] == thread and client.reference in case["text"]
    overview = case["text"]
    assert "ትግርኛ" in overview and "Euskirchen" in overview and "Duldung" in overview
    assert fmt_datetime(APPOINTMENT, "de", BERLIN) in overview  # the next appointment
    pages = await kimbot.tap(ANNA, case, "▶", edits=True)
    assert "Duldung" in pages["text"] and "01.05.2026" in pages["text"]
    appointments = await kimbot.tap(ANNA, pages, t(kimbot, "Appointments"), edits=True)
    assert (
        fmt_datetime(APPOINTMENT, "de", BERLIN) in appointments["text"]
        and t(kimbot, "not confirmed yet") in appointments["text"]
    )
    docs = await kimbot.tap(ANNA, appointments, t(kimbot, "Documents"), edits=True)
    assert "30.04.2027" in docs["text"] and "⚠️" in docs["text"]
    tasks = await kimbot.tap(ANNA, docs, t(kimbot, "Follow-ups"), edits=True)
    assert "ask for the school certificate" in tasks["text"]
    notes = await kimbot.tap(ANNA, tasks, t(kimbot, "Notes"), edits=True)
    assert "Spoke with the Jobcenter" in notes["text"]

    # The header card's button posts the case into the topic; the card itself stays.
    header = emulator.topic_messages(STAFF_GROUP, thread)[0]
    assert t(kimbot, "📋 Case") in button_texts(header)
    before = header["text"]
    from_card = await kimbot.tap(ANNA, header, t(kimbot, "📋 Case"))
    assert from_card["message_thread_id"] == thread and client.reference in from_card["text"]
    assert emulator.messages[(STAFF_GROUP, header["message_id"])]["text"] == before

    # A forged button for another client does not show that client's case in this topic.
    forged = await emulator.press(ANNA, case, data=CaseCb(client=client.id + 1, page=0).pack(), forge=True)
    await emulator.wait_for(lambda: emulator.callback_answers.get(forged) is not None)
    assert emulator.callback_answers[forged]["show_alert"]  # type: ignore[index]
    await kimbot.settle(STAFF_GROUP)
    assert len(emulator.bot_messages(9501)) == seen_by_client  # the client saw none of it

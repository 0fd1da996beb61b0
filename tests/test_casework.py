"""Case notes and the residence status: the rules without a bot (codes, paragraphs, dates, the report's detail,
the buttons' data within Telegram's 64 bytes), and end to end in a client's topic: `/note` is stored with its
author and time, `/status` records each change with its date and counts it for the report, the history shows in
`/case` and in the client's export, and the client's erasure takes it all away. The client is told nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from aiogram.utils.i18n import I18n
from sqlalchemy import func, select

from bot.db.models import Client
from bot.db.models_casework import CaseNote, StatusChange
from bot.db.models_reporting import ReportEvent
from bot.emulator import BotAPIEmulator
from bot.services import casework_notes, office_hours, privacy, residence_status
from bot.services.residence_status import InvalidStatus, StatusEntry
from bot.telegram.callbacks import INT32_MAX, StatusCb
from handlers.staff import casework_views as views
from tests.support import (
    ANNA,
    STAFF_GROUP,
    YUSUF,
    Running,
    button_texts,
    in_topic,
    onboard,
    staff_user,
    t,
    thread_of,
)
from tests.support.views import buttons

TUESDAY_MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 10:00 in Euskirchen
TODAY = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def office_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: TUESDAY_MORNING)


# ---------------------------------------------------------------------- rules


def test_statuses_paragraphs_and_dates_are_checked() -> None:
    residence_status.validate("duldung", None, TODAY, TODAY)
    residence_status.validate("aufenthaltserlaubnis", "25b", date(2026, 1, 5), TODAY)
    for status, paragraph, since in (
        ("asylum", None, TODAY),  # no such code
        ("duldung", "25b", TODAY),  # a paragraph only for an Aufenthaltserlaubnis
        ("aufenthaltserlaubnis", "99", TODAY),
        ("duldung", None, date(2026, 12, 2)),  # in the future
    ):
        with pytest.raises(InvalidStatus):
            residence_status.validate(status, paragraph, since, TODAY)


def test_the_reports_detail_names_codes_from_and_to() -> None:
    now = TUESDAY_MORNING
    assert residence_status.report_detail(None, "duldung", None) == "none->duldung"
    before = StatusEntry("duldung", None, TODAY, "Anna", now)
    assert residence_status.report_detail(before, "aufenthaltserlaubnis", "25b") == "duldung->aufenthaltserlaubnis_25b"
    after = StatusEntry("aufenthaltserlaubnis", "25-5", TODAY, "Anna", now)
    assert residence_status.report_detail(after, "niederlassungserlaubnis", None) == (
        "aufenthaltserlaubnis_25-5->niederlassungserlaubnis"
    )


def test_a_note_is_stripped_bounded_and_not_empty() -> None:
    assert casework_notes.clean("  called the ABH  ") == "called the ABH"
    assert len(casework_notes.clean("x" * 5000)) == casework_notes.MAX_NOTE_CHARS
    for empty in (None, "", "   "):
        with pytest.raises(casework_notes.EmptyNote):
            casework_notes.clean(empty)


def test_every_status_button_fits_telegrams_64_bytes(german: I18n) -> None:
    day = date(2027, 12, 31)
    data = [d for _, d in buttons(views.status_keyboard(INT32_MAX, day))]
    data += [d for _, d in buttons(views.paragraph_keyboard(INT32_MAX, day))]
    assert len(data) == len(residence_status.STATUSES) + len(residence_status.PARAGRAPHS)
    assert all(d is not None and len(d.encode()) <= 64 for d in data), max(data, key=lambda d: len(d or ""))
    parsed = StatusCb.unpack(str(data[-2]))
    assert (parsed.code, parsed.para, parsed.day) == ("aufenthaltserlaubnis", "36", "20271231")


def test_paragraph_labels(german: I18n) -> None:
    assert [views.paragraph_label(p) for p in ("16a", "25-5", "25b")] == ["§ 16a", "§ 25 (5)", "§ 25b"]
    assert "§ 25 (1)" in views.status_text("aufenthaltserlaubnis", "25-1")


# ---------------------------------------------------------------------- in the topic


async def _topic(kimbot: Running, emulator: BotAPIEmulator, telegram_id: int, language: str) -> int:
    await onboard(kimbot, emulator, telegram_id, language=language)
    await emulator.send_message(telegram_id, "Hallo")
    thread = await thread_of(kimbot, telegram_id)
    await in_topic(emulator, thread, lambda m: m.get("text") == "Hallo")
    await kimbot.settle(STAFF_GROUP)
    return thread


async def _client_id(kimbot: Running, telegram_id: int) -> int:
    async with kimbot.app.sessions() as session:
        found = await session.scalar(select(Client.id).where(Client.telegram_id == telegram_id))
    assert found is not None
    return int(found)


async def test_a_note_is_stored_with_author_and_time_and_never_reaches_the_client(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    staff_user(emulator, ANNA)
    thread = await _topic(kimbot, emulator, 9401, "fa")
    seen_by_client = len(emulator.bot_messages(9401))

    saved = await kimbot.say(
        ANNA, "/note Called the immigration office <ABH>; appointment follows", chat_id=STAFF_GROUP, thread_id=thread
    )
    assert saved["message_thread_id"] == thread and "/case" in saved["text"]
    await emulator.send_message(ANNA, "! just a remark between colleagues", chat_id=STAFF_GROUP, thread_id=thread)
    await kimbot.settle(STAFF_GROUP)
    usage = await kimbot.say(ANNA, "/note", chat_id=STAFF_GROUP, thread_id=thread)
    assert usage["text"] == t(
        kimbot, "Write the note after the command: /note called the immigration office, appointment follows"
    )

    async with kimbot.app.sessions() as session:
        notes = (await session.scalars(select(CaseNote))).all()
    assert [(n.text, n.client_id) for n in notes] == [
        ("Called the immigration office <ABH>; appointment follows", await _client_id(kimbot, 9401))
    ]
    assert notes[0].staff_id is not None and notes[0].created_at is not None
    assert len(emulator.bot_messages(9401)) == seen_by_client

    case = await kimbot.say(ANNA, "/case", chat_id=STAFF_GROUP, thread_id=thread)
    notes_page = await kimbot.tap(ANNA, case, t(kimbot, "Notes"), edits=True)
    assert "Called the immigration office &lt;ABH&gt;" not in notes_page["text"]  # shown as text, escaped once
    assert "Called the immigration office <ABH>; appointment follows" in notes_page["text"]
    assert "Anna Becker" in notes_page["text"]


async def test_status_history_is_recorded_shown_in_case_exported_and_erased(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    staff_user(emulator, ANNA)
    staff_user(emulator, YUSUF)
    thread = await _topic(kimbot, emulator, 9402, "ar")
    client_id = await _client_id(kimbot, 9402)
    seen_by_client = len(emulator.bot_messages(9402))

    # A Duldung since 1 June, typed after the command.
    question = await kimbot.say(ANNA, "/status 01.06.2026", chat_id=STAFF_GROUP, thread_id=thread)
    assert t(kimbot, "Duldung (toleration)") in button_texts(question)
    recorded = await kimbot.tap(ANNA, question, t(kimbot, "Duldung (toleration)"), edits=True)
    assert "01.06.2026" in recorded["text"] and not recorded.get("reply_markup")

    # Today an Aufenthaltserlaubnis under § 25b: the paragraph is asked next.
    question = await kimbot.say(YUSUF, "/status", chat_id=STAFF_GROUP, thread_id=thread)
    paragraphs = await kimbot.tap(YUSUF, question, t(kimbot, "Aufenthaltserlaubnis (residence permit)"), edits=True)
    assert "§ 25b" in button_texts(paragraphs) and "§ 25 (5)" in button_texts(paragraphs)
    recorded = await kimbot.tap(YUSUF, paragraphs, "§ 25b", edits=True)
    assert "§ 25b" in recorded["text"] and "01.12.2026" in recorded["text"] and "Yusuf Demir" in recorded["text"]

    # A date in the future is refused; so is a forged tap for another client in this topic.
    refused = await kimbot.say(ANNA, "/status 24.12.2026", chat_id=STAFF_GROUP, thread_id=thread)
    assert refused["text"] == t(kimbot, "This status cannot be recorded (a date in the future?). Try /status again.")
    question = await kimbot.say(ANNA, "/status", chat_id=STAFF_GROUP, thread_id=thread)
    forged = await emulator.press(
        ANNA, question, data=StatusCb(client=client_id + 1, code="duldung").pack(), forge=True
    )
    await emulator.wait_for(lambda: emulator.callback_answers.get(forged) is not None)
    await kimbot.settle(STAFF_GROUP)

    async with kimbot.app.sessions() as session:
        rows = (await session.execute(select(StatusChange.status, StatusChange.paragraph, StatusChange.since))).all()
        details = (await session.scalars(select(ReportEvent.detail).where(ReportEvent.event == "status_change"))).all()
    assert [tuple(r) for r in rows] == [("duldung", None, date(2026, 6, 1)), ("aufenthaltserlaubnis", "25b", TODAY)]
    assert sorted(details) == ["duldung->aufenthaltserlaubnis_25b", "none->duldung"]

    case = await kimbot.say(ANNA, "/case", chat_id=STAFF_GROUP, thread_id=thread)
    assert "§ 25b" in case["text"]  # the overview names the current status
    history = await kimbot.tap(ANNA, case, t(kimbot, "Residence status"), edits=True)
    lines = history["text"].splitlines()
    assert [i for i, line in enumerate(lines) if "§ 25b" in line] < [
        i for i, line in enumerate(lines) if "Duldung" in line
    ]
    assert "01.06.2026" in history["text"] and "Anna Becker" in history["text"]
    assert len(emulator.bot_messages(9402)) == seen_by_client  # nothing of it went to the client

    notice = await kimbot.say(9402, "/privacy")
    sent = await kimbot.tap(9402, notice, t(kimbot, "Send me my data", "ar"))
    export = json.loads(emulator.file_content(sent["document"]["file_id"]))
    statuses = export["case_file"]["residence_status"]
    assert [(s["status"], s["paragraph"], s["since"]) for s in statuses] == [
        ("duldung", None, "2026-06-01"),
        ("aufenthaltserlaubnis", "25b", "2026-12-01"),
    ]
    assert statuses[1]["by"] == "Yusuf Demir"

    async with kimbot.app.sessions() as session, session.begin():
        await privacy.erase(session, client_id)
    async with kimbot.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StatusChange)) == 0
        assert await session.scalar(select(func.count()).select_from(CaseNote)) == 0
        # The report keeps its anonymous counts.
        kept = select(func.count()).select_from(ReportEvent).where(ReportEvent.event == "status_change")
        assert await session.scalar(kept) == 2

"""/report end to end, over HTTP against the emulator: an admin picks a period and gets the summary, at least
three PNG charts and a workbook that openpyxl reads back with the same numbers, then the CSV files on request;
a long build shows a progress message; a staff member who is not an admin and a client are refused."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, time
from typing import Any

from openpyxl import load_workbook

from bot.db.base import utcnow
from bot.emulator import BotAPIEmulator
from bot.jobs.reporting import ReportJobs, today_in_zone
from bot.services.reporting import events, periods
from bot.services.reporting.events import REPORT_ZONE
from bot.services.reporting.labels import month_name
from bot.services.reporting.workbook import HEADER_ROW, sheet_name
from bot.telegram.callbacks import ReportCb
from tests.support import ADMIN, ANNA, STAFF_GROUP, Running, onboard

PNG = b"\x89PNG\r\n\x1a\n"


def report_jobs(kimbot: Running) -> ReportJobs:
    found = kimbot.app.dispatcher["report_jobs"]
    assert isinstance(found, ReportJobs)
    return found


async def seed_last_month(kimbot: Running) -> periods.Period:
    """Counted events in the month before this one: 12 new clients (9 Arabic, 3 Ukrainian), appointments."""
    period = periods.previous_month(today_in_zone())
    when = datetime.combine(periods.first_day(period.first), time(12, 0), tzinfo=REPORT_ZONE)
    async with kimbot.app.sessions() as session, session.begin():
        for language, n in (("ar", 9), ("uk", 3)):
            await events.record(session, "new_client", when=when, language=language, amount=n)
            await events.record(session, "active_case", when=when, language=language, municipality="kall", amount=n)
        await events.record(session, "booking", when=when, service="kim-consultation", detail="client", amount=20)
        await events.record(session, "appointment", when=when, service="kim-consultation", detail="attended", amount=15)
        await events.record(session, "appointment", when=when, service="kim-consultation", detail="no_show", amount=5)
        await events.record(session, "status_change", when=when, detail="duldung->niederlassungserlaubnis", amount=6)
    return period


def files_in(emulator: BotAPIEmulator, chat_id: int, after: int) -> tuple[list[bytes], list[dict[str, Any]]]:
    messages = [m for m in emulator.bot_messages(chat_id) if m["message_id"] > after]
    photos = [emulator.file_content(m["photo"][-1]["file_id"]) for m in messages if "photo" in m]
    documents = [m for m in messages if "document" in m]
    return photos, documents


async def test_an_admin_gets_charts_and_a_workbook_with_the_same_numbers(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    emulator.add_user(ADMIN, "Büro", language_code="de")
    period = await seed_last_month(kimbot)
    choice = await kimbot.say(ADMIN, "/report")
    assert choice["text"].startswith("Welcher Zeitraum?")
    before = emulator.last_message_id(ADMIN)
    answer = await kimbot.tap(ADMIN, choice, "Letzter Monat")
    assert answer["text"] == f"Der Bericht für {month_name(period.first)} wird erstellt."
    await report_jobs(kimbot).wait()

    summary = next(m for m in emulator.bot_messages(ADMIN) if "KIM-Programmbericht" in m.get("text", ""))
    assert f"KIM-Programmbericht – {month_name(period.first)}" in summary["text"]
    assert "Neue Klientinnen und Klienten: 12" in summary["text"]
    assert "Nicht erschienen: 5" in summary["text"]
    photos, documents = files_in(emulator, ADMIN, before)
    assert len(photos) >= 3 and all(p.startswith(PNG) for p in photos)
    assert [d["document"]["file_name"] for d in documents] == [f"kim-bericht-{period.key}.xlsx"]

    expected = await report_jobs(kimbot).build(period, with_charts=False)
    book = load_workbook(io.BytesIO(emulator.file_content(documents[0]["document"]["file_id"])))
    assert book.sheetnames == [sheet_name(s) for s in expected.sheets]
    for sheet in expected.sheets:
        ws = book[sheet_name(sheet)]
        assert [c.value for c in ws[HEADER_ROW]] == [c.header for c in sheet.columns]
        read = [[cell.value for cell in row] for row in ws.iter_rows(min_row=HEADER_ROW + 1)]
        assert read == sheet.rows, sheet.key
    languages = book[sheet_name(expected.sheets[1])]
    rows = {r[0]: r[1:] for r in languages.iter_rows(min_row=HEADER_ROW + 1, values_only=True)}
    # Ukrainian (3) is hidden; with the total shown, Arabic (12 − 3) would give it away, so it is hidden as well.
    assert rows["Ukrainisch"][:2] == ("< 5", "< 5") and rows["Arabisch"][:2] == ("·", "·")
    assert isinstance(rows["Gesamt"][0], int) and rows["Gesamt"][0] == 12  # numbers as numbers

    # The CSV files on request, from the button under the workbook.
    before = emulator.last_message_id(ADMIN)
    await emulator.press(ADMIN, documents[0], text="CSV-Dateien")
    await kimbot.handled.wait()
    await report_jobs(kimbot).wait()
    _, archives = files_in(emulator, ADMIN, before)
    assert [a["document"]["file_name"] for a in archives] == [f"kim-bericht-{period.key}-csv.zip"]
    with zipfile.ZipFile(io.BytesIO(emulator.file_content(archives[0]["document"]["file_id"]))) as archive:
        assert sorted(archive.namelist()) == sorted(f"kim-bericht-{period.key}-{s.key}.csv" for s in expected.sheets)
        text = archive.read(f"kim-bericht-{period.key}-overview.csv").decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert table[0] == ["Kennzahl", "Anzahl", "Wert"] and ["Neue Klientinnen und Klienten", "12", ""] in table


async def test_a_slow_report_shows_a_progress_message_first(kimbot: Running, emulator: BotAPIEmulator) -> None:
    emulator.add_user(ADMIN, "Büro", language_code="de")
    jobs = report_jobs(kimbot)
    jobs.progress_after = 0.0
    await seed_last_month(kimbot)
    month = events.month_of(utcnow())
    await kimbot.say(ADMIN, f"/report {month}")
    await jobs.wait()
    progress = [
        c for c in emulator.sent(ADMIN, "sendMessage") if "das dauert einen Moment" in str(c.params.get("text"))
    ]
    assert len(progress) == 1
    assert any(c.method == "deletemessage" for c in emulator.calls)  # gone once the report is there
    photos, documents = files_in(emulator, ADMIN, 0)
    assert len(photos) >= 3 and len(documents) == 1


async def test_only_admins_get_the_report(kimbot: Running, emulator: BotAPIEmulator) -> None:
    emulator.add_user(ANNA, "Anna", language_code="de")
    emulator.add_user(ADMIN, "Büro", language_code="de")
    refusal = await kimbot.say(ANNA, "/report")
    assert refusal["text"] == "Nur Administratorinnen und Administratoren können den Programmbericht abrufen."
    forged = ReportCb(action="make", first="2026-01", last="2026-01", kind="month").pack()
    callback_id = await emulator.press(ANNA, refusal, data=forged, forge=True)
    await emulator.wait_for(lambda: emulator.callback_answers.get(callback_id) is not None)
    answer = emulator.callback_answers[callback_id]
    assert answer is not None and "Nur Administratorinnen" in answer["text"]
    await onboard(kimbot, emulator, 8201, language="tr")
    client = await kimbot.say(8201, "/report")
    assert client["text"] == kimbot.app.i18n.gettext(
        "This command is only for staff of the integration management.", locale="tr"
    )
    group = await kimbot.say(ADMIN, "/report", chat_id=STAFF_GROUP)
    assert group["text"] == kimbot.app.i18n.gettext("Please use a private chat with me for this command.", locale="de")
    wrong = await kimbot.say(ADMIN, "/report 2026-13")
    assert wrong["text"].startswith("Unbekannter Zeitraum.")
    await report_jobs(kimbot).wait()
    assert not [m for m in emulator.bot_messages(ANNA) if "photo" in m or "document" in m]
    assert not [m for m in emulator.bot_messages(8201) if "photo" in m or "document" in m]

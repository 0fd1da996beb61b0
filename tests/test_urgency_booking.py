"""Issue #23, urgency by expiry end to end, at the immigration office (Ausländerbehörde; Olena, 08:00–12:00 and on
Thursdays also 14:00–17:30, 30-minute slots): of two waitlisted clients the one whose residence title expires
sooner gets the freed slot although they joined later; a client without an expiring document is not shown the
reserved times (a quarter of each day's slots: 09:30 and 11:30, on Thursdays also 15:30) and cannot book one with
a forged button, a client whose Duldung expires within 30 days sees and books them, and once a day is within the
release period everyone sees all its times.

The county file is the example with `urgent_release_days = 7` (instead of 2), so that a released day exists
whatever weekday the test runs on; the expected times are written out here, not computed by kimbot's code."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.config import Settings
from bot.core.county import example_county_path
from bot.core.county_text import BUTTON
from bot.core.i18n import source_catalog_dir
from bot.db.base import utcnow
from bot.db.models import Client
from bot.db.models_booking import Appointment, WaitlistEntry
from bot.emulator import BotAPIEmulator
from bot.telegram.callbacks import DayCb, SlotCb
from tests.support import BERLIN, Running, button_texts, onboard

RELEASE_DAYS = 7
THURSDAY = 3
RESERVED = {"09:30", "11:30"}  # the 4th and the 8th of the morning's 8 slots
RESERVED_THURSDAY = RESERVED | {"15:30"}  # and the 4th of the afternoon's 7 (12th of 15)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    folder = tmp_path / "kreis"
    folder.mkdir()
    text = example_county_path().read_text(encoding="utf-8")
    assert "urgent_release_days = 2\n" in text
    (folder / "county.toml").write_text(
        text.replace("urgent_release_days = 2\n", f"urgent_release_days = {RELEASE_DAYS}\n")
    )
    for po in source_catalog_dir().glob("*/LC_MESSAGES/county.po"):  # the example's county catalogs, as its own
        target = folder / "locales" / po.relative_to(source_catalog_dir())
        target.parent.mkdir(parents=True)
        shutil.copyfile(po, target)
    return settings.model_copy(update={"county_file": folder / "county.toml"})


def _service_button(kimbot: Running) -> str:
    service = kimbot.app.county.service("residence-extension")
    assert service is not None
    return kimbot.app.county_texts.text(service.name, "en", context=BUTTON)


async def _add_document(kimbot: Running, user: int, kind: str, expires: date) -> None:
    menu = kimbot.emu.last_bot_message(user)
    listing = await kimbot.tap(user, menu, "My documents")
    types = await kimbot.tap(user, listing, "Add a document")
    await kimbot.tap(user, types, kind)
    await kimbot.say(user, expires.strftime("%d.%m.%Y"))
    assert [m for m in kimbot.emu.bot_messages(user) if m["text"].startswith("Saved:")]


async def _days(kimbot: Running, user: int) -> dict[str, Any]:
    services = await kimbot.say(user, "/book")
    days = await kimbot.tap(user, services, _service_button(kimbot))
    assert days["text"] == "Which day suits you?", days["text"]
    return days


def _data(message: dict[str, Any]) -> list[str]:
    return [b.get("callback_data", "") for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def _times_on(kimbot: Running, user: int, day: date) -> tuple[dict[str, Any], dict[str, datetime]]:
    """Page through the offered days to `day`, tap it; the times shown, by local "HH:MM"."""
    page = await _days(kimbot, user)
    wanted = DayCb(day=day.strftime("%Y%m%d")).pack()
    while wanted not in _data(page):
        later = [b for b in button_texts(page) if b == "Later days »"]
        assert later, f"{day} is not offered"
        page = await kimbot.tap(user, page, later[0])
    text = next(b["text"] for r in page["reply_markup"]["inline_keyboard"] for b in r if b["callback_data"] == wanted)
    times = await kimbot.tap(user, page, text)
    slots = [SlotCb.unpack(d) for d in _data(times) if d.startswith("bt:")]
    shown = {
        datetime.fromtimestamp(s.ts, UTC).astimezone(BERLIN).strftime("%H:%M"): datetime.fromtimestamp(s.ts, UTC)
        for s in slots
    }
    return times, shown


def _all_times(day: date) -> set[str]:
    morning = {f"{8 + i // 2:02d}:{30 * (i % 2):02d}" for i in range(8)}
    afternoon = {f"{14 + i // 2:02d}:{30 * (i % 2):02d}" for i in range(7)}
    return morning | afternoon if day.weekday() == THURSDAY else morning


async def test_the_waitlist_serves_the_earliest_expiry_first(kimbot: Running, emulator: BotAPIEmulator) -> None:
    today = utcnow().astimezone(BERLIN).date()
    for user in (2401, 2402, 2403):
        await onboard(kimbot, emulator, user)
    await _add_document(kimbot, 2402, "Aufenthaltstitel (residence title)", today + timedelta(days=150))
    await _add_document(kimbot, 2403, "Aufenthaltstitel (residence title)", today + timedelta(days=10))

    # 2401 books the first time (08:00, an ordinary one) of the third day offered.
    days = await _days(kimbot, 2401)
    times = await kimbot.tap(2401, days, button_texts(days)[2])
    summary = await kimbot.tap(2401, times, button_texts(times)[0])
    await kimbot.tap(2401, summary, "✅ Confirm")
    # 2402 joins the waitlist first, 2403 a minute later (waiting time alone would favour 2402).
    for user in (2402, 2403):
        days = await _days(kimbot, user)
        joined = await kimbot.tap(user, days, "None suits me – put me on the waitlist")
        assert "waitlist" in joined["text"]
    async with kimbot.app.sessions() as session:
        entries = (await session.execute(select(Client.telegram_id, WaitlistEntry.created_at).join(Client))).all()
    joined_at = dict(entries)
    assert joined_at[2402] <= joined_at[2403]

    listing = await kimbot.say(2401, "/appointments")
    question = await kimbot.tap(2401, listing, "Cancel appointment")
    await kimbot.tap(2401, question, "Yes, cancel it")
    assert kimbot.app.worker is not None
    before = {user: emulator.last_message_id(user) for user in (2402, 2403)}
    await kimbot.app.worker.drain_once()
    offer = await emulator.wait_for_message(2403, after=before[2403], contains="has become free")
    assert button_texts(offer) == ["Yes, book it", "No, thanks"]
    assert not [m for m in emulator.bot_messages(2402) if m["message_id"] > before[2402]]
    async with kimbot.app.sessions() as session:
        held = await session.scalar(select(Appointment).where(Appointment.status == "held"))
        status = dict((await session.execute(select(Client.telegram_id, WaitlistEntry.status).join(Client))).all())
        urgent = await session.scalar(select(Client.id).where(Client.telegram_id == 2403))
    assert held is not None and held.client_id == urgent
    assert status == {2402: "waiting", 2403: "offered"}
    booked = await kimbot.tap(2403, offer, "Yes, book it")
    assert "booked" in booked["caption"]


async def test_reserved_times_only_for_urgent_clients_until_they_are_released(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    now = utcnow()
    today = now.astimezone(BERLIN).date()
    for user in (2411, 2412):
        await onboard(kimbot, emulator, user)
    await _add_document(kimbot, 2412, "Duldung (toleration)", today + timedelta(days=20))

    # A day beyond the release period (and in the booking horizon): 2411 misses exactly the reserved times.
    days = await _days(kimbot, 2411)
    offered: list[date] = []
    page = days
    while True:
        offered += [
            datetime.strptime(DayCb.unpack(d).day, "%Y%m%d").date()
            for d in _data(page)
            if d.startswith("bd:") and DayCb.unpack(d).day
        ]
        if "Later days »" not in button_texts(page):
            break
        page = await kimbot.tap(2411, page, "Later days »")
    far = next(d for d in offered if d > today + timedelta(days=RELEASE_DAYS + 1))
    reserved = RESERVED_THURSDAY if far.weekday() == THURSDAY else RESERVED
    ordinary_msg, ordinary = await _times_on(kimbot, 2411, far)
    _urgent_msg, urgent = await _times_on(kimbot, 2412, far)
    assert set(urgent) == _all_times(far)
    assert set(ordinary) == _all_times(far) - reserved

    # A forged button for a reserved time does not book it for 2411.
    taken = urgent[sorted(reserved)[0]]
    staff = SlotCb.unpack(next(d for d in _data(ordinary_msg) if d.startswith("bt:"))).staff
    before = emulator.last_message_id(2411)
    await emulator.press(2411, ordinary_msg, data=SlotCb(staff=staff, ts=int(taken.timestamp())).pack(), forge=True)
    answer = await emulator.wait_for_message(2411, after=before)
    await kimbot.settle(2411)
    assert answer["text"].startswith("Sorry, this time was just taken.")
    shown_again = {datetime.fromtimestamp(SlotCb.unpack(d).ts, UTC) for d in _data(answer) if d.startswith("bt:")}
    assert taken not in shown_again and len(shown_again) == len(ordinary)

    # 2412 books it.
    times, _shown = await _times_on(kimbot, 2412, far)
    button = next(
        b["text"] for r in times["reply_markup"]["inline_keyboard"] for b in r
        if b.get("callback_data") == SlotCb(staff=staff, ts=int(taken.timestamp())).pack()
    )  # fmt: skip
    summary = await kimbot.tap(2412, times, button)
    confirmed = await kimbot.tap(2412, summary, "✅ Confirm")
    assert "booked" in confirmed["caption"]
    async with kimbot.app.sessions() as session:
        rows = (await session.execute(select(Client.telegram_id, Appointment.starts_at).join(Client))).all()
    assert rows == [(2412, taken)]

    # The first day after today lies within the release period: 2411 sees all its times.
    near = next(d for d in offered if today < d)
    assert near <= today + timedelta(days=RELEASE_DAYS - 1)
    _msg, released = await _times_on(kimbot, 2411, near)
    assert set(released) == _all_times(near)

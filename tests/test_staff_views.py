"""The staff views (handlers/staff/views.py) and /block's argument parser, without a chat or a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from aiogram.utils.i18n import I18n

from bot.core.county import County
from bot.core.county_text import CountyTexts
from bot.services.booking import AgendaItem, AppointmentDTO
from bot.telegram.callbacks import AgendaCb
from handlers.staff import views
from handlers.staff.agenda import parse_block
from tests.support.constants import BERLIN


def appointment(**changes: object) -> AppointmentDTO:
    fields: dict[str, object] = {
        "id": 42,
        "client_id": 1,
        "staff_id": 7,
        "service_key": "residence-extension",
        "office_key": "ki",
        "starts_at": datetime(2027, 1, 7, 8, 30, tzinfo=UTC),  # 09:30 in Berlin
        "ends_at": datetime(2027, 1, 7, 9, 0, tzinfo=UTC),
        "status": "booked",
        "sequence": 0,
        "confirmed": False,
        "hold_expires_at": None,
        "has_home_address": False,
    }
    fields.update(changes)
    return AppointmentDTO(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "start", "end", "reason"),
    [
        ("2027-01-07", datetime(2027, 1, 7, 0, 0), datetime(2027, 1, 8, 0, 0), "blocked"),
        ("2027-01-07 9:00-12:00 Fortbildung", datetime(2027, 1, 7, 9, 0), datetime(2027, 1, 7, 12, 0), "Fortbildung"),
    ],
)
def test_block_parses_a_whole_day_or_a_time_range_in_the_office_zone(
    args: str, start: datetime, end: datetime, reason: str
) -> None:
    parsed = parse_block(args, BERLIN)
    assert parsed is not None
    assert parsed.day == date(2027, 1, 7)
    assert (parsed.start, parsed.end) == (start.replace(tzinfo=BERLIN), end.replace(tzinfo=BERLIN))
    assert parsed.reason == reason


@pytest.mark.parametrize("args", ["", "tomorrow", "2027-02-30", "2027-01-07 12:00-09:00", "2027-01-07 25:00-26:00"])
def test_block_refuses_what_is_not_a_day_or_a_forward_range(args: str) -> None:
    assert parse_block(args, BERLIN) is None


def test_agenda_entry_shows_time_in_the_office_zone_reference_service_and_status(
    german: I18n, example_county: County, county_texts: CountyTexts
) -> None:
    item = AgendaItem(appointment(confirmed=True), client_reference="K-4F7Q2", staff_name="Anna Becker")
    text = views.agenda_entry_text(item, example_county, "de", BERLIN, county_texts)
    assert "09:30" in text and "K-4F7Q2" in text
    assert "Aufenthaltstitel (Ausländerbehörde)" in text
    assert german.gettext("confirmed by the client") in text
    home = AgendaItem(appointment(office_key=None), client_reference="K-<b>", staff_name="Anna Becker")
    shown = views.agenda_entry_text(home, example_county, "de", BERLIN, county_texts)
    assert "Hausbesuch" in shown and "K-&lt;b&gt;" in shown


def test_agenda_keyboard_offers_the_address_only_for_home_visits(german: I18n) -> None:
    def buttons(appt: AppointmentDTO) -> list[tuple[str, str | None]]:
        return [(b.text, b.callback_data) for row in views.agenda_entry_keyboard(appt).inline_keyboard for b in row]

    office = buttons(appointment())
    assert office == [
        ("Erschienen", AgendaCb(action="attended", id=42).pack()),
        ("Nicht erschienen", AgendaCb(action="no_show", id=42).pack()),
    ]
    home = buttons(appointment(has_home_address=True))
    assert home[-1] == ("Adresse anzeigen", AgendaCb(action="address", id=42).pack())


def test_outcome_text_names_the_outcome_and_the_no_show_count(german: I18n) -> None:
    attended = views.outcome_text(appointment(status="attended"), 0)
    no_show = views.outcome_text(appointment(status="no_show"), 2)
    assert attended.startswith(german.gettext("Marked as attended."))
    assert no_show.startswith(german.gettext("Marked as no-show."))
    assert no_show.endswith(german.gettext("No-shows of this client: {count}").format(count=2))

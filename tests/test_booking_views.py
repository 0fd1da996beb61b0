"""The booking views (texts and keyboards, handlers/booking/views.py), the FSM draft of the booking conversation
and the appointment's calendar file, without a chat or a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar

from bot.core.county import County
from bot.core.county_text import BUTTON, CountyTexts
from bot.core.i18n import fmt_time
from bot.emulator.markup import html_to_text
from bot.services.availability import Slot
from bot.services.booking import AppointmentDTO, BookingDraft
from bot.telegram.callbacks import ApptCb, ConfirmCb, DayCb, OfficeCb, ReminderCb, SlotCb, WaitCb
from handlers.booking import views
from tests.support.constants import BERLIN
from tests.support.views import buttons

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Berlin


pytestmark = pytest.mark.usefixtures("english")


def slot(staff_id: int = 3, office_key: str | None = "ki", starts_at: datetime = START) -> Slot:
    end = starts_at + timedelta(minutes=45)
    return Slot(staff_id, office_key, starts_at, end, starts_at, end)


def appointment(office_key: str | None = "ki", service_key: str = "kim-consultation") -> AppointmentDTO:
    return AppointmentDTO(
        id=12,
        client_id=4,
        staff_id=3,
        service_key=service_key,
        office_key=office_key,
        starts_at=START,
        ends_at=START + timedelta(minutes=45),
        status="booked",
        sequence=2,
        confirmed=False,
        hold_expires_at=None,
        has_home_address=False,
    )


def test_services_text_lists_every_service_with_its_description(
    example_county: County, county_texts: CountyTexts
) -> None:
    text = views.services_text(example_county.services, "en", county_texts)
    assert text.startswith("Which appointment do you need?\n\n")
    assert "• <b>Case management consultation</b> – Your questions on residence" in text
    found = [t for t, _ in buttons(views.services_keyboard(example_county.services, "en", county_texts))]
    assert found[:2] == ["Case management consultation", "Ausländerbehörde: renew Aufenthaltstitel"]
    assert found == [county_texts.text(s.name, "en", context=BUTTON) for s in example_county.services]


def test_place_is_the_office_or_a_home_visit(example_county: County, county_texts: CountyTexts) -> None:
    assert html_to_text(views.place(example_county, "ki", "en", county_texts)) == (
        "Kommunales Integrationszentrum Kreis Euskirchen (the county's integration centre), "
        "Jülicher Ring 32, 53879 Euskirchen\nCounty building (Kreishaus), entrance A, 2nd floor"
    )
    assert views.place(example_county, "ip", "de", county_texts) == (
        "Jobcenter EU-aktiv – Integration Point (Jobcenter: Arbeit, Ausbildung und Leistungen für Geflüchtete), "
        "Kessenicher Straße 39, 53879 Euskirchen"
    )
    assert views.place(example_county, None, "en", county_texts) == "Home visit at your address"
    assert views.place(example_county, "gone", "en", county_texts) == "Home visit at your address"


def test_offices_keyboard_skips_unknown_offices(example_county: County) -> None:
    found = buttons(views.offices_keyboard(example_county, ["ki", "gone", "drk"]))
    assert [data for _, data in found] == [OfficeCb(key="ki").pack(), OfficeCb(key="drk").pack()]


def test_days_keyboard_pages_and_always_offers_the_waitlist() -> None:
    days = [date(2027, 3, 1), date(2027, 3, 2)]
    found = buttons(views.days_keyboard(days, "kim-consultation", more=True, locale="en"))
    assert found[0] == ("Monday, 1 March", DayCb(day="20270301").pack())
    assert found[2] == ("Later days »", DayCb(day="", after="20270302").pack())
    assert found[3] == ("None suits me – put me on the waitlist", WaitCb(key="kim-consultation").pack())
    nothing = buttons(views.days_keyboard([], "kim-consultation", more=True, locale="en"))
    assert [data for _, data in nothing] == [WaitCb(key="kim-consultation").pack()]


def test_times_keyboard_shows_a_time_once_and_a_way_back() -> None:
    later = START + timedelta(minutes=30)
    found = buttons(views.times_keyboard([slot(3), slot(5), slot(3, starts_at=later)], "en", BERLIN))
    assert found == [
        (fmt_time(START, "en", BERLIN), SlotCb(staff=3, ts=int(START.timestamp())).pack()),
        (fmt_time(later, "en", BERLIN), SlotCb(staff=3, ts=int(later.timestamp())).pack()),
        ("« Other day", DayCb(day="", after="").pack()),
    ]
    assert views.times_text(date(2027, 3, 1), "en") == "Which time on Monday, 1 March?"
    assert views.times_text(date(2027, 3, 1), "en", intro="Sorry.") == "Sorry.\n\nWhich time on Monday, 1 March?"


def test_summary_shows_the_typed_address_for_a_home_visit(example_county: County, county_texts: CountyTexts) -> None:
    service = example_county.service("home-visit")
    assert service is not None
    note = "Bitte halten Sie Ihre Unterlagen bereit."
    args = (example_county, service, slot(office_key=None), "Markt 1 <b>", "en", BERLIN, county_texts)
    text = views.summary_text(*args, note)
    assert "Where: Home visit at: Markt 1 &lt;b&gt;" in text
    assert "Please have your documents ready." in text.splitlines()
    assert "Please bring" not in text  # a home visit names no documents in the example county
    office = example_county.service("kim-consultation")
    assert office is not None
    text = views.summary_text(example_county, office, slot(), "ignored", "en", BERLIN, county_texts)
    assert text.splitlines()[0] == "<b>Please check your appointment</b>"
    assert "Where: Kommunales Integrationszentrum" in text
    assert "Please bring: your residence document, passport, recent letters from authorities (Bescheide)" in text
    assert [data for _, data in buttons(views.summary_keyboard())] == [
        ConfirmCb(action=a).pack() for a in ("yes", "other", "stop")
    ]


def test_captions_say_booked_or_moved() -> None:
    assert views.booked_caption(START, False, "en", BERLIN).startswith("Your appointment is booked for ")
    assert views.booked_caption(START, True, "en", BERLIN).startswith("Your appointment has been moved to ")
    assert "attached file" in views.booked_caption(START, True, "en", BERLIN)
    assert "attached file" not in views.offer_booked_caption(START, "en", BERLIN)


def test_appointment_card_and_its_buttons(example_county: County, county_texts: CountyTexts) -> None:
    text = views.appointment_text(example_county, appointment(), "en", BERLIN, county_texts)
    assert text.splitlines()[0] == "<b>Case management consultation</b>"
    assert text.splitlines()[2].startswith("Kommunales Integrationszentrum")
    gone = views.appointment_text(example_county, appointment(service_key="gone"), "en", BERLIN, county_texts)
    assert gone.startswith("<b>gone</b>")
    assert [data for _, data in buttons(views.appointment_keyboard(12))] == [
        ApptCb(action="move", id=12).pack(),
        ApptCb(action="cancel", id=12).pack(),
    ]
    assert [data for _, data in buttons(views.cancel_keyboard(12))] == [
        ApptCb(action="cancel_yes", id=12).pack(),
        ApptCb(action="keep", id=12).pack(),
    ]


def test_reminder_keyboards() -> None:
    assert buttons(views.after_attendance_keyboard(12)) == [
        ("Cancel / reschedule", ReminderCb(action="change", appointment_id=12).pack())
    ]
    assert [text for text, _ in buttons(views.my_appointments_keyboard())] == ["My appointments"]


def test_calendar_file_updates_or_cancels_the_same_event(example_county: County, county_texts: CountyTexts) -> None:
    stamp = datetime(2027, 2, 1, tzinfo=UTC)
    booked = views.calendar_file(example_county, appointment(), "en", stamp, texts=county_texts)
    cancelled = views.calendar_file(example_county, appointment(), "en", stamp, cancelled=True, texts=county_texts)
    assert booked.filename == "appointment-12.ics"
    events = [next(iter(Calendar.from_ical(f.data).walk("VEVENT"))) for f in (booked, cancelled)]
    assert events[0]["UID"] == events[1]["UID"]
    assert str(events[0]["SUMMARY"]) == "Case management consultation"
    assert "Jülicher Ring 32" in str(events[0]["LOCATION"])
    assert str(events[0]["SEQUENCE"]) == "2"
    assert str(events[1]["STATUS"]) == "CANCELLED"


def test_draft_reads_the_fsm_data() -> None:
    assert BookingDraft.from_data({}) == BookingDraft()
    draft = BookingDraft.from_data(
        {"service": "home-visit", "office": None, "address": "Markt 1", "reschedule": "7", "staff": 3, "ts": 60}
    )
    assert (draft.service_key, draft.office_key, draft.address) == ("home-visit", None, "Markt 1")
    assert (draft.reschedule_id, draft.staff_id, draft.on_behalf) == (7, 3, None)
    assert draft.starts_at == datetime(1970, 1, 1, 0, 1, tzinfo=UTC)
    assert BookingDraft.from_data({"reschedule": None, "on_behalf": 5}).on_behalf == 5
    assert BookingDraft.from_data({"reschedule": None}).reschedule_id is None

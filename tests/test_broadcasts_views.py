"""The broadcast compose views (texts and keyboards, handlers/broadcasts/views.py) and the typed dates they rely
on (bot/services/dates.py), without a chat or a database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from aiogram.utils.i18n import I18n

from bot.core.county import County
from bot.core.i18n import SUPPORTED_LOCALES, native_name
from bot.services.broadcasts import BroadcastDTO, Plan, Segment
from bot.services.dates import parse_date, parse_range, parse_when
from bot.services.dto import StaffDTO
from bot.telegram.callbacks import AnnCb, BcCb
from handlers.broadcasts import views
from tests.support.constants import BERLIN
from tests.support.views import buttons

ANNA_DTO = StaffDTO(id=7, telegram_id=1, display_name="Anna", role="case_manager", languages=("de",), office_key="ki")


def plan(**by_locale: int) -> Plan:
    result = Plan(by_locale=Counter(by_locale))
    for lang, count in by_locale.items():
        result.recipients[lang] = [(i, i, lang) for i in range(count)]
    return result


def draft(**changes: object) -> BroadcastDTO:
    fields: dict[str, object] = {
        "id": 1,
        "author_staff_id": 7,
        "texts": {"de": "Hallo", "ar": "مرحبا"},
        "auto_languages": (),
        "fallback": "en_de",
        "segment": Segment(),
        "scheduled_at": None,
        "status": "draft",
        "excluded": {},
        "progress_chat_id": None,
        "progress_message_id": None,
        "progress_updated_at": None,
        "created_at": datetime(2026, 12, 1, tzinfo=UTC),
        "finished_at": None,
    }
    return BroadcastDTO(**(fields | changes))  # type: ignore[arg-type]


# ------------------------------------------------------------------ dates


def test_dates_in_both_spellings() -> None:
    assert parse_date("24.12.2026") == parse_date("2026-12-24") == parse_date("24.12.2026") == date(2026, 12, 24)
    assert parse_date("2026-1-5") == date(2026, 1, 5)
    with pytest.raises(ValueError):
        parse_date("31.02.2026")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01.12.2026 – 15.12.2026", (date(2026, 12, 1), date(2026, 12, 15))),
        ("2026-12-01 to 15.12.2026", (date(2026, 12, 1), date(2026, 12, 15))),
        ("1.12.2026-1.12.2026", (date(2026, 12, 1), date(2026, 12, 1))),
        ("15.12.2026 – 01.12.2026", None),  # backwards
        ("01.12.2026", None),
        ("01.12.2026 15.12.2026 20.12.2026", None),
        ("31.02.2026 – 15.03.2026", None),
        ("next week", None),
    ],
)
def test_date_ranges(text: str, expected: tuple[date, date] | None) -> None:
    assert parse_range(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24.12.2026 09:00", datetime(2026, 12, 24, 9, 0, tzinfo=BERLIN)),
        (" 2026-12-24T9.30 ", datetime(2026, 12, 24, 9, 30, tzinfo=BERLIN)),
        ("24.12.2026, 18:05", datetime(2026, 12, 24, 18, 5, tzinfo=BERLIN)),
        ("24.12.2026 25:00", None),
        ("24.12.2026", None),
        ("tomorrow 9:00", None),
    ],
)
def test_date_and_time_in_the_office_time_zone(text: str, expected: datetime | None) -> None:
    when = parse_when(text, BERLIN)
    assert when == expected
    if when is not None:
        assert when.tzinfo is BERLIN


# ------------------------------------------------------------------ views


def test_languages_keyboard_marks_texts_and_leaves_out_german(german: I18n) -> None:
    labels = buttons(views.languages_keyboard({"de": "Hallo", "ar": "مرحبا"}))
    assert (native_name("ar") + " ✓", BcCb(action="lang", v="ar").pack()) in labels
    assert (native_name("en"), BcCb(action="lang", v="en").pack()) in labels
    assert not any(data == BcCb(action="lang", v="de").pack() for _text, data in labels)
    assert labels[-2:] == [("Fertig", "bc:langs_done:"), ("Verwerfen", "bc:discard:")]
    assert len(labels) == len(SUPPORTED_LOCALES) - 1 + 2
    text = views.languages_text({"de": "Hallo", "ar": "مرحبا"})
    assert f"{native_name('de')}, {native_name('ar')}" in text


def test_segment_text_names_every_criterion(german: I18n, example_county: County) -> None:
    assert views.segment_text(Segment(), example_county, [], plan(de=3)).splitlines()[1:] == [
        "• alle Klientinnen und Klienten",
        "",
        "Empfängerinnen und Empfänger derzeit: 3",
    ]
    segment = Segment(
        languages=("ar",),
        municipalities=("dahlem",),
        offices=("ki",),
        case_managers=(7, 99),
        appointment_from=date(2026, 12, 1),
        appointment_to=date(2026, 12, 15),
        document_days=30,
    )
    text = views.segment_text(segment, example_county, [ANNA_DTO], plan(ar=1234))
    assert "alle Klientinnen" not in text
    for part in (native_name("ar"), "Dahlem", "Kommunales Integrationszentrum", "Anna, 99", "01.12.2026", "15.12.2026"):
        assert part in text
    assert text.endswith("1.234")  # numbers in the admin's locale


def test_pick_keyboard_marks_the_chosen_and_toggles(german: I18n, example_county: County) -> None:
    options = views.choices("cm", example_county, [ANNA_DTO])
    assert options == [("7", "Anna")]
    segment = Segment(case_managers=(7,))
    assert views.selected(segment, "cm") == {"7"}
    assert buttons(views.pick_keyboard("cm", options, views.selected(segment, "cm"))) == [
        ("✓ Anna", "bc:t_cm:7"),
        ("Zurück", "bc:seg:"),
    ]
    assert segment.toggled(views.CRITERIA["cm"], "7") == Segment()
    towns = views.choices("town", example_county, [])
    assert ("dahlem", "Dahlem") in towns
    assert Segment().toggled("municipalities", "dahlem") == Segment(municipalities=("dahlem",))
    assert [key for key, _label in views.choices("lang", example_county, [])] == list(SUPPORTED_LOCALES)


def test_segment_and_document_keyboards(german: I18n) -> None:
    actions = [data for _text, data in buttons(views.segment_keyboard())]
    assert actions == [
        "bc:pick:lang",
        "bc:pick:town",
        "bc:pick:office",
        "bc:pick:cm",
        "bc:appt:",
        "bc:doc:",
        "bc:seg_reset:",
        "bc:seg_done:",
    ]
    documents = buttons(views.document_keyboard())
    assert documents[-1] == (german.gettext("any document"), "bc:doc_type:")


def test_schedule_and_preview(german: I18n) -> None:
    text, markup = views.schedule_view("Europe/Berlin")
    assert "Europe/Berlin" in text and views.WHEN_EXAMPLE in text
    assert buttons(markup) == [(german.gettext("Now"), "bc:now:")]

    recipients = plan(ar=2, tr=1)
    assert views.preview_languages(recipients) == ["ar", "tr"]
    summary = views.preview_summary(draft(), recipients, BERLIN).splitlines()
    line = german.gettext("{number}. {language}: {count} recipients")
    assert summary[2] == line.format(number=1, language=native_name("ar"), count="2")
    assert summary[3].endswith(german.gettext("(English and German)"))
    scheduled = views.preview_summary(draft(scheduled_at=datetime(2026, 12, 24, 8, tzinfo=UTC)), recipients, BERLIN)
    assert "24. Dezember 2026, 09:00" in scheduled

    question, markup = views.preview_question(recipients)
    assert question == german.gettext("Send this broadcast?")
    assert buttons(markup)[0] == ("Senden an 3 Klientinnen und Klienten", "bc:confirm:")
    question, markup = views.preview_question(Plan())
    assert question == "Niemand erfüllt diese Kriterien."
    assert [data for _text, data in buttons(markup)] == ["bc:seg:", "bc:discard:"]


def test_fallback_and_announcements(german: I18n) -> None:
    assert [data for _text, data in buttons(views.fallback_keyboard())] == ["bc:fallback:en_de", "bc:fallback:skip"]
    assert native_name("tr") in views.missing_text(["tr"])
    text, markup = views.announcements_view(off=True)
    assert "<b>" in text and buttons(markup) == [("Mitteilungen einschalten", AnnCb(off=False).pack())]
    _text, markup = views.announcements_view(off=False)
    assert buttons(markup)[0][1] == AnnCb(off=True).pack()

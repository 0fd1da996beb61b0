"""The "My documents" views (texts, keyboards and the inline calendar, handlers/documents/views.py), without a chat
or a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.services.documents import DOCUMENT_TYPES, DocumentDTO, ExpiringDocument
from bot.telegram.callbacks import CalCb, DocCb, MenuCb
from handlers.documents import views
from tests.support.constants import BERLIN
from tests.support.views import buttons

PERMIT = DocumentDTO(id=5, client_id=1, doc_type="residence_permit", expires_on=date(2027, 3, 31))


pytestmark = pytest.mark.usefixtures("english")


def test_list_text_with_and_without_documents() -> None:
    empty = views.list_text([], "en")
    assert empty.startswith("<b>My documents</b>\nYou have not added any documents yet.")
    assert "never document numbers or photos" in empty
    assert "• Aufenthaltstitel (residence title): expires on " in views.list_text([PERMIT], "en")


def test_documents_keyboard_has_two_buttons_per_document() -> None:
    markup = views.documents_keyboard([PERMIT])
    assert [len(row) for row in markup.inline_keyboard] == [2, 1, 1]
    assert [data for _, data in buttons(markup)] == [
        DocCb(action="edit", id=5).pack(),
        DocCb(action="del", id=5).pack(),
        DocCb(action="add").pack(),
        MenuCb(action="home").pack(),
    ]


def test_types_keyboard_offers_every_type_and_back() -> None:
    found = buttons(views.types_keyboard())
    assert [data for _, data in found[:-1]] == [DocCb(action="type", t=t).pack() for t in DOCUMENT_TYPES]
    assert found[-1] == ("Back", DocCb(action="list").pack())


def test_delete_question_and_keyboard() -> None:
    assert views.delete_question(PERMIT, "en").startswith("Delete residence title (Aufenthaltstitel)? It expires on ")
    assert [data for _, data in buttons(views.delete_keyboard(5))] == [
        DocCb(action="del_yes", id=5).pack(),
        DocCb(action="list").pack(),
    ]


def test_calendar_blocks_past_days_and_earlier_months() -> None:
    today = date(2027, 3, 15)
    found = buttons(views.calendar_keyboard(2027, 3, today, "en"))
    assert found[0] == (" ", CalCb(action="noop", y=2027, m=3).pack())  # no way back before this month
    assert found[3] == ("›", CalCb(action="nav", y=2027, m=4).pack())
    assert found[4] == ("»", CalCb(action="nav", y=2028, m=3).pack())
    days = [text for text, data in found if data and data.startswith("dc:day:")]
    assert days == [str(d) for d in range(15, 32)]
    assert found[-1] == ("Cancel", DocCb(action="list").pack())
    later = buttons(views.calendar_keyboard(2028, 1, today, "en"))
    assert later[1] == ("‹", CalCb(action="nav", y=2027, m=12).pack())
    assert views.this_month(today, "en") == views.calendar_keyboard(2027, 3, today, "en")


def test_date_texts() -> None:
    assert "31.03.2027" in views.date_question("passport")
    assert "31.03.2027" in views.unreadable_date()
    assert views.invalid_date("in the past").startswith("This date is in the past.")
    assert views.invalid_date("too far").startswith("Please check the date")


def test_saved_text_lists_the_reminders_or_warns() -> None:
    due = datetime(2027, 1, 6, 8, 0, tzinfo=UTC)
    planned = views.saved_text(PERMIT, [due], "en", BERLIN)
    assert planned.splitlines()[1] == "I will remind you on:"
    assert planned.splitlines()[2].startswith("• ")
    assert "contact the immigration office" in views.saved_text(PERMIT, [], "en", BERLIN)


def test_expiring_text() -> None:
    assert views.expiring_text([], 90, "en") == "No documents of your clients expire in the next 90 days."
    item = ExpiringDocument(client_reference="K-ABC123", doc_type="duldung", expires_on=date(2027, 3, 31))
    text = views.expiring_text([item], 90, "en")
    assert text.splitlines()[0] == "<b>Documents expiring in the next 90 days</b>"
    assert text.splitlines()[1].endswith(" · K-ABC123 · Duldung")

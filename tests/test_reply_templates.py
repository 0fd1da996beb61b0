"""Saved replies (/t): which text a client gets and what fills it (bot/services/reply_templates.py), the views
(handlers/handoff/templates_views.py), and end to end in a client's topic: an Arabic and a Tigrinya client get the
approved translation with their appointment, office and case manager filled in; a template without an approved
translation goes out only after staff confirm, machine-translated and marked for both; without a translator
nothing is sent.

The example county's `county.po` translations of the templates are not written yet: the tests use a catalog of
their own (in memory for the rules, under a temporary directory for the running bot), translated for the tests
only."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from pydantic import ValidationError
from sqlalchemy import select

from bot.core.config import Settings
from bot.core.county import County, ReplyTemplate, example_county_path
from bot.core.county_text import CountyTexts
from bot.core.i18n import fmt_datetime, native_name
from bot.db.models import AuditEntry, Client
from bot.db.models_handoff import RelayMessage
from bot.emulator import BotAPIEmulator
from bot.services import office_hours, reply_templates
from bot.services.reply_templates import CaseFacts
from bot.services.translator import LibreTranslate
from bot.telegram.callbacks import TemplateCb
from handlers.handoff import templates_views
from tests.support import (
    ANNA,
    APPOINTMENT,
    BERLIN,
    STAFF_GROUP,
    FakeLibreTranslate,
    Running,
    book_appointment,
    button_texts,
    in_topic,
    onboard,
    staff_user,
    thread_of,
)
from tests.support.views import buttons

TERMIN_AR = (
    "تم تأكيد موعدك: {next_appointment}، {office}.\nيرجى الحضور في الموعد. إذا لم تتمكن من الحضور، يرجى إلغاء "
    "الموعد مسبقًا – هنا في المحادثة أو عبر الهاتف."
)
TERMIN_TI = (
    "ቆጸራኹም ተረጋጊጹ እዩ፡ {next_appointment}፣ {office}።\nበጃኹም ብሰዓቱ ምጹ። ክትመጹ እንተ ዘይክኢልኩም፡ ኣቐዲምኩም ነቲ ቆጸራ "
    "ሰርዝዎ – ኣብዚ ቻት ወይ ብተሌፎን።"
)
WHEN = datetime(2027, 3, 29, 8, 0, tzinfo=UTC)  # Monday 10:00 in Euskirchen (summer time)


def catalog(county: County) -> CountyTexts:
    termin = county.reply_template("termin")
    assert termin is not None
    return CountyTexts({"ar": {(None, termin.text): TERMIN_AR}, "ti": {(None, termin.text): TERMIN_TI}})


@pytest.fixture
def facts(example_county: County) -> CaseFacts:
    return CaseFacts(
        next_appointment=WHEN,
        office=example_county.office("ki"),
        documents="Aufenthaltsdokument, Pass, letzte Bescheide",
        case_manager="Anna Becker",
    )


def template(county: County, name: str) -> ReplyTemplate:
    found = county.reply_template(name)
    assert found is not None
    return found


@pytest.mark.parametrize(("locale", "translation"), [("ar", TERMIN_AR), ("ti", TERMIN_TI)])
def test_an_approved_translation_is_filled_in_the_clients_language(
    example_county: County, facts: CaseFacts, locale: str, translation: str
) -> None:
    texts = catalog(example_county)
    prepared = reply_templates.prepare(template(example_county, "termin"), facts, locale, BERLIN, texts)
    assert prepared.sendable and prepared.approved is not None
    assert prepared.approved.startswith(translation.split("{", 1)[0])
    assert fmt_datetime(WHEN, locale, BERLIN) in prepared.approved
    assert "Kommunales Integrationszentrum Kreis Euskirchen" in prepared.approved
    assert "{" not in prepared.approved
    # Staff see the German text, filled in German.
    assert prepared.german.startswith("Ihr Termin ist bestätigt: " + fmt_datetime(WHEN, "de", BERLIN))
    assert prepared.german_plain == prepared.german  # nothing to escape here


def test_without_an_approved_translation_there_is_only_the_german_text(
    example_county: County, facts: CaseFacts
) -> None:
    texts = catalog(example_county)
    persian = reply_templates.prepare(template(example_county, "termin"), facts, "fa", BERLIN, texts)
    assert persian.sendable and persian.approved is None
    assert "Kommunales Integrationszentrum" in persian.german
    # Another template has no translation in Arabic either.
    other = reply_templates.prepare(template(example_county, "erhalten"), facts, "ar", BERLIN, texts)
    assert other.approved is None and other.german.startswith("Vielen Dank") and "Anna Becker" in other.german
    # German needs no translation: the German text is the approved one.
    german = reply_templates.prepare(template(example_county, "erhalten"), facts, "de", BERLIN, texts)
    assert german.approved == german.german


def test_the_documents_to_bring_are_a_county_text_in_the_clients_language(
    example_county: County, facts: CaseFacts
) -> None:
    unterlagen = template(example_county, "unterlagen")
    texts = CountyTexts(
        {
            "ar": {
                (None, unterlagen.text): "أحضر معك في موعدك {next_appointment}: {documents_to_bring}.",
                (None, facts.documents): "وثيقة الإقامة، جواز السفر",
            }
        }
    )
    prepared = reply_templates.prepare(unterlagen, facts, "ar", BERLIN, texts)
    assert prepared.approved is not None and "وثيقة الإقامة، جواز السفر" in prepared.approved
    assert facts.documents in prepared.german


def test_a_placeholder_the_case_cannot_fill_keeps_the_template_back(example_county: County, facts: CaseFacts) -> None:
    texts = catalog(example_county)
    no_appointment = replace(facts, next_appointment=None, documents="")
    prepared = reply_templates.prepare(template(example_county, "unterlagen"), no_appointment, "ar", BERLIN, texts)
    assert not prepared.sendable and prepared.missing == ("next_appointment", "documents_to_bring")
    # A template without those placeholders goes.
    assert reply_templates.prepare(template(example_county, "brief"), no_appointment, "ar", BERLIN, texts).sendable


def test_county_data_is_escaped_and_a_mangled_translation_is_not_used(example_county: County, facts: CaseFacts) -> None:
    office = example_county.office("ki")
    assert office is not None
    odd = replace(facts, office=office.model_copy(update={"name": "Büro <KIM> & Co"}), case_manager="A <b>")
    termin = template(example_county, "termin")
    texts = CountyTexts({"ar": {(None, termin.text): "موعدك {next_appointment} في {ofice}"}})
    prepared = reply_templates.prepare(termin, odd, "ar", BERLIN, texts)
    assert "Büro &lt;KIM&gt; &amp; Co" in prepared.german and "<KIM>" in prepared.german_plain
    assert prepared.approved is None  # {ofice}: asked for like a missing translation, never sent broken


def test_the_example_county_ships_ten_templates_with_known_placeholders(example_county: County) -> None:
    assert len(example_county.reply_templates) == 10
    assert {"unterlagen", "termin", "anrufen", "fiktion", "erhalten"} <= {
        t.name for t in example_county.reply_templates
    }
    for item in example_county.reply_templates:
        assert set(reply_templates.placeholders(item.text)) <= {
            "next_appointment",
            "office",
            "documents_to_bring",
            "case_manager",
        }


def test_the_county_file_refuses_unknown_placeholders_and_twice_the_same_name(example_county: County) -> None:
    with pytest.raises(ValidationError, match="unknown placeholder"):
        ReplyTemplate(name="x", text="Hallo {client_name}")
    with pytest.raises(ValidationError, match="pattern"):
        ReplyTemplate(name="Termin bestätigt", text="Hallo")
    twice = example_county.model_dump()
    twice["reply_templates"] = [{"name": "a", "text": "Eins"}, {"name": "a", "text": "Zwei"}]
    with pytest.raises(ValidationError, match="two reply templates share a name"):
        County.model_validate(twice)


@pytest.mark.usefixtures("english")
def test_the_list_marks_which_templates_have_an_approved_translation(example_county: County) -> None:
    texts = catalog(example_county)
    entries = reply_templates.approved_in(example_county, "ar", texts)
    shown = buttons(templates_views.list_keyboard(7, entries))
    assert len(shown) == 10
    assert ("✅ termin", TemplateCb(action="send", client=7, name="termin").pack()) in shown
    assert ("🌐 erhalten", TemplateCb(action="send", client=7, name="erhalten").pack()) in shown


# ---------------------------------------------------------------------- end to end


@pytest.fixture
def county_file(tmp_path: Path, example_county: County) -> Path:
    """The example county as a county file of its own, with `locales/{ar,ti}/LC_MESSAGES/county.po` next to it
    holding the approved translations of "termin" (the bot compiles and loads them like a county's own)."""
    folder = tmp_path / "kreis"
    folder.mkdir()
    path = folder / "county.toml"
    shutil.copyfile(example_county_path(), path)
    text = template(example_county, "termin").text
    for locale, translation in (("ar", TERMIN_AR), ("ti", TERMIN_TI)):
        po = folder / "locales" / locale / "LC_MESSAGES" / "county.po"
        po.parent.mkdir(parents=True)
        catalog = Catalog(locale=locale, domain="county")
        catalog.add(text, translation)
        with po.open("wb") as fh:
            write_po(fh, catalog)
    return path


@pytest.fixture
def settings(settings: Settings, county_file: Path) -> Settings:
    return settings.model_copy(update={"county_file": county_file})


@pytest.fixture(autouse=True)
def office_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


async def _client_with_topic(kimbot: Running, emulator: BotAPIEmulator, user_id: int, locale: str) -> int:
    await onboard(kimbot, emulator, user_id, language=locale)
    await emulator.send_message(user_id, "?")
    thread = await thread_of(kimbot, user_id)
    await in_topic(emulator, thread, lambda m: m.get("text") == "?")
    await kimbot.settle(STAFF_GROUP)
    return thread


def _de(kimbot: Running, msgid: str) -> str:
    return str(kimbot.app.i18n.gettext(msgid, locale="de"))


async def _sent_pairs(kimbot: Running, telegram_id: int) -> list[RelayMessage]:
    async with kimbot.app.sessions() as session:
        rows = await session.scalars(
            select(RelayMessage)
            .join(Client, Client.id == RelayMessage.client_id)
            .where(Client.telegram_id == telegram_id, RelayMessage.direction == "out")
        )
        return list(rows.all())


@pytest.mark.parametrize(("user_id", "locale", "translation"), [(1401, "ar", TERMIN_AR), (1402, "ti", TERMIN_TI)])
async def test_a_template_reaches_the_client_in_their_language_with_the_case_filled_in(
    kimbot: Running, emulator: BotAPIEmulator, user_id: int, locale: str, translation: str
) -> None:
    staff_user(emulator, ANNA)
    thread = await _client_with_topic(kimbot, emulator, user_id, locale)
    await book_appointment(kimbot, user_id)
    tz = kimbot.app.settings.tz

    listed = await kimbot.say(ANNA, "/t", chat_id=STAFF_GROUP, thread_id=thread)
    assert listed["message_thread_id"] == thread
    assert "✅ termin" in button_texts(listed) and "🌐 erhalten" in button_texts(listed)

    before = emulator.last_message_id(user_id)
    await kimbot.tap(ANNA, listed, "✅ termin")
    got = await emulator.wait_for_message(user_id, after=before)
    assert got["text"].startswith(translation.split("{", 1)[0])
    assert fmt_datetime(APPOINTMENT, locale, tz) in got["text"]
    assert "Kommunales Integrationszentrum Kreis Euskirchen" in got["text"] and "Jülicher Ring 32" in got["text"]
    assert "{" not in got["text"] and "Termin" not in got["text"]  # nothing German for the client

    # Staff see in the topic what was sent, in German.
    head = _de(kimbot, "📤 Saved reply “{name}” sent in {language}:").format(
        name="termin", language=f"{native_name(locale)} ({locale})"
    )
    note = await in_topic(emulator, thread, lambda m: (m.get("text") or "").startswith(head))
    assert "Ihr Termin ist bestätigt: " + fmt_datetime(APPOINTMENT, "de", tz) in note["text"]
    [pair] = await _sent_pairs(kimbot, user_id)
    assert (pair.client_message_id, pair.staff_message_id, pair.translated) == (
        got["message_id"],
        note["message_id"],
        False,
    )
    async with kimbot.app.sessions() as session:
        audited = await session.scalar(select(AuditEntry.details).where(AuditEntry.action == "reply_template_sent"))
    assert audited == {"template": "termin", "machine": False}

    # /t NAME sends the same without the list.
    before = emulator.last_message_id(user_id)
    await kimbot.say(ANNA, "/t termin", chat_id=STAFF_GROUP, thread_id=thread)
    again = await emulator.wait_for_message(user_id, after=before)
    assert again["text"] == got["text"]


async def test_without_an_approved_translation_staff_confirm_a_machine_translation(
    kimbot: Running, emulator: BotAPIEmulator, translator: FakeLibreTranslate
) -> None:
    staff_user(emulator, ANNA)
    emulator.add_user(4444, "Stranger", language_code="de")
    thread = await _client_with_topic(kimbot, emulator, 1403, "ar")
    kimbot.app.dispatcher["translator"] = LibreTranslate(translator.url)  # from now on (the dispatcher's data)
    before = emulator.last_message_id(1403)
    question = await kimbot.say(ANNA, "/t erhalten", chat_id=STAFF_GROUP, thread_id=thread)
    assert question["message_thread_id"] == thread
    assert "Vielen Dank, wir haben Ihre Unterlagen erhalten. Anna Becker" in question["text"]
    assert emulator.last_message_id(1403) == before and translator.requests == []  # nothing sent yet

    # Someone who is not staff cannot press it; a forged button for another client does nothing.
    refused = await emulator.press(4444, question, text=_de(kimbot, "🌐 Send machine-translated"))
    await emulator.wait_for(lambda: emulator.callback_answers.get(refused) is not None)
    assert emulator.callback_answers[refused]["show_alert"]  # type: ignore[index]
    async with kimbot.app.sessions() as session:
        client_id = await session.scalar(select(Client.id).where(Client.telegram_id == 1403))
    assert client_id is not None
    forged = TemplateCb(action="mt", client=client_id + 1000, name="erhalten").pack()
    other = await emulator.press(ANNA, question, data=forged, forge=True)
    await emulator.wait_for(lambda: emulator.callback_answers.get(other) is not None)
    await kimbot.settle(STAFF_GROUP)
    assert emulator.last_message_id(1403) == before and translator.requests == []

    await kimbot.tap(ANNA, question, _de(kimbot, "🌐 Send machine-translated"), edits=True)
    got = await emulator.wait_for_message(1403, after=before)
    german = "Vielen Dank, wir haben Ihre Unterlagen erhalten. Anna Becker sieht sie sich an"
    assert got["text"].startswith(FakeLibreTranslate.render(german, "ar")[:40])
    assert f"— {german}" in got["text"]  # the German original below
    assert got["text"].rstrip().endswith(kimbot.app.i18n.gettext("Translated automatically.", locale="ar"))
    head = _de(kimbot, "📤 Saved reply “{name}” sent, machine-translated into {language}:").format(
        name="erhalten", language=f"{native_name('ar')} (ar)"
    )
    await in_topic(emulator, thread, lambda m: (m.get("text") or "").startswith(head))
    assert emulator.messages[(STAFF_GROUP, question["message_id"])].get("reply_markup") is None
    [pair] = await _sent_pairs(kimbot, 1403)
    assert pair.translated and pair.client_message_id == got["message_id"]

    # "Don't send": nothing goes.
    second = await kimbot.say(ANNA, "/t brief", chat_id=STAFF_GROUP, thread_id=thread)
    before = emulator.last_message_id(1403)
    edited = await kimbot.tap(ANNA, second, _de(kimbot, "Don't send"), edits=True)
    assert edited["text"] == _de(kimbot, "Not sent.") and emulator.last_message_id(1403) == before


async def test_without_a_translator_or_an_appointment_nothing_is_sent(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    staff_user(emulator, ANNA)
    thread = await _client_with_topic(kimbot, emulator, 1404, "fa")
    before = emulator.last_message_id(1404)
    told = await kimbot.say(ANNA, "/t erhalten", chat_id=STAFF_GROUP, thread_id=thread)
    assert "TRANSLATE_URL" in told["text"] and not told.get("reply_markup")
    missing = await kimbot.say(ANNA, "/t termin", chat_id=STAFF_GROUP, thread_id=thread)
    assert missing["text"] == _de(kimbot, "Not sent: “{name}” needs {needs}, and this client has none.").format(
        name="termin", needs=_de(kimbot, "a booked appointment")
    )
    unknown = await kimbot.say(ANNA, "/t nichtda", chat_id=STAFF_GROUP, thread_id=thread)
    assert "nichtda" in unknown["text"]
    await kimbot.settle(1404)
    assert emulator.last_message_id(1404) == before and await _sent_pairs(kimbot, 1404) == []


async def test_a_client_who_blocked_the_bot_gets_nothing_and_staff_are_told(
    kimbot: Running, emulator: BotAPIEmulator
) -> None:
    staff_user(emulator, ANNA)
    thread = await _client_with_topic(kimbot, emulator, 1405, "ar")
    await book_appointment(kimbot, 1405)
    emulator.block(1405)
    before = emulator.last_message_id(1405)
    told = await kimbot.say(ANNA, "/t termin", chat_id=STAFF_GROUP, thread_id=thread)
    assert told["text"] == _de(
        kimbot, "⚠️ Not delivered – the client is unreachable (they blocked the bot or left Telegram)."
    )
    await kimbot.settle(STAFF_GROUP)
    assert emulator.last_message_id(1405) == before and await _sent_pairs(kimbot, 1405) == []
    async with kimbot.app.sessions() as session:
        reachable = await session.scalar(select(Client.reachable).where(Client.telegram_id == 1405))
        audited = await session.scalar(select(AuditEntry.id).where(AuditEntry.action == "reply_template_sent"))
    assert reachable is False and audited is None

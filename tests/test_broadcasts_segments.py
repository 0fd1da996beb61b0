"""Broadcast segments (combinable criteria, exclusions counted), machine translation of missing languages and a
broadcast scheduled for later – the last two end to end through the emulator."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.core.config import Settings
from bot.core.i18n import SUPPORTED_LOCALES
from bot.db.base import utcnow
from bot.db.models import Client, Staff
from bot.db.models_booking import Appointment
from bot.db.models_broadcasts import Broadcast
from bot.db.models_documents import Document
from bot.db.models_outbox import OutboxMessage
from bot.emulator import BotAPIEmulator
from bot.services import broadcasts
from bot.services.broadcasts import Segment
from bot.services.translation.base import language_name
from tests.support import ADMIN, FakeLibreTranslate, Running, add_clients, button_texts, send, t
from tests.support.fake_libretranslate import ARGOS
from tests.support.fake_llm import FakeChatCompletions


async def test_segments_combine_and_exclusions_are_counted(kimbot: Running) -> None:
    tz = kimbot.app.settings.tz
    today = utcnow().astimezone(tz).date()
    async with kimbot.app.sessions() as session, session.begin():
        staff = {s.telegram_id: s for s in (await session.scalars(select(Staff))).all()}
        anna, yusuf = staff[100000001], staff[100000002]  # offices "ki" and "caritas-eifel"

        def client(n: int, locale: str, town: str, manager: Staff | None, **extra: bool) -> Client:
            row = Client(
                telegram_id=4000 + n, reference=f"K-S{n}", locale=locale, municipality=town,
                case_manager_id=manager.id if manager else None, **extra,
            )  # fmt: skip
            session.add(row)
            return row

        c1 = client(1, "ar", "kall", anna)
        c2 = client(2, "ar", "euskirchen", yusuf)
        c3 = client(3, "uk", "kall", yusuf)
        client(4, "ar", "kall", anna, announcements_opt_out=True)
        client(5, "ar", "kall", anna, reachable=False)
        await session.flush()
        start = utcnow() + timedelta(days=3)
        session.add(
            Appointment(
                client_id=c2.id, staff_id=yusuf.id, service_key="kim-consultation", office_key="ki",
                starts_at=start, ends_at=start + timedelta(minutes=45), busy_from=start,
                busy_until=start + timedelta(minutes=60), status="booked",
            )
        )  # fmt: skip
        session.add(Document(client_id=c3.id, doc_type="residence_permit", expires_on=today + timedelta(days=20)))
        session.add(Document(client_id=c1.id, doc_type="passport", expires_on=today + timedelta(days=200)))
        draft = await broadcasts.create_draft(session, author_staff_id=anna.id, german_text="Hallo")

        async def recipients(segment: Segment) -> tuple[set[int], broadcasts.Plan]:
            await broadcasts.set_segment(session, draft.id, segment)
            plan = await broadcasts.plan(session, draft.id, tz)
            return {chat - 4000 for ids in plan.recipients.values() for _c, chat, _l in ids}, plan

        everyone, plan = await recipients(Segment())
        assert everyone == {1, 2, 3} and (plan.opted_out, plan.unreachable, plan.skipped) == (1, 1, 0)
        assert (await recipients(Segment(languages=("ar",))))[0] == {1, 2}
        assert (await recipients(Segment(languages=("ar",), municipalities=("kall",))))[0] == {1}
        assert (await recipients(Segment(municipalities=("kall", "euskirchen"))))[0] == {1, 2, 3}
        assert (await recipients(Segment(case_managers=(yusuf.id,))))[0] == {2, 3}
        assert (await recipients(Segment(offices=("ki",))))[0] == {1}
        week = Segment(appointment_from=today, appointment_to=today + timedelta(days=7))
        assert (await recipients(week))[0] == {2}
        past = Segment(appointment_from=date(2020, 1, 1), appointment_to=date(2020, 1, 2))
        assert (await recipients(past))[0] == set()
        assert (await recipients(Segment(document_type="residence_permit", document_days=30)))[0] == {3}
        assert (await recipients(Segment(document_days=365)))[0] == {1, 3}
        assert (await recipients(Segment(document_days=365, languages=("uk",))))[0] == {3}
        # Round trip through the JSON column.
        assert Segment.from_json(week.to_json()) == week

        await broadcasts.set_segment(session, draft.id, Segment())
        await broadcasts.set_fallback(session, draft.id, "skip")
        only_german, plan = await recipients(Segment())
        assert only_german == set() and plan.skipped == 3


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    if "translator" in request.fixturenames:
        fake: FakeLibreTranslate = request.getfixturevalue("translator")
        return settings.model_copy(update={"translate_url": fake.url})
    if "libre" in request.fixturenames:
        libre: FakeLibreTranslate = request.getfixturevalue("libre")
        llm: FakeChatCompletions = request.getfixturevalue("llm")
        update = {"translate_url": libre.url, "translate_llm_url": llm.url + "/v1", "translate_llm_model": llm.model}
        return settings.model_copy(update=update)
    return settings


async def test_missing_languages_are_translated_and_marked(
    libre: FakeLibreTranslate, llm: FakeChatCompletions, kimbot: Running, emulator: BotAPIEmulator
) -> None:
    await add_clients(kimbot, emulator, [(4101, "fa"), (4102, "de")])
    emulator.add_user(ADMIN, "Büro KIM", language_code="de")
    await kimbot.say(ADMIN, "/broadcast")
    menu = await kimbot.say(ADMIN, "Sprachcafé jeden Dienstag.")
    segment = await kimbot.tap(ADMIN, menu, t(kimbot, "Done"))
    assert t(kimbot, "Continue") in button_texts(segment)  # no fallback question: everything was translated
    # Every language but the German source: LibreTranslate for those its server lists, the model for the rest.
    by_libre = {r["target"] for r in libre.requests}
    assert by_libre == set(ARGOS) - {"de"}
    into = {f"into {language_name(code)}.": code for code in SUPPORTED_LOCALES}
    by_model = {code for phrase, code in into.items() if any(phrase in i for i in llm.instructions())}
    assert by_model == set(SUPPORTED_LOCALES) - set(ARGOS) - {"prs"}  # Dari goes to LibreTranslate's Persian
    when = await kimbot.tap(ADMIN, segment, t(kimbot, "Continue"))
    confirmation = await kimbot.tap(ADMIN, when, t(kimbot, "Now"))
    await send(kimbot, confirmation)
    assert kimbot.app.worker is not None
    await kimbot.app.worker.drain_once()
    persian = emulator.last_bot_message(4101)["text"]
    assert FakeLibreTranslate.render("Sprachcafé jeden Dienstag.", "fa") in persian
    assert kimbot.app.i18n.gettext("<i>This text was translated automatically.</i>", locale="fa")[3:-4] in persian
    german = emulator.last_bot_message(4102)["text"]
    assert "Sprachcafé jeden Dienstag." in german and "[" not in german
    assert kimbot.app.i18n.gettext("<i>This text was translated automatically.</i>", locale="de")[3:-4] not in german


async def test_broadcast_scheduled_for_later_waits(kimbot: Running, emulator: BotAPIEmulator) -> None:
    await add_clients(kimbot, emulator, [(4201, "de")])
    emulator.add_user(ADMIN, "Büro KIM", language_code="de")
    await kimbot.say(ADMIN, "/broadcast")
    menu = await kimbot.say(ADMIN, "Morgen geschlossen.")
    question = await kimbot.tap(ADMIN, menu, t(kimbot, "Done"))
    segment = await kimbot.tap(ADMIN, question, t(kimbot, "English and German text"))
    await kimbot.tap(ADMIN, segment, t(kimbot, "Continue"))
    tz = kimbot.app.settings.tz
    later = (utcnow() + timedelta(days=2)).astimezone(tz).replace(second=0, microsecond=0)
    refused = await kimbot.say(ADMIN, "tomorrow")
    assert t(kimbot, "Please send a future date and time, e.g. {example}.")[:20] in refused["text"]
    await kimbot.say(ADMIN, later.strftime("%d.%m.%Y %H:%M"))
    confirmation = emulator.last_bot_message(ADMIN)
    await send(kimbot, confirmation)
    async with kimbot.app.sessions() as session:
        row = await session.scalar(select(Broadcast))
        due = await session.scalar(select(OutboxMessage.due_at))
    assert row is not None and row.status == "scheduled" and row.scheduled_at == later
    assert due == later
    assert kimbot.app.worker is not None
    assert (await kimbot.app.worker.drain_once()).sent == 0
    assert (await kimbot.app.worker.drain_once(now=later + timedelta(seconds=1))).sent == 1
    assert "Morgen geschlossen." in emulator.last_bot_message(4201)["text"]

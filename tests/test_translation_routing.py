"""Translation for every client language: the language detector measured on the client languages, routing decided
from what the servers report (LibreTranslate's /languages, the chat-completions server's /v1/models), re-checked
when a server was down at start, the glossary's terms in the instruction; and end to end, a Tigrinya message goes
through the chat-completions fake while an Arabic one goes through the LibreTranslate fake."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core.config import Settings
from bot.db.models import Client
from bot.db.models_handoff import RelayMessage
from bot.emulator import BotAPIEmulator
from bot.services import office_hours
from bot.services.translation.base import same_language
from bot.services.translation.detection import LanguageDetector
from bot.services.translation.glossary import Glossary, default_path
from bot.services.translation.llm import instruction
from bot.services.translator import ChatTranslator, LibreTranslate, RoutedTranslator, TranslationError
from tests.support import ANNA, STAFF_GROUP, FakeLibreTranslate, Running, in_topic, onboard, staff_user, thread_of
from tests.support.fake_llm import FakeChatCompletions
from tests.support.language_samples import SAMPLES


def routed(libre: FakeLibreTranslate | None, llm: FakeChatCompletions | None, **kwargs: object) -> RoutedTranslator:
    return RoutedTranslator(
        LibreTranslate(libre.url) if libre else None,
        ChatTranslator(llm.url, llm.model, glossary=Glossary.load(default_path()), **kwargs) if llm else None,  # type: ignore[arg-type]
        LanguageDetector(),
    )


# ---------------------------------------------------------------------- detection, measured


def test_detector_recognises_every_client_language() -> None:
    detector = LanguageDetector()
    per_language = {
        code: sum(
            (found := detector.detect(text)) is not None and same_language(found.language, code) for text in texts
        )
        for code, texts in SAMPLES.items()
    }
    total = sum(len(texts) for texts in SAMPLES.values())
    print("detection per language (of 6):", per_language, f"– {sum(per_language.values())}/{total}")
    assert sum(per_language.values()) >= 0.95 * total
    assert all(hits >= 5 for hits in per_language.values()), per_language


def test_a_message_in_the_clients_own_language_is_never_flagged() -> None:
    detector = LanguageDetector()
    flagged = [(code, text) for code, texts in SAMPLES.items() for text in texts if detector.other_language(text, code)]
    assert flagged == []
    assert detector.other_language("Ok, danke", "ar") is None  # too short to tell


def test_another_language_than_the_setting_is_detected() -> None:
    detector = LanguageDetector()
    hits = tries = 0
    for setting in ("de", "ar", "en", "uk", "ps", "ku", "ti"):
        for code, texts in SAMPLES.items():
            if same_language(code, setting):
                continue
            for text in texts:
                tries += 1
                found = detector.other_language(text, setting)
                hits += found is not None and same_language(found.language, code)
    print(f"other language than the setting detected: {hits}/{tries}")
    assert hits >= 0.9 * tries
    assert detector.other_language(SAMPLES["ps"][0], "ar").language == "ps"  # type: ignore[union-attr]
    assert detector.other_language(SAMPLES["ti"][0], "de").language == "ti"  # type: ignore[union-attr]


# ---------------------------------------------------------------------- routing from what the servers report


async def test_routes_follow_what_the_servers_report(libre: FakeLibreTranslate, llm: FakeChatCompletions) -> None:
    translator = routed(libre, llm)
    await translator.start()
    routes = translator.describe()
    assert {routes[c] for c in ("ar", "fa", "prs", "uk", "ru", "tr", "fr", "es", "pl", "ro", "bg", "sq", "en")} == {
        "libretranslate"
    }
    assert {routes[c] for c in ("ps", "ku", "ckb", "ti", "so", "ka")} == {"llm"}

    assert await translator.translate("ሰላም ኣማኻሪተይ", "ti", "de") == FakeChatCompletions.render("ሰላም ኣማኻሪተይ")
    assert await translator.translate("مرحبا", "ar", "de") == FakeLibreTranslate.render("مرحبا", "de")
    assert await translator.translate("سلام دوست", "prs", "de") == FakeLibreTranslate.render("سلام دوست", "de")
    assert libre.requests[-1]["source"] == "fa"  # Dari goes to LibreTranslate as Persian


async def test_without_the_model_nothing_covers_tigrinya(libre: FakeLibreTranslate, llm: FakeChatCompletions) -> None:
    llm.served = ["another-model"]
    translator = routed(libre, llm)
    await translator.start()
    assert translator.describe()["ti"] == "none" and translator.describe()["ar"] == "libretranslate"
    with pytest.raises(TranslationError):
        await translator.translate("ሰላም", "ti", "de")
    assert llm.requests == []


async def test_a_server_down_at_start_is_asked_again(llm: FakeChatCompletions) -> None:
    port = llm.port
    await llm.stop()
    translator = routed(None, llm)
    translator.recheck_seconds = 3600
    await translator.start()
    assert translator.describe()["ti"] == "none"
    await llm.start(port)
    with pytest.raises(TranslationError):  # not asked again before the interval has passed
        await translator.translate("ሰላም ኣማኻሪተይ", "ti", "de")
    translator.recheck_seconds = 0
    assert await translator.translate("ሰላም ኣማኻሪተይ", "ti", "de") == FakeChatCompletions.render("ሰላም ኣማኻሪተይ")
    assert llm.model_lists == 1


async def test_a_failing_libretranslate_falls_back_to_the_model(
    libre: FakeLibreTranslate, llm: FakeChatCompletions
) -> None:
    translator = routed(libre, llm)
    await translator.start()
    libre.status = 500
    assert await translator.translate("مرحبا", "ar", "de") == FakeChatCompletions.render("مرحبا")


async def test_the_instruction_names_the_languages_and_the_glossarys_terms(llm: FakeChatCompletions) -> None:
    translator = routed(None, llm, api_key="sk-test")
    await translator.translate("Bitte bringen Sie die Duldung mit.", "de", "ti")
    [sent] = llm.instructions()
    assert "from German into Tigrinya" in sent
    glossary = Glossary.load(default_path())
    duldung = next(rendering for german, rendering in glossary.terms if german == "Duldung")
    assert f"- Duldung → {duldung['ti']}" in sent
    assert llm.requests[0]["model"] == llm.model and llm.authorizations == ["Bearer sk-test"]


def test_no_glossary_means_an_instruction_without_terms(tmp_path: Path) -> None:
    assert Glossary.load(tmp_path / "missing.toml").terms == ()
    (tmp_path / "broken.toml").write_text("[[term]\nde = ", encoding="utf-8")
    assert Glossary.load(tmp_path / "broken.toml").terms == ()
    text = instruction("ps", "de", Glossary())
    assert "Pashto" in text and "German" in text and "→" not in text


# ---------------------------------------------------------------------- end to end


@pytest.fixture(autouse=True)
def office_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_hours, "now", lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def settings(settings: Settings, libre: FakeLibreTranslate, llm: FakeChatCompletions) -> Settings:
    return settings.model_copy(
        update={"translate_url": libre.url, "translate_llm_url": llm.url + "/v1", "translate_llm_model": llm.model}
    )


async def test_tigrinya_goes_to_the_model_and_arabic_to_libretranslate(
    kimbot: Running, emulator: BotAPIEmulator, libre: FakeLibreTranslate, llm: FakeChatCompletions
) -> None:
    staff_user(emulator, ANNA)
    await onboard(kimbot, emulator, 931, language="ti")
    await onboard(kimbot, emulator, 932, language="ar")
    tigrinya, arabic = SAMPLES["ti"][0], SAMPLES["ar"][0]
    await emulator.send_message(931, tigrinya)
    await emulator.send_message(932, arabic)
    ti_thread, ar_thread = await thread_of(kimbot, 931), await thread_of(kimbot, 932)
    ti_shown = await in_topic(emulator, ti_thread, lambda m: tigrinya in (m.get("text") or ""))
    ar_shown = await in_topic(emulator, ar_thread, lambda m: arabic in (m.get("text") or ""))
    assert ti_shown["text"].startswith(tigrinya) and FakeChatCompletions.render(tigrinya) in ti_shown["text"]
    assert "(ti → de)" in ti_shown["text"]
    assert FakeLibreTranslate.render(arabic, "de") in ar_shown["text"] and "[llm]" not in ar_shown["text"]
    assert [r["q"] for r in libre.requests] == [arabic]
    assert "from Tigrinya (Ge'ez script) into German" in llm.instructions()[0]

    before = emulator.last_message_id(931)
    await emulator.send_message(ANNA, "Morgen um 10 Uhr.", chat_id=STAFF_GROUP, thread_id=ti_thread)
    answer = await emulator.wait_for_message(931, after=before)
    assert answer["text"].startswith(FakeChatCompletions.render("Morgen um 10 Uhr."))
    assert "from German into Tigrinya" in llm.instructions()[-1]
    await kimbot.settle(931)
    async with kimbot.app.sessions() as session:
        client_id = await session.scalar(select(Client.id).where(Client.telegram_id == 931))
        pairs = (await session.scalars(select(RelayMessage).where(RelayMessage.client_id == client_id))).all()
    assert [(p.direction, p.translated, p.transcript) for p in pairs] == [("in", True, None), ("out", True, None)]


async def test_a_message_in_another_language_says_which_was_detected(
    kimbot: Running, emulator: BotAPIEmulator, libre: FakeLibreTranslate, llm: FakeChatCompletions
) -> None:
    await onboard(kimbot, emulator, 933, language="ar")
    pashto = SAMPLES["ps"][0]
    await emulator.send_message(933, pashto)
    thread = await thread_of(kimbot, 933)
    shown = await in_topic(emulator, thread, lambda m: pashto in (m.get("text") or ""))
    label = kimbot.app.i18n.gettext("Machine translation (detected: {source} → {target})", locale="de")
    assert label.format(source="ps", target="de") in shown["text"]
    assert FakeChatCompletions.render(pashto) in shown["text"]  # LibreTranslate lists no Pashto
    assert libre.requests == []

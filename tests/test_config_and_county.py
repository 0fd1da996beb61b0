"""Settings refuse what cannot work; the county file is validated with plain-language errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from pydantic import ValidationError

from bot import cli
from bot.cli import main
from bot.core.config import Settings
from bot.core.county import CountyFileError, load_county
from bot.core.i18n import SUPPORTED_LOCALES
from tests.support import ROOT

GOOD_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def _settings(**env: Any) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[call-arg]


@pytest.mark.parametrize("token", ["changeme", "<your-token>", "your_bot_token_here", "123:abc"])
def test_placeholder_or_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="BOT_TOKEN"):
        _settings(BOT_TOKEN=token)


def test_token_is_secret_and_url_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = _settings(BOT_TOKEN=GOOD_TOKEN, TELEGRAM_API_URL="http://127.0.0.1:8081/")
    assert GOOD_TOKEN not in repr(settings)
    assert settings.telegram_api_url == "http://127.0.0.1:8081"
    assert settings.database_url.startswith("sqlite+aiosqlite:///")


def test_unknown_timezone_is_refused() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        _settings(TIMEZONE="Mars/Olympus")


def test_example_county_is_kreis_euskirchen() -> None:
    county = load_county(None)
    assert county.name == "Kreis Euskirchen"
    assert len(county.municipalities) == 11
    assert {m.name for m in county.municipalities} >= {"Bad Münstereifel", "Hellenthal", "Zülpich", "Weilerswist"}
    assert any("Ausländerbehörde" in o.name for o in county.offices)
    assert any("Integration Point" in o.name for o in county.offices)
    assert all(s.telegram_id > 0 for s in county.staff)


def test_county_errors_are_plain(tmp_path: Path) -> None:
    bad = tmp_path / "county.toml"
    bad.write_text(
        'name = "X"\nmunicipalities = [{ key = "a", name = "A" }]\n'
        '[[offices]]\nkey = "o"\nname = "O"\naddress = "Street 1"\nmunicipality = "nowhere"\n'
        'opening_hours = { mon = "12:00-08:00" }\n'
        '[[services]]\nkey = "s"\nname = { en = "S" }\nduration_minutes = 30\noffices = ["o"]\n'
        '[[staff]]\ntelegram_id = 1\ndisplay_name = "P"\nrole = "case_manager"\n',
        encoding="utf-8",
    )
    with pytest.raises(CountyFileError) as error:
        load_county(bad)
    text = str(error.value)
    assert "ends before it starts" in text
    assert "needs its German text (name.de)" in text


def test_county_unknown_reference(tmp_path: Path) -> None:
    bad = tmp_path / "county.toml"
    bad.write_text(
        'name = "X"\nmunicipalities = [{ key = "a", name = "A" }]\n'
        '[[offices]]\nkey = "o"\nname = "O"\naddress = "Street 1"\nmunicipality = "nowhere"\n'
        '[[services]]\nkey = "s"\nname = { de = "S" }\nduration_minutes = 30\noffices = ["o", "ghost"]\n',
        encoding="utf-8",
    )
    with pytest.raises(CountyFileError, match=r"unknown municipality 'nowhere'.*unknown office 'ghost'"):
        load_county(bad)


def test_check_config_reports_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KIMBOT_COUNTY", str(tmp_path / "missing.toml"))
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    assert main(["check-config"]) == 1
    assert "county file not found" in capsys.readouterr().err

    monkeypatch.setenv("KIMBOT_COUNTY", "")
    monkeypatch.delenv("KIMBOT_COUNTY")
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert "Kreis Euskirchen, 11 municipalities" in out
    assert "County texts (gettext domain `county`" in out
    complete = next(line for line in out.splitlines() if line.strip().startswith("complete:"))
    assert set(complete.split(":", 1)[1].replace(",", " ").split()) == set(SUPPORTED_LOCALES)

    monkeypatch.setenv("BOT_TOKEN", "changeme")
    with pytest.raises(SystemExit) as exit_:
        main(["check-config"])
    assert exit_.value.code == 2
    assert "placeholder" in capsys.readouterr().err


def test_run_without_token_starts_the_demo_and_explains_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    started: list[Settings] = []

    def demo(settings: Settings) -> int:  # the real one serves until Ctrl+C
        started.append(settings)
        return 0

    monkeypatch.setattr(cli, "_demo", demo)
    assert main(["run"]) == 0
    assert len(started) == 1 and started[0].bot_token is None
    err = capsys.readouterr().err
    assert "offline demo" in err and "@BotFather" in err and "BOT_TOKEN=" in err

    # A webhook needs Telegram: without a token it still refuses, with the same explanation.
    assert main(["run", "--webhook"]) == 2
    assert "@BotFather" in capsys.readouterr().err and len(started) == 1


def test_json_logs_carry_no_token(capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import logging

    from bot.ops.logs import configure_logging

    configure_logging("INFO", "json")
    logging.getLogger("kimbot.test").info("client %s booked", 42)
    logging.getLogger("httpx").info("POST https://api.telegram.org/bot%s/sendMessage", GOOD_TOKEN)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines == [
        {"time": lines[0]["time"], "level": "INFO", "logger": "kimbot.test", "message": "client 42 booked"}
    ]
    configure_logging("WARNING", "text")


OLD_FORM = """name = "Kreis X"
municipalities = [{ key = "a", name = "Adorf" }]

[[offices]]
key = "o"
name = "Amt Adorf"
address = "Markt 1, 12345 Adorf"
municipality = "a"
kind = "Ausländerbehörde"

[[services]]
key = "s"
name = { de = "Aufenthaltstitel verlängern", en = "Extension of residence permit" }
description = { de = "Antrag bei der Ausländerbehörde", en = "Applying at the immigration office" }
documents = { de = "Pass, Foto", en = "passport, photo" }
duration_minutes = 30
offices = ["o"]
"""


def test_old_county_files_load_and_their_translations_move_into_catalogs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A county file with `name = { de = …, en = … }` still loads (its German texts); check-config says how to move
    the rest into catalogs next to the file, update_catalogs.py --county does it, and then lists what is left."""
    county_file = tmp_path / "kreis" / "county.toml"
    county_file.parent.mkdir()
    county_file.write_text(OLD_FORM, encoding="utf-8")
    county = load_county(county_file)
    assert (county.services[0].name, county.services[0].documents) == ("Aufenthaltstitel verlängern", "Pass, Foto")

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.setenv("KIMBOT_COUNTY", str(county_file))
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert "The county file still holds translations (en: 3)" in out
    assert f"python scripts/update_catalogs.py --county {county_file}" in out
    assert "en: no county catalog – all 5 texts untranslated" in out
    assert main(["check-config", "--strict"]) == 1
    capsys.readouterr()

    script = ROOT / "scripts" / "update_catalogs.py"
    subprocess.run([sys.executable, str(script), "--county", str(county_file)], check=True, capture_output=True)
    locales = county_file.parent / "locales"
    template = read_po((locales / "county.pot").open("rb"))
    extracted = {(m.context, m.id) for m in template if m.id}
    assert extracted == {
        (None, "Aufenthaltstitel verlängern"),
        ("button", "Aufenthaltstitel verlängern"),
        (None, "Antrag bei der Ausländerbehörde"),
        (None, "Pass, Foto"),
        (None, "Ausländerbehörde"),  # the office's kind; its name, address and the town are proper names
    }
    english = read_po((locales / "en" / "LC_MESSAGES" / "county.po").open("rb"))
    button, documents = english.get("Aufenthaltstitel verlängern", context="button"), english.get("Pass, Foto")
    assert button is not None and button.string == "Extension of residence permit"
    assert documents is not None and documents.string == "passport, photo"
    german = read_po((locales / "de" / "LC_MESSAGES" / "county.po").open("rb"))
    assert all(m.string == m.id for m in german if m.id)

    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert f"catalogs in {locales}" in out
    assert "complete: de" in out  # German repeats the source
    assert "en: 1 missing, 0 fuzzy (clients see English)" in out and "missing: Ausländerbehörde" in out
    assert "ar: no county catalog – all 5 texts untranslated (clients see English)" in out

"""Language mapping, right-to-left isolation, Babel formatting and catalog compilation."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core import i18n
from bot.core.i18n import LRI, PDI, ensure_compiled, fmt_datetime, fmt_number, is_rtl, map_language_code, native_name
from tests.support import BERLIN


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ar", "ar"),
        ("ar-SY", "ar"),
        ("fa-AF", "fa"),
        ("prs", "fa"),
        ("uk-UA", "uk"),
        ("kmr", "ku"),
        ("ckb-IQ", "ckb"),
        ("de-AT", "de"),
        ("zh-hans", None),
        (None, None),
        ("", None),
    ],
)
def test_telegram_language_codes_map_to_catalogs(code: str | None, expected: str | None) -> None:
    assert map_language_code(code) == expected


def test_native_names_and_direction() -> None:
    assert native_name("ar") == "العربية"
    assert native_name("uk") == "Українська"
    assert native_name("de") == "Deutsch"
    assert [c for c in ("ar", "fa", "ps", "ckb", "de", "uk", "ti") if is_rtl(c)] == ["ar", "fa", "ps", "ckb"]


def test_times_are_isolated_in_rtl_text_only() -> None:
    moment = datetime(2027, 3, 29, 7, 30, tzinfo=UTC)  # 09:30 in Berlin (summer time)
    arabic = fmt_datetime(moment, "ar", BERLIN)
    assert LRI in arabic and PDI in arabic
    german = fmt_datetime(moment, "de", BERLIN)
    assert german == "Montag, 29. März 2027, 09:30"
    assert LRI not in german
    assert fmt_number(1234.5, "de") == "1.234,5"
    assert fmt_number(1234.5, "fa") == f"{LRI}1,234.5{PDI}"  # Babel formats with Latin digits


def test_catalogs_compile_into_fallback_when_source_is_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed package in a read-only site-packages (Docker, a system install) compiles elsewhere."""
    source = tmp_path / "locales"
    shutil.copytree(Path(__file__).resolve().parent.parent / "locales", source, ignore=shutil.ignore_patterns("*.mo"))
    real_compile = i18n._compile_all

    def read_only_source(pos: list[Path], src: Path, target: Path) -> None:
        if target == src:
            raise PermissionError(13, "Read-only file system")
        real_compile(pos, src, target)

    monkeypatch.setattr(i18n, "_compile_all", read_only_source)
    target = ensure_compiled(source, tmp_path / "cache")
    assert target == tmp_path / "cache"
    assert (target / "ar" / "LC_MESSAGES" / "messages.mo").exists()
    assert not (source / "ar" / "LC_MESSAGES" / "messages.mo").exists()


def test_catalogs_compile_in_place_and_recompile_when_stale(tmp_path: Path) -> None:
    source = tmp_path / "locales"
    shutil.copytree(Path(__file__).resolve().parent.parent / "locales", source, ignore=shutil.ignore_patterns("*.mo"))
    assert ensure_compiled(source, tmp_path / "cache") == source
    mo = source / "uk" / "LC_MESSAGES" / "messages.mo"
    po = mo.with_suffix(".po")
    assert mo.exists()
    os.utime(mo, (1, 1))
    assert mo.stat().st_mtime < po.stat().st_mtime
    ensure_compiled(source, tmp_path / "cache")
    assert mo.stat().st_mtime >= po.stat().st_mtime

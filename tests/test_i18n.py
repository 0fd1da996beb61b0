"""Language mapping, language names, Babel formatting (separators, digits, Dari) and catalog compilation.
Right-to-left rendering is tested in tests/test_rtl.py."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.plurals import get_plural

from bot.core import i18n
from bot.core.i18n import (
    FSI,
    PDI,
    RLM,
    SUPPORTED_LOCALES,
    babel_locale,
    ensure_compiled,
    fmt_date,
    fmt_datetime,
    fmt_list,
    fmt_number,
    is_rtl,
    map_language_code,
    native_digits,
    native_name,
)
from tests.support import BERLIN

MOMENT = datetime(2027, 3, 29, 7, 30, tzinfo=UTC)  # 09:30 in Berlin (summer time)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ar", "ar"),
        ("ar-SY", "ar"),
        ("fa", "fa"),
        ("fa-IR", "fa"),
        ("fa-AF", "prs"),
        ("fa_af", "prs"),
        ("prs", "prs"),
        ("prs-AF", "prs"),
        ("uk-UA", "uk"),
        ("kmr", "ku"),
        ("ckb-IQ", "ckb"),
        ("sq-XK", "sq"),
        ("ro-MD", "ro"),
        ("mo", "ro"),
        ("bg", "bg"),
        ("pl-PL", "pl"),
        ("es-419", "es"),
        ("ka-GE", "ka"),
        ("de-AT", "de"),
        ("zh-hans", None),
        (None, None),
        ("", None),
    ],
)
def test_telegram_language_codes_map_to_catalogs(code: str | None, expected: str | None) -> None:
    assert map_language_code(code) == expected


def test_twenty_languages_each_with_a_reviewed_endonym() -> None:
    assert len(SUPPORTED_LOCALES) == len(set(SUPPORTED_LOCALES)) >= 20
    assert {"prs", "sq", "ro", "bg", "pl", "es", "ka"} <= set(SUPPORTED_LOCALES)
    names = [native_name(code) for code in SUPPORTED_LOCALES]
    assert len(set(names)) == len(names)
    assert native_name("ckb") == "کوردی (سۆرانی)"
    assert native_name("ku") == "Kurdî (Kurmancî)"
    assert (native_name("fa"), native_name("prs")) == ("فارسی", "دری")
    assert native_name("uk") == "Українська" and native_name("ka") == "ქართული"
    # Not Babel's display names, which change between versions ("کوردیی ناوەندی", "kurdî (kurmancî)")
    assert native_name("ckb") != babel_locale("ckb").get_display_name("ckb")


def test_direction_of_each_language() -> None:
    assert [c for c in SUPPORTED_LOCALES if is_rtl(c)] == ["ar", "fa", "prs", "ps", "ckb"]


def test_dari_is_formatted_as_the_persian_of_afghanistan() -> None:
    assert str(babel_locale("prs")) == "fa_AF"
    assert "مارچ" in fmt_date(date(2027, 3, 1), "prs")  # Afghan month name; Iran says "مارس"
    assert "مارس" in fmt_date(date(2027, 3, 1), "fa")
    assert get_plural("fa_AF").num_plurals == 2


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("de", "Montag, 29. März 2027, 09:30"),
        ("en", "Monday, March 29, 2027, 9:30\u202fAM"),
        ("tr", "29 Mart 2027 Pazartesi 09:30"),  # CLDR joins Turkish date and time without a comma
        ("fa", f"{RLM}{FSI}دوشنبه ۲۹ مارس ۲۰۲۷{PDI}، ساعت {RLM}{FSI}۹:۳۰{PDI}"),  # "{1}، ساعت {0}", Persian digits
        ("ar", f"{RLM}{FSI}الاثنين، 29 مارس 2027{PDI}، {RLM}{FSI}9:30 ص{PDI}"),  # Arabic comma, no Latin one
    ],
)
def test_date_and_time_joined_as_the_locale_joins_them(locale: str, expected: str) -> None:
    assert fmt_datetime(MOMENT, locale, BERLIN) == expected


def test_numbers_and_lists_in_the_locales_own_digits_and_separators() -> None:
    assert fmt_number(1234.5, "de") == "1.234,5"
    assert fmt_number(1234.5, "fa") == f"{RLM}{FSI}۱٬۲۳۴٫۵{PDI}"
    assert fmt_number(1234.5, "ckb") == f"{RLM}{FSI}١٬٢٣٤٫٥{PDI}"
    assert fmt_number(1234.5, "ar") == f"{RLM}{FSI}1,234.5{PDI}"  # CLDR's default for Arabic is Latin digits
    assert native_digits("K 31", "ps") == "K ۳۱" and native_digits("31", "ru") == "31"
    assert fmt_list(["A", "B", "C"], "de") == "A, B und C"
    assert fmt_list(["A", "B"], "ar") == f"{FSI}A{PDI} و{FSI}B{PDI}"


def test_catalogs_compile_into_fallback_when_source_is_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed package in a read-only site-packages (Docker, a system install) compiles elsewhere."""
    source = tmp_path / "locales"
    shutil.copytree(Path(__file__).resolve().parent.parent / "locales", source, ignore=shutil.ignore_patterns("*.mo"))
    real_compile = i18n._compile_all

    def read_only_source(pos: list[Path], src: Path, target: Path, domain: str = i18n.DOMAIN) -> None:
        if target == src:
            raise PermissionError(13, "Read-only file system")
        real_compile(pos, src, target, domain)

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

"""Right-to-left text as a reader sees it: the strings kimbot sends, laid out by the Unicode Bidirectional Algorithm
(UAX #9, python-bidi), then checked in their visual order – not how they were built.

`visual()` gives a line left to right as a screen shows it: python-bidi resolves the embedding levels, the line is
reordered (rule L2) and brackets at odd levels are mirrored (L4), as Telegram's clients do; the invisible
bidirectional controls are dropped. A right-to-left reader reads the result from its right end."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from bidi import get_base_level, get_display
from bidi.mirror import MIRRORED

from bot.core.county import County
from bot.core.county_text import CountyTexts
from bot.core.i18n import BIDI_CONTROLS, LRI, PDI, SUPPORTED_LOCALES, fmt_datetime, is_rtl, isolate
from bot.emulator.markup import html_to_text
from bot.services.dto import StaffDTO
from handlers import help as help_handler
from handlers.booking import views as booking_views
from tests.support import BERLIN, ROOT

RTL = [code for code in SUPPORTED_LOCALES if is_rtl(code)]
MOMENT = datetime(2027, 3, 29, 7, 30, tzinfo=UTC)  # 09:30 in Berlin
COMMAND = re.compile(r"(?<![\w/<])/[a-z_]+")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
STAFF = StaffDTO(id=1, telegram_id=10, display_name="Anna", role="admin", languages=("ar",), office_key=None)


def _levels(line: str) -> list[int]:
    """The resolved embedding level of each character (python-bidi reports one per UTF-8 byte)."""
    report = str(get_display(line, debug=True)).split("paragraphs:")[0]
    per_byte = [int(level) for level in re.findall(r"Level\(\s*(\d+),?\s*\)", report)]
    levels, offset = [], 0
    for char in line:
        levels.append(per_byte[offset])
        offset += len(char.encode())
    return levels


def visual(line: str, mirror: bool = True) -> str:
    """One line as displayed, left to right."""
    levels = _levels(line)
    chars = [MIRRORED.get(c, c) if mirror and level % 2 else c for c, level in zip(line, levels, strict=True)]
    order = list(range(len(chars)))
    odd_levels = [level for level in levels if level % 2]
    for level in range(max(levels, default=0), min(odd_levels, default=1) - 1, -1):  # rule L2
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return "".join(chars[k] for k in order if chars[k] not in BIDI_CONTROLS)


def rtl_base(line: str) -> bool:
    return get_base_level(line) == 1


def _catalog(locale: str) -> Catalog:
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh)


def _translations(locale: str) -> Iterator[tuple[str, str]]:
    """Each translated string as the chat shows it (Telegram HTML rendered to text)."""
    for message in _catalog(locale):
        if not message.id or not message.string:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for text in strings:
            if text:
                yield source, html_to_text(text)


@pytest.fixture
def in_locale(catalogs: I18n) -> Iterator[I18n]:
    with catalogs.context():
        yield catalogs


# ------------------------------------------------------------------ the helper itself


@pytest.mark.parametrize(
    "text",
    ["الموعد: 9:30 ص.", "استخدم /menu من فضلك", "تصريح (Aufenthaltstitel) 5", f"المكان: {LRI}Kreis 32{PDI}، هنا"],
)
def test_visual_order_agrees_with_python_bidi(text: str) -> None:
    shown = str(get_display(text))
    assert visual(text, mirror=False) == "".join(c for c in shown if c not in BIDI_CONTROLS)


# ------------------------------------------------------------------ times and dates


@pytest.mark.parametrize(("locale", "marker"), [("ar", "ص"), ("ckb", "ب.ن")])
def test_the_am_pm_marker_is_read_after_the_time(in_locale: I18n, locale: str, marker: str) -> None:
    with in_locale.use_locale(locale):
        when = in_locale.gettext("When: {when}").format(when=fmt_datetime(MOMENT, locale, BERLIN))
    shown = visual(when)
    digits = "9:30" if locale == "ar" else "٩:٣٠"
    # Read from the right: the time first, then its marker to the left of it.
    assert shown.index(marker[::-1]) < shown.index(digits), shown  # right-to-left words appear mirrored here
    assert rtl_base(when)


def test_the_old_left_to_right_isolate_put_the_marker_first() -> None:
    """What kimbot did before: an LRI around "9:30 ص" lays it out left to right – the test above would fail."""
    shown = visual(f"الموعد: {LRI}9:30 ص{PDI}")
    assert shown.index("ص") > shown.index("9:30")


@pytest.mark.parametrize("locale", RTL)
def test_date_and_time_are_joined_without_a_latin_comma(locale: str) -> None:
    when = fmt_datetime(MOMENT, locale, BERLIN)
    assert "," not in when.replace("\u200f", "") or locale in ("ckb", "ps")  # CLDR's own ckb/ps dates use ","
    assert rtl_base(when)


# ------------------------------------------------------------------ /commands, names, codes


@pytest.mark.parametrize("locale", RTL)
def test_commands_inside_right_to_left_sentences_stay_in_one_piece(locale: str) -> None:
    broken = []
    for source, text in _translations(locale):
        for line in text.split("\n"):
            shown = visual(line)
            broken += [(source[:40], command) for command in COMMAND.findall(line) if command not in shown]
    assert not broken, f"{locale}: {len(broken)} /commands read backwards, e.g. {broken[:3]}"


@pytest.mark.parametrize("locale", RTL)
def test_every_right_to_left_line_is_laid_out_right_to_left(locale: str) -> None:
    """Lines beginning with a Latin /command, with "kimbot" or with a name (a placeholder filled with Latin letters,
    the worst case) flip to left-to-right unless marked."""
    flipped = [
        line
        for _source, text in _translations(locale)
        for line in PLACEHOLDER.sub("Anna", text).split("\n")
        if re.search(r"[^\W\d_]", line) and re.search(r"[\u0600-\u06ff]", line) and not rtl_base(line)
    ]
    assert not flipped, f"{locale}: {len(flipped)} lines laid out left to right, e.g. {flipped[:3]}"


def test_sorani_lines_starting_with_kimbot_read_right_to_left() -> None:
    lines = [text for _source, text in _translations("ckb") if text.lstrip("".join(BIDI_CONTROLS)).startswith("kimbot")]
    assert lines  # "kimbot دەتوانێت…", "kimbot دەقی…"
    for text in lines:
        assert rtl_base(text), text
        assert visual(text).rstrip().endswith("kimbot")  # the first word, at the right end


@pytest.mark.parametrize("locale", RTL)
def test_german_terms_in_brackets_keep_their_brackets(locale: str) -> None:
    for source, text in _translations(locale):
        for term in re.findall(r"\(([A-ZÄÖÜ][a-zäöüß]+)\)", source):
            if f"({term})" in text:
                assert f"({term})" in visual(text), (source, visual(text))


def test_the_article_of_the_gdpr_is_not_scrambled(in_locale: I18n) -> None:
    with in_locale.use_locale("ar"):
        text = in_locale.gettext(
            "Legal basis: a public task (Art. 6(1)(e) GDPR, Participation and Integration Act NRW)."
        )
    assert "Art. 6(1)(e) GDPR" in visual(text)


def test_a_german_term_first_on_an_arabic_button_is_read_first(in_locale: I18n) -> None:
    with in_locale.use_locale("ar"):
        label = in_locale.gettext("Duldung (toleration)")
    assert rtl_base(label) and visual(label).endswith("Duldung")


def test_an_office_and_its_address_keep_their_order(
    in_locale: I18n, example_county: County, county_texts: CountyTexts
) -> None:
    office = example_county.office("ki")
    assert office is not None
    with in_locale.use_locale("ar"):
        line = in_locale.gettext("Where: {place}").format(
            place=booking_views.place(example_county, "ki", "ar", county_texts)
        )
    shown = visual(line)
    assert office.name in shown and office.address in shown
    assert shown.index(office.address) < shown.index(office.name)  # the name is read first, from the right
    # Without isolation the two Latin fragments merge into one left-to-right run, name first from the left.
    merged = visual(f"المكان: {office.name}، {office.address}")
    assert merged.index(office.name) < merged.index(office.address)


@pytest.mark.parametrize("fragment", ["+49 2251 15-0", "K-4F7Q2", "Jülicher Ring 32, 53879 Euskirchen"])
def test_isolated_codes_and_numbers_stay_in_order(fragment: str) -> None:
    assert fragment in visual(f"اتصل على {isolate(fragment, 'ar')} من فضلك")
    assert isolate(fragment, "de") == fragment


def test_a_phone_number_without_isolation_is_scrambled() -> None:
    assert "+49 2251 15-0" not in visual("اتصل على +49 2251 15-0 من فضلك")


# ------------------------------------------------------------------ /help


@pytest.mark.parametrize("locale", RTL)
@pytest.mark.parametrize("staff", [None, STAFF])
def test_help_is_laid_out_right_to_left(in_locale: I18n, locale: str, staff: StaffDTO | None) -> None:
    with in_locale.use_locale(locale):
        text = help_handler.help_text(staff, locale)
    lines = [line for line in text.split("\n") if line]
    assert len(lines) >= 6
    assert all(rtl_base(line) for line in lines), [line for line in lines if not rtl_base(line)]
    for line in lines:
        for command in COMMAND.findall(line):
            assert command in visual(line)


def test_help_in_german_has_no_bidirectional_marks(in_locale: I18n) -> None:
    with in_locale.use_locale("de"):
        text = help_handler.help_text(None, "de")
    assert not set(text) & BIDI_CONTROLS

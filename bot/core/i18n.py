"""Languages: which ones kimbot speaks and under which name, how Telegram's language codes map onto them, where
the compiled catalogs live, and locale-aware formatting (Babel/CLDR) including right-to-left isolation.

Services use this module without aiogram; handlers reach the same catalogs through aiogram's `I18n`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from functools import cache
from importlib import resources
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_time, get_datetime_format
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

DOMAIN = "messages"
DEFAULT_LOCALE = "en"
OFFICE_LOCALE = "de"

# Order shown on the language keyboard: the county's most frequent client languages first.
SUPPORTED_LOCALES: tuple[str, ...] = (
    "ar",
    "uk",
    "fa",
    "prs",
    "ps",
    "ru",
    "tr",
    "ku",
    "ckb",
    "ti",
    "so",
    "sq",
    "ro",
    "bg",
    "pl",
    "ka",
    "es",
    "fr",
    "en",
    "de",
)

# Each language's name in itself, as its speakers expect to find it on the language keyboard (reviewed by hand;
# Babel's display names change between versions and say "Central Kurdish" where speakers look for "Sorani").
NATIVE_NAMES: dict[str, str] = {
    "ar": "العربية",
    "uk": "Українська",
    "fa": "فارسی",
    "prs": "دری",
    "ps": "پښتو",
    "ru": "Русский",
    "tr": "Türkçe",
    "ku": "Kurdî (Kurmancî)",
    "ckb": "کوردی (سۆرانی)",
    "ti": "ትግርኛ",
    "so": "Soomaali",
    "sq": "Shqip",
    "ro": "Română",
    "bg": "Български",
    "pl": "Polski",
    "ka": "ქართული",
    "es": "Español",
    "fr": "Français",
    "en": "English",
    "de": "Deutsch",
}

# Telegram sends IETF tags (`language_code`); some need mapping onto our catalogs.
_ALIASES = {
    "fa-af": "prs",  # Persian as spoken in Afghanistan is Dari
    "kmr": "ku",  # Kurmanji
    "ku-latn": "ku",
    "ku-arab": "ckb",
    "sdh": "ckb",
    "pbu": "ps",
    "pbt": "ps",
    "som": "so",
    "tir": "ti",
    "ukr": "uk",
    "als": "sq",  # Tosk Albanian
    "aln": "sq",  # Gheg Albanian
    "mo": "ro",  # Moldovan (deprecated tag)
}

# Catalogs whose language Babel (CLDR) has no locale for: formatted as the closest CLDR locale.
# Dari: CLDR's Persian of Afghanistan (Afghan month names such as "حمل" are not in CLDR; it has "مارچ" etc.).
_FORMAT_LOCALES = {"prs": "fa_AF"}

# Unicode bidirectional controls (UAX #9). An isolate keeps a fragment (a time, a code, a Latin name) in one
# piece inside text of the other direction; first-strong (FSI) lets the fragment's own first letter decide, so
# "9:30 ص" stays right-to-left with its am/pm marker after the time while "K-4F7Q2" stays left-to-right.
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
LRM, RLM = "\u200e", "\u200f"
BIDI_CONTROLS = frozenset((LRI, RLI, FSI, PDI, LRM, RLM))

# Digits of CLDR's numbering systems other than Latin that our languages use by default.
_DIGITS = {"arab": "٠١٢٣٤٥٦٧٨٩", "arabext": "۰۱۲۳۴۵۶۷۸۹"}


def N_(message: str) -> str:
    """Mark a string for extraction where it is translated later (`pybabel extract -k N_`)."""
    return message


def map_language_code(code: str | None) -> str | None:
    """Map Telegram's `language_code` to a supported locale, or None if we do not speak it."""
    if not code:
        return None
    tag = code.strip().lower().replace("_", "-")
    if tag in _ALIASES:
        return _ALIASES[tag]
    if tag in SUPPORTED_LOCALES:
        return tag
    base = tag.split("-", 1)[0]
    mapped = _ALIASES.get(base, base)
    return mapped if mapped in SUPPORTED_LOCALES else None


@cache
def babel_locale(locale: str) -> Locale:
    """The CLDR locale that formats dates, numbers and plurals for one of our catalogs."""
    return Locale.parse(_FORMAT_LOCALES.get(locale, locale))


def is_rtl(locale: str) -> bool:
    return babel_locale(locale).character_order == "right-to-left"


def native_name(locale: str) -> str:
    """The language's name in itself, e.g. 'العربية', 'Українська', 'دری'."""
    return NATIVE_NAMES.get(locale) or locale


def isolate(fragment: str, locale: str) -> str:
    """Keep a fragment in one piece inside right-to-left text: a time, a date, a number, a reference code, a
    phone number, an office name or address. First-strong, so the fragment keeps its own direction."""
    return f"{FSI}{fragment}{PDI}" if fragment and is_rtl(locale) else fragment


def rtl_lines(text: str, locale: str) -> str:
    """Start every line with a right-to-left mark in a right-to-left language, so that a line that begins with a
    Latin /command or name ("/start – …", "kimbot …") is still laid out right-to-left (UAX #9, P2-P3)."""
    if not is_rtl(locale):
        return text
    return "\n".join(f"{RLM}{line}" if line else line for line in text.split("\n"))


def native_digits(text: str, locale: str) -> str:
    """Write digits as the locale writes them by default (CLDR): Persian digits for fa, prs and ps, Arabic-Indic
    for ckb; Latin for the rest (CLDR's default for ar is Latin too). Babel itself only formats Latin digits."""
    digits = _DIGITS.get(babel_locale(locale).default_numbering_system)
    return text.translate(str.maketrans("0123456789", digits)) if digits else text


def _local(text: str, locale: str) -> str:
    """A formatted value in the locale's digits; in right-to-left text isolated, after a right-to-left mark so
    that it is laid out right-to-left even alone on a line or a button ("9:30 ص" reads time first)."""
    value = isolate(native_digits(text, locale), locale)
    return f"{RLM}{value}" if is_rtl(locale) else value


def fmt_date(value: date, locale: str, fmt: str = "full") -> str:
    return _local(format_date(value, format=fmt, locale=babel_locale(locale)), locale)


def fmt_time(value: datetime, locale: str, tz: tzinfo) -> str:
    return _local(format_time(value, format="short", tzinfo=tz, locale=babel_locale(locale)), locale)


def fmt_datetime(value: datetime, locale: str, tz: tzinfo) -> str:
    """Date in words and the time, joined as the locale joins them (CLDR: "{1}، ساعت {0}", "{1}, {0}")."""
    local = value.astimezone(tz)
    pattern = str(get_datetime_format("full", locale=babel_locale(locale))).replace("'", "")
    return pattern.replace("{1}", fmt_date(local.date(), locale)).replace("{0}", fmt_time(value, locale, tz))


def fmt_number(value: float | int, locale: str) -> str:
    """With the locale's own digits and separators ("۱٬۲۳۴٫۵" in Persian, "1.234,5" in German)."""
    return _local(format_decimal(value, locale=babel_locale(locale), numbering_system="default"), locale)


def fmt_list(items: Iterable[str], locale: str) -> str:
    """A list with the locale's own separators ("A, B and C", "A وB وC", "A، B، او C"); items isolated in RTL text."""
    return format_list([isolate(item, locale) for item in items], locale=babel_locale(locale))


def source_catalog_dir() -> Path:
    """Where the `.po` files are: the repository's `locales/`, installed as the `kimbot_locales` package."""
    return Path(str(resources.files("kimbot_locales")))


def _stale(po: Path, mo: Path) -> bool:
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


def ensure_compiled(source: Path, fallback: Path, domain: str = DOMAIN) -> Path:
    """Return a directory with up-to-date `.mo` files for every `.po` of `domain` in `source`.

    Compiles next to the `.po` files when that directory is writable (a checkout, an editable install);
    otherwise (a read-only site-packages, a Docker image) into `fallback`.
    """
    pos = sorted(source.glob(f"*/LC_MESSAGES/{domain}.po"))
    if not pos:
        raise RuntimeError(f"no translation catalogs found in {source}")
    if not any(_stale(po, po.with_suffix(".mo")) for po in pos):
        return source
    try:
        _compile_all(pos, source, source, domain)
        return source
    except OSError:
        _compile_all(pos, source, fallback, domain)
        return fallback


def _compile_all(pos: Iterable[Path], source: Path, target: Path, domain: str = DOMAIN) -> None:
    for po in pos:
        mo = target / po.relative_to(source).with_suffix(".mo")
        if target != source or _stale(po, mo):
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=po.parts[-3], domain=domain)
            tmp = mo.with_suffix(".mo.tmp")
            with tmp.open("wb") as fh:
                write_mo(fh, catalog)
            tmp.replace(mo)

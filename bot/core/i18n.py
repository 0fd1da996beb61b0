"""Languages: which ones kimbot speaks, how Telegram's language codes map onto them, where the compiled
catalogs live, and locale-aware formatting (Babel) including right-to-left isolation.

Services use this module without aiogram; handlers reach the same catalogs through aiogram's `I18n`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from functools import cache
from importlib import resources
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_time
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
    "ps",
    "ru",
    "tr",
    "ku",
    "ckb",
    "ti",
    "so",
    "fr",
    "en",
    "de",
)

# Telegram sends IETF tags (`language_code`); some need mapping onto our catalogs.
_ALIASES = {
    "prs": "fa",  # Dari is written with the Persian catalog
    "fa-af": "fa",
    "kmr": "ku",  # Kurmanji
    "ku-latn": "ku",
    "ku-arab": "ckb",
    "sdh": "ckb",
    "pbu": "ps",
    "pbt": "ps",
    "som": "so",
    "tir": "ti",
    "ukr": "uk",
}

# Unicode isolates (UAX #9): keep left-to-right fragments (times, numbers, phone numbers) in order
# inside right-to-left text.
LRI, PDI = "\u2066", "\u2069"


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
    return Locale.parse(locale)


def is_rtl(locale: str) -> bool:
    return babel_locale(locale).character_order == "right-to-left"


def native_name(locale: str) -> str:
    """The language's name in itself, e.g. 'العربية', 'українська'."""
    name = babel_locale(locale).get_display_name(locale) or locale
    return name[:1].upper() + name[1:]


def ltr(fragment: str, locale: str) -> str:
    """Isolate a left-to-right fragment when the surrounding text is right-to-left."""
    return f"{LRI}{fragment}{PDI}" if is_rtl(locale) else fragment


def fmt_date(value: date, locale: str, fmt: str = "full") -> str:
    return format_date(value, format=fmt, locale=babel_locale(locale))


def fmt_time(value: datetime, locale: str, tz: tzinfo) -> str:
    return ltr(format_time(value, format="short", tzinfo=tz, locale=babel_locale(locale)), locale)


def fmt_datetime(value: datetime, locale: str, tz: tzinfo) -> str:
    """Date in words, time isolated so it keeps its order in right-to-left text."""
    local = value.astimezone(tz)
    return f"{fmt_date(local.date(), locale)}, {fmt_time(value, locale, tz)}"


def fmt_number(value: float | int, locale: str) -> str:
    return ltr(format_decimal(value, locale=babel_locale(locale)), locale)


def source_catalog_dir() -> Path:
    """Where the `.po` files are: the repository's `locales/`, installed as the `kimbot_locales` package."""
    return Path(str(resources.files("kimbot_locales")))


def _stale(po: Path, mo: Path) -> bool:
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


def ensure_compiled(source: Path, fallback: Path) -> Path:
    """Return a directory with up-to-date `.mo` files for every `.po` in `source`.

    Compiles next to the `.po` files when that directory is writable (a checkout, an editable install);
    otherwise (a read-only site-packages, a Docker image) into `fallback`.
    """
    pos = sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    if not pos:
        raise RuntimeError(f"no translation catalogs found in {source}")
    if not any(_stale(po, po.with_suffix(".mo")) for po in pos):
        return source
    try:
        _compile_all(pos, source, source)
        return source
    except OSError:
        _compile_all(pos, source, fallback)
        return fallback


def _compile_all(pos: Iterable[Path], source: Path, target: Path) -> None:
    for po in pos:
        mo = target / po.relative_to(source).with_suffix(".mo")
        if target != source or _stale(po, mo):
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=po.parts[-3], domain=DOMAIN)
            tmp = mo.with_suffix(".mo.tmp")
            with tmp.open("wb") as fh:
                write_mo(fh, catalog)
            tmp.replace(mo)

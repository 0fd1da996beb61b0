"""The county file (TOML): municipalities, offices, services and staff, validated by pydantic."""

from __future__ import annotations

import re
import string
import tomllib
from datetime import time
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeRange(_Strict):
    start: time
    end: time


def parse_ranges(value: str) -> tuple[TimeRange, ...]:
    """Parse '08:30-12:00, 13:00-15:30' into ordered, non-overlapping ranges."""
    ranges: list[TimeRange] = []
    for part in (p.strip() for p in value.split(",") if p.strip()):
        match = _RANGE.match(part)
        if not match:
            raise ValueError(f"{part!r} is not a time range like 08:30-12:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = time(h1, m1), time(h2, m2)
        if end <= start:
            raise ValueError(f"{part!r} ends before it starts")
        if ranges and start < ranges[-1].end:
            raise ValueError(f"{part!r} overlaps the range before it")
        ranges.append(TimeRange(start=start, end=end))
    return tuple(ranges)


class Municipality(_Strict):
    key: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: str


def _parse_week(value: object) -> object:
    """{'mon': '08:30-12:00, 13:00-16:00', ...} -> {'mon': (TimeRange, TimeRange), ...}."""
    if not isinstance(value, dict):
        return value
    parsed: dict[str, tuple[TimeRange, ...]] = {}
    for day, spec in value.items():
        if day not in WEEKDAYS:
            raise ValueError(f"{day!r} is not one of {', '.join(WEEKDAYS)}")
        parsed[day] = parse_ranges(spec) if isinstance(spec, str) else spec
    return parsed


class Office(_Strict):
    key: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: str
    address: str
    municipality: str
    phone: str | None = None
    opening_hours: dict[str, tuple[TimeRange, ...]] = Field(default_factory=dict)
    # Client-facing texts, in German, translated through the `county` catalogs (bot/core/county_text.py); the
    # name and the address are proper names and stay as they are.
    kind: str | None = Field(default=None, description="what the office is, e.g. 'Ausländerbehörde'")
    directions: str | None = Field(default=None, description="how to find the way in, e.g. 'Eingang B, 2. Etage'")

    @field_validator("opening_hours", mode="before")
    @classmethod
    def _parse_hours(cls, value: object) -> object:
        return _parse_week(value)


def _german_text(value: object, info: ValidationInfo) -> object:
    """Texts are German (translations: the `county` catalogs). An older `{ de = "…", en = "…" }` still loads as
    its German; `kimbot check-config` says how to move the rest into catalogs."""
    if not isinstance(value, dict):
        return value
    if "de" not in value:
        raise ValueError(f"needs its German text ({info.field_name}.de); translations go into the county catalogs")
    return value["de"]


# How an appointment takes place: at the office (or at home), by video, by phone.
Mode = Literal["in_person", "video", "phone"]


class Service(_Strict):
    key: str = Field(pattern=r"^[a-z0-9_-]+$")
    # German; translated through the `county` catalogs (bot/core/county_text.py).
    name: str = Field(min_length=1, description="the service's name in German (also its button)")
    duration_minutes: int = Field(gt=0, le=480)
    offices: tuple[str, ...] = ()
    home_visit: bool = False
    staff: tuple[int, ...] = ()
    documents: str = Field(default="", description="what to bring, in German, e.g. 'Pass, Meldebescheinigung'")
    description: str = Field(default="", description="one line in German under the name in the list of services")
    buffer_before_minutes: int = Field(default=0, ge=0, le=240)
    buffer_after_minutes: int = Field(default=0, ge=0, le=240)
    # Home visits: time to drive between two visits, kept free before and after each one.
    travel_minutes: int = Field(default=30, ge=0, le=240)
    min_notice_hours: float = Field(default=2, ge=0, le=24 * 14)
    horizon_weeks: int = Field(default=8, ge=1, le=52)
    reminder_hours: tuple[int, ...] = (24, 2)
    # How it can take place (bot.services.remote_appointments), and whether an interpreter may be booked with it
    # for a client whose language the staff member does not speak (bot.services.interpreters).
    modes: tuple[Mode, ...] = ("in_person",)
    interpreter: bool = False
    # Urgency (bot.services.urgency): the document types whose expiry orders the waitlist, and a share of slots
    # kept for documents expiring within `urgent_within_days`, open to everyone `urgent_release_days` ahead.
    expiry_documents: tuple[str, ...] = ()
    urgent_share: float = Field(default=0, ge=0, le=1)
    urgent_within_days: int = Field(default=30, ge=1, le=365)
    urgent_release_days: int = Field(default=2, ge=0, le=60)

    @field_validator("name", "description", "documents", mode="before")
    @classmethod
    def _german(cls, value: object, info: ValidationInfo) -> object:
        return _german_text(value, info)


class Interpreter(_Strict):
    """An interpreter the county books along with an appointment (bot.services.interpreters): languages, where
    they go in person (empty: everywhere), weekly availability, notice in working days, and how they work."""

    key: str = Field(pattern=r"^[a-z0-9_-]+$")
    display_name: str
    telegram_id: int | None = Field(default=None, gt=0, description="numeric id; without it staff pass it on")
    contact: str | None = Field(default=None, description="phone or e-mail, for staff passing a booking on")
    languages: tuple[str, ...] = Field(min_length=1)
    municipalities: tuple[str, ...] = ()
    availability: dict[str, tuple[TimeRange, ...]] = Field(default_factory=dict)
    min_notice_working_days: int = Field(default=0, ge=0, le=60)
    modes: tuple[Mode, ...] = ("in_person",)

    @field_validator("availability", mode="before")
    @classmethod
    def _parse_hours(cls, value: object) -> object:
        return _parse_week(value)


class OutreachDay(_Strict):
    """A weekday on which a case manager drives out for home visits to the listed municipalities."""

    weekday: str
    municipalities: tuple[str, ...]
    hours: tuple[TimeRange, ...]
    # Shown to a client booking a home visit on this day, in German (translated like the services).
    note: str | None = None

    @field_validator("weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        if value not in WEEKDAYS:
            raise ValueError(f"{value!r} is not one of {', '.join(WEEKDAYS)}")
        return value

    @field_validator("hours", mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        return parse_ranges(value) if isinstance(value, str) else value


class StaffMember(_Strict):
    telegram_id: int = Field(gt=0, description="numeric Telegram user id, never a @username")
    display_name: str
    role: Literal["case_manager", "admin"]
    languages: tuple[str, ...] = ("de",)
    office: str | None = None
    # Weekly working hours (breaks are the gaps); without them the office's opening hours apply.
    hours: dict[str, tuple[TimeRange, ...]] = Field(default_factory=dict)
    outreach: tuple[OutreachDay, ...] = ()
    # Who answers this person's clients while they are /away (numeric Telegram id of another staff member).
    deputy: int | None = None

    @field_validator("hours", mode="before")
    @classmethod
    def _parse_hours(cls, value: object) -> object:
        return _parse_week(value)


# The case facts a reply template may name (filled by bot.services.reply_templates).
REPLY_PLACEHOLDERS = ("next_appointment", "office", "documents_to_bring", "case_manager")


class ReplyTemplate(_Strict):
    """A saved reply staff send with /t NAME: its German text; the approved translations come from the `county`
    gettext domain (msgid = this text)."""

    name: str = Field(pattern=r"^[a-z0-9_-]{1,24}$")
    text: str = Field(min_length=1, max_length=3000)

    @field_validator("text")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        names = {field for _, field, _, _ in string.Formatter().parse(value) if field is not None}
        unknown = names - set(REPLY_PLACEHOLDERS)
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; use {', '.join(REPLY_PLACEHOLDERS)}")
        return value


class County(_Strict):
    name: str
    # Shown in the privacy notice (GDPR Art. 13(1)(b)): how to reach the data protection officer, e.g. an address.
    privacy_contact: str | None = None
    timezone: str = "Europe/Berlin"
    municipalities: tuple[Municipality, ...]
    offices: tuple[Office, ...]
    services: tuple[Service, ...]
    staff: tuple[StaffMember, ...] = ()
    reply_templates: tuple[ReplyTemplate, ...] = ()
    # A client message without a staff answer after this many working hours reminds the case manager; after
    # twice as many, their deputy or the admins (bot.services.escalation).
    escalation_hours: float = Field(default=24, gt=0, le=24 * 30)
    interpreters: tuple[Interpreter, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> County:
        towns = {m.key for m in self.municipalities}
        offices = {o.key for o in self.offices}
        staff_ids = [s.telegram_id for s in self.staff]
        problems: list[str] = []
        for kind, keys in (
            ("municipality", [m.key for m in self.municipalities]),
            ("office", [o.key for o in self.offices]),
            ("service", [s.key for s in self.services]),
        ):
            if len(keys) != len(set(keys)):
                problems.append(f"two {kind} entries share a key")
        if len(staff_ids) != len(set(staff_ids)):
            problems.append("two staff entries share a telegram_id")
        templates = [t.name for t in self.reply_templates]
        if len(templates) != len(set(templates)):
            problems.append("two reply templates share a name")
        if len({i.key for i in self.interpreters}) != len(self.interpreters):
            problems.append("two interpreters share a key")
        for interpreter in self.interpreters:
            for town in interpreter.municipalities:
                if town not in towns:
                    problems.append(f"interpreter {interpreter.key!r}: unknown municipality {town!r}")
        for office in self.offices:
            if office.municipality not in towns:
                problems.append(f"office {office.key!r}: unknown municipality {office.municipality!r}")
        for service in self.services:
            for key in service.offices:
                if key not in offices:
                    problems.append(f"service {service.key!r}: unknown office {key!r}")
            for staff_id in service.staff:
                if staff_id not in staff_ids:
                    problems.append(f"service {service.key!r}: unknown staff id {staff_id}")
            if not service.offices and not service.home_visit:
                problems.append(f"service {service.key!r}: needs offices or home_visit = true")
        for member in self.staff:
            if member.office is not None and member.office not in offices:
                problems.append(f"staff {member.telegram_id}: unknown office {member.office!r}")
            for day in member.outreach:
                for town in day.municipalities:
                    if town not in towns:
                        problems.append(f"staff {member.telegram_id}: outreach to unknown municipality {town!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def municipality(self, key: str) -> Municipality | None:
        return next((m for m in self.municipalities if m.key == key), None)

    def office(self, key: str) -> Office | None:
        return next((o for o in self.offices if o.key == key), None)

    def service(self, key: str) -> Service | None:
        return next((s for s in self.services if s.key == key), None)

    def staff_member(self, telegram_id: int) -> StaffMember | None:
        return next((s for s in self.staff if s.telegram_id == telegram_id), None)

    def interpreter(self, key: str) -> Interpreter | None:
        return next((i for i in self.interpreters if i.key == key), None)

    def reply_template(self, name: str) -> ReplyTemplate | None:
        return next((t for t in self.reply_templates if t.name == name), None)


class CountyFileError(Exception):
    """The county file is missing or invalid; the message is meant for a person."""


def example_county_path() -> Path:
    return Path(str(resources.files("bot") / "data" / "county.example.toml"))


def load_county(path: Path | None) -> County:
    """Load and validate a county file; `None` loads the shipped example (Kreis Euskirchen)."""
    source = path or example_county_path()
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CountyFileError(f"county file not found: {source}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CountyFileError(f"{source} is not valid TOML: {exc}") from exc
    try:
        return County.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{source} has {exc.error_count()} problem(s):"]
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "(file)"
            lines.append(f"  - {where}: {error['msg']}")
        raise CountyFileError("\n".join(lines)) from exc

"""How an appointment takes place when it is not simply at the office: by video (a join link to the county's video
service, the same room for client, staff member and interpreter) or by phone (the number the client wants to be
called on), plus the series it belongs to – kept in `appointment_details` next to the appointment.

The room name comes from `secrets` (unguessable); the link is built from the VIDEO_URL_PATTERN setting and, when
the video server wants one, carries a JWT signed with VIDEO_JWT_SECRET (PyJWT) for that room only. The phone
number is personal data: exported and erased with the client (bot/services/privacy.py), forgotten when the
appointment is cancelled or over.

`arrange` is what `booking.book` calls inside its savepoint, so the interpreter's time, the link and the number are
taken together with the staff member's time or not at all.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.county import Service
from bot.db.base import utcnow
from bot.db.models_booking import Appointment
from bot.db.models_interpreters import AppointmentDetails
from bot.services import interpreters
from bot.services.availability import Slot
from bot.services.interpreters import Need

IN_PERSON, VIDEO, PHONE = "in_person", "video", "phone"
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()/.-]{6,24}$")
JWT_SLACK = timedelta(hours=1)  # the token is valid from an hour before the start to an hour after the end


@dataclass(frozen=True, slots=True)
class VideoService:
    """The county's video service: the URL pattern and, for servers that want one, the JWT secret."""

    pattern: str
    jwt_secret: str | None = None
    jwt_app_id: str = "kimbot"

    def link(self, room: str, starts_at: datetime, ends_at: datetime) -> str:
        token = self.token(room, starts_at, ends_at) if self.jwt_secret else ""
        url = self.pattern.format(room=room, jwt=token)
        if token and "{jwt}" not in self.pattern:
            url += ("&" if "?" in url else "?") + f"jwt={token}"
        return url

    def token(self, room: str, starts_at: datetime, ends_at: datetime) -> str:
        """A JWT as Jitsi's token authentication reads it: issuer, audience, the room, valid around the time."""
        claims = {
            "iss": self.jwt_app_id,
            "aud": "jitsi",
            "sub": "*",
            "room": room,
            "nbf": int((starts_at - JWT_SLACK).timestamp()),
            "exp": int((ends_at + JWT_SLACK).timestamp()),
        }
        return jwt.encode(claims, self.jwt_secret or "", algorithm="HS256")


def video_service(settings: Settings) -> VideoService | None:
    """The configured video service; None (no video appointments) without VIDEO_URL_PATTERN."""
    if not settings.video_url_pattern:
        return None
    secret = settings.video_jwt_secret.get_secret_value() if settings.video_jwt_secret else None
    return VideoService(settings.video_url_pattern, secret, settings.video_jwt_app_id)


def new_room() -> str:
    return f"kimbot-{secrets.token_hex(16)}"


def modes_offered(service: Service, video: VideoService | None) -> tuple[str, ...]:
    """The service's modes this installation can offer: video only with a video service configured."""
    return tuple(m for m in service.modes if m != VIDEO or video is not None)


def clean_phone(text: str) -> str | None:
    """The number as typed, tidied, if it looks like one (6–15 digits, an optional leading +); else None."""
    value = " ".join(text.split())
    digits = re.sub(r"\D", "", value)
    if not _PHONE_CHARS.match(value) or not 6 <= len(digits) <= 15:
        return None
    return value


@dataclass(frozen=True, slots=True)
class Arrangement:
    """How a booking takes place beyond the slot: its mode, the client's number (phone), the interpreter it needs
    and the series it is part of."""

    mode: str = IN_PERSON
    phone: str | None = None
    interpreter: Need | None = None
    video: VideoService | None = None
    series_id: int | None = None


@dataclass(frozen=True, slots=True)
class Details:
    mode: str
    video_url: str | None
    phone: str | None
    series_id: int | None


async def arrange(session: AsyncSession, row: Appointment, slot: Slot, arrangement: Arrangement) -> None:
    """Take the interpreter and store the details of the new appointment (inside the booking's savepoint);
    InterpreterTaken (or the constraint's IntegrityError) when the interpreter is gone."""
    if arrangement.interpreter is not None:
        await interpreters.assign(session, arrangement.interpreter, row, slot)
    if arrangement.mode == IN_PERSON and arrangement.series_id is None:
        return
    room = new_room() if arrangement.mode == VIDEO and arrangement.video is not None else None
    session.add(
        AppointmentDetails(
            appointment_id=row.id,
            client_id=row.client_id,
            mode=arrangement.mode,
            video_room=room,
            video_url=arrangement.video.link(room, row.starts_at, row.ends_at) if room and arrangement.video else None,
            phone=arrangement.phone if arrangement.mode == PHONE else None,
            series_id=arrangement.series_id,
        )
    )
    await session.flush()


async def moved(session: AsyncSession, appointment_id: int, video: VideoService | None) -> None:
    """A video appointment moved: the same room, its token signed for the new time."""
    row = await session.get(AppointmentDetails, appointment_id)
    appointment = await session.get(Appointment, appointment_id)
    if row is None or appointment is None or row.video_room is None or video is None:
        return
    row.video_url = video.link(row.video_room, appointment.starts_at, appointment.ends_at)
    await session.flush()


async def details(session: AsyncSession, appointment_id: int) -> Details | None:
    row = await session.get(AppointmentDetails, appointment_id)
    return Details(row.mode, row.video_url, row.phone, row.series_id) if row is not None else None


async def draft_data(session: AsyncSession, appointment_id: int) -> dict[str, object]:
    """What the booking conversation needs to move the appointment like it was booked: mode, number, interpreter."""
    found = await details(session, appointment_id)
    data: dict[str, object] = {}
    if found is not None and found.mode != IN_PERSON:
        data |= {"mode": found.mode, "phone": found.phone}
    data["interp"] = 1 if await interpreters.active_for(session, appointment_id) is not None else 0
    return data


async def on_cancelled(session: AsyncSession, appointment_id: int) -> None:
    """The number to call is not needed any more."""
    await session.execute(
        update(AppointmentDetails).where(AppointmentDetails.appointment_id == appointment_id).values(phone=None)
    )


async def forget_past(session: AsyncSession) -> int:
    """Numbers to call are kept only as long as the appointment (retention job, with the home addresses)."""
    ended = select(Appointment.id).where(Appointment.ends_at < utcnow()).scalar_subquery()
    result = await session.execute(
        update(AppointmentDetails)
        .where(AppointmentDetails.phone.is_not(None), AppointmentDetails.appointment_id.in_(ended))
        .values(phone=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

"""Video appointment links: an unguessable room in the county's URL pattern, and a JWT for that room only."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest

from bot.services.remote_appointments import JWT_SLACK, VideoService

SECRET = "a-secret-of-at-least-32-bytes-for-hs256"
START, END = datetime(2027, 3, 8, 9, 0, tzinfo=UTC), datetime(2027, 3, 8, 9, 45, tzinfo=UTC)


def test_a_link_without_secret_has_no_token() -> None:
    service = VideoService("https://video.example.org/{room}")
    assert service.link("kim-room-1", START, END) == "https://video.example.org/kim-room-1"


def test_the_token_opens_exactly_this_room_around_the_appointment() -> None:
    service = VideoService("https://video.example.org/{room}", jwt_secret=SECRET, jwt_app_id="kreis-eu")
    url = service.link("kim-room-1", START, END)
    assert url.startswith("https://video.example.org/kim-room-1?jwt=")
    token = url.split("jwt=", 1)[1]
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", options={"verify_nbf": False})
    assert claims["room"] == "kim-room-1" and claims["iss"] == "kreis-eu"
    assert claims["nbf"] == int((START - JWT_SLACK).timestamp())
    assert claims["exp"] == int((END + JWT_SLACK).timestamp())
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, SECRET[::-1], algorithms=["HS256"], audience="jitsi")


def test_a_pattern_with_a_jwt_placeholder_gets_the_token_there() -> None:
    service = VideoService("https://video.example.org/{room}?lang=de&jwt={jwt}", jwt_secret=SECRET)
    url = service.link("r", START, END)
    assert url.count("jwt=") == 1 and url.startswith("https://video.example.org/r?lang=de&jwt=ey")

"""Settings, read from the environment and `.env` (pydantic-settings).

Nothing reads settings at import time: the composition root calls `load_settings()` once.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

OFFICIAL_API_URL = "https://api.telegram.org"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/kimbot.db"

# Values people paste from examples; a bot must never start with one of them.
_PLACEHOLDERS = {"changeme", "change-me", "your-token", "your_token", "token", "xxx", "secret", "placeholder"}
_TOKEN_SHAPE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")


class Settings(BaseSettings):
    """Every setting kimbot understands; the names are the environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = Field(default=None, alias="BOT_TOKEN")
    telegram_api_url: str = Field(default=OFFICIAL_API_URL, alias="TELEGRAM_API_URL")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    staff_chat_id: int | None = Field(default=None, alias="STAFF_CHAT_ID")
    county_file: Path | None = Field(default=None, alias="KIMBOT_COUNTY")
    timezone: str = Field(default="Europe/Berlin", alias="TIMEZONE")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", alias="LOG_LEVEL")
    log_format: Literal["text", "json"] = Field(default="text", alias="LOG_FORMAT")
    waitlist_hold_minutes: int = Field(default=15, ge=1, le=24 * 60, alias="WAITLIST_HOLD_MINUTES")
    retention_months: int = Field(default=12, ge=1, le=120, alias="RETENTION_MONTHS")
    data_dir: Path = Field(default=Path("var"), alias="KIMBOT_DATA_DIR")
    webhook_url: str | None = Field(default=None, alias="WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, alias="WEBHOOK_SECRET")
    http_host: str = Field(default="127.0.0.1", alias="HTTP_HOST")
    http_port: int = Field(default=8080, ge=0, le=65535, alias="HTTP_PORT")
    polling_timeout: int = Field(default=25, ge=0, le=50, alias="POLLING_TIMEOUT")
    # The offline demo (`kimbot demo`, or `kimbot run` without BOT_TOKEN): port of its web page on 127.0.0.1.
    demo_port: int = Field(default=8080, ge=0, le=65535, alias="DEMO_PORT")
    # Outbound messages per second (python-telegram-bot's AIORateLimiter); Telegram allows about 30.
    delivery_rate: float = Field(default=29.7, gt=0, le=1000, alias="DELIVERY_RATE")
    # How long a worker holds a claimed outbox row before another worker may send it (after a crash).
    outbox_lease_seconds: float = Field(default=60, ge=1, le=3600, alias="OUTBOX_LEASE_SECONDS")
    # Handoff (handlers/handoff/): machine translation via LibreTranslate (off when empty), flood protection,
    # whether message texts are kept in the database, whether topics show the client's first name.
    translate_url: str | None = Field(default=None, alias="TRANSLATE_URL")
    flood_limit: int = Field(default=20, ge=1, le=1000, alias="HANDOFF_FLOOD_LIMIT")
    keep_transcript: bool = Field(default=False, alias="HANDOFF_TRANSCRIPT")
    topic_names: bool = Field(default=False, alias="HANDOFF_TOPIC_NAMES")
    # Translation for the languages LibreTranslate lacks (bot/services/translation/): an OpenAI-compatible
    # chat-completions server and model; off when either is empty.
    translate_llm_url: str | None = Field(default=None, alias="TRANSLATE_LLM_URL")
    translate_llm_model: str | None = Field(default=None, alias="TRANSLATE_LLM_MODEL")
    translate_llm_api_key: SecretStr | None = Field(default=None, alias="TRANSLATE_LLM_API_KEY")
    # Voice notes transcribed for staff (bot/services/transcription.py): an OpenAI-compatible
    # /v1/audio/transcriptions server (off when empty), its model, caps and how many run at once.
    speech_url: str | None = Field(default=None, alias="SPEECH_URL")
    speech_model: str = Field(default="Systran/faster-whisper-small", alias="SPEECH_MODEL")
    speech_api_key: SecretStr | None = Field(default=None, alias="SPEECH_API_KEY")
    speech_max_seconds: int = Field(default=300, ge=1, le=3600, alias="SPEECH_MAX_SECONDS")
    speech_max_bytes: int = Field(default=20_000_000, ge=1, le=2_000_000_000, alias="SPEECH_MAX_BYTES")
    speech_concurrency: int = Field(default=1, ge=1, le=32, alias="SPEECH_CONCURRENCY")
    speech_timeout: float = Field(default=120, gt=0, le=3600, alias="SPEECH_TIMEOUT")
    # Read aloud (bot/services/speech.py): Piper voices the operator put in a folder (never fetched), and the
    # size cap of the synthesised audio cache under KIMBOT_DATA_DIR.
    piper_voices_dir: Path | None = Field(default=None, alias="PIPER_VOICES_DIR")
    read_aloud_cache_mb: int = Field(default=64, ge=0, le=10_000, alias="READ_ALOUD_CACHE_MB")
    # Video appointments (bot/services/remote_appointments.py): the county's video service, e.g. a self-hosted
    # Jitsi, as a pattern with {room} (and {jwt} where the token goes); video is not offered when empty. With a
    # secret, each room gets a JWT (HS256) signed for it, issued by VIDEO_JWT_APP_ID.
    video_url_pattern: str = Field(default="", alias="VIDEO_URL_PATTERN")
    video_jwt_secret: SecretStr | None = Field(default=None, alias="VIDEO_JWT_SECRET")
    video_jwt_app_id: str = Field(default="kimbot", alias="VIDEO_JWT_APP_ID")

    @field_validator("bot_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("bot_token")
    @classmethod
    def _refuse_placeholder_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value().strip()
        if raw.lower().strip("<>") in _PLACEHOLDERS or "your" in raw.lower():
            raise ValueError("BOT_TOKEN is a placeholder; paste the token @BotFather gave you")
        if not _TOKEN_SHAPE.match(raw):
            raise ValueError("BOT_TOKEN does not look like a Telegram token (digits, a colon, then letters)")
        return value

    @field_validator("webhook_url", "webhook_secret", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value()
        if raw.lower() in _PLACEHOLDERS or not re.fullmatch(r"[A-Za-z0-9_-]{24,256}", raw):
            raise ValueError("WEBHOOK_SECRET must be 24–256 letters, digits, _ or - (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("TELEGRAM_API_URL must start with http:// or https://")
        return value

    @field_validator(
        "redis_url",
        "translate_url",
        "translate_llm_url",
        "translate_llm_model",
        "translate_llm_api_key",
        "speech_url",
        "speech_api_key",
        "piper_voices_dir",
        mode="before",
    )
    @classmethod
    def _empty_redis_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use a name like Europe/Berlin)") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (and `.env`), with optional explicit overrides."""
    return Settings(**overrides)  # type: ignore[arg-type]

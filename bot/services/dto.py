"""Plain data that leaves a database session; handlers never see ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ClientDTO:
    id: int
    telegram_id: int
    reference: str
    locale: str | None
    municipality: str | None
    case_manager_id: int | None
    reachable: bool
    privacy_acknowledged_at: datetime | None
    created_at: datetime
    last_contact_at: datetime | None = None

    @property
    def onboarded(self) -> bool:
        return self.locale is not None and self.privacy_acknowledged_at is not None and bool(self.municipality)


@dataclass(frozen=True, slots=True)
class StaffDTO:
    id: int
    telegram_id: int
    display_name: str
    role: str
    languages: tuple[str, ...]
    office_key: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

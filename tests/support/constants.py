"""Names for the fixed things the tests share: the emulator's bot token and staff group, people and places of the
example county file (bot/data/county.example.toml), and the repository's root."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN = "123456789:TEST-token-for-the-emulator-only"
STAFF_GROUP = -1001000000001
BERLIN = ZoneInfo("Europe/Berlin")

# Staff of the example county.
ANNA = 100000001  # case manager (office "ki"), role "case_manager"
YUSUF = 100000002  # case manager
ADMIN = 100000009  # role "admin"; speaks de, en

# The office and the service most booking tests walk through.
OFFICE = "Kommunales Integrationszentrum Kreis Euskirchen"
SERVICE = "Case management consultation"

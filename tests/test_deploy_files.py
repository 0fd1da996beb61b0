"""docker-compose.yml and .env.example only set variables kimbot really reads."""

from __future__ import annotations

from typing import Any

import yaml

from bot.core.config import Settings
from tests.support import ROOT

SETTINGS = {field.alias for field in Settings.model_fields.values() if field.alias}
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_services_healthchecks_and_migration_order() -> None:
    services = _compose()["services"]
    assert {"bot", "worker", "postgres", "redis", "migrate"} <= set(services)
    assert services["worker"]["command"] == ["kimbot", "worker"]
    assert "healthcheck" in services["bot"] and "healthcheck" in services["worker"]
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["redis"]
    assert services["migrate"]["command"] == ["kimbot", "db", "upgrade"]
    assert services["bot"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["bot"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_sets_only_real_settings() -> None:
    for name, service in _compose()["services"].items():
        if "build" not in service:
            continue
        unknown = set(service.get("environment", {})) - SETTINGS
        assert not unknown, f"{name} sets variables kimbot does not read: {unknown}"
        assert service["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_env_example_lists_every_setting() -> None:
    names = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    assert names - COMPOSE_ONLY == SETTINGS

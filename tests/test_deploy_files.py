"""docker-compose.yml and .env.example only set variables kimbot really reads; Redis needs a password, the data
stores and the translator sit on internal networks only kimbot joins, images carry a version, and the Docker build
installs Python packages from a hashed lock file."""

from __future__ import annotations

import re
from typing import Any

import yaml

from bot.core.config import Settings
from tests.support import ROOT

SETTINGS = {field.alias for field in Settings.model_fields.values() if field.alias}
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "REDIS_PASSWORD"}
KIMBOT = {"migrate", "bot", "worker"}


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


def _networks(service: dict[str, Any]) -> set[str]:
    networks = service.get("networks", ["default"])
    return set(networks if isinstance(networks, list) else networks.keys())


def test_redis_needs_the_password_kimbot_is_given() -> None:
    services = _compose()["services"]
    command = services["redis"]["command"]
    assert command[command.index("--requirepass") + 1] == "${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}"
    for name in KIMBOT:
        assert services[name]["environment"]["REDIS_URL"].startswith("redis://:${REDIS_PASSWORD}@redis:"), name


def test_data_stores_and_the_translator_are_reached_only_by_kimbot() -> None:
    compose = _compose()
    services, networks = compose["services"], compose["networks"]
    stores = {"postgres", "redis", "libretranslate", "speech", "translate-llm"}
    for store in stores:
        assert "ports" not in services[store], store
        for network in _networks(services[store]):
            assert networks[network].get("internal") is True, f"{store} is on {network}, which reaches out"
            members = {name for name, service in services.items() if network in _networks(service)}
            assert members - stores <= KIMBOT, f"{network} is shared with {members - stores - KIMBOT}"
    assert _networks(services["postgres"]) == _networks(services["redis"]) == {"data"}
    assert _networks(services["libretranslate"]) == {"translation"}
    assert _networks(services["migrate"]) == {"data"}  # migrating needs no internet
    for name in ("bot", "worker"):
        assert _networks(services[name]) == {"data", "translation", "egress"}, name
        assert not networks["egress"].get("internal"), "bot and worker must reach Telegram"


def test_images_carry_a_version_and_the_translator_downloads_nothing_by_itself() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        if "image" not in service:
            continue
        image = service["image"]
        name_tag, _, digest = image.partition("@")
        assert ":" in name_tag and not name_tag.endswith(":latest"), f"{name}: {image} is not pinned to a version"
        assert not digest or re.fullmatch(r"sha256:[0-9a-f]{64}", digest), f"{name}: {image}"
    translator = services["libretranslate"]
    assert re.fullmatch(r"libretranslate/libretranslate:v\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?", translator["image"])
    assert translator["environment"]["LT_UPDATE_MODELS"] == "false"
    models = services["libretranslate-models"]
    assert models["image"] == translator["image"] and models["volumes"] == translator["volumes"]
    assert models["command"] == [translator["environment"]["LT_LOAD_ONLY"]]
    assert "translate" not in models["profiles"], "the model download must not start with the translator"


def _locked(path: str) -> dict[str, list[str]]:
    """name → hashes of each pinned requirement in a pip-compile --generate-hashes file."""
    text = (ROOT / path).read_text(encoding="utf-8")
    pins: dict[str, list[str]] = {}
    for block in re.split(r"\n(?=[a-z0-9])", text):
        if match := re.match(r"([a-z0-9._-]+)==\S+", block):
            pins[match.group(1)] = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_docker_build_installs_from_hashed_lock_files_made_from_pyproject() -> None:
    import tomllib

    runtime, build = _locked("requirements.lock"), _locked("requirements-build.lock")
    assert runtime and build
    assert all(runtime.values()) and all(build.values()), "every pin needs its hashes"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = {_normal(re.split(r"[\[<>=;! ]", dep, maxsplit=1)[0]) for dep in project["project"]["dependencies"]}
    assert wanted <= {_normal(name) for name in runtime}, "requirements.lock is older than pyproject.toml"
    assert "setuptools" in build

    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert any("--require-hashes -r requirements-build.lock" in line for line in installs)
    assert any("--require-hashes -r /tmp/requirements.lock" in line for line in installs)
    # Anything else pip installs is kimbot's own wheel, without pulling dependencies past the lock.
    assert all("--require-hashes" in line or "--no-deps" in line for line in installs), installs
    assert "--no-build-isolation" in dockerfile  # the build backend comes from the lock, not from an index
    assert "from bot.core.i18n import ensure_compiled" in dockerfile

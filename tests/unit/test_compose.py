"""The example compose file (README: "Running Storm for many teams") is one that works: every
setting it gives is one Storm reads and accepts, the migrations run once before the
instances, and the instances share one PostgreSQL database on ports of their own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.runtime.settings import Settings

COMPOSE = Path(__file__).parents[2] / "compose.yml"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text())["services"])


def _instances(services: dict[str, Any]) -> dict[str, Any]:
    """The services that run the image's own command (`stormbot serve`)."""
    return {
        name: s for name, s in services.items() if s.get("image") == "storm" and "command" not in s
    }


def _filled(environment: dict[str, str]) -> dict[str, str]:
    """The environment with `${VAR:?…}` filled as an operator would (a valid token, a secret)."""
    stand_ins = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "s3cret"}
    return {
        key: re.sub(r"\$\{(\w+)[^}]*\}", lambda m: stand_ins[m.group(1)], str(value))
        for key, value in environment.items()
    }


def test_two_instances_serve_on_ports_of_their_own(services: dict[str, Any]) -> None:
    instances = _instances(services)
    assert len(instances) >= 2
    published = [port.split(":")[0] for s in instances.values() for port in s["ports"]]
    assert len(published) == len(set(published)) == len(instances)


def test_every_setting_given_is_one_storm_reads_and_accepts(services: dict[str, Any]) -> None:
    known = {name.upper() for name in Settings.model_fields}
    for name, service in services.items():
        if service.get("image") != "storm":
            continue
        environment = _filled(service["environment"])
        assert set(environment) <= known, (name, set(environment) - known)
        settings = Settings(_env_file=None, **{k.lower(): v for k, v in environment.items()})
        assert settings.database_url.startswith("postgresql+psycopg://")


def test_the_instances_and_the_migration_share_the_postgresql_service(
    services: dict[str, Any],
) -> None:
    postgres = services["postgres"]["environment"]
    expected = (
        f"postgresql+psycopg://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )
    for name in [*_instances(services), "migrate"]:
        assert services[name]["environment"]["DATABASE_URL"] == expected, name


def test_migrations_run_once_before_the_instances_start(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert migrate["command"] == ["stormbot", "migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, instance in _instances(services).items():
        assert instance["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        ), name

"""Configuration: defaults, and one clear line naming a missing or malformed setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.runtime.settings import Settings, SettingsError, load_settings

SLACK_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "PORT",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (*SLACK_VARIABLES, "DATABASE_URL", "SLACK_API_URL", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_match_the_spec() -> None:
    settings = load_settings()
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url == "sqlite:///storm.db"
    assert settings.port == 3000
    assert settings.log_level == "INFO"
    assert not settings.socket_mode


def test_a_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=4000\nSLACK_API_URL=http://127.0.0.1:9/api\n")
    settings = load_settings()
    assert settings.port == 4000
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("PORT", "eighty", "PORT"),
        ("PORT", "70000", "PORT"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "SLACK_BOT_TOKEN"),
        ("SLACK_APP_TOKEN", "xoxb-wrong-kind", "SLACK_APP_TOKEN"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL"),
        ("DATABASE_URL", "storm.db", "DATABASE_URL"),
        ("LOG_LEVEL", "chatty", "LOG_LEVEL"),
    ],
)
def test_a_malformed_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert str(error.value).startswith(f"{named}: ")
    assert "\n" not in str(error.value)


def test_serving_needs_a_token_and_over_http_a_signing_secret() -> None:
    with pytest.raises(SettingsError, match=r"^SLACK_BOT_TOKEN is required"):
        Settings().require_serving()
    with pytest.raises(SettingsError, match=r"^SLACK_SIGNING_SECRET is required"):
        Settings(slack_bot_token="xoxb-1").require_serving()
    Settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1").require_serving()


def test_many_workspaces_need_the_client_id_and_secret_together_over_http() -> None:
    with pytest.raises(
        SettingsError, match=r"^SLACK_CLIENT_SECRET is required with SLACK_CLIENT_ID"
    ):
        Settings(slack_client_id="1.2", slack_signing_secret="s").require_serving()
    with pytest.raises(
        SettingsError, match=r"^SLACK_CLIENT_ID is required with SLACK_CLIENT_SECRET"
    ):
        Settings(slack_client_secret="c", slack_signing_secret="s").require_serving()
    with pytest.raises(SettingsError, match=r"^SLACK_CLIENT_ID needs HTTP mode"):
        Settings(
            slack_client_id="1.2", slack_client_secret="c", slack_app_token="xapp-1"
        ).require_serving()
    with pytest.raises(SettingsError, match=r"^SLACK_SIGNING_SECRET is required"):
        Settings(slack_client_id="1.2", slack_client_secret="c").require_serving()
    # No bot token: each workspace's comes from its installation.
    oauth = Settings(slack_client_id="1.2", slack_client_secret="c", slack_signing_secret="s")
    oauth.require_serving()
    assert oauth.oauth and not Settings(slack_bot_token="xoxb-1").oauth


def test_stormbot_serve_stops_with_one_line_naming_the_setting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SLACK_VARIABLES}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "stormbot: configuration error: SLACK_BOT_TOKEN is required to serve (a bot token, xoxb-…)"
    ]
    env["PORT"] = "not-a-port"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("stormbot: configuration error: PORT: ")
    assert len(result.stderr.strip().splitlines()) == 1

"""Configuration from the environment (and an optional `.env`), validated once at start-up."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(ValueError):
    """A missing or malformed setting, as one line that names it."""


class Settings(BaseSettings):
    """Every setting Storm reads; names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///storm.db"
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"] = "INFO"
    web_concurrency: int = Field(default=2, ge=1, le=64)
    # Slack allows an app ten; two let one be refreshed or replaced while the other carries on.
    socket_mode_connections: int = Field(default=2, ge=1, le=10)
    # How long a claimed post, Slack event or canvas edit is one instance's: after that, an
    # instance that died is taken over by another (SPEC §8).
    storm_lease_seconds: int = Field(default=60, ge=5, le=3600)
    storm_capture_reaction: str = "zap"
    storm_vote_reaction: str = "+1"
    storm_hotspot_reaction: str = "question"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("must be an SQLAlchemy URL such as sqlite:///storm.db")
        return value

    @field_validator("storm_capture_reaction", "storm_vote_reaction", "storm_hotspot_reaction")
    @classmethod
    def _reaction(cls, value: str) -> str:
        name = value.strip().strip(":")
        if not name or " " in name:
            raise ValueError("must be a reaction name such as zap")
        return name

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def require_serving(self) -> None:
        """What serving needs beyond the defaults: a bot token, and a secret over HTTP."""
        if self.slack_bot_token is None:
            raise SettingsError("SLACK_BOT_TOKEN is required to serve (a bot token, xoxb-…)")
        if not self.socket_mode and self.slack_signing_secret is None:
            raise SettingsError(
                "SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)"
            )


def load_settings() -> Settings:
    """Read the settings, turning pydantic's report into one line naming the setting."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None

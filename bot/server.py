"""Serving: gunicorn for HTTP (production-grade, pre-fork, threaded), or Socket Mode.

Each gunicorn worker builds its own Storm after the fork, so its scheduler thread and database
connections belong to it; the outbox claims keep several workers from sending a post twice.
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication
from slack_sdk.errors import SlackApiError

from bot.app import Storm, build_app
from bot.settings import Settings

log = logging.getLogger(__name__)


class ServeError(RuntimeError):
    """Slack refused to connect us; the message says why in one line."""


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn configured in code, so `stormbot serve` needs no config file."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._storm: Storm | None = None
        super().__init__()

    def load_config(self) -> None:
        settings = self._settings
        for key, value in {
            "bind": f"{settings.host}:{settings.port}",
            "workers": settings.web_concurrency,
            "worker_class": "gthread",
            "threads": settings.web_threads,
            "loglevel": settings.log_level.lower(),
            "accesslog": "-" if settings.log_level == "DEBUG" else None,
            "timeout": 30,
            "graceful_timeout": 10,
            "worker_exit": self._worker_exit,
            # gunicorn ≥ 25 opens a control socket in the home directory by default; two
            # instances on one machine would fight over it, and Storm does not use it.
            "control_socket_disable": True,
        }.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        self._storm = build_app(self._settings)
        self._storm.start()
        return self._storm.wsgi()

    def _worker_exit(self, _server: Any, _worker: Any) -> None:
        if self._storm is not None:
            self._storm.stop()


def serve(settings: Settings) -> None:
    """Connect to Slack: Socket Mode when an app token is set, HTTP otherwise."""
    settings.require_serving()
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        storm = build_app(settings)
        storm.start()
        assert settings.slack_app_token is not None
        log.info("Storm is connecting to Slack in Socket Mode")
        try:
            SocketModeHandler(storm.bolt, settings.slack_app_token.get_secret_value()).start()
        except SlackApiError as error:
            code = error.response.get("error")
            raise ServeError(
                f"Slack refused the Socket Mode connection ({code}): check SLACK_APP_TOKEN"
            ) from None
        finally:
            storm.stop()
        return
    log.info("Storm serves HTTP on port %s (POST /slack/events, GET /healthz)", settings.port)
    _Gunicorn(settings).run()

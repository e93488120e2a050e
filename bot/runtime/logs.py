"""Logging, set up alike by `stormbot` and by each worker process it spawns."""

from __future__ import annotations

import logging
import re

from bot.runtime.settings import Settings

# Slack's tokens: bot (xoxb-), user (xoxp-), app-level (xapp-) and the rest of their family.
_SLACK_TOKEN = re.compile(r"\b(xox[abeoprs]|xapp)-[0-9A-Za-z-]+")


class RedactTokens(logging.Filter):
    """Slack tokens in a log line are replaced by their kind, whoever logged them.

    With one workspace the bot token only travels in an `Authorization` header, which
    slack_sdk's own DEBUG log already hides. Installed into many workspaces, each workspace's
    token also comes back in `oauth.v2.access`'s answer and is stored and read in the database,
    which slack_sdk and SQLAlchemy log in full at DEBUG: this keeps them out of the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SLACK_TOKEN.sub(r"\1-(redacted)", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(settings: Settings, *, quiet: bool) -> None:
    """Serving logs at `LOG_LEVEL`; the sandbox and the demo print a channel to the
    terminal, so they log warnings only unless `LOG_LEVEL` is set explicitly."""
    level = "WARNING" if quiet and "log_level" not in settings.model_fields_set else None
    logging.basicConfig(
        level=level or settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactTokens) for f in handler.filters):
            handler.addFilter(RedactTokens())
    if settings.log_level != "DEBUG":  # it announces every job it plans
        logging.getLogger("apscheduler").setLevel(logging.WARNING)

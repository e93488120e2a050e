"""Logging, set up alike by `stormbot` and by each worker process it spawns."""

from __future__ import annotations

import logging

from bot.runtime.settings import Settings


def configure_logging(settings: Settings, *, quiet: bool) -> None:
    """Serving logs at `LOG_LEVEL`; the sandbox and the demo print a channel to the
    terminal, so they log warnings only unless `LOG_LEVEL` is set explicitly."""
    level = "WARNING" if quiet and "log_level" not in settings.model_fields_set else None
    logging.basicConfig(
        level=level or settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings.log_level != "DEBUG":  # it announces every job it plans
        logging.getLogger("apscheduler").setLevel(logging.WARNING)

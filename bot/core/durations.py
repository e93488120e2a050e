"""Durations as facilitators type them: `90s`, `45m`, `2h`, `1d`, `1h30m`."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*([dhms])", re.IGNORECASE)
_WHOLE = re.compile(r"(?:\s*\d+\s*[dhms]\s*)+", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
MAX_DURATION = timedelta(days=365)


class DurationError(ValueError):
    """A duration that cannot be read; the message says what is expected."""


def parse_duration(text: str) -> timedelta:
    """Read `1h30m`-style text; refuse zero, unknown units and absurd lengths."""
    cleaned = text.strip()
    if not cleaned or not _WHOLE.fullmatch(cleaned):
        raise DurationError(
            f"“{text.strip()}” is not a duration: use a number and a unit, like 90s, 45m, 2h, "
            "1d or 1h30m"
        )
    seconds = sum(int(n) * _UNIT_SECONDS[u.lower()] for n, u in _PART.findall(cleaned))
    if seconds <= 0:
        raise DurationError("a duration must be longer than zero")
    duration = timedelta(seconds=seconds)
    if duration > MAX_DURATION:
        raise DurationError("a duration must be at most 365 days")
    return duration


def format_duration(duration: timedelta) -> str:
    """Show a duration the way people say it: `1d 2h`, `45m`, `30s` (two largest units)."""
    seconds = max(int(duration.total_seconds()), 0)
    if seconds == 0:
        return "0m"
    parts: list[str] = []
    for unit, size in _UNIT_SECONDS.items():
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts[:2])

"""When a step's reminders and deadline fall (SPEC §5)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LAST_CALL_SHARE = 0.1
LAST_CALL_MINIMUM = timedelta(minutes=1)
HALF_TIME, LAST_CALL, DEADLINE = "half_time", "last_call", "deadline"
TIMELINE_KINDS = (HALF_TIME, LAST_CALL, DEADLINE)


def step_timeline(
    opened_at: datetime, deadline_at: datetime, now: datetime
) -> list[tuple[str, datetime]]:
    """The posts still ahead for a step: half time, last call (if 10% ≥ 1 min), deadline.

    Reminders already behind `now` are left out; the deadline is always there (due now when
    it has passed, which is how a shortened timebox makes time up at once).
    """
    span = deadline_at - opened_at
    plan: list[tuple[str, datetime]] = []
    half = opened_at + span / 2
    if half > now:
        plan.append((HALF_TIME, half))
    last_share = span * LAST_CALL_SHARE
    if last_share >= LAST_CALL_MINIMUM and deadline_at - last_share > now:
        plan.append((LAST_CALL, deadline_at - last_share))
    plan.append((DEADLINE, max(deadline_at, now)))
    return plan


def is_late(
    due_at: datetime, started_at: datetime, *, grace: timedelta = timedelta(minutes=1)
) -> bool:
    """A post is late when it fell due while the bot was down: before this run started."""
    return started_at - due_at > grace


def next_digest(now: datetime, at: str, tz_name: str | None) -> datetime:
    """The next moment it is `at` (HH:MM) in the time zone `tz_name` (UTC when unknown)."""
    try:
        zone = ZoneInfo(tz_name) if tz_name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    hour, minute = (int(part) for part in at.split(":"))
    local_now = now.astimezone(zone)
    candidate = datetime.combine(local_now.date(), time(hour, minute), tzinfo=zone)
    if candidate <= local_now:
        candidate = datetime.combine(
            local_now.date() + timedelta(days=1), time(hour, minute), tzinfo=zone
        )
    return candidate.astimezone(UTC)


DIGEST_STALE_AFTER = timedelta(hours=1)

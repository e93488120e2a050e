"""Durations as people type them, and when a step's reminders and deadline fall."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.durations import DurationError, format_duration, parse_duration
from bot.core.timeline import DEADLINE, HALF_TIME, LAST_CALL, is_late, step_timeline

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("45m", timedelta(minutes=45)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1H 30M", timedelta(hours=1, minutes=30)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "10", "h", "0m", "5 weeks", "-5m", "1y", "400d"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


def test_durations_are_shown_with_two_units() -> None:
    assert format_duration(timedelta(days=1, hours=2, minutes=3)) == "1d 2h"
    assert format_duration(timedelta(minutes=45)) == "45m"
    assert format_duration(timedelta(seconds=0)) == "0m"


def test_a_day_gets_half_time_last_call_and_deadline() -> None:
    plan = step_timeline(T0, T0 + timedelta(hours=24), T0)
    assert plan == [
        (HALF_TIME, T0 + timedelta(hours=12)),
        (LAST_CALL, T0 + timedelta(hours=21, minutes=36)),
        (DEADLINE, T0 + timedelta(hours=24)),
    ]


def test_last_call_is_skipped_when_ten_percent_is_under_a_minute() -> None:
    plan = step_timeline(T0, T0 + timedelta(minutes=9), T0)
    assert [kind for kind, _ in plan] == [HALF_TIME, DEADLINE]
    plan = step_timeline(T0, T0 + timedelta(minutes=10), T0)
    assert [kind for kind, _ in plan] == [HALF_TIME, LAST_CALL, DEADLINE]


def test_reminders_already_behind_are_left_out_and_a_passed_deadline_is_due_now() -> None:
    now = T0 + timedelta(hours=13)
    plan = step_timeline(T0, T0 + timedelta(hours=24), now)
    assert [kind for kind, _ in plan] == [LAST_CALL, DEADLINE]
    later = T0 + timedelta(hours=30)
    assert step_timeline(T0, T0 + timedelta(hours=24), later) == [(DEADLINE, later)]


def test_a_post_is_late_when_it_fell_due_before_the_bot_started() -> None:
    assert not is_late(due_at=T0, started_at=T0 + timedelta(seconds=59))
    assert is_late(due_at=T0, started_at=T0 + timedelta(minutes=2))
    assert not is_late(due_at=T0 + timedelta(hours=1), started_at=T0)


def test_the_next_digest_falls_at_the_local_time_in_the_facilitators_zone() -> None:
    from bot.core.timeline import next_digest

    morning = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    assert next_digest(morning, "09:00", None) == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert next_digest(morning, "09:00", "Nowhere/Unknown") == datetime(2026, 11, 27, 9, tzinfo=UTC)
    # 09:00 in Berlin (UTC+1 in November) is 08:00 UTC.
    assert next_digest(morning, "09:00", "Europe/Berlin") == datetime(2026, 11, 27, 8, tzinfo=UTC)
    # Already past today in New York (UTC-5): tomorrow.
    evening = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    assert next_digest(evening, "09:00", "America/New_York") == datetime(
        2026, 11, 28, 14, 0, tzinfo=UTC
    )

"""Timeboxes (SPEC §5): reminders, time's up and auto-advance, exactly once and in order."""

from __future__ import annotations

import time
from datetime import timedelta

from tests.support.running import InProcess, text_of

HALF, LAST, UP = "Half time", "Last call", "Time's up"


def _timeline_posts(storm: InProcess) -> list[str]:
    labels = []
    for message in storm.posts():
        heading = text_of(message).splitlines()[0]
        labels.extend(label for label in (HALF, LAST, UP) if heading.startswith(label))
    return labels


def test_a_twenty_minute_step_reminds_twice_then_says_times_up(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("facilitator add <@U2|bob>")
    storm.run("timebox current 20m")
    storm.run("event Order Placed", user="U3")
    storm.wait_until_sent()
    assert _timeline_posts(storm) == []

    storm.clock.advance(timedelta(minutes=10, seconds=1))
    half = text_of(storm.wait_for_post(HALF)[0])
    assert "9m" in half and "left" in half
    assert "*E1* Order Placed" in half
    assert "Not contributed yet:* alice, bob" in half  # names, not mentions
    assert "<@" not in half

    storm.clock.advance(timedelta(minutes=8))
    last = text_of(storm.wait_for_post(LAST)[0])
    assert "1m" in last

    storm.clock.advance(timedelta(minutes=2))
    up = text_of(storm.wait_for_post(UP)[0])
    assert "<@U1> <@U2>" in up  # the facilitators are mentioned
    assert "/storm next" in up and "/storm extend" in up
    assert "1 element added by 1 person" in up

    storm.clock.advance(timedelta(hours=2))
    storm.wait_until_sent()
    assert _timeline_posts(storm) == [HALF, LAST, UP]


def test_a_jump_past_everything_sends_only_times_up(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("timebox current 20m")
    storm.clock.advance(timedelta(minutes=30))
    up = text_of(storm.wait_for_post(UP)[0])
    assert "Late" not in up  # the bot was running: nothing was missed while down
    storm.wait_until_sent()
    assert _timeline_posts(storm) == [UP]  # reminders whose deadline passed are moot


def test_a_few_seconds_of_real_time_fire_by_themselves(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("timebox current 4s")
    started = time.monotonic()
    storm.wait_for_post(HALF, timeout=10)
    storm.wait_for_post(UP, timeout=10)
    assert time.monotonic() - started >= 3
    # 10% of 4 seconds is under a minute, so there is no last call (SPEC §5).
    assert _timeline_posts(storm) == [HALF, UP]


def test_extend_reschedules_so_the_old_deadline_passes_quietly(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("timebox current 20m")
    storm.run("extend 1h")
    storm.clock.advance(timedelta(minutes=25))
    storm.wait_until_sent()
    assert UP not in _timeline_posts(storm)
    storm.clock.advance(timedelta(hours=1))
    storm.wait_for_post(UP)
    assert _timeline_posts(storm).count(UP) == 1


def test_next_cancels_what_was_pending_for_the_closed_step(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("timebox all 20m")
    storm.run("next")
    storm.clock.advance(timedelta(minutes=15))
    storm.wait_for_post(HALF)
    storm.clock.advance(timedelta(minutes=6))
    storm.wait_for_post(UP)
    storm.wait_until_sent()
    ups = [text_of(m) for m in storm.posts() if text_of(m).startswith(UP)]
    assert len(ups) == 1 and "Refine Domain Events" in ups[0]


def test_auto_on_advances_when_time_is_up(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("timebox all 20m")
    storm.run("auto on")
    storm.run("event Order Placed")
    storm.clock.advance(timedelta(minutes=21))
    up = text_of(storm.wait_for_post(UP)[0])
    assert "Auto-advance is on" in up and "<@U1>" not in up
    storm.wait_for_post("Step 1 closed")
    storm.wait_for_post("Step 2 of 8: Refine Domain Events")
    assert "Step 2 of 8" in storm.run("status")
    storm.clock.advance(timedelta(minutes=21))
    storm.wait_for_post("Step 3 of 8: Track Causes")


def test_shortening_a_timebox_below_elapsed_time_makes_time_up_now(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.clock.advance(timedelta(hours=2))
    storm.run("timebox current 1h")
    storm.wait_for_post(UP)
    assert "time is up" in storm.run("status")

"""The daily digest (SPEC §5): at the first facilitator's local time, once, with its score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import MORNING
from tests.support.running import InProcess, text_of


def _digests(storm: InProcess) -> list[str]:
    return [text_of(m) for m in storm.posts() if text_of(m).startswith("Daily digest")]


def test_the_digest_comes_at_nine_in_the_facilitators_time_zone(berlin: InProcess) -> None:
    berlin.run("start Checkout")
    berlin.run("event Order Placed; Payment Received", user="U2")
    berlin.run("vote E2", user="U3")
    berlin.run("hotspot Who refunds?", user="U3")
    berlin.wait_until_sent()
    berlin.clock.set(MORNING + timedelta(hours=1, minutes=59))
    berlin.wait_until_sent()
    assert _digests(berlin) == []

    berlin.clock.set(MORNING + timedelta(hours=2, seconds=1))  # 09:00 in Berlin
    digest = text_of(berlin.wait_for_post("Daily digest")[0])
    assert "Last 24 hours:* 2 events, 1 hotspot" in digest
    assert "bob" in digest and "carol" in digest
    assert "1. :large_orange_square: *E2* Payment Received · 1 vote" in digest
    assert "1 new, 1 open" in digest
    assert "step 1 of 8, Collect Domain Events" in digest
    assert "first digest" in digest
    assert "Late" not in digest

    berlin.clock.advance(timedelta(hours=1))
    berlin.run("command Place Order -> E1")
    berlin.clock.advance(timedelta(hours=23))
    berlin.wait_for_post("Daily digest", count=2)
    second = _digests(berlin)[1]
    assert "points since the last digest" in second
    assert "Last 24 hours:* 1 command" in second and "alice" in second
    berlin.clock.advance(timedelta(hours=2))
    berlin.wait_until_sent()
    assert len(_digests(berlin)) == 2


def test_digest_time_off_and_now(berlin: InProcess) -> None:
    berlin.run("start Checkout")
    berlin.wait_until_sent()  # Storm has looked its facilitator up: Europe/Berlin
    assert "Only a facilitator" in berlin.run("digest 18:30", user="U2")
    # 18:30 in Berlin is 17:30 UTC: each reader sees that moment in their own zone.
    next_one = int(datetime(2026, 11, 27, 17, 30, tzinfo=UTC).timestamp())
    assert f"the next one comes <!date^{next_one}^" in berlin.run("digest 18:30")
    berlin.clock.set(MORNING + timedelta(hours=3))  # 09:00 Berlin: nothing any more
    berlin.wait_until_sent()
    assert _digests(berlin) == []
    berlin.clock.set(MORNING + timedelta(hours=11, minutes=31))  # 18:31 Berlin
    berlin.wait_for_post("Daily digest")
    assert "Daily digests are off" in berlin.run("digest off")
    berlin.clock.advance(timedelta(days=2))
    berlin.wait_until_sent()
    assert len(_digests(berlin)) == 1
    assert "Posting a digest" in berlin.run("digest now")
    berlin.wait_for_post("Daily digest", count=2)
    assert ":warning:" in berlin.run("digest 25:00")

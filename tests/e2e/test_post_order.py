"""Posts that fall due together (a jump of the clock, a restart after downtime) go out in the
order of their due times, and at equal times in an order that reads right (SPEC §5)."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import MORNING
from tests.support.running import InProcess, text_of


def _headings(storm: InProcess) -> list[str]:
    return [
        heading
        for heading in (text_of(m).splitlines()[0] for m in storm.posts())
        if heading.startswith(("Time's up", "Daily digest"))
    ]


def test_times_up_goes_out_before_a_digest_due_after_it(berlin: InProcess) -> None:
    berlin.run("start Checkout")
    berlin.run("timebox current 1h30m")  # time is up at 07:30 UTC, the digest is at 08:00
    berlin.run("event Order Placed", user="U2")
    berlin.wait_until_sent()
    berlin.clock.set(MORNING + timedelta(hours=2, minutes=30))  # one jump past both
    berlin.wait_for_post("Daily digest")
    berlin.wait_until_sent()
    assert _headings(berlin) == ["Time's up · Collect Domain Events", "Daily digest · Checkout"]


def test_a_late_digest_goes_out_after_what_fell_due_with_it(berlin: InProcess) -> None:
    """The digest reports the workshop as it is when sent: after a jump, time is up, so the
    time's-up falling due a moment after the digest goes out first."""
    berlin.run("start Checkout")
    berlin.run("timebox current 2h")  # time is up just after 08:00 UTC, just after the digest
    berlin.wait_until_sent()
    berlin.clock.set(MORNING + timedelta(hours=2, minutes=10))
    berlin.wait_for_post("Daily digest")
    berlin.wait_until_sent()
    assert _headings(berlin) == ["Time's up · Collect Domain Events", "Daily digest · Checkout"]

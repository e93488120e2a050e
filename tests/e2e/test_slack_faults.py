"""Slack API faults (SPEC §9): rate limits wait, refusals are told once, nothing crashes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest
from sqlmodel import col, select

from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.slack_requests import SlackRequests
from storage.tables import ScheduledPost
from storage.unit_of_work import unit_of_work
from tests.support.running import (
    SIGNING_SECRET,
    InProcess,
    answer_text,
    start_in_process,
    text_of,
)


def test_a_rate_limited_post_arrives_after_the_wait_and_holds_up_no_other_workshop(
    storm: InProcess,
) -> None:
    storm.run("start Quiet", channel="C2")
    storm.wait_until_sent()
    storm.fake.fail("chat.postMessage", status=429, retry_after=3)
    started = time.monotonic()
    storm.run("start Checkout")  # its kickoff meets the 429 and waits 3 s
    storm.fake.wait_for(lambda f: any(c.error for c in f.calls_to("chat.postMessage")))
    storm.run("event Order Placed", channel="C2")  # another workshop's post meanwhile
    storm.fake.wait_for(
        lambda f: any("*E1* Order Placed" in text_of(m) for m in f.messages("C2")), timeout=10
    )
    other_done = time.monotonic() - started
    storm.wait_for_post("Workshop: Checkout", timeout=15)
    assert time.monotonic() - started >= 3.0
    assert other_done < 2.5  # not held up by C1's rate limit
    rejected = [c for c in storm.fake.calls_to("chat.postMessage") if c.error]
    assert [c.error for c in rejected] == ["ratelimited"]


def test_server_errors_are_retried(storm: InProcess) -> None:
    storm.fake.fail("chat.postMessage", status=500, times=2)
    answer = storm.run("start Checkout")
    assert "Workshop *Checkout* started; you are its facilitator" in answer
    storm.wait_for_post("Step 1 of 8", timeout=15)
    storm.wait_until_sent()
    posts = storm.fake.calls_to("chat.postMessage")
    # The kickoff met two server errors and was sent again, the same post, until it went through.
    assert [c.error for c in posts] == ["internal_error", "internal_error", None, None]
    kickoff = [(c.params["channel"], c.params["text"]) for c in posts[:3]]
    assert kickoff == [("C1", kickoff[0][1])] * 3 and "Checkout" in kickoff[0][1]
    # Posted once, then the step's prompt: nothing twice, nothing lost.
    firsts = [text_of(m).splitlines()[0] for m in storm.posts()]
    assert firsts == ["Workshop: Checkout", "Step 1 of 8: Collect Domain Events"]
    # A fault that retrying overcame is nobody's business: no warning, in private or in status.
    assert storm.fake.ephemerals("C1", "U1") == []
    assert storm.fake.messages("U1") == []
    assert "My posts to this channel fail" not in storm.run("status")


@pytest.mark.parametrize(
    ("breakage", "code"),
    [("archive_channel", "is_archived"), ("remove_channel", "channel_not_found")],
)
def test_a_channel_that_refuses_posts_is_reported_once_and_others_carry_on(
    storm: InProcess, caplog: pytest.LogCaptureFixture, breakage: str, code: str
) -> None:
    caplog.set_level(logging.INFO)
    getattr(storm.fake, breakage)("C1")
    storm.run("start Checkout")
    storm.run("event Order Placed; Payment Received; Order Shipped")
    storm.run("start Elsewhere", channel="C2")
    storm.fake.wait_for(
        lambda f: any("Workshop: Elsewhere" in text_of(m) for m in f.messages("C2")), timeout=10
    )
    storm.wait_until_sent()
    refusals = [r for r in caplog.records if r.levelno >= logging.ERROR and code in r.getMessage()]
    assert len(refusals) == 1, [r.getMessage() for r in refusals]
    direct = [m for m in storm.fake.messages("U1") if m.user == storm.fake.bot_user_id]
    assert len(direct) == 1 and "I cannot post in" in text_of(direct[0])
    assert "My posts to this channel fail" in storm.run("status")
    assert "Added 1 event" in storm.run("event Refund Issued", channel="C2")


def test_not_in_channel_is_explained_until_the_bot_is_invited(storm: InProcess) -> None:
    storm.fake.remove_bot("C1")
    storm.run("start Checkout")
    storm.wait_until_sent()
    assert "Invite me with `/invite @Storm`" in storm.run("status")
    storm.fake.remove_bot("C1", present=True)
    storm.run("event Order Placed")  # this post goes through: the warning goes away
    storm.wait_for_post("*E1* Order Placed")
    storm.wait_until_sent()  # the post is in the channel a moment before it is recorded
    assert "My posts to this channel fail" not in storm.run("status")


def test_a_failed_export_is_explained_to_whoever_asked(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.wait_until_sent()
    storm.fake.fail("files.completeUploadExternal", body="<html>Bad gateway</html>", status=502)
    storm.run("export json", user="U2")
    storm.fake.wait_for(lambda f: len(f.ephemerals("C1", "U2")) == 1, timeout=10)
    note = storm.fake.ephemerals("C1", "U2")[0].text
    assert "your export could not be posted" in note


def test_an_unreachable_slack_never_stops_commands(
    fake_slack: FakeSlack, database_url: str
) -> None:
    running = start_in_process(fake_slack, database_url)
    fake_slack.stop()  # Slack's Web API goes away: connections are refused from now on
    slack = SlackRequests(running.slack.base_url, SIGNING_SECRET)

    def run(text: str) -> str:
        response = slack.command(text)
        assert response.status == 200
        return answer_text(response.json())

    try:
        assert "started" in run("start Checkout")
        assert "Added 1 event" in run("event Order Placed")
        assert "Step 1 of 8" in run("status")
        # The kickoff was tried and its answer lost: it waits to be looked for in the channel,
        # and what comes after it waits behind it, kept and in order, for Slack to be back.
        kinds = _wait_for_post_states(running, lambda s: s.get("kickoff", "")[:7] == "sending")
        assert kinds["prompt"] == "pending 0" and kinds["element"] == "pending 0", kinds
        assert "Added 1 event" in run("event Payment Received")
    finally:
        running.stop()


def _wait_for_post_states(
    running: InProcess, done: Callable[[dict[str, str]], bool], timeout: float = 30.0
) -> dict[str, str]:
    """Until `done` holds for each kind of post's status and sends (the first of a kind)."""
    deadline = time.monotonic() + timeout
    while True:
        with unit_of_work(running.storm.engine, read_only=True) as session:
            states: dict[str, str] = {}
            for post in session.exec(select(ScheduledPost).order_by(col(ScheduledPost.id))):
                states.setdefault(post.kind, f"{post.status} {post.attempts}")
        if done(states) or time.monotonic() > deadline:
            return states
        time.sleep(0.05)

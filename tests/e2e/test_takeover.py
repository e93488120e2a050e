"""A post whose sending was cut short goes out exactly once (SPEC §5, §8).

Two ways a post is left in doubt: the instance that claimed it died before it recorded the
send, or Slack's answer was lost (a 5xx, a dropped connection) though the message went out.
Either way another look is taken once the claim's lease runs out: the channel is read for a
message whose metadata names the post, and only a post not found there is sent again.
"""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta

from slack_sdk import WebClient
from sqlmodel import select

from bot.sandbox.fake_slack import FakeSlack
from bot.service.reactions import ELEMENT_METADATA
from bot.slack.outbox import POST_METADATA
from storage import claims
from storage.tables import Element, ScheduledPost, SlackEvent
from storage.unit_of_work import unit_of_work
from tests.support.running import CHANNEL, InProcess, start_in_process, text_of

NOTICE = "Alice imported checkout.json"


def _posted(storm: InProcess, needle: str) -> list[str]:
    return [text_of(m) for m in storm.posts() if needle in text_of(m)]


def _left_by_a_dead_instance(
    storm: InProcess, lease_left: timedelta = timedelta(0), *, by: str = "gone:1:dead"
) -> int:
    """A channel notice claimed by an instance that died (`by`): its lease ran out a second
    ago, or runs out `lease_left` from now."""
    now = storm.clock.now()
    post = ScheduledPost(
        workshop_id=1,
        kind="notice",
        due_at=now - timedelta(minutes=2),
        payload={"text": NOTICE, "sections": [NOTICE]},
        status="sending",
        claimed_at=now - timedelta(minutes=2),
        claimed_by=by,
        claimed_until=now - timedelta(seconds=1) + lease_left,
        attempts=1,
    )
    with unit_of_work(storm.storm.engine) as session:
        session.add(post)
        session.flush()
        assert post.id is not None
        return post.id


def _status_when_settled(storm: InProcess, post_id: int, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        storm.storm.scheduler.wake()
        with unit_of_work(storm.storm.engine, read_only=True) as session:
            post = session.get(ScheduledPost, post_id)
            assert post is not None
            if post.status != "sending":
                return post.status
        time.sleep(0.1)
    raise AssertionError(f"post {post_id} is still being sent")


def test_a_dead_instances_post_that_went_out_is_recorded_not_sent_again(
    storm: InProcess,
) -> None:
    storm.run("start Checkout")
    storm.wait_until_sent()
    # Its lease still runs while the message is put in the channel, so that no instance takes
    # it over before then.
    post_id = _left_by_a_dead_instance(storm, lease_left=timedelta(minutes=1))
    # It went out just before the instance died: the channel has it, with its metadata.
    WebClient(token=storm.fake.bot_token, base_url=storm.fake.api_url).chat_postMessage(
        channel=CHANNEL,
        text=NOTICE,
        metadata={"event_type": POST_METADATA, "event_payload": {"workshop": 1, "post": post_id}},
    )
    storm.clock.advance(timedelta(minutes=1))
    assert _status_when_settled(storm, post_id) == "sent"
    assert _posted(storm, NOTICE) == [NOTICE]


def test_a_dead_instances_post_that_did_not_go_out_is_sent_once(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.wait_until_sent()
    post_id = _left_by_a_dead_instance(storm)
    assert _status_when_settled(storm, post_id) == "sent"
    assert len(_posted(storm, NOTICE)) == 1
    history = storm.fake.calls_to("conversations.history")
    assert history, "the channel was looked at before the post was sent again"


def test_a_post_left_by_a_process_gone_from_this_host_is_taken_over_as_a_sender_starts(
    storm: InProcess, fake_slack: FakeSlack, database_url: str
) -> None:
    """A crash and a restart on one machine: the claims of the crashed process are not left
    to run out their leases (the workshop's later posts would wait behind them)."""
    storm.run("start Checkout")
    storm.wait_until_sent()
    gone = subprocess.Popen(["true"])
    gone.wait()
    crashed = _left_by_a_dead_instance(
        storm, timedelta(minutes=10), by=f"{claims._HOST}{gone.pid}:crashed"
    )
    elsewhere = _left_by_a_dead_instance(storm, timedelta(minutes=10), by="other-host:1:alive")
    restarted = start_in_process(fake_slack, database_url)
    try:
        storm.fake.wait_for(lambda _: len(_posted(storm, NOTICE)) == 1, timeout=15)
        assert _status_when_settled(restarted, crashed) == "sent"
        with unit_of_work(storm.storm.engine, read_only=True) as session:
            other = session.get(ScheduledPost, elsewhere)
            assert other is not None and other.status == "sending"  # alive, for all we know
    finally:
        restarted.stop()


def test_a_post_whose_answer_was_lost_is_not_posted_twice(storm: InProcess) -> None:
    # Slack posts the kickoff but its answer is a 500: slack_sdk would have posted it again.
    storm.fake.fail("chat.postMessage", status=500, after_processing=True)
    storm.run("start Checkout")
    storm.wait_for_post("Step 1 of 8", timeout=20)
    firsts = [text_of(m).splitlines()[0] for m in storm.posts()]
    assert firsts == ["Workshop: Checkout", "Step 1 of 8: Collect Domain Events"]


def test_an_element_message_whose_answer_was_lost_is_posted_once_and_counts_votes(
    storm: InProcess,
) -> None:
    storm.run("start Checkout")
    storm.wait_until_sent()
    storm.fake.fail("chat.postMessage", status=503, after_processing=True)
    storm.run("event Order Placed")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with unit_of_work(storm.storm.engine, read_only=True) as session:
            element = session.exec(select(Element)).one()
            pending = session.exec(
                select(ScheduledPost).where(ScheduledPost.status == "sending")
            ).all()
        if element.message_ts is not None and not pending:
            break
        time.sleep(0.1)
    messages = [
        m for m in storm.posts() if (m.metadata or {}).get("event_type") == ELEMENT_METADATA
    ]
    assert len(messages) == 1
    # The message found in the thread is the element's: a :+1: on it is a vote.
    assert element.message_ts == messages[0].ts


def test_a_dead_instances_digest_found_in_the_channel_is_what_tomorrows_compares_with(
    storm: InProcess,
) -> None:
    storm.run("start Checkout")
    storm.run("event Order Placed; Payment Received")
    storm.wait_until_sent()
    now = storm.clock.now()
    with unit_of_work(storm.storm.engine) as session:
        gone = ScheduledPost(
            workshop_id=1,
            kind="digest",
            due_at=now - timedelta(minutes=2),
            status="sending",
            claimed_at=now - timedelta(minutes=2),
            claimed_by="gone:1:dead",
            claimed_until=now - timedelta(seconds=1),
            attempts=1,
        )
        session.add(gone)
        session.flush()
        assert gone.id is not None
        gone_id = gone.id
    # The dead instance's digest went out: the channel has it, with its metadata.
    WebClient(token=storm.fake.bot_token, base_url=storm.fake.api_url).chat_postMessage(
        channel=CHANNEL,
        text="Daily digest: Checkout",
        metadata={"event_type": POST_METADATA, "event_payload": {"workshop": 1, "post": gone_id}},
    )
    assert _status_when_settled(storm, gone_id) == "sent"
    with unit_of_work(storm.storm.engine) as session:  # the next day's digest falls due
        session.add(ScheduledPost(workshop_id=1, kind="digest", due_at=now))
    storm.storm.scheduler.wake()
    (tomorrow,) = storm.wait_for_post("Daily digest ·", timeout=20)
    assert "points since the last digest" in text_of(tomorrow), text_of(tomorrow)
    assert "first digest" not in text_of(tomorrow)


def _zap_recorded_by(storm: InProcess, claimed_until_offset: timedelta) -> str:
    """A :zap: on a person's message, recorded by an instance that claimed it for applying
    and then died; its lease ends `claimed_until_offset` from now."""
    message = storm.fake.post_user_message(CHANNEL, "U2", "Parcel Shipped")
    event = storm.slack.reaction_event(
        "reaction_added", "zap", user="U2", channel=CHANNEL, ts=message.ts
    )
    body = storm.slack.envelope(event, event_id="Ev-dead-1")
    now = storm.clock.now()
    with unit_of_work(storm.storm.engine) as session:
        session.add(
            SlackEvent(
                event_id="Ev-dead-1",
                team_id=body["team_id"],
                payload=body,
                received_at=now,
                claimed_by="gone:1:dead",
                claimed_until=now + claimed_until_offset,
            )
        )
    return message.ts


def _events_named(storm: InProcess, name: str) -> list[Element]:
    with unit_of_work(storm.storm.engine, read_only=True) as session:
        return list(session.exec(select(Element).where(Element.name == name)).all())


def test_a_dead_instances_slack_event_is_applied_once_its_lease_ran_out(
    storm: InProcess,
) -> None:
    storm.run("start Checkout")
    ts = _zap_recorded_by(storm, timedelta(seconds=30))
    storm.storm.inbox.process_pending()
    assert _events_named(storm, "Parcel Shipped") == []  # its lease still runs: not taken
    storm.clock.advance(timedelta(seconds=31))
    storm.storm.inbox.process_pending()
    storm.storm.inbox.process_pending()
    [event] = _events_named(storm, "Parcel Shipped")
    assert event.source_ts == ts

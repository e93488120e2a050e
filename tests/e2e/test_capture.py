"""Capture over signed HTTP: events by command and by :zap:, votes by :+1: and by command."""

from __future__ import annotations

import json
import threading
import time

from bot.service.reactions import ReactionInbox, Reactions
from bot.slack.web import WebApi
from tests.support.running import TEAM, InProcess, text_of


def _wait_for_votes(storm: InProcess, expected: list[int], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while (votes := [e["votes"] for e in storm.export_json()["events"]]) != expected:
        assert time.monotonic() < deadline, f"votes {votes}, expected {expected}"
        time.sleep(0.2)


def _element_message(storm: InProcess, key: str):
    return storm.wait_for_post(f"*{key}*")[0]


def test_events_are_confirmed_with_ids_and_posted_in_the_prompt_thread(storm: InProcess) -> None:
    storm.run("start Checkout")
    answer = storm.run("event Order Placed\nPayment Received; Order Shipped", user="U2")
    assert "Added 3 events" in answer
    for line in ("*E1* Order Placed", "*E2* Payment Received", "*E3* Order Shipped"):
        assert line in answer
    prompt = storm.wait_for_post("Step 1 of 8")[0]
    storm.fake.wait_for(lambda f: len(f.thread("C1", prompt.ts)) == 4)
    replies = storm.fake.thread("C1", prompt.ts)[1:]
    assert [text_of(r).splitlines()[0] for r in replies] == [
        ":large_orange_square: *E1* Order Placed · event",
        ":large_orange_square: *E2* Payment Received · event",
        ":large_orange_square: *E3* Order Shipped · event",
    ]
    assert "added by bob" in text_of(replies[0])


def test_a_command_naming_payload_is_taken_like_any_other(storm: InProcess) -> None:
    # Bolt reads any form body holding the word "payload" as an empty interactivity payload.
    storm.run("start Webhook payloads")
    answer = storm.run("event payload received", user="U2")
    assert "*E1* payload received" in answer
    assert [e["name"] for e in storm.export_json()["events"]] == ["payload received"]


def test_names_are_shown_escaped_and_never_mention_anyone(storm: InProcess) -> None:
    storm.run("start Checkout")
    answer = storm.run("event &lt;!channel&gt; Order &amp; Invoice Sent")
    assert "&lt;!channel&gt; Order &amp; Invoice Sent" in answer
    message = _element_message(storm, "E1")
    assert "&lt;!channel&gt; Order &amp; Invoice Sent" in text_of(message)
    assert "<!channel>" not in json.dumps([m.blocks for m in storm.posts()])
    assert storm.export_json()["events"][0]["name"] == "<!channel> Order & Invoice Sent"


def test_zap_turns_a_channel_message_into_an_event_once(storm: InProcess) -> None:
    storm.run("start Checkout")
    said = storm.fake.post_user_message("C1", "U3", "Refund Issued")
    for _ in range(2):
        assert storm.slack.reaction_added("zap", user="U2", channel="C1", ts=said.ts).status == 200
    storm.wait_for_post("*E1* Refund Issued")
    storm.fake.wait_for(lambda f: len(f.ephemerals("C1", "U2")) == 2)
    # The two deliveries race; whichever is applied first adds the event.
    notes = sorted(m.blocks[0]["text"]["text"] for m in storm.fake.ephemerals("C1", "U2"))
    assert notes == [
        "Added *E1* Refund Issued from that message.",
        "That message is already event *E1* Refund Issued.",
    ]
    event = storm.export_json()["events"][0]
    assert (event["name"], event["author"]) == ("Refund Issued", "U3")
    assert len(storm.export_json()["events"]) == 1
    # Its message names the message's author and who reacted to capture it (SPEC §4.2).
    assert "by carol · added by bob" in text_of(_element_message(storm, "E1"))


def test_zap_on_a_thread_reply_captures_the_reply(storm: InProcess) -> None:
    storm.run("start Checkout")
    parent = storm.fake.post_user_message("C1", "U2", "What happens after payment?")
    reply = storm.fake.post_user_message("C1", "U3", "Invoice Emailed", thread_ts=parent.ts)
    storm.slack.reaction_added("zap", user="U1", channel="C1", ts=reply.ts)
    storm.wait_for_post("*E1* Invoice Emailed")
    assert [e["name"] for e in storm.export_json()["events"]] == ["Invoice Emailed"]


def test_the_same_event_delivered_three_times_counts_once(storm: InProcess) -> None:
    storm.run("start Checkout")
    said = storm.fake.post_user_message("C1", "U2", "Order Cancelled")
    storm.run("event Order Placed")
    message = _element_message(storm, "E1")
    for retry in (None, 1, 2):
        response = storm.slack.reaction_added(
            "+1", user="U3", channel="C1", ts=message.ts, event_id="EvSAME1", retry_num=retry
        )
        assert response.status == 200
        zap = storm.slack.reaction_added(
            "zap", user="U3", channel="C1", ts=said.ts, event_id="EvSAME2", retry_num=retry
        )
        assert zap.status == 200
    model = storm.export_json()
    assert [(e["name"], e["votes"]) for e in model["events"]] == [
        ("Order Placed", 1),
        ("Order Cancelled", 0),
    ]
    # The capture is confirmed once, after the ack, through the outbox (maybe after the export).
    storm.fake.wait_for(lambda f: len(f.ephemerals("C1", "U3")) >= 1, timeout=10)
    assert len(storm.fake.ephemerals("C1", "U3")) == 1


def test_votes_by_reaction_and_by_command_count_distinct_people(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("event Order Placed; Payment Received")
    message = _element_message(storm, "E2")
    storm.slack.reaction_added("+1", user="U2", channel="C1", ts=message.ts)
    storm.slack.reaction_added("+1::skin-tone-3", user="U3", channel="C1", ts=message.ts)
    _wait_for_votes(storm, [0, 2])  # reactions are applied just after their ack
    assert "Voted for *E2* Payment Received" in storm.run("vote payment received", user="U1")
    assert "already voted" in storm.run("vote E2", user="U2")
    assert [e["votes"] for e in storm.export_json()["events"]] == [0, 3]
    storm.slack.reaction_removed("+1", user="U2", channel="C1", ts=message.ts)
    _wait_for_votes(storm, [0, 2])


def test_vote_for_an_unknown_or_ambiguous_name_explains(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("event Order Placed; order placed")
    assert "could be any of: E1 Order Placed, E2 order placed" in storm.run("vote Order Placed")
    assert "Did you mean E1 Order Placed" in storm.run("vote Order Place")
    assert "There is no E9" in storm.run("vote E9")


def test_removing_a_zap_in_step_one_removes_an_untouched_event(storm: InProcess) -> None:
    storm.run("start Checkout")
    first = storm.fake.post_user_message("C1", "U2", "Cart Abandoned")
    second = storm.fake.post_user_message("C1", "U2", "Coupon Applied")
    storm.slack.reaction_added("zap", user="U2", channel="C1", ts=first.ts)
    _element_message(storm, "E1")  # events are applied as they come: number them in order
    storm.slack.reaction_added("zap", user="U2", channel="C1", ts=second.ts)
    voted = _element_message(storm, "E2")
    storm.slack.reaction_added("+1", user="U3", channel="C1", ts=voted.ts)
    # Slack delivers events independently; wait until the vote is in before the removals.
    _wait_for_votes(storm, [0, 1])
    storm.slack.reaction_removed("zap", user="U2", channel="C1", ts=first.ts)
    storm.slack.reaction_removed("zap", user="U2", channel="C1", ts=second.ts)
    storm.fake.wait_for(lambda f: len(f.deleted("C1")) == 1)
    assert [e["id"] for e in storm.export_json()["events"]] == ["E2"]
    storm.fake.wait_for(lambda f: any("stays" in text_of(m) for m in f.ephemerals("C1", "U2")))
    notes = [text_of(m) for m in storm.fake.ephemerals("C1", "U2")]
    assert any("Removed *E1* Cart Abandoned" in n for n in notes)
    assert any("*E2* stays: it has votes" in n for n in notes)
    # IDs are never reused.
    assert "*E3* Gift Wrapped" in storm.run("event Gift Wrapped")


def test_reactions_elsewhere_or_without_a_workshop_change_nothing(storm: InProcess) -> None:
    said = storm.fake.post_user_message("C9", "U2", "Stock Reserved")
    assert storm.slack.reaction_added("zap", user="U2", channel="C9", ts=said.ts).status == 200
    storm.run("start Checkout")
    storm.slack.reaction_added("tada", user="U2", channel="C1", ts=said.ts)
    assert storm.export_json()["events"] == []


def test_a_reaction_applied_by_two_threads_at_once_is_applied_and_told_once(
    storm: InProcess,
) -> None:
    """The background worker's start-up and its sender's first wake-up both apply what the
    web workers recorded; overlapping, they must not each tell the person about it."""
    storm.run("start Checkout")
    said = storm.fake.post_user_message("C1", "U2", "Parcel Lost")
    both_ready = threading.Barrier(2, timeout=10)
    background = ReactionInbox(  # records only, like a web worker; applies when asked
        storm.storm.engine,
        storm.clock,
        WebApi(storm.storm.bolt.client),
        storm.storm.workshops,
        Reactions(),
        applies_after_ack=False,
        hold=both_ready.wait,  # both threads reach the same event before either applies it
    )
    event = storm.slack.reaction_event("reaction_added", "zap", user="U2", channel="C1", ts=said.ts)
    assert background.record(
        {"event_id": "EvTwice", "team_id": TEAM, "type": "event_callback", "event": event}
    )
    threads = [threading.Thread(target=background.process_pending) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert [e["name"] for e in storm.export_json()["events"]] == ["Parcel Lost"]
    told = [text_of(m) for m in storm.fake.ephemerals("C1", "U2")]
    assert len(told) == 1 and "Added *E1* Parcel Lost" in told[0], told


def test_step_two_lists_as_dropped_only_what_was_dropped(storm: InProcess) -> None:
    """An event taken back by removing its :zap:, and a hotspot undone, were never on the
    board as far as people are concerned: only `/storm drop` drops (step 2's summary)."""
    storm.run("start Checkout")
    said = storm.fake.post_user_message("C1", "U2", "Cart Abandoned")
    storm.slack.reaction_added("zap", user="U2", channel="C1", ts=said.ts)
    _element_message(storm, "E1")
    storm.slack.reaction_removed("zap", user="U2", channel="C1", ts=said.ts)
    storm.fake.wait_for(lambda f: len(f.deleted("C1")) == 1)
    storm.run("hotspot Who pays shipping?", user="U3")
    assert "Undone" in storm.run("undo", user="U3")
    storm.run("event Order Placed; Order Placd")
    storm.run("drop E3")
    storm.run("next")
    storm.run("next")
    summary = text_of(storm.wait_for_post("Step 2 closed")[0])
    assert "*Dropped (1)*: *E3* Order Placd" in summary, summary
    assert "Cart Abandoned" not in summary and "Who pays shipping" not in summary

"""Facilitation over signed HTTP: start, status, next, step, timebox, facilitators, end."""

from __future__ import annotations

import json
from datetime import datetime

from tests.support.running import InProcess, json_exports, text_of


def test_start_posts_the_kickoff_then_opens_step_one(storm: InProcess) -> None:
    answer = storm.run("start Checkout & Payment")
    assert "Checkout &amp; Payment" in answer and "facilitator" in answer
    storm.wait_for_post("Step 1 of 8: Collect Domain Events")
    kickoff, prompt = storm.posts()[:2]
    assert "Workshop: Checkout & Payment" in text_of(kickoff)
    for name in ("Collect Domain Events", "Completeness Check", "· 1d"):
        assert name in text_of(kickoff)
    prompt_text = text_of(prompt)
    assert "/storm event Order Placed" in prompt_text
    assert "past tense" in prompt_text
    assert "everyone" in prompt_text


def test_a_channel_has_one_unfinished_workshop(storm: InProcess) -> None:
    storm.run("start First")
    assert "already has a workshop" in storm.run("start Second", user="U2")
    assert "already has a workshop" in storm.run("start Second")
    # Another channel, and the same channel in another workspace, are separate.
    assert "started" in storm.run("start Elsewhere", channel="C2")
    assert "started" in storm.run("start Other team", team="T0002")


def test_commands_before_start_explain_how_to_start(storm: InProcess) -> None:
    assert "/storm start" in storm.run("status")
    assert "/storm start" in storm.run("event Order Placed")


def test_status_shows_step_time_counts_and_who_has_not_contributed(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("event Order Placed; Payment Received", user="U2")
    storm.wait_until_sent()
    status = storm.run("status", user="U3")
    assert "Step 1 of 8: Collect Domain Events" in status
    assert "23h 59m left" in status
    assert "2 events" in status
    assert "Contributed this step:* bob" in status
    assert "alice" in status.split("Not yet:")[1] and "carol" in status.split("Not yet:")[1]
    assert "<@" not in status


def test_status_counts_only_what_is_still_on_the_board(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("event Order Placed; Payment Received; Order Shipped; Order Cancelled")
    storm.run("command Place Order -> E1")
    storm.run("merge E2 into E1")
    storm.run("drop E3")
    status = storm.run("status")
    assert "*Model:* 1 command, 2 events" in status
    storm.run("undo")  # E3 is back on the board
    assert "*Model:* 1 command, 3 events" in storm.run("status")


def test_next_posts_the_summary_and_opens_the_next_step(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("event Order Placed; Payment Received", user="U2")
    storm.run("vote E2", user="U3")
    answer = storm.run("next")
    assert "step 2, Refine Domain Events, is open" in answer
    summary = storm.wait_for_post("Step 1 closed")[0]
    text = text_of(summary)
    assert "E1* Order Placed" in text and "E2* Payment Received · 1 vote" in text
    assert "bob" in text and "carol" in text
    storm.wait_for_post("Step 2 of 8: Refine Domain Events")
    assert "Step 2 of 8" in storm.run("status")


def test_only_facilitators_move_the_workshop_and_nothing_changes_otherwise(
    storm: InProcess,
) -> None:
    storm.run("start Checkout")
    for line in ("next", "step 4", "extend 1h", "timebox all 2h", "auto on", "end"):
        assert "Only a facilitator" in storm.run(line, user="U2"), line
    assert "Step 1 of 8" in storm.run("status", user="U2")
    assert "23h 59m" in storm.run("status", user="U2")


def test_jump_to_a_step_and_the_last_step_has_no_next(storm: InProcess) -> None:
    storm.run("start Checkout")
    assert "step 8, Completeness Check, is open" in storm.run("step 8")
    assert "already open" in storm.run("step 8")
    assert "last step" in storm.run("next")
    storm.wait_for_post("Step 8 of 8: Completeness Check")


def test_facilitators_can_be_shared_but_not_all_removed(storm: InProcess) -> None:
    storm.run("start Checkout")
    assert "is now a facilitator" in storm.run("facilitator add <@U2|bob>")
    assert "extended" in storm.run("extend 1h", user="U2")
    assert "last facilitator" not in storm.run("facilitator remove <@U1|alice>", user="U2")
    assert "Only a facilitator" in storm.run("next")
    assert "last facilitator cannot be removed" in storm.run("facilitator remove <@U2>", user="U2")


def test_timebox_and_extend_move_the_deadline(storm: InProcess) -> None:
    storm.run("start Checkout")
    assert "Timebox for every step set to 2h" in storm.run("timebox all 2h")
    assert "1h 59m left" in storm.run("status")
    storm.run("extend 30m")
    assert "2h 29m left" in storm.run("status")
    assert "Timebox for step 3 set to 45m" in storm.run("timebox 3 45m")
    storm.run("next")
    storm.run("next")
    assert "44m" in storm.run("status")


def test_end_posts_the_final_report_and_frees_the_channel(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("event Order Placed")
    assert "finished" in storm.run("end")
    report = text_of(storm.wait_for_post("Final report")[0])
    assert "E1* Order Placed" in report
    # Status after the end says the workshop ended and what still works on it.
    status = storm.run("status")
    assert "*Checkout* in this channel has ended" in status
    assert "`/storm report`, `check`, `export` and `trace` still work" in status
    assert "has ended" in storm.run("event Late Idea")
    assert "has ended" in storm.run("rename E1 Order Taken")
    # The team afterwards can still export the finished workshop.
    assert "file will appear" in storm.run("export json")
    storm.fake.wait_for(lambda f: len(json_exports(f)) == 1)
    model = json.loads(json_exports(storm.fake)[0].text)
    started, finished = model["workshop"]["started_at"], model["workshop"]["finished_at"]
    assert started.endswith("Z") and finished.endswith("Z")  # ISO 8601 UTC
    assert datetime.fromisoformat(started) <= datetime.fromisoformat(finished) <= storm.clock.now()
    assert [e["name"] for e in model["events"]] == ["Order Placed"]
    assert "started" in storm.run("start Round two")


def test_help_and_malformed_lines_store_nothing(storm: InProcess) -> None:
    card = storm.run("")
    assert "/storm start &lt;title&gt;" in card and "/storm event" in card  # escaped mrkdwn
    assert "Example: `/storm timebox all 1d`" in storm.run("help timebox")
    storm.run("start Checkout")
    for line in ("event", "step 12", "extend forever", "vote", "frobnicate", "timebox 2"):
        answer = storm.run(line)
        assert ":warning:" in answer, line
    assert "Usage: `/storm step &lt;1-8&gt;`" in storm.run("step 12")
    model = storm.export_json()
    assert model["events"] == []
    assert model["workshop"]["step"] == {"number": 1, "name": "Collect Domain Events"}

"""`/storm canvas on|off` (SPEC §4.5): the channel canvas follows the model, within Slack's
rate and ours (one edit per ten seconds per workshop), and a refusal is explained once."""

from __future__ import annotations

import time

from bot.sandbox.fake_slack import Call
from tests.support.running import InProcess, text_of

CHANNEL = "C1"
EXPLAINED = "I cannot keep the model in this channel's canvas"


def canvas_calls(storm: InProcess) -> list[Call]:
    methods = ("conversations.canvases.create", "canvases.create", "canvases.edit")
    return [c for c in storm.fake.calls if c.method in methods and c.error is None]


def markdown(storm: InProcess) -> str:
    (canvas,) = storm.fake.canvases.in_channel(CHANNEL)
    return canvas.markdown


def explanations(storm: InProcess) -> list[str]:
    texts = [text_of(m) for m in storm.fake.ephemerals(CHANNEL, "U1")]
    return [t for t in texts if EXPLAINED in t]


def test_canvas_on_creates_the_channel_canvas_with_the_model(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("event Order Placed; Payment Received", user="U2")
    assert "Only a facilitator" in storm.run("canvas on", user="U2")

    answer = storm.run("canvas on")

    assert "follow its changes within about ten seconds" in answer
    storm.fake.wait_for(lambda f: len(f.calls_to("conversations.canvases.create")) == 1)
    (create,) = storm.fake.calls_to("conversations.canvases.create")
    assert create.params["channel_id"] == CHANNEL and create.error is None
    (canvas,) = storm.fake.canvases.in_channel(CHANNEL)
    assert canvas.channel_canvas and canvas.owner == storm.fake.bot_user_id
    assert canvas.markdown.startswith("# Checkout\n")
    assert "1. **E1** Order Placed\n2. **E2** Payment Received" in canvas.markdown
    assert "## Slices" in canvas.markdown and "## Findings" in canvas.markdown
    assert "already follows" in storm.run("canvas on")


def test_changes_are_edited_in_within_ten_seconds_and_never_more_often(
    storm: InProcess,
) -> None:
    storm.run("start Checkout")
    storm.run("canvas on")
    storm.fake.wait_for(lambda f: len(canvas_calls(storm)) == 1)
    created = canvas_calls(storm)[0].at

    # A burst of changes right after the canvas was made: one edit carries them all.
    changed = time.time()
    storm.run("event Order Placed")
    storm.run("event Payment Received")
    storm.run("rename E1 Order Submitted")
    storm.fake.wait_for(lambda f: len(canvas_calls(storm)) == 2, timeout=15)
    first = canvas_calls(storm)[1]
    assert first.method == "canvases.edit"
    assert first.at - created >= 10.0
    assert first.at - changed <= 11.5
    assert "**E1** Order Submitted" in markdown(storm)
    assert "**E2** Payment Received" in markdown(storm)

    # A change just after that edit waits for the next one, ten seconds on.
    changed = time.time()
    storm.run("hotspot Who pays shipping?", user="U2")
    storm.fake.wait_for(lambda f: len(canvas_calls(storm)) == 3, timeout=15)
    second = canvas_calls(storm)[2]
    assert second.at - first.at >= 10.0
    assert second.at - changed <= 11.5
    assert "## Open hotspots\n\n- **H1** Who pays shipping?" in markdown(storm)
    assert storm.fake.canvases.in_channel(CHANNEL)[0].edits == 2

    # Off: the canvas stays as it is, and changes no longer reach it.
    assert "stops following" in storm.run("canvas off")
    storm.run("event Order Shipped")
    time.sleep(12)
    assert len(canvas_calls(storm)) == 3
    assert "Order Shipped" not in markdown(storm)


def test_a_refused_canvas_is_explained_once_and_the_workshop_goes_on(storm: InProcess) -> None:
    storm.fake.canvases.refuse = "disabled"
    storm.run("start Checkout")
    storm.run("canvas on")
    storm.fake.wait_for(lambda f: len(explanations(storm)) == 1)
    assert "canvases are turned off in this workspace" in explanations(storm)[0]

    storm.run("event Order Placed", user="U2")
    storm.run("event Payment Received", user="U3")
    storm.wait_for_post("*E2* Payment Received")
    time.sleep(3)
    assert len(explanations(storm)) == 1
    assert len(storm.fake.calls_to("conversations.canvases.create")) == 1
    assert storm.fake.canvases.in_channel(CHANNEL) == []

    # Asking again tries again (and, refused again, says so again).
    storm.fake.canvases.refuse = None
    storm.run("canvas on")
    storm.fake.wait_for(lambda f: len(f.canvases.in_channel(CHANNEL)) == 1)
    assert "**E2** Payment Received" in markdown(storm)


def test_a_channel_canvas_of_someone_else_gets_a_canvas_of_storms_own_beside_it(
    storm: InProcess,
) -> None:
    theirs = storm.fake.canvases.add_channel_canvas(CHANNEL, owner="U3", markdown="Team notes")
    storm.run("start Checkout")
    storm.run("canvas on")
    storm.fake.wait_for(lambda f: len(f.canvases.in_channel(CHANNEL)) == 2)
    (create,) = storm.fake.calls_to("canvases.create")
    assert create.params["channel_id"] == CHANNEL
    assert create.params["title"] == "Storm: Checkout"
    mine = next(c for c in storm.fake.canvases.in_channel(CHANNEL) if c.id != theirs.id)
    assert mine.markdown.startswith("# Checkout\n") and not mine.channel_canvas
    assert storm.fake.canvases.canvases[theirs.id].markdown == "Team notes"


def test_on_a_free_plan_with_the_channels_tab_taken_the_facilitator_is_told_why(
    storm: InProcess,
) -> None:
    storm.fake.canvases.refuse = "free"
    storm.fake.canvases.add_channel_canvas(CHANNEL, owner="U3")
    storm.run("start Checkout")
    storm.run("canvas on")
    storm.fake.wait_for(lambda f: len(explanations(storm)) == 1)
    assert "Slack plan" in explanations(storm)[0]
    assert [c.error for c in storm.fake.calls_to("canvases.create")] == [
        "free_team_canvas_tab_already_exists"
    ]

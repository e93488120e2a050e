"""Slack's post limit (SPEC §4.3, §9): about one message a second per channel, short bursts
allowed. Elements captured close together share a message, one section each with its own
buttons, so a burst is visible in seconds and nothing is lost to a 429; each element's part
of a shared message follows it like a message of its own."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlmodel import select

from bot.sandbox.fake_slack import Message, PostLimit
from storage.tables import Element, ScheduledPost, Vote
from storage.unit_of_work import unit_of_work
from tests.support.running import CHANNEL, InProcess, text_of

PEOPLE = ["U1", "U2", "U3", "U4"]


def carried(message: Message) -> list[str]:
    """The element IDs a message of Storm's carries, from its metadata."""
    payload = (message.metadata or {}).get("event_payload", {})
    return list(payload.get("elements") or [payload.get("element")])


def message_of(storm: InProcess, key: str) -> Message:
    (message,) = [m for m in storm.posts() if key in carried(m)]
    return message


def section(message: Message, key: str) -> dict[str, Any] | None:
    """The section that shows element `key` in a message."""
    return next(
        (b for b in message.blocks or [] if b["type"] == "section" and f"*{key}*" in _text(b)),
        None,
    )


def buttons(message: Message, key: str) -> list[str]:
    """The labels of the buttons that act on element `key` in a message."""
    return [
        element["text"]["text"]
        for block in message.blocks or []
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("value", "").endswith(f":{key}")
    ]


def _text(block: dict[str, Any]) -> str:
    return str(block["text"]["text"])


def wait_until(storm: InProcess, key: str, needle: str, *, absent: bool = False) -> Message:
    """Wait until the section of `key` says `needle` (or, `absent`, is gone); the message."""

    def shown(_: object) -> bool:
        found = section(message_of(storm, key), key)
        return found is None if absent else found is not None and needle in _text(found)

    storm.fake.wait_for(shown, timeout=15)
    return message_of(storm, key)


def started(storm: InProcess) -> InProcess:
    storm.fake.add_user("U4", "dan")
    storm.fake.set_channel_members(CHANNEL, [*PEOPLE, storm.fake.bot_user_id])
    storm.run("start Checkout")
    storm.wait_for_post("Step 1 of 8")
    storm.wait_until_sent()
    return storm


@pytest.fixture
def shared(storm: InProcess) -> Message:
    """Five events at once while Slack asks the channel to wait: they share a message."""
    started(storm)
    storm.fake.fail("chat.postMessage", retry_after=1)  # E1's message is told to wait
    storm.run("event Order Placed; Payment Received; Order Shipped; Invoice Sent; Parcel Sent")
    storm.fake.wait_for(lambda _: any(len(carried(m)) == 5 for m in storm.posts()))
    storm.wait_until_sent()
    return message_of(storm, "E1")


def test_a_burst_of_forty_captures_from_four_people_is_all_visible_within_five_seconds(
    storm: InProcess,
) -> None:
    started(storm)
    storm.fake.post_limit = PostLimit(per_second=1.0, burst=4)  # Slack's, on from here

    def capture(person: str) -> float:
        for n in range(10):
            assert "Added 1 event" in storm.run(f"event Step {n} Done By {person}", user=person)
        return time.time()

    with ThreadPoolExecutor(max_workers=len(PEOPLE)) as pool:
        last_ack = max(pool.map(capture, PEOPLE))
    keys = [f"E{n}" for n in range(1, 41)]
    storm.fake.wait_for(
        lambda _: all(any(k in carried(m) for m in storm.posts()) for k in keys), timeout=60
    )
    # Each element once, in the step's thread, its ID and name shown once in all of it.
    thread = [m for m in storm.posts() if m.thread_ts and carried(m) != [None]]
    assert sorted((k for m in thread for k in carried(m)), key=lambda k: int(k[1:])) == keys
    everything = "\n".join(text_of(m) for m in storm.posts())
    for person in PEOPLE:
        for n in range(10):
            assert everything.count(f"Step {n} Done By {person}") == 1
    assert all(everything.count(f"*{k}*") == 1 for k in keys)
    # Visible within five seconds of the last acknowledgement: a message's ts is when it
    # was posted (the fake's clock is the wall clock).
    visible = max(min(float(m.ts) for m in thread if k in carried(m)) for k in keys)
    print(
        f"40 captures: all visible {visible - last_ack:.2f} s after the last ack, "
        f"in {len(thread)} messages"
    )
    assert visible - last_ack <= 5.0
    assert len(thread) < 40  # they shared messages
    # Nothing was lost to the limit (the fake answers 429 beyond it): every post went out.
    storm.wait_until_sent(timeout=30)
    with unit_of_work(storm.storm.engine, read_only=True) as session:
        statuses = session.exec(
            select(ScheduledPost.status).where(ScheduledPost.kind == "element")
        ).all()
    assert sorted(set(statuses)) == ["sent"] and len(statuses) == 40
    # Under the limit, a change still reaches its element's message.
    storm.run("vote E40", user="U2")
    wait_until(storm, "E40", "1 vote")


def test_a_change_to_one_element_of_a_shared_message_changes_only_its_section(
    storm: InProcess, shared: Message
) -> None:
    assert [carried(shared)] == [["E1", "E2", "E3", "E4", "E5"]]
    for key in carried(shared):  # each with its own Vote button and menu
        assert buttons(shared, key) == ["Vote"]
        assert any(
            b["type"] == "actions" and b["block_id"].endswith(f":{key}") for b in shared.blocks
        )
    storm.fake.fail("chat.update", status=429, retry_after=1)  # Slack says wait: it waits
    posts = len(storm.posts())
    before = shared
    storm.run("vote E3", user="U2")
    after = wait_until(storm, "E3", "1 vote")
    assert after.ts == shared.ts and len(storm.posts()) == posts  # updated in place
    assert changed(before, after) == parts_of(after, "E3")  # its section and its buttons only
    assert buttons(after, "E3") == ["Vote · 1"] and buttons(after, "E2") == ["Vote"]
    assert "ratelimited" in [c.error for c in storm.fake.calls_to("chat.update")]

    # The second Vote button votes for the second element, and changes its part only.
    response = storm.slack.click(CHANNEL, shared.ts, "Vote", user="U3", which=2)
    assert response.status == 200, response.body
    clicked = wait_until(storm, "E2", "1 vote")
    assert changed(after, clicked) == parts_of(clicked, "E2")
    assert buttons(clicked, "E2") == ["Vote · 1"] and buttons(clicked, "E3") == ["Vote · 1"]

    # The fifth menu's Rename… renames the fifth element.
    response = storm.slack.click(CHANNEL, shared.ts, "Rename…", user="U2", which=5)
    assert response.status == 200, response.body
    (form,) = storm.fake.open_views("U2")
    assert form["title"]["text"] == "Rename E5"
    assert storm.slack.submit("U2", {"New name": "Parcel Handed Over"}).outcome == "closed"
    wait_until(storm, "E5", "Parcel Handed Over")
    storm.run("rename E4 Order Packed")
    renamed = wait_until(storm, "E4", "Order Packed")
    assert changed(clicked, renamed) == sorted(
        [*parts_of(renamed, "E4")[:1], *parts_of(renamed, "E5")[:1]]
    )  # their sections: a name is not on the buttons
    assert "Invoice Sent" not in text_of(renamed) and "Parcel Sent" not in text_of(renamed)
    assert len(storm.posts()) == posts  # the kickoff, the prompt and the one shared message


def changed(before: Message, after: Message) -> list[int]:
    """Which blocks of a message an update changed."""
    pairs = zip(before.blocks or [], after.blocks or [], strict=True)
    return [n for n, (a, b) in enumerate(pairs) if a != b]


def parts_of(message: Message, key: str) -> list[int]:
    """The blocks of element `key` in a shared message: its section and its buttons."""
    blocks = message.blocks or []
    at = blocks.index(section(message, key))
    return [at, at + 1] if blocks[at + 1]["type"] == "actions" else [at]


def test_a_dropped_element_of_a_shared_message_says_so_and_loses_only_its_buttons(
    storm: InProcess, shared: Message
) -> None:
    storm.run("drop E2")
    dropped = wait_until(storm, "E2", "dropped")
    assert buttons(dropped, "E2") == []
    assert all(buttons(dropped, k) == ["Vote"] for k in ("E1", "E3", "E4", "E5"))
    storm.run("merge E5 into E4")
    merged = wait_until(storm, "E5", "merged into *E4*")
    assert buttons(merged, "E5") == [] and buttons(merged, "E4") == ["Vote"]
    assert "Undone" in storm.run("undo")  # the merge: E5 is itself again
    storm.fake.wait_for(lambda _: buttons(message_of(storm, "E5"), "E5") == ["Vote"])
    assert "merged" not in text_of(message_of(storm, "E5"))
    assert dropped.ts == shared.ts and not storm.fake.deleted(CHANNEL)


def test_a_reaction_on_a_shared_message_explains_the_buttons_and_counts_nothing(
    storm: InProcess, shared: Message
) -> None:
    storm.slack.reaction_added("+1", user="U2", channel=CHANNEL, ts=shared.ts)
    storm.slack.reaction_added("question", user="U3", channel=CHANNEL, ts=shared.ts)
    storm.fake.wait_for(lambda f: bool(f.ephemerals(CHANNEL, "U2") and f.ephemerals(CHANNEL, "U3")))
    assert "vote with the button\n" in text_of(shared) + "\n" and ":+1:" not in text_of(shared)
    (vote,) = [text_of(m) for m in storm.fake.ephemerals(CHANNEL, "U2")]
    assert "holds several elements (*E1*, *E2*, *E3*, *E4*, *E5*)" in vote
    assert "*Vote* button under the one you mean" in vote
    (ask,) = [text_of(m) for m in storm.fake.ephemerals(CHANNEL, "U3")]
    assert "*Hotspot on this…* in its menu" in ask
    storm.slack.reaction_removed("+1", user="U2", channel=CHANNEL, ts=shared.ts)
    storm.wait_until_sent()
    with unit_of_work(storm.storm.engine, read_only=True) as session:
        assert session.exec(select(Vote)).all() == []
        kinds = session.exec(select(Element.kind)).all()
    assert kinds == ["event"] * 5  # no hotspot
    assert len(storm.fake.ephemerals(CHANNEL, "U2")) == 1  # a removal is not answered
    assert message_of(storm, "E1").blocks == shared.blocks
    # On a message of one element, :+1: still votes.
    storm.run("event Refund Issued")
    storm.wait_for_post("*E6*")
    alone = message_of(storm, "E6")
    assert carried(alone) == ["E6"] and "vote with the button or :+1:" in text_of(alone)
    storm.slack.reaction_added("+1", user="U2", channel=CHANNEL, ts=alone.ts)
    wait_until(storm, "E6", "1 vote")


def test_captures_taken_back_leave_a_shared_message_and_the_last_one_deletes_it(
    storm: InProcess,
) -> None:
    started(storm)
    # E1's message is told to wait: what is captured meanwhile piles up behind it.
    storm.fake.fail("chat.postMessage", retry_after=2)
    storm.run("event Order Placed")
    said = [
        storm.fake.post_user_message(CHANNEL, "U2", text)
        for text in ("Payment Received", "Order Shipped", "Invoice Sent")
    ]
    for message in said:  # E2, E3, E4, each confirmed to U3 ephemerally
        storm.slack.reaction_added("zap", user="U3", channel=CHANNEL, ts=message.ts)
    storm.run("event Parcel Sent; Parcel Returned", user="U2")  # E5, E6
    storm.fake.wait_for(lambda _: any(len(carried(m)) == 6 for m in storm.posts()), timeout=15)
    shared = message_of(storm, "E1")
    assert carried(shared) == ["E1", "E2", "E3", "E4", "E5", "E6"]
    assert [c.error for c in storm.fake.calls_to("chat.postMessage")][-2:] == ["ratelimited", None]
    storm.fake.wait_for(lambda f: len(f.ephemerals(CHANNEL, "U3")) == 3)
    key = {name: key_of(shared, name) for name in NAMES}  # reactions are applied after the ack

    storm.slack.reaction_removed("zap", user="U3", channel=CHANNEL, ts=said[1].ts)
    wait_until(storm, key["Order Shipped"], "", absent=True)
    assert "Undone" in storm.run("undo", user="U2")
    wait_until(storm, key["Parcel Sent"], "", absent=True)
    left = message_of(storm, "E1")
    assert left.ts == shared.ts
    staying = sorted(("E1", key["Payment Received"], key["Invoice Sent"]), key=lambda k: int(k[1:]))
    assert [k for k in carried(left) if section(left, k)] == staying
    assert all(buttons(left, k) == ["Vote"] for k in staying)
    for message in (said[0], said[2]):
        storm.slack.reaction_removed("zap", user="U3", channel=CHANNEL, ts=message.ts)
    alone = wait_until(storm, key["Invoice Sent"], "", absent=True)
    assert [k for k in carried(alone) if section(alone, k)] == ["E1"]
    assert "vote with the button or :+1:" in text_of(alone)  # alone again: :+1: votes for it
    assert not storm.fake.deleted(CHANNEL)

    assert "Undone" in storm.run("undo")  # the last one taken back: the message goes
    storm.fake.wait_for(lambda f: [m.ts for m in f.deleted(CHANNEL)] == [shared.ts])
    assert all(m.ts != shared.ts for m in storm.posts())


NAMES = ("Order Placed", "Payment Received", "Order Shipped", "Invoice Sent", "Parcel Sent")


def key_of(message: Message, name: str) -> str:
    """The ID of the element called `name` in a message."""
    (found,) = [
        k for k in carried(message) if (s := section(message, k)) and f"* {name} ·" in _text(s)
    ]
    return found

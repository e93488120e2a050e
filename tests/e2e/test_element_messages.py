"""Element messages stay true (SPEC §4.3): what people read in an element's message follows
the element (renamed, merged, dropped, undone, voted for, given fields, resolved), updated in
place, a burst of changes in a few updates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlmodel import select

from bot.sandbox.fake_slack import Message
from storage.tables import ScheduledPost
from storage.unit_of_work import unit_of_work
from tests.support.running import CHANNEL, InProcess, text_of


def element_message(storm: InProcess, key: str) -> Message:
    """The element's message as the channel shows it now (found by the element ID that it
    carries for Storm in its metadata)."""
    (message,) = [
        m
        for m in storm.posts()
        if (m.metadata or {}).get("event_payload", {}).get("element") == key
    ]
    return message


def wait_until_shown(storm: InProcess, key: str, *needles: str, absent: str = "") -> str:
    """Wait until the element's message says every needle (and not `absent`); its text."""

    def shown(_: object) -> bool:
        text = text_of(element_message(storm, key))
        return all(n in text for n in needles) and not (absent and absent in text)

    try:
        storm.fake.wait_for(shown, timeout=10)
    except AssertionError:
        raise AssertionError(f"{key} shows {text_of(element_message(storm, key))!r}") from None
    return text_of(element_message(storm, key))


def test_a_rename_rewrites_the_message_in_place(checkout: InProcess) -> None:
    before, posts = element_message(checkout, "E1"), len(checkout.posts())
    checkout.run("rename E1 Order Submitted")
    text = wait_until_shown(
        checkout, "E1", "*E1* Order Submitted · event", "vote with the button or :+1:"
    )
    assert "Order Placed" not in text
    after = element_message(checkout, "E1")
    assert (after.ts, after.thread_ts) == (before.ts, before.thread_ts)  # the same message
    assert len(checkout.posts()) == posts  # nothing new was posted for it
    assert checkout.fake.calls_to("chat.update")[-1].params["ts"] == before.ts


def test_a_merged_message_points_to_the_survivor_which_shows_the_votes(
    checkout: InProcess,
) -> None:
    checkout.run("event Order was placed", user="U2")
    checkout.wait_for_post("*E4*")
    checkout.run("vote E4", user="U2")
    checkout.run("vote E4", user="U3")
    checkout.run("vote E1", user="U3")
    wait_until_shown(checkout, "E4", "2 votes")
    checkout.run("merge E4 into E1", user="U2")
    merged = wait_until_shown(checkout, "E4", "merged into *E1* Order Placed", absent="the button")
    assert "vote" not in merged.split("·")[0]  # no count left on the merged one
    wait_until_shown(
        checkout, "E1", "*E1* Order Placed · event · 2 votes", "vote with the button or :+1:"
    )
    # Undoing the merge gives each its own votes and its own message back.
    assert "Undone: Merged *E4*" in checkout.run("undo", user="U2")
    wait_until_shown(
        checkout, "E4", "*E4* Order was placed · event · 2 votes", "vote with the button"
    )
    wait_until_shown(checkout, "E1", "*E1* Order Placed · event · 1 vote", "vote with the button")


def test_a_dropped_message_says_so_and_undo_brings_it_back(checkout: InProcess) -> None:
    checkout.run("vote E2", user="U2")
    wait_until_shown(checkout, "E2", "1 vote")
    checkout.run("drop E2")
    dropped = wait_until_shown(checkout, "E2", "dropped", absent="the button")
    assert "1 vote" not in dropped
    assert "Undone" in checkout.run("undo")
    wait_until_shown(
        checkout, "E2", "*E2* Payment Received · event · 1 vote", "vote with the button or :+1:"
    )
    # Undoing a vote takes it off the message too.
    checkout.run("vote E3", user="U3")
    wait_until_shown(checkout, "E3", "1 vote")
    checkout.run("undo", user="U3")
    shown = wait_until_shown(checkout, "E3", "vote with the button or :+1:", absent="1 vote")
    assert shown.startswith(":large_orange_square: *E3* Order Shipped · event\n")


def test_fields_and_resolved_hotspots_show_on_their_messages(checkout: InProcess) -> None:
    checkout.run("command Place Order -> E1")
    checkout.wait_for_post("*C1*")
    checkout.run("fields C1: order id*, amount")
    wait_until_shown(checkout, "C1", "Fields: order id*, amount")
    checkout.run("hotspot Who pays shipping?")
    checkout.wait_for_post("*H1*")
    checkout.run("resolve H1 The customer, over 50 &lt;EUR&gt;")
    wait_until_shown(checkout, "H1", "resolved", "*Answer:* The customer, over 50 &lt;EUR&gt;")
    # Undoing the resolve takes the answer back with it.
    checkout.run("undo")
    shown = wait_until_shown(checkout, "H1", "vote with the button", absent="resolved")
    assert "Answer" not in shown


def test_a_burst_of_thirty_votes_makes_a_few_updates(checkout: InProcess) -> None:
    voters = [f"UV{n:02}" for n in range(30)]
    for user in voters:
        checkout.fake.add_user(user, user.lower())
    checkout.fake.set_channel_members(CHANNEL, ["U1", *voters, checkout.fake.bot_user_id])
    message = element_message(checkout, "E2")
    updates_before = len(checkout.fake.calls_to("chat.update"))
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda u: checkout.run("vote E2", user=u), voters))
    assert all("Voted for *E2*" in a for a in answers), answers
    wait_until_shown(checkout, "E2", "30 votes")
    checkout.wait_until_sent()
    updates = [
        c
        for c in checkout.fake.calls_to("chat.update")[updates_before:]
        if c.params["ts"] == message.ts
    ]
    print(f"30 votes in a burst: {len(updates)} chat.update calls")
    assert 1 <= len(updates) <= 10


def test_votes_by_reaction_update_the_message(checkout: InProcess) -> None:
    message = element_message(checkout, "E1")
    checkout.slack.reaction_added("+1", user="U2", channel=CHANNEL, ts=message.ts)
    checkout.slack.reaction_added("+1", user="U3", channel=CHANNEL, ts=message.ts)
    wait_until_shown(checkout, "E1", "2 votes")
    checkout.slack.reaction_removed("+1", user="U2", channel=CHANNEL, ts=message.ts)
    wait_until_shown(checkout, "E1", "1 vote", absent="2 votes")


def test_a_vote_on_a_dropped_message_is_explained_and_not_counted(checkout: InProcess) -> None:
    message = element_message(checkout, "E3")
    checkout.run("drop E3")
    wait_until_shown(checkout, "E3", "dropped")
    checkout.slack.reaction_added("+1", user="U2", channel=CHANNEL, ts=message.ts)
    checkout.fake.wait_for(lambda f: len(f.ephemerals(CHANNEL, "U2")) == 1)
    (note,) = checkout.fake.ephemerals(CHANNEL, "U2")
    assert "*E3* Order Shipped was dropped, so it takes no votes" in text_of(note)
    checkout.run("undo")
    wait_until_shown(checkout, "E3", "vote with the button or :+1:")
    assert "1 vote" not in text_of(element_message(checkout, "E3"))  # the :+1: did not count


def test_a_vote_on_a_merged_message_counts_for_the_survivor(checkout: InProcess) -> None:
    merged = element_message(checkout, "E3")
    checkout.run("merge E3 into E2")
    wait_until_shown(checkout, "E3", "merged into *E2*")
    checkout.slack.reaction_added("+1", user="U2", channel=CHANNEL, ts=merged.ts)
    wait_until_shown(checkout, "E2", "1 vote")
    checkout.fake.wait_for(lambda f: len(f.ephemerals(CHANNEL, "U2")) == 1)
    (note,) = checkout.fake.ephemerals(CHANNEL, "U2")
    assert "*E3* was merged into *E2* Payment Received: your vote counts there" in text_of(note)


def test_a_message_that_cannot_be_updated_blocks_nothing(checkout: InProcess) -> None:
    checkout.fake.fail("chat.update", error="message_not_found")
    checkout.run("rename E1 Order Submitted")
    checkout.fake.wait_for(
        lambda f: any(c.error == "message_not_found" for c in f.calls_to("chat.update"))
    )
    checkout.run("event Invoice Sent")
    checkout.wait_for_post("*E4* Invoice Sent")
    checkout.run("rename E2 Payment Taken")
    wait_until_shown(checkout, "E2", "Payment Taken")
    checkout.wait_until_sent()
    failed = [c for c in checkout.fake.calls_to("chat.update") if c.error]
    assert len(failed) == 1  # logged and dropped, not retried


def test_a_change_while_the_message_is_on_its_way_reaches_it(checkout: InProcess) -> None:
    # Slack takes a second to post: the vote lands while the message is on its way, before
    # Storm knows the message's ts.
    checkout.fake.fail("chat.postMessage", delay=1.0)
    checkout.run("event Invoice Sent")
    checkout.fake.wait_for(lambda _: _sending(checkout, "element"), timeout=5)
    checkout.run("vote E4", user="U2")
    wait_until_shown(checkout, "E4", "*E4* Invoice Sent · event · 1 vote")


def _sending(storm: InProcess, kind: str) -> bool:
    """Whether a post of `kind` is claimed and on its way to Slack."""
    with unit_of_work(storm.storm.engine, read_only=True) as session:
        statuses = session.exec(select(ScheduledPost.status).where(ScheduledPost.kind == kind))
        return "sending" in statuses.all()

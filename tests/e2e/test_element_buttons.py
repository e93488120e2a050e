"""Clicking instead of typing on an element's message (SPEC §4.4): the Vote button toggles a
vote, and the menu's Rename…, Fields…, Merge into…, Drop and Hotspot on this… do what the typed
lines do, through forms that check their input in place. All over signed HTTP, as Slack sends
clicks and submissions."""

from __future__ import annotations

from bot.sandbox.fake_slack import Message
from tests.e2e.test_element_messages import element_message, wait_until_shown
from tests.support.running import CHANNEL, InProcess, text_of


def click(storm: InProcess, key: str, label: str, *, user: str = "U1") -> None:
    message = element_message(storm, key)
    response = storm.slack.click(CHANNEL, message.ts, label, user=user)
    assert response.status == 200, response.body


def told(storm: InProcess, user: str, needle: str) -> Message:
    """Wait for the ephemeral answer to `user` that says `needle`."""
    storm.fake.wait_for(
        lambda f: any(needle in text_of(m) for m in f.ephemerals(CHANNEL, user)), timeout=10
    )
    return next(m for m in storm.fake.ephemerals(CHANNEL, user) if needle in text_of(m))


def labels(message: Message) -> list[str]:
    return [
        element["text"]["text"] if element["type"] == "button" else "menu"
        for block in message.blocks or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_the_vote_button_toggles_the_vote_and_shows_the_count(checkout: InProcess) -> None:
    assert labels(element_message(checkout, "E1")) == ["Vote", "menu"]
    click(checkout, "E1", "Vote", user="U2")
    wait_until_shown(checkout, "E1", "1 vote")
    click(checkout, "E1", "Vote", user="U3")
    wait_until_shown(checkout, "E1", "2 votes")
    assert labels(element_message(checkout, "E1")) == ["Vote · 2", "menu"]
    told(checkout, "U2", "Voted for *E1* Order Placed (1 vote)")
    click(checkout, "E1", "Vote", user="U2")  # a second click takes the vote back
    wait_until_shown(checkout, "E1", "1 vote", absent="2 votes")
    told(checkout, "U2", "Took back your vote for *E1*")
    assert "already voted" in checkout.run("vote E1", user="U3")  # U3's vote stands
    assert "Voted for" in checkout.run("vote E1", user="U2")  # U2's was taken back


def test_rename_opens_a_form_prefilled_and_renames(checkout: InProcess) -> None:
    click(checkout, "E1", "Rename…", user="U2")
    (form,) = checkout.fake.open_views("U2")
    assert form["title"]["text"] == "Rename E1"
    submission = checkout.slack.submit("U2", {"New name": "Order Submitted"})
    assert submission.outcome == "closed", submission
    wait_until_shown(checkout, "E1", "*E1* Order Submitted")
    told(checkout, "U2", "Order Submitted")
    assert "Undone" in checkout.run("undo", user="U2")  # a click is undone like a typed line


def test_a_form_shows_what_is_wrong_beside_the_field_and_stores_nothing(
    checkout: InProcess,
) -> None:
    click(checkout, "E2", "Fields…")
    submission = checkout.slack.submit("U1", {"fields": "order id\nOrder_ID*"})
    assert submission.outcome == "errors"
    assert "same field" in submission.errors["fields"]
    assert len(checkout.fake.open_views("U1")) == 1  # still open, with what was typed
    click(checkout, "E1", "Rename…")
    submission = checkout.slack.submit("U1", {"New name": "   "})
    assert submission.errors == {"name": "The new name cannot be empty"}
    assert "*E1* Order Placed" in text_of(element_message(checkout, "E1"))
    assert "Fields" not in text_of(element_message(checkout, "E2"))


def test_fields_merge_and_hotspot_forms_change_the_model(checkout: InProcess) -> None:
    click(checkout, "E2", "Fields…")
    assert checkout.slack.submit("U1", {"fields": "payment id*\namount"}).outcome == "closed"
    wait_until_shown(checkout, "E2", "Fields: payment id*, amount")

    click(checkout, "E3", "Merge into…")
    form = checkout.fake.open_views("U1")[-1]
    options = [o["text"]["text"] for o in form["blocks"][1]["element"]["options"]]
    assert options == ["E1 Order Placed", "E2 Payment Received"]  # its own kind, not itself
    assert checkout.slack.submit("U1", {"into": "E1 Order Placed"}).outcome == "closed"
    wait_until_shown(checkout, "E3", "merged into *E1*")
    assert labels(element_message(checkout, "E3")) == []  # a merged element takes no clicks

    click(checkout, "E1", "Hotspot on this…", user="U3")
    assert checkout.slack.submit("U3", {"question": "Who pays the fees?"}).outcome == "closed"
    told(checkout, "U3", "H1")
    told(checkout, "U3", "on *E1* Order Placed")
    checkout.wait_for_post("*H1* Who pays the fees?")


def test_drop_needs_the_author_or_a_facilitator_and_removes_the_buttons(
    checkout: InProcess,
) -> None:
    click(checkout, "E2", "Drop", user="U3")  # U1 added it and facilitates; U3 may not
    told(checkout, "U3", "Only a facilitator or the author of E2 can drop it")
    assert labels(element_message(checkout, "E2")) == ["Vote", "menu"]
    click(checkout, "E2", "Drop")
    wait_until_shown(checkout, "E2", "dropped")
    assert labels(element_message(checkout, "E2")) == []


def test_a_stale_button_explains_itself_and_changes_nothing(checkout: InProcess) -> None:
    old = element_message(checkout, "E1")
    checkout.run("end")
    checkout.run("start Returns")
    checkout.run("event Return Requested")
    checkout.wait_for_post("*E1* Return Requested")
    assert checkout.slack.click(CHANNEL, old.ts, "Vote", user="U2").status == 200
    told(checkout, "U2", "earlier workshop")
    assert "Voted for" in checkout.run("vote E1", user="U2")  # the new E1 had no vote


def test_a_click_from_another_channel_or_workspace_is_refused(checkout: InProcess) -> None:
    message = element_message(checkout, "E1")
    payload_elsewhere = checkout.slack.block_actions_payload(
        [_vote_action(message)], user="U2", channel="C2", message_ts=message.ts
    )
    assert checkout.slack.interaction(payload_elsewhere).status == 200
    other_team = checkout.slack.block_actions_payload(
        [_vote_action(message)], user="U2", channel=CHANNEL, message_ts=message.ts, team_id="T9"
    )
    assert checkout.slack.interaction(other_team).status == 200
    checkout.wait_until_sent()
    assert "1 vote" not in text_of(element_message(checkout, "E1"))


def test_a_forged_click_is_refused(checkout: InProcess) -> None:
    message = element_message(checkout, "E1")
    payload = checkout.slack.block_actions_payload(
        [_vote_action(message)], user="U2", channel=CHANNEL, message_ts=message.ts
    )
    assert checkout.slack.interaction(payload, signature="v0=" + "0" * 64).status == 401
    checkout.wait_until_sent()
    assert "1 vote" not in text_of(element_message(checkout, "E1"))


def _vote_action(message: Message) -> dict[str, object]:
    (block,) = [b for b in message.blocks or [] if b["type"] == "actions"]
    button = block["elements"][0]
    return {
        "action_id": button["action_id"],
        "block_id": block["block_id"],
        "type": "button",
        "value": button["value"],
        "text": button["text"],
        "action_ts": "1.0",
    }


def test_the_menu_of_a_dropped_element_explains_itself(checkout: InProcess) -> None:
    """A menu choice on a message shown before the element was dropped (Slack may show it
    a moment longer) answers why, and opens no form."""
    stale = element_message(checkout, "E2")
    checkout.run("drop E2")
    response = checkout.slack.click(CHANNEL, stale.ts, "Rename…", user="U2", blocks=stale.blocks)
    assert response.status == 200
    told(checkout, "U2", "E2 was dropped")
    assert checkout.fake.open_views("U2") == []

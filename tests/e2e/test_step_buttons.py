"""Step prompts, time's-up posts and status carry buttons (SPEC §4.4), over signed HTTP: Add…
opens a form that adds one element or several with fields and links, all or nothing; Next
step and Extend are for facilitators, checked when clicked, and stale once their step closes."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from bot.sandbox.blockkit import action_payload, find_choice
from bot.sandbox.fake_slack import Message
from bot.sandbox.slack_requests import new_event_ts
from tests.support.model_json import field
from tests.support.running import CHANNEL, InProcess, text_of


@pytest.fixture
def checkout(storm: InProcess) -> InProcess:
    storm.run("start Checkout")
    storm.run("event Order Placed; Payment Received")
    for key in ("E1", "E2"):
        storm.wait_for_post(f"*{key}*")
    return storm


def prompt(storm: InProcess, number: int) -> Message:
    (found,) = storm.wait_for_post(f"Step {number} of 8")
    return found


def told(storm: InProcess, user: str, needle: str, *, timeout: float = 10.0) -> str:
    """Wait for the ephemeral answer shown to `user` that says `needle`; its text."""

    def seen(_: object) -> bool:
        return any(needle in text_of(m) for m in storm.fake.ephemerals(CHANNEL, user))

    try:
        storm.fake.wait_for(seen, timeout=timeout)
    except AssertionError:
        shown = [text_of(m) for m in storm.fake.ephemerals(CHANNEL, user)]
        raise AssertionError(f"{user} was told {shown!r}") from None
    return next(text_of(m) for m in storm.fake.ephemerals(CHANNEL, user) if needle in text_of(m))


def open_add_form(storm: InProcess, user: str = "U2", number: int = 1) -> dict[str, Any]:
    response = storm.slack.click(CHANNEL, prompt(storm, number).ts, "Add…", user=user)
    assert response.ok
    (form,) = storm.fake.open_views(user)
    return form


# ---- Add… ---------------------------------------------------------------------------------


def test_add_opens_a_form_and_adds_several_events_with_fields_and_a_cause(
    checkout: InProcess,
) -> None:
    checkout.run("command Place Order")
    form = open_add_form(checkout)
    assert form["title"]["text"] == "Add to the model"
    submitted = checkout.slack.submit(
        "U2",
        {
            "kind": "Domain event",
            "names": "Order Shipped\nOrder Delivered\n\n",
            "fields": "order id\nshipped at*",
            "links": ["C1 Place Order"],
        },
    )
    assert submitted.outcome == "closed", submitted.errors
    answer = told(checkout, "U2", "Added 2 events")
    assert "*E3* Order Shipped" in answer and "*E4* Order Delivered" in answer
    model = checkout.export_json()
    events = {e["id"]: e for e in model["events"]}
    assert [f["name"] for f in events["E4"]["fields"]] == ["order id", "shipped at"]
    assert events["E3"]["fields"][1]["generated"] is True
    assert model["commands"][0]["causes"] == ["E3", "E4"]
    # Both events went into the step's thread like typed ones.
    checkout.wait_for_post("*E4* Order Delivered")
    # One form is one change: undo takes all of it back.
    undone = checkout.run("undo", user="U2")
    assert "Undone: Added 2 events: *E3* Order Shipped, *E4* Order Delivered" in undone
    model = checkout.export_json()
    assert [e["id"] for e in model["events"]] == ["E1", "E2"]
    assert model["commands"][0]["causes"] == []


def test_add_links_each_kind_the_way_it_reads(checkout: InProcess) -> None:
    checkout.run("command Place Order -> E1")
    checkout.run("command Take Payment -> E2")
    for entries in (
        {"kind": "View (read model)", "names": "Order Summary", "links": ["E1", "E2"]},
        {"kind": "Policy", "names": "Charge when placed", "links": ["E1", "C2"]},
        {"kind": "Actor", "names": "Customer\nClerk", "links": ["C1"]},
        {"kind": "External system", "names": "Payment Provider", "links": ["E2"]},
        {"kind": "Hotspot", "names": "Who refunds?", "links": ["E2"]},
        {"kind": "Command", "names": "Cancel Order", "fields": "order id\nreason"},
        {"kind": "Screen", "names": "Checkout", "links": ["C1", "V1"], "fields": "coupon"},
        {"kind": "Policy", "names": "Chase each unpaid", "links": ["V1", "C2"]},
    ):
        open_add_form(checkout)
        submitted = checkout.slack.submit("U2", entries)
        assert submitted.outcome == "closed", (entries, submitted.errors)
    model = checkout.export_json()
    assert model["views"][0]["fed_by"] == ["E1", "E2"]
    assert model["policies"] == [
        {"id": "P1", "name": "Charge when placed", "on": "E1", "issues": "C2", "fields": []},
        {"id": "P2", "name": "Chase each unpaid", "on": "V1", "issues": "C2", "fields": []},
    ]
    assert model["screens"] == [
        {
            "id": "U1",
            "name": "Checkout",
            "issues": ["C1"],
            "shows": ["V1"],
            "fields": [field("coupon")],
        }
    ]
    assert [(a["name"], a["issues"]) for a in model["actors"]] == [
        ("Customer", ["C1"]),
        ("Clerk", ["C1"]),
    ]
    assert model["externals"][0]["causes"] == ["E2"]
    assert (model["hotspots"][0]["text"], model["hotspots"][0]["on"]) == ("Who refunds?", "E2")
    assert [f["name"] for f in model["commands"][2]["fields"]] == ["order id", "reason"]


@pytest.mark.parametrize(
    ("entries", "field", "says"),
    [
        ({"kind": "Domain event", "names": " \n  "}, "names", "Give at least one name"),
        ({"kind": "Domain event", "names": "Shipped\nshipped"}, "names", "listed twice"),
        (
            {"kind": "Command", "names": "Ship", "fields": "order id\nOrder_Id"},
            "fields",
            "are the same field",
        ),
        ({"kind": "Actor", "names": "Clerk", "fields": "name"}, "fields", "Only commands"),
        (
            {"kind": "View (read model)", "names": "Board", "links": ["C1"]},
            "links",
            "C1 is a command",
        ),
        (
            {"kind": "Policy", "names": "Auto", "links": ["E1"]},
            "links",
            "one event or view and one command",
        ),
    ],
)
def test_wrong_input_is_shown_beside_its_field_and_nothing_is_stored(
    checkout: InProcess, entries: dict[str, Any], field: str, says: str
) -> None:
    checkout.run("command Place Order -> E1")
    before = checkout.export_json()
    open_add_form(checkout)
    submitted = checkout.slack.submit("U2", entries)
    assert submitted.outcome == "errors"
    assert says in submitted.errors[field], submitted.errors
    # The form stays open with what was typed.
    (still,) = checkout.fake.open_views("U2")
    assert still["id"] == submitted.view_id
    after = checkout.export_json()
    assert {k: after[k] for k in ("events", "commands", "views", "policies", "actors")} == {
        k: before[k] for k in ("events", "commands", "views", "policies", "actors")
    }


def test_a_form_whose_link_is_gone_stores_none_of_its_names(checkout: InProcess) -> None:
    checkout.run("command Place Order")
    open_add_form(checkout)
    checkout.run("drop C1")  # dropped while the form was open
    submitted = checkout.slack.submit(
        "U2", {"kind": "Domain event", "names": "Order Shipped\nOrder Lost", "links": ["C1"]}
    )
    assert submitted.outcome == "errors"
    assert "C1 was dropped" in submitted.errors["links"]  # beside the field that names it
    assert [e["id"] for e in checkout.export_json()["events"]] == ["E1", "E2"]


def test_add_on_an_ended_workshops_prompt_explains_itself(checkout: InProcess) -> None:
    old = prompt(checkout, 1)
    checkout.run("end")
    checkout.wait_for_post("Final report")
    assert checkout.slack.click(CHANNEL, old.ts, "Add…", user="U2").ok
    assert "has ended" in told(checkout, "U2", "buttons do nothing")
    assert checkout.fake.open_views("U2") == []


# ---- Next step and Extend -----------------------------------------------------------------


def test_a_facilitator_moves_on_and_extends_from_the_prompt(checkout: InProcess) -> None:
    first = prompt(checkout, 1)
    assert checkout.slack.click(CHANNEL, first.ts, "Extend 1 hour", user="U1").ok
    assert "Step 1 extended" in told(checkout, "U1", "extended")
    assert checkout.slack.click(CHANNEL, first.ts, "Next step", user="U1").ok
    told(checkout, "U1", "step 2, Refine Domain Events, is open")
    checkout.wait_for_post("Step 1 closed")
    # The first prompt's buttons were made for step 1: they do nothing now.
    assert checkout.slack.click(CHANNEL, first.ts, "Next step", user="U1").ok
    stale = told(checkout, "U1", "That button is for step 1")
    assert "step 2, Refine Domain Events" in stale
    assert checkout.slack.click(CHANNEL, first.ts, "Extend 1 day", user="U1").ok
    checkout.fake.wait_for(
        lambda f: (
            sum("That button is for step 1" in text_of(m) for m in f.ephemerals(CHANNEL, "U1")) == 2
        )
    )
    # Step 2 kept its own timebox: the stale Extend added nothing to it.
    status = checkout.run("status")
    assert re.search(r"Step 2 of 8: Refine Domain Events\n:alarm_clock: (23h \d+m|1d) left", status)
    assert not any("Step 2 closed" in t for t in checkout.post_texts())


def test_someone_else_on_next_step_is_told_why_not_and_nothing_moves(
    checkout: InProcess,
) -> None:
    first = prompt(checkout, 1)
    assert checkout.slack.click(CHANNEL, first.ts, "Next step", user="U2").ok
    assert "Only a facilitator" in told(checkout, "U2", "facilitator")
    assert checkout.slack.click(CHANNEL, first.ts, "Extend 30 min", user="U3").ok
    told(checkout, "U3", "Only a facilitator")
    checkout.wait_until_sent()
    assert not any("Step 1 closed" in t for t in checkout.post_texts())
    assert "Collect Domain Events" in checkout.run("status")


def test_times_up_carries_the_buttons_and_they_work(checkout: InProcess) -> None:
    checkout.run("timebox current 1h")
    checkout.clock.advance(timedelta(hours=1, minutes=1))
    (up,) = checkout.wait_for_post("Time's up")
    assert "or the buttons below" in text_of(up)
    assert checkout.slack.click(CHANNEL, up.ts, "Extend 30 min", user="U1").ok
    answer = told(checkout, "U1", "Step 1 extended")
    assert "<!date^" in answer
    assert checkout.slack.click(CHANNEL, up.ts, "Next step", user="U1").ok
    checkout.wait_for_post("Step 1 closed")


def _click_answer(storm: InProcess, answer: dict[str, Any], label: str, user: str) -> None:
    """Click a button of an ephemeral answer (Slack keeps no copy of it to look up)."""
    choice = find_choice(answer["blocks"], label)
    payload = storm.slack.block_actions_payload(
        [action_payload(choice, new_event_ts())],
        user=user,
        channel=CHANNEL,
        message_ts=new_event_ts(),
    )
    assert storm.slack.interaction(payload).ok


def test_status_gives_a_facilitator_the_buttons_and_others_none(checkout: InProcess) -> None:
    mine = checkout.slack.command("status", user="U1").json()
    theirs = checkout.slack.command("status", user="U2").json()
    assert not any(b["type"] == "actions" for b in theirs["blocks"])
    _click_answer(checkout, mine, "Next step", "U1")
    told(checkout, "U1", "step 2, Refine Domain Events, is open")
    # A status read before the step moved on is stale like the prompt's buttons.
    _click_answer(checkout, mine, "Extend 1 hour", "U1")
    told(checkout, "U1", "That button is for step 1")
    # And someone who copies a facilitator's payload is still no facilitator.
    _click_answer(checkout, checkout.slack.command("status", user="U1").json(), "Next step", "U2")
    told(checkout, "U2", "Only a facilitator")

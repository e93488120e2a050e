"""The scenario form and the completeness report's Fix buttons, over signed HTTP against the
fake Slack (SPEC §4.4): each way into the scenario form, wrong input refused beside its field
with nothing stored, each Fix applied and the report re-checked in place, and an old Fix."""

from __future__ import annotations

from typing import Any

import pytest

from bot.sandbox.fake_slack import Message
from tests.support.running import CHANNEL, InProcess, text_of


@pytest.fixture
def shop(storm: InProcess) -> InProcess:
    """A checkout at step 8: E1 Cart Opened, E2 Order Placed, E3 Payment Taken, E4 Order
    Shipped; C1 Place Order -> E2, C2 Take Payment -> E3, C3 Ship Order -> E4; aggregate A1
    Order holds C1, C3, E1, E2, E4 (C2 and E3 in none). C1 carries “order id” and “total”,
    E2 “order id” and “placed at”: “total” is lost, “placed at” has no origin."""
    for line in (
        "start Checkout",
        "event Cart Opened; Order Placed; Payment Taken; Order Shipped",
        "command Place Order -> E2",
        "command Take Payment -> E3",
        "command Ship Order -> E4",
        "aggregate Order: C1 C3 E1 E2 E4",
        "fields C1: order id, total",
        "fields E2: order id, placed at",
        "step 8",
    ):
        storm.run(line)
    storm.wait_for_post("*C3*")
    storm.wait_until_sent()
    return storm


def element_message(storm: InProcess, key: str) -> Message:
    (message,) = [
        m
        for m in storm.posts()
        if (m.metadata or {}).get("event_payload", {}).get("element") == key
    ]
    return message


def open_form(storm: InProcess, user: str = "U1") -> dict[str, Any]:
    (form,) = storm.fake.open_views(user)
    return form


def field(form: dict[str, Any], block_id: str) -> dict[str, Any]:
    (block,) = [b for b in form["blocks"] if b.get("block_id") == block_id]
    return block["element"]


def chosen(element: dict[str, Any]) -> list[str]:
    """What a picker shows as chosen when the form opens, as option labels."""
    found = element.get("initial_options") or (
        [element["initial_option"]] if element.get("initial_option") else []
    )
    return [o["text"]["text"] for o in found]


def told(storm: InProcess, needle: str, user: str = "U1") -> str:
    """Wait for an ephemeral answer to `user` containing `needle`; its text."""
    storm.fake.wait_for(
        lambda f: any(needle in text_of(m) for m in f.ephemerals(CHANNEL, user)), timeout=10
    )
    return next(text_of(m) for m in storm.fake.ephemerals(CHANNEL, user) if needle in text_of(m))


def report(storm: InProcess) -> Message:
    """Post a completeness report and return its (one) message."""
    before = len(storm.wait_for_post("Completeness check", count=0))
    storm.run("check")
    (message, *_) = storm.wait_for_post("Completeness check", count=before + 1)[before:]
    return message


def current(storm: InProcess, message: Message) -> Message:
    found = storm.fake.message(CHANNEL, message.ts)
    assert found is not None
    return found


def fix_labels(message: Message) -> list[str]:
    return [
        e["text"]["text"]
        for b in message.blocks or []
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def model_text(storm: InProcess) -> str:
    """The model as `/storm report` shows it."""
    storm.run("report")
    return text_of(storm.wait_for_post("Report · Checkout")[-1])


# ---- the scenario form ---------------------------------------------------------------


def test_the_command_menu_opens_a_drafted_scenario_form(shop: InProcess) -> None:
    c3 = element_message(shop, "C3")
    assert shop.slack.click(CHANNEL, c3.ts, "Scenario…", user="U2").ok
    form = open_form(shop, "U2")
    assert form["title"]["text"] == "Scenario for C3"
    # Given: A1's events before E4 on the timeline (E3 is in no aggregate); then: what C3 causes.
    assert chosen(field(form, "scenario_given")) == ["E1 Cart Opened", "E2 Order Placed"]
    assert chosen(field(form, "scenario_when")) == ["C3 Ship Order"]
    assert chosen(field(form, "scenario_then")) == ["E4 Order Shipped"]
    # Each picker offers only its kind.
    assert {o["value"][0] for o in field(form, "scenario_given")["options"]} == {"E"}
    assert {o["value"][0] for o in field(form, "scenario_when")["options"]} == {"C"}
    sent = shop.slack.submit("U2", {"Title": "Ship a placed order"})
    assert sent.outcome == "closed", sent
    answer = told(shop, "Added scenario", user="U2")
    assert "*S1* Ship a placed order" in answer
    assert "given *E1* Cart Opened, *E2* Order Placed when *C3* Ship Order then *E4*" in answer
    assert "given *E1* Cart Opened, *E2* Order Placed when *C3* Ship Order then *E4*" in (
        model_text(shop)
    )


def test_storm_scenario_alone_opens_the_form(shop: InProcess) -> None:
    shop.run("view Orders <- E2")
    response = shop.slack.command("scenario", user="U3")
    assert response.status == 200 and response.body == ""  # the form is the answer
    form = open_form(shop, "U3")
    assert form["title"]["text"] == "New scenario"
    assert "scenario_view" in [b.get("block_id") for b in form["blocks"]]
    sent = shop.slack.submit(
        "U3",
        {
            "Title": "Orders list",
            "scenario_given": ["E2 Order Placed"],
            "scenario_view": "V1 Orders",
        },
    )
    assert sent.outcome == "closed", sent
    assert "given *E2* Order Placed then *V1* Orders" in told(shop, "Added scenario", user="U3")
    # A rejection scenario from a second form.
    shop.slack.command("scenario", user="U3")
    sent = shop.slack.submit(
        "U3",
        {
            "Title": "Empty cart",
            "scenario_when": "C1 Place Order",
            "scenario_error": "The cart is empty",
        },
    )
    assert sent.outcome == "closed", sent
    assert "then error “The cart is empty”" in told(shop, "*S2*", user="U3")


def test_storm_scenario_alone_without_a_workshop_says_why(storm: InProcess) -> None:
    answer = storm.run("scenario", channel="C2")
    assert "no workshop in this channel" in answer
    assert storm.fake.open_views("U1") == []


def test_wrong_input_is_shown_beside_each_field_and_nothing_is_stored(shop: InProcess) -> None:
    shop.slack.command("scenario")
    blank = shop.slack.submit("U1", {"Title": "   "})
    assert blank.outcome == "errors"
    assert set(blank.errors) == {"title", "scenario_when"}
    assert "cannot be empty" in blank.errors["title"]
    neither = shop.slack.submit("U1", {"Title": "T", "scenario_when": "C1 Place Order"})
    assert neither.outcome == "errors" and list(neither.errors) == ["scenario_error"]
    both = shop.slack.submit(
        "U1",
        {
            "Title": "T",
            "scenario_when": "C1 Place Order",
            "scenario_then": ["E2 Order Placed"],
            "scenario_error": "No",
        },
    )
    assert both.outcome == "errors" and "not both" in both.errors["scenario_error"]
    # An event dropped while the form was open is refused beside the field that names it.
    shop.run("drop E1")
    dropped = shop.slack.submit(
        "U1",
        {
            "Title": "T",
            "scenario_given": ["E1 Cart Opened"],
            "scenario_when": "C1 Place Order",
            "scenario_then": ["E2 Order Placed"],
            "scenario_error": "",  # the form kept what was typed before
        },
    )
    assert dropped.outcome == "errors" and list(dropped.errors) == ["scenario_given"]
    assert "E1 was dropped" in dropped.errors["scenario_given"]
    assert len(shop.fake.open_views("U1")) == 1  # still open, with what was typed
    shop.wait_until_sent()
    assert not any("Added scenario" in text_of(m) for m in shop.fake.ephemerals(CHANNEL))
    assert "Scenarios (0)" in model_text(shop)


# ---- Fix buttons ---------------------------------------------------------------------


def test_the_report_offers_a_fix_for_each_mechanical_finding(shop: InProcess) -> None:
    labels = fix_labels(report(shop))
    assert labels == [
        "E2: origin of “placed at”…",
        "C1: carry “total” on E2",
        "E3: put in an aggregate…",
        "C1: write a scenario…",
        "C2: write a scenario…",
        "C2: put in an aggregate…",
        "C3: write a scenario…",
    ]


def test_carrying_a_lost_field_fixes_it_and_rewrites_the_report(shop: InProcess) -> None:
    message = report(shop)
    assert "no event it causes carries “total”" in text_of(message)
    assert shop.slack.click(CHANNEL, message.ts, "C1: carry", user="U2").ok
    assert "Fields of *E2* Order Placed: order id, placed at, total" in told(shop, "Fields", "U2")
    assert "Re-checked: completeness" in told(shop, "Re-checked", "U2")
    shop.fake.wait_for(lambda _: "carries “total”" not in text_of(current(shop, message)))
    rewritten = current(shop, message)
    assert "C1: carry “total” on E2" not in fix_labels(rewritten)
    assert "E2: origin of “placed at”…" in fix_labels(rewritten)
    # The fix is an ordinary change: its author can undo it.
    assert "Undone" in shop.run("undo", user="U2")
    assert "E2* Order Placed: `order id`, `placed at`\n" in model_text(shop) + "\n"


@pytest.mark.parametrize(
    ("choice", "shown"),
    [
        ("Add it to C1 Place Order", "*C1* Place Order: `order id`, `total`, `placed at`"),
        (
            "Mark it generated on E2 (made by the system)",
            "*E2* Order Placed: `order id`, `placed at*`",
        ),
    ],
)
def test_a_field_without_origin_is_added_to_its_command_or_marked_generated(
    shop: InProcess, choice: str, shown: str
) -> None:
    message = report(shop)
    shop.slack.click(CHANNEL, message.ts, "E2: origin", user="U1")
    form = open_form(shop)
    assert [o["text"]["text"] for o in field(form, "origin_choice")["options"]] == [
        "Add it to C1 Place Order",
        "Mark it generated on E2 (made by the system)",
    ]
    sent = shop.slack.submit("U1", {"origin_choice": choice})
    assert sent.outcome == "closed", sent
    told(shop, "Re-checked")
    assert "no origin for “placed at”" in text_of(message)
    shop.fake.wait_for(lambda _: "no origin for" not in text_of(current(shop, message)))
    assert "E2: origin of “placed at”…" not in fix_labels(current(shop, message))
    assert shown in model_text(shop)


def test_grouping_picks_an_aggregate_or_makes_a_new_one(shop: InProcess) -> None:
    message = report(shop)
    shop.slack.click(CHANNEL, message.ts, "E3: put in an aggregate", user="U1")
    assert chosen(field(open_form(shop), "aggregate_pick")) == []  # C2 causes it: no aggregate
    sent = shop.slack.submit("U1", {"aggregate_pick": "A1 Order"})
    assert sent.outcome == "closed", sent
    told(shop, "Re-checked")
    shop.fake.wait_for(lambda _: "E3: put in" not in str(fix_labels(current(shop, message))))
    shop.slack.click(CHANNEL, message.ts, "C2: put in an aggregate", user="U1")
    assert chosen(field(open_form(shop), "aggregate_pick")) == ["A1 Order"]  # where E3 is now
    both = shop.slack.submit("U1", {"…or a new aggregate": "Payment"})
    assert both.outcome == "errors" and "not both" in both.errors["aggregate_new"]
    sent = shop.slack.submit("U1", {"aggregate_pick": None, "…or a new aggregate": "Payment"})
    assert sent.outcome == "closed", sent
    assert "Added aggregate *A2* Payment: *C2* Take Payment" in told(shop, "A2")
    shop.fake.wait_for(lambda _: "C2: put in" not in str(fix_labels(current(shop, message))))


def test_a_command_without_scenario_opens_the_drafted_form(shop: InProcess) -> None:
    message = report(shop)
    shop.slack.click(CHANNEL, message.ts, "C1: write a scenario", user="U3")
    form = open_form(shop, "U3")
    assert chosen(field(form, "scenario_given")) == ["E1 Cart Opened"]
    assert chosen(field(form, "scenario_then")) == ["E2 Order Placed"]
    sent = shop.slack.submit("U3", {"Title": "Place an order"})
    assert sent.outcome == "closed", sent
    told(shop, "Re-checked", "U3")
    shop.fake.wait_for(lambda _: "C1: write" not in str(fix_labels(current(shop, message))))
    assert "C2: write a scenario…" in fix_labels(current(shop, message))


def test_an_old_fix_button_explains_itself(shop: InProcess) -> None:
    old = report(shop)
    new = report(shop)
    shop.slack.click(CHANNEL, new.ts, "C1: carry", user="U1")
    told(shop, "Re-checked")
    assert shop.slack.click(CHANNEL, old.ts, "C1: carry", user="U2").ok
    answer = told(shop, "Nothing to fix", "U2")
    assert "C1 “total” (input-lost) is no longer a finding" in answer
    # Carried once, not twice.
    assert "*E2* Order Placed: `order id`, `placed at`, `total`\n" in model_text(shop) + "\n"
    # A report of an ended workshop does nothing at all.
    shop.run("end")
    shop.slack.click(CHANNEL, old.ts, "E3: put in", user="U2")
    assert "has ended" in told(shop, "has ended", "U2")
    assert shop.fake.open_views("U2") == []


def test_a_model_with_more_than_a_hundred_events_is_searched(storm: InProcess) -> None:
    storm.run("start Big")
    for start in (1, 51, 101):
        storm.run("event " + "; ".join(f"Thing {n} Happened" for n in range(start, start + 50)))
    storm.run("command Do Thing -> E120, E7")
    storm.run("aggregate Things: C1 E3 E7 E120 E130")
    storm.slack.command("scenario", user="U2")
    form = open_form(storm, "U2")
    given = field(form, "scenario_given")
    assert given["type"] == "multi_external_select" and "options" not in given
    # Searched as the person types: only events, the ones that match.
    found = storm.slack.suggest("U2", given["action_id"], "thing 12", block_id="scenario_given")
    assert [o["value"] for o in found] == ["E12", *(f"E{n}" for n in range(120, 130))]
    sent = storm.slack.submit(
        "U2",
        {
            "Title": "Big one",
            "scenario_given": ["E3 Thing 3 Happened"],  # typed as the option shows it
            "scenario_when": "C1 Do Thing",
            "scenario_then": ["E120 Thing 120 Happened", "E7 Thing 7 Happened"],
        },
    )
    assert sent.outcome == "closed", sent
    answer = told(storm, "Added scenario", "U2")
    assert "given *E3* Thing 3 Happened when *C1* Do Thing then *E120*" in answer
    # Drafted from the command's menu: the picks start from its links, searched or not.
    storm.wait_for_post("*C1*")
    storm.slack.click(CHANNEL, element_message(storm, "C1").ts, "Scenario…", user="U2")
    drafted = open_form(storm, "U2")
    assert chosen(field(drafted, "scenario_given")) == ["E3 Thing 3 Happened"]
    assert chosen(field(drafted, "scenario_then")) == [
        "E7 Thing 7 Happened",
        "E120 Thing 120 Happened",
    ]


def test_a_typed_given_keeps_its_repetitions(shop: InProcess) -> None:
    # The form's pickers name each event once; typing says it twice (SPEC §3).
    answer = shop.run("scenario Twice: given E1, E1 and E2 when C1 then E2")
    assert "given *E1* Cart Opened, *E1* Cart Opened, *E2* Order Placed when *C1*" in answer
    assert "given *E1* Cart Opened, *E1* Cart Opened, *E2* Order Placed" in model_text(shop)

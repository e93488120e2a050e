"""What Event Modeling has and Storm gained (SPEC §3): screens, policies triggered by a view
(the to-do list), fields on policies and screens, views in aggregates, over signed HTTP."""

from __future__ import annotations

import re

import pytest

from tests.support.model_json import by_id, field
from tests.support.running import InProcess


@pytest.fixture
def shop(storm: InProcess) -> InProcess:
    storm.run("start Shop")
    storm.run("event Order Placed; Order Shipped")
    storm.run("command Place Order -> E1")
    storm.run("command Ship Order -> E2")
    storm.run("view Orders to Ship <- E1, E2")
    return storm


def test_a_screen_issues_commands_and_shows_views(shop: InProcess) -> None:
    answer = shop.run("screen Checkout -> C1 <- V1")
    assert "Added screen *U1* Checkout: issues *C1* Place Order; shows *V1* Orders to Ship" in (
        answer
    )
    assert "Noted early" in answer  # screens belong to step 3
    assert "Updated *U1* Checkout: issues *C2* Ship Order" in shop.run("screen U1 -> C2")
    assert "Nothing new" in shop.run("screen Checkout -> C1")
    assert "is an event, not a command" in shop.run("screen Checkout -> E1")
    assert "is a command, not a view" in shop.run("screen Checkout <- C1")
    assert shop.export_json()["screens"] == [
        {"id": "U1", "name": "Checkout", "issues": ["C1", "C2"], "shows": ["V1"], "fields": []}
    ]
    markdown = shop.export("md").text
    assert "| U1 | Checkout | C1 Place Order, C2 Ship Order | V1 Orders to Ship |" in markdown
    mermaid = shop.export("mermaid").text
    assert 'U1[/"U1 Checkout"/]' in mermaid
    assert "U1 --> C1" in mermaid and "V1 -.-> U1" in mermaid
    # Undo takes back the author's last change: the links added to U1, then U1 itself.
    assert "Undone" in shop.run("undo")
    assert shop.export_json()["screens"][0]["issues"] == ["C1"]
    assert "Undone" in shop.run("undo")
    assert shop.export_json()["screens"] == []
    assert "Added screen *U2* Cart" in shop.run("screen Cart -> C1")  # IDs are never reused
    assert [s["id"] for s in shop.export_json()["screens"]] == ["U2"]


def test_a_policy_triggered_by_a_view_reads_it_as_a_to_do_list(shop: InProcess) -> None:
    answer = shop.run("policy Ship each order: V1 -> C2")
    assert "Added policy *P1* Ship each order: for each item of *V1* Orders to Ship, then *C2*" in (
        answer
    )
    # The to-do list's command removes the item from the list: that is the pattern, no loop.
    assert "loop" not in answer
    assert "is a command, not an event or a view" in shop.run("policy Wrong: C1 -> C2")
    policy = by_id(shop.export_json(), "policies")["P1"]
    assert (policy["on"], policy["issues"], policy["fields"]) == ("V1", "C2", [])
    assert "| P1 | Ship each order | V1 Orders to Ship | C2 Ship Order |" in shop.export("md").text
    assert '  V1 -.->|"P1 Ship each order"| C2' in shop.export("mermaid").text
    # A policy on an event still warns of a loop it closes.
    shop.run("command Retry Shipping -> E2")
    assert "This makes a loop" in shop.run("policy Again: E2 -> C3")
    # The view's fields that its command carries are read by the policy.
    shop.run("fields E1: order id*, address")
    shop.run("fields C1: address")
    shop.run("fields V1: order id, address")
    shop.run("fields C2: order id")
    trace = shop.run("trace V1.order id")
    assert "P1 Ship each order → C2 Ship Order (for each item of V1 Orders to Ship)" in trace


def test_fields_on_a_screen_and_a_policy_and_a_view_in_an_aggregate(shop: InProcess) -> None:
    shop.run("screen Checkout -> C1 <- V1")
    shop.run("policy Ship each order: V1 -> C2")
    assert "Fields of *U1* Checkout: coupon, order id" in shop.run("fields U1: coupon, order id*")
    assert "Fields of *P1* Ship each order: order id" in shop.run("fields P1: order id")
    answer = shop.run("aggregate Orders: C1 E1 V1")
    assert "*V1* Orders to Ship" in answer
    model = shop.export_json()
    assert by_id(model, "screens")["U1"]["fields"] == [
        field("coupon"),
        field("order id", generated=True),
    ]
    assert by_id(model, "policies")["P1"]["fields"] == [field("order id")]
    assert by_id(model, "views")["V1"]["aggregate"] == "A1"
    assert by_id(model, "aggregates")["A1"]["members"] == ["C1", "E1", "V1"]
    # The view of an aggregate is not listed among the elements in none.
    assert by_id(model, "events")["E2"]["aggregate"] is None
    markdown = shop.export("md").text
    assert "| A1 | Orders | C1 Place Order | E1 Order Placed | V1 Orders to Ship |" in markdown
    assert "| U1 Checkout | screen | coupon | String | input |" in markdown
    assert "| P1 Ship each order | policy | order id | String |" in markdown
    assert 'subgraph A1["A1 Orders"]' in shop.export("mermaid").text
    # An actor has no fields.
    shop.run("actor Clerk -> C1")
    assert "is an actor, not" in shop.run("fields R1: name")


def test_the_board_draws_screens_in_the_top_lane(shop: InProcess) -> None:
    shop.run("screen Checkout -> C1 <- V1")
    svg = shop.export("svg").text
    assert ">Screens, actors and</tspan>" in svg and ">external systems</tspan>" in svg

    def top(key: str) -> int:
        found = re.search(rf'id="{key}">.*?y="(\d+)"', svg)
        assert found is not None, key
        return int(found.group(1))

    # Above the commands and views, as Event Modeling's UI lane is; a view of an aggregate
    # stays in the views' lane.
    shop.run("aggregate Orders: C1 E1 V1")
    svg = shop.export("svg").text
    assert top("U1") < min(top("C1"), top("V1"))
    assert max(top("C1"), top("V1")) < top("E1")

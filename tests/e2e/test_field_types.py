"""Field types and code identifiers (SPEC §3), over signed HTTP: `/storm fields` takes
`name:Type` and `Type[]` with the marks, the element's message, the Fields… and Add… forms show
and take the same syntax, the exports carry the type and the identifier, and undo brings a
field's earlier type back."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from sqlalchemy import create_engine, text

from tests.e2e.test_element_buttons import click
from tests.e2e.test_element_messages import element_message, wait_until_shown
from tests.e2e.test_scenario_and_fixes import current, report
from tests.e2e.test_step_buttons import open_add_form, told
from tests.support.running import CHANNEL, InProcess, text_of
from tests.support.shared import EVENT_MODEL


@pytest.fixture
def checkout(storm: InProcess) -> InProcess:
    storm.run("start Checkout")
    storm.run("event Order Placed; Payment Received")
    for key in ("E1", "E2"):
        storm.wait_for_post(f"*{key}*")
    storm.run("command Place Order -> E1")
    return storm


def fields_of(model: dict[str, Any], kind: str, key: str) -> list[dict[str, Any]]:
    return next(e for e in model[kind] if e["id"] == key)["fields"]


def test_typed_fields_are_stored_shown_and_exported(checkout: InProcess) -> None:
    answer = checkout.run("fields C1: order id:UUID*, total:Decimal <- E1.amount, items:String[]")
    assert "Fields of *C1* Place Order: order id:UUID" in answer
    assert "total:Decimal &lt;- E1.amount, items:String[]." in answer
    wait_until_shown(checkout, "C1", "Fields: order id:UUID", "total:Decimal", "items:String[]")

    assert fields_of(checkout.export_json(), "commands", "C1") == [
        {
            "name": "order id",
            "generated": True,
            "origin": None,
            "type": "UUID",
            "identifier": "orderId",
        },
        {
            "name": "total",
            "generated": False,
            "origin": "E1.amount",
            "type": "Decimal",
            "identifier": "total",
        },
        {
            "name": "items",
            "generated": False,
            "origin": None,
            "type": "String[]",
            "identifier": "items",
        },
    ]
    markdown = checkout.export("md").text
    assert "| order id | UUID | generated |" in markdown
    assert "| items | String[] |" in markdown
    model = json.loads(checkout.export("eventmodel").text)
    jsonschema.validate(model, EVENT_MODEL)
    (command,) = next(s for s in model["slices"] if s["id"] == "slice-C1")["commands"]
    assert [(f["name"], f["type"], f["cardinality"]) for f in command["fields"]] == [
        ("orderId", "UUID", "Single"),
        ("total", "Decimal", "Single"),
        ("items", "String", "List"),
    ]


def test_an_unknown_type_is_refused_and_nothing_changes(checkout: InProcess) -> None:
    checkout.run("fields C1: amount:Decimal")
    answer = checkout.run("fields C1: amount:Money")
    assert "“Money” is not a field type" in answer
    assert "String, Int, Long, Double, Decimal, Boolean, UUID, Date, DateTime, Custom" in answer
    assert [f["type"] for f in fields_of(checkout.export_json(), "commands", "C1")] == ["Decimal"]


def test_the_fields_form_takes_types_and_is_prefilled_with_them(checkout: InProcess) -> None:
    click(checkout, "E2", "Fields…")
    refused = checkout.slack.submit("U1", {"fields": "amount:Money"})
    assert refused.outcome == "errors"
    assert "is not a field type" in refused.errors["fields"]
    submitted = checkout.slack.submit(
        "U1", {"fields": "payment id:uuid*\namount:DECIMAL\ntags:int[]"}
    )
    assert submitted.outcome == "closed", submitted.errors
    wait_until_shown(checkout, "E2", "Fields: payment id:UUID*, amount:Decimal, tags:Int[]")

    click(checkout, "E2", "Fields…")
    form = checkout.fake.open_views("U1")[-1]
    (prefilled,) = [b for b in form["blocks"] if b.get("block_id") == "fields"]
    assert prefilled["element"]["initial_value"] == "payment id:UUID*\namount:Decimal\ntags:Int[]"
    # Saved unchanged, the form keeps every type.
    assert checkout.slack.submit("U1", {}).outcome == "closed"
    told(checkout, "U1", "Fields of *E2*")
    assert [f["type"] for f in fields_of(checkout.export_json(), "events", "E2")] == [
        "UUID",
        "Decimal",
        "Int[]",
    ]


def test_the_add_form_gives_each_name_typed_fields(checkout: InProcess) -> None:
    open_add_form(checkout)
    submitted = checkout.slack.submit(
        "U2",
        {
            "kind": "Domain event",
            "names": "Order Shipped",
            "fields": "order id:UUID\nweight:Double",
        },
    )
    assert submitted.outcome == "closed", submitted.errors
    told(checkout, "U2", "*E3* Order Shipped")
    assert [(f["name"], f["type"]) for f in fields_of(checkout.export_json(), "events", "E3")] == [
        ("order id", "UUID"),
        ("weight", "Double"),
    ]
    open_add_form(checkout)
    refused = checkout.slack.submit(
        "U2", {"kind": "Domain event", "names": "Order Lost", "fields": "weight:kilos"}
    )
    assert refused.outcome == "errors" and "is not a field type" in refused.errors["fields"]


def test_undo_brings_back_the_earlier_types(checkout: InProcess) -> None:
    checkout.run("fields E1: order id:UUID, total:Decimal")
    checkout.run("fields E1: order id, total:Int[]")
    assert "Undone" in checkout.run("undo")
    assert [(f["name"], f["type"]) for f in fields_of(checkout.export_json(), "events", "E1")] == [
        ("order id", "UUID"),
        ("total", "Decimal"),
    ]
    wait_until_shown(checkout, "E1", "Fields: order id:UUID, total:Decimal")
    assert "Int[]" not in text_of(element_message(checkout, "E1"))


def test_fix_buttons_keep_and_carry_types(storm: InProcess) -> None:
    """Carrying a lost input onto the event gives it the command's type; marking a field
    generated keeps its type."""
    for line in (
        "start Checkout",
        "event Order Placed",
        "command Place Order -> E1",
        "fields C1: order id:UUID, total:Decimal",
        "fields E1: order id:UUID, placed at:DateTime",
        "step 8",
    ):
        storm.run(line)
    storm.wait_until_sent()
    message = report(storm)
    assert storm.slack.click(CHANNEL, message.ts, "C1: carry", user="U1").ok
    storm.fake.wait_for(lambda _: "carries “total”" not in text_of(current(storm, message)))
    message = report(storm)
    assert storm.slack.click(CHANNEL, message.ts, "E1: origin", user="U1").ok
    sent = storm.slack.submit(
        "U1", {"origin_choice": "Mark it generated on E1 (made by the system)"}
    )
    assert sent.outcome == "closed", sent
    wait_until_shown(
        storm, "E1", "Fields: order id:UUID, placed at:DateTime*, total:Decimal", absent=":String"
    )
    assert [
        (f["name"], f["type"], f["generated"])
        for f in fields_of(storm.export_json(), "events", "E1")
    ] == [("order id", "UUID", False), ("placed at", "DateTime", True), ("total", "Decimal", False)]


def test_a_given_identifier_stays_while_its_field_keeps_its_name(checkout: InProcess) -> None:
    """An identifier given on import (written here as the import will write it) survives
    retyping the fields; a field renamed gets the one derived from its new name."""
    checkout.run("fields C1: order id, total")
    engine = create_engine(checkout.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE element_field SET identifier = 'orderRef' WHERE name = 'order id'")
            )
    finally:
        engine.dispose()
    checkout.run("fields C1: order id:UUID, grand total:Decimal")
    assert [
        (f["name"], f["type"], f["identifier"])
        for f in fields_of(checkout.export_json(), "commands", "C1")
    ] == [("order id", "UUID", "orderRef"), ("grand total", "Decimal", "grandTotal")]

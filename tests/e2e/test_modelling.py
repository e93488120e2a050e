"""Every modelling sub-command over signed HTTP: what it changes, what it answers, its errors."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from typing import Any

import jsonschema
import pytest

from tests.support.model_json import by_id, field
from tests.support.running import InProcess, text_of
from tests.support.shared import EVENT_MODEL


@pytest.fixture
def checkout(storm: InProcess) -> InProcess:
    storm.run("start Checkout")
    storm.run("event Order Placed; Payment Received; Order Shipped")
    return storm


def test_hotspots_are_added_attached_and_resolved(checkout: InProcess) -> None:
    answer = checkout.run("hotspot Who approves refunds? on E2", user="U2")
    assert "Added hotspot *H1* Who approves refunds? on *E2* Payment Received" in answer
    # Questions are welcome while exploring: a hotspot in step 1 is not "noted early".
    assert "Noted early" not in answer
    checkout.run("hotspot Is shipping free")
    assert "Resolved hotspot *H1*" in checkout.run("resolve H1")
    assert "already resolved" in checkout.run("resolve h1")
    # An answer given later is kept, and a better one replaces it.
    assert "*H1* Who approves refunds? has a new answer. Answer: Finance &amp; legal" in (
        checkout.run("resolve H1 Finance &amp; legal")
    )
    assert "is an event, not a hotspot" in checkout.run("resolve E1")
    assert "There is no H9" in checkout.run("hotspot What? on H9")
    hotspots = checkout.export_json()["hotspots"]
    assert hotspots == [
        {
            "id": "H1",
            "text": "Who approves refunds?",
            "on": "E2",
            "resolved": True,
            "answer": "Finance & legal",
            "author": "U2",
        },
        {
            "id": "H2",
            "text": "Is shipping free",
            "on": None,
            "resolved": False,
            "answer": None,
            "author": "U1",
        },
    ]


def test_rename_by_id_and_by_name(checkout: InProcess) -> None:
    answer = checkout.run("rename E1 Order Submitted")
    assert "Renamed *E1* from Order Placed to Order Submitted" in answer
    assert "Renamed *E3*" in checkout.run("rename Order Shipped -> Parcel Dispatched")
    names = [e["name"] for e in checkout.export_json()["events"]]
    assert names == ["Order Submitted", "Payment Received", "Parcel Dispatched"]
    assert "past tense" in checkout.run("rename E2 Pay")


def test_merge_moves_votes_and_hotspots_and_keeps_the_old_id(checkout: InProcess) -> None:
    checkout.run("event Order was placed", user="U2")
    checkout.run("vote E4", user="U2")
    checkout.run("vote E4", user="U3")
    checkout.run("vote E1", user="U3")
    checkout.run("hotspot Same as E1? on E4")
    assert "Only a facilitator or the author of E4" in checkout.run("merge E4 into E1", user="U3")
    assert "same kind" in checkout.run("merge E4 into H1")
    answer = checkout.run("merge E4 into E1", user="U2")
    assert "Merged *E4* into *E1* Order Placed" in answer
    model = checkout.export_json()
    assert [e["id"] for e in model["events"]] == ["E1", "E2", "E3"]
    assert by_id(model, "events")["E1"]["votes"] == 2  # U2 and U3, counted once each
    assert model["hotspots"][0]["on"] == "E1"
    assert "You already voted for *E1*" in checkout.run("vote E4", user="U2")
    # Undoing the merge puts everything back where it was.
    assert "Undone: Merged *E4*" in checkout.run("undo", user="U2")
    model = checkout.export_json()
    assert [(e["id"], e["votes"]) for e in model["events"]] == [
        ("E1", 1),
        ("E2", 0),
        ("E3", 0),
        ("E4", 2),
    ]
    assert model["hotspots"][0]["on"] == "E4"


def test_undo_restores_the_fields_a_change_replaced(checkout: InProcess) -> None:
    checkout.run("fields E1: order id, items")
    checkout.run("fields E1: total*")
    assert "Undone: Fields of" in checkout.run("undo")
    fields = checkout.export_json()["events"][0]["fields"]
    assert [f["name"] for f in fields] == ["order id", "items"]


def test_drop_and_undo(checkout: InProcess) -> None:
    assert "Only a facilitator or the author" in checkout.run("drop E2", user="U3")
    assert "Dropped *E2* Payment Received" in checkout.run("drop E2")
    assert [e["id"] for e in checkout.export_json()["events"]] == ["E1", "E3"]
    assert "was dropped" in checkout.run("vote E2")
    assert "Undone: Dropped" in checkout.run("undo")
    assert [e["id"] for e in checkout.export_json()["events"]] == ["E1", "E2", "E3"]


def test_undo_reverts_only_your_own_last_change(checkout: InProcess) -> None:
    checkout.run("event Refund Issued", user="U2")
    message = checkout.wait_for_post("*E4* Refund Issued")[0]
    checkout.run("rename E1 Order Submitted")
    assert "no change in this workshop to undo" in checkout.run("undo", user="U3")
    assert "Undone: added *E4* Refund Issued" in checkout.run("undo", user="U2")
    checkout.fake.wait_for(lambda f: message.ts in {m.ts for m in f.deleted("C1")})
    assert [e["name"] for e in checkout.export_json()["events"]] == [
        "Order Submitted",
        "Payment Received",
        "Order Shipped",
    ]
    assert "Undone: Renamed" in checkout.run("undo")
    assert checkout.export_json()["events"][0]["name"] == "Order Placed"
    # the first change: the events, named
    assert (
        "Undone: added *E1* Order Placed, *E2* Payment Received, *E3* Order Shipped"
        in checkout.run("undo")
    )
    assert checkout.export_json()["events"] == []
    assert "*E5* Order Placed" in checkout.run("event Order Placed")  # IDs are never reused


def test_order_and_move_change_the_timeline(checkout: InProcess) -> None:
    checkout.run("event Invoice Sent")
    assert "Timeline updated" in checkout.run("order E3 E1")
    assert [e["id"] for e in checkout.export_json()["events"]] == ["E2", "E3", "E1", "E4"]
    assert "Moved *E4* Invoice Sent before *E2*" in checkout.run("move E4 before E2")
    model = checkout.export_json()
    assert [(e["id"], e["position"]) for e in model["events"]] == [
        ("E4", 1),
        ("E2", 2),
        ("E3", 3),
        ("E1", 4),
    ]
    assert "is a hotspot" not in checkout.run("move E1 after Order Shipped")
    assert [e["id"] for e in checkout.export_json()["events"]] == ["E4", "E2", "E3", "E1"]
    assert "cannot move next to itself" in checkout.run("move E1 after E1")


def test_causes_structure_fields_and_scenarios_reach_the_export(checkout: InProcess) -> None:
    assert "Added command *C1* Place Order: causes *E1* Order Placed" in checkout.run(
        "command Place Order -> E1"
    )
    assert "Updated *C1* Place Order: causes *E2*" in checkout.run("command C1 -> E2")
    assert "Nothing new" in checkout.run("command Place Order -> E1")
    assert "Added view *V1* Order Summary" in checkout.run("view Order Summary <- E1, E2")
    answer = checkout.run("policy Ship when paid: E2 -> Ship Order")
    assert (
        "whenever *E2* Payment Received, then *C2* Ship Order (new command *C2* Ship Order)"
        in answer
    )
    checkout.run("command Ship Order -> E3")
    checkout.run("actor Customer -> C1")
    checkout.run("external Payment Gateway -> E2")
    checkout.run("aggregate Order: C1 E1 E3")
    assert "Moved from their previous aggregate: *E3*" in checkout.run("aggregate Shipping: C2 E3")
    checkout.run("fields C1: order id*, items")
    checkout.run("fields E1: order id, items, placed at*")
    checkout.run("fields V1: order id, total <- E2.amount")
    checkout.run("scenario Happy path: given nothing when C1 then E1")
    checkout.run("scenario Empty cart: given nothing when C1 then error cart is empty")
    checkout.run("scenario Summary shows payment: given E1, E2 then V1")
    model = checkout.export_json()
    commands = by_id(model, "commands")
    assert commands["C1"]["causes"] == ["E1", "E2"] and commands["C1"]["actors"] == ["R1"]
    assert commands["C1"]["aggregate"] == "A1" and commands["C2"]["aggregate"] == "A2"
    assert commands["C1"]["fields"] == [field("order id", generated=True), field("items")]
    assert by_id(model, "views")["V1"]["fed_by"] == ["E1", "E2"]
    assert by_id(model, "views")["V1"]["fields"][1] == field("total", origin="E2.amount")
    assert model["policies"] == [
        {"id": "P1", "name": "Ship when paid", "on": "E2", "issues": "C2", "fields": []}
    ]
    assert model["actors"] == [{"id": "R1", "name": "Customer", "issues": ["C1"]}]
    assert model["externals"] == [{"id": "X1", "name": "Payment Gateway", "causes": ["E2"]}]
    assert by_id(model, "aggregates")["A1"]["members"] == ["C1", "E1"]
    assert by_id(model, "aggregates")["A2"]["members"] == ["C2", "E3"]
    scenarios = by_id(model, "scenarios")
    assert scenarios["S1"] == {
        "id": "S1",
        "title": "Happy path",
        "given": [],
        "when": "C1",
        "then": ["E1"],
        "error": None,
        "view": None,
    }
    assert scenarios["S2"]["error"] == "cart is empty" and scenarios["S2"]["then"] == []
    assert scenarios["S3"]["given"] == ["E1", "E2"] and scenarios["S3"]["view"] == "V1"


def test_actions_for_later_steps_are_done_and_noted_early(checkout: InProcess) -> None:
    answer = checkout.run("fields E1: order id")
    assert "Fields of *E1* Order Placed: order id." in answer
    assert "Noted early: event fields belong to step 6, Identify Outputs" in answer
    checkout.run("step 6")
    assert "Noted early" not in checkout.run("fields E2: amount")


def test_wrong_references_explain_themselves(checkout: InProcess) -> None:
    assert "is an event, not a command" in checkout.run("actor Clerk -> E1")
    assert "Nothing is called “Order Placd”. Did you mean E1 Order Placed" in checkout.run(
        "view Status <- Order Placd"
    )
    assert "There is no C7" in checkout.run("scenario X: given nothing when C7 then E1")
    assert ":warning:" in checkout.run("scenario broken")
    assert ":warning:" in checkout.run("fields E1 order id")


def test_trace_follows_a_field(checkout: InProcess) -> None:
    checkout.run("command Place Order -> E1")
    checkout.run("view Order Summary <- E1")
    checkout.run("fields C1: order id")
    checkout.run("fields E1: order id")
    checkout.run("fields V1: Order ID")
    answer = checkout.run("trace E1.order_id")
    assert "*Comes from*" in answer and "C1 Place Order" in answer
    assert "*Goes to*" in answer and "V1 Order Summary" in answer
    assert "has no field" in checkout.run("trace E1.discount")


def test_check_and_report_are_posted_to_the_channel(checkout: InProcess) -> None:
    checkout.run("command Place Order -> E1")
    assert "Posting the check" in checkout.run("check")
    report = text_of(checkout.wait_for_post("Completeness check · Checkout")[0])
    assert "command-no-scenario" in report and "%" in report
    checkout.run("report")
    posted = checkout.wait_for_post("Report · Checkout")[0]
    assert "Timeline (3 events)" in text_of(posted)


def test_a_question_reaction_makes_a_hotspot(checkout: InProcess) -> None:
    said = checkout.fake.post_user_message("C1", "U2", "Do we ship abroad?")
    checkout.slack.reaction_added("question", user="U3", channel="C1", ts=said.ts)
    element = checkout.wait_for_post("*E1* Order Placed")[0]
    checkout.slack.reaction_added("question", user="U3", channel="C1", ts=element.ts)
    checkout.wait_for_post("*H2*")
    hotspots = checkout.export_json()["hotspots"]
    assert hotspots[0]["text"] == "Do we ship abroad?" and hotspots[0]["author"] == "U2"
    assert hotspots[1]["on"] == "E1"


def test_naming_help_points_at_tense_and_twins(checkout: InProcess) -> None:
    answer = checkout.run("event Place Order")
    assert "does not read as past tense" in answer
    answer = checkout.run("event order placed")
    assert "E5 looks like E1 “Order Placed”" in answer and "/storm merge E5 into E1" in answer
    assert "Added 1 event" in answer  # pointed out, never refused


def test_naming_help_finds_typos_and_follows_renames_merges_and_drops(checkout: InProcess) -> None:
    answer = checkout.run("event Order Plcaed")
    assert "E4 looks like E1 “Order Placed”" in answer
    checkout.run("rename E1 Purchase Completed")
    answer = checkout.run("event Order Placed")
    assert "looks like E1" not in answer and "E5 looks like E4 “Order Plcaed”" in answer
    assert "E6 looks like E1 “Purchase Completed”" in checkout.run("event Purchase Complete")
    checkout.run("drop E4")
    answer = checkout.run("event Order Placd")
    assert "E7 looks like E5 “Order Placed”" in answer and "E4" not in answer
    checkout.run("merge E5 into E1")
    answer = checkout.run("event Order Placed")  # E5 is E1 now, and E1 is another name
    assert "E8 looks like E7 “Order Placd”" in answer and "E5" not in answer


@pytest.mark.parametrize(
    ("fmt", "lines"),
    [
        (
            "md",
            [
                "# Checkout",
                "| 1 | E1 | Order Placed | 0 | alice | A1 Order |",
                "| 2 | E2 | Payment Received | 0 | alice | — |",
                "| 3 | E3 | Order Shipped | 0 | alice | — |",
                "| A1 | Order | C1 Place Order | E1 Order Placed | — |",
                "- **When** C1 Place Order",
            ],
        ),
        (
            "mermaid",
            [
                "flowchart LR",
                '  subgraph A1["A1 Order"]',
                '    C1["C1 Place Order"]',
                '  E2["E2 Payment Received"]',
                "  C1 --> E1",
            ],
        ),
        (
            "gherkin",
            [
                "Feature: Order",
                "  Scenario: Happy path",
                "    Given nothing has happened",
                "    When Place Order",
                "    Then Order Placed",
            ],
        ),
    ],
)
def test_every_export_format_is_uploaded_with_the_model(
    checkout: InProcess, fmt: str, lines: list[str]
) -> None:
    checkout.run("command Place Order -> E1")
    checkout.run("aggregate Order: C1 E1")
    checkout.run("scenario Happy path: given nothing when C1 then E1")
    uploaded = checkout.export(fmt).text.splitlines()
    for line in lines:
        assert line in uploaded, line


def test_gherkin_uploads_one_feature_file_per_aggregate(checkout: InProcess) -> None:
    checkout.run("command Place Order -> E1")
    checkout.run("command Pay -> E2")
    checkout.run("aggregate Order: C1 E1")
    checkout.run("aggregate Payment: C2 E2")
    checkout.run("scenario Happy path: given nothing when C1 then E1")
    checkout.run("export gherkin")
    checkout.fake.wait_for(lambda f: len(f.files()) == 2)
    files = {f.filename: f.text for f in checkout.fake.files()}
    assert sorted(files) == ["a1-order.feature", "a2-payment.feature"]
    assert "Scenario: Happy path" in files["a1-order.feature"]
    assert all(text.count("Feature:") == 1 for text in files.values())


def test_the_json_export_is_the_workshop_in_storm_model_1(checkout: InProcess) -> None:
    checkout.run("command Place Order -> E1", user="U2")
    checkout.run("fields C1: order id*, items")
    checkout.run("fields E1: order id, items")
    checkout.run("view Order Summary <- E1")
    checkout.run("fields V1: order id, items, count <- E1.items")
    checkout.run("vote E1", user="U3")
    checkout.run("aggregate Order: C1 E1")
    checkout.run("hotspot Who ships abroad? on E3", user="U3")
    checkout.run("scenario Happy path: given nothing when C1 then E1")
    model = checkout.export_json()
    assert list(model) == [
        "format",
        "workshop",
        "events",
        "commands",
        "views",
        "aggregates",
        "policies",
        "actors",
        "externals",
        "screens",
        "hotspots",
        "scenarios",
        "completeness",
    ]
    assert model["format"] == "storm-model/1"
    workshop = model["workshop"]
    started = workshop.pop("started_at")
    assert workshop == {
        "title": "Checkout",
        "team": "T0001",
        "channel": "C1",
        "facilitators": ["U1"],
        "step": {"number": 1, "name": "Collect Domain Events"},
        "finished_at": None,
    }
    assert started.endswith("Z")
    now = checkout.clock.now()
    assert now - timedelta(minutes=1) <= datetime.fromisoformat(started) <= now
    order = [field("order id"), field("items")]
    assert model["events"] == [
        event("E1", "Order Placed", 1, votes=1, aggregate="A1", fields=order),
        event("E2", "Payment Received", 2),
        event("E3", "Order Shipped", 3),
    ]
    assert model["commands"] == [
        {
            "id": "C1",
            "name": "Place Order",
            "causes": ["E1"],
            "actors": [],
            "aggregate": "A1",
            "votes": 0,
            "fields": [field("order id", generated=True), field("items")],
        }
    ]
    assert model["views"] == [
        {
            "id": "V1",
            "name": "Order Summary",
            "fed_by": ["E1"],
            "votes": 0,
            "fields": [field("order id"), field("items"), field("count", origin="E1.items")],
            "aggregate": None,
        }
    ]
    assert model["aggregates"] == [{"id": "A1", "name": "Order", "members": ["C1", "E1"]}]
    assert model["policies"] == model["actors"] == model["externals"] == model["screens"] == []
    assert model["hotspots"] == [
        {
            "id": "H1",
            "text": "Who ships abroad?",
            "on": "E3",
            "resolved": False,
            "answer": None,
            "author": "U3",
        }
    ]
    assert model["scenarios"] == [
        {
            "id": "S1",
            "title": "Happy path",
            "given": [],
            "when": "C1",
            "then": ["E1"],
            "error": None,
            "view": None,
        }
    ]
    completeness = model["completeness"]
    assert completeness["passed"] is True and 0 < completeness["score"] < 1
    found = {(f["code"], f["element"], f["field"]) for f in completeness["findings"]}
    assert found == {
        ("event-no-cause", "E2", None),
        ("event-no-cause", "E3", None),
        ("element-no-fields", "E2", None),
        ("element-no-fields", "E3", None),
        ("not-aggregated", "E2", None),
        ("not-aggregated", "E3", None),
        ("hotspot-open", "H1", None),
    }


def event(
    key: str,
    name: str,
    position: int,
    *,
    votes: int = 0,
    aggregate: str | None = None,
    fields: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An event of the checkout fixture as the JSON export lists it (U1 added them all)."""
    return {
        "id": key,
        "name": name,
        "position": position,
        "author": "U1",
        "votes": votes,
        "aggregate": aggregate,
        "fields": fields or [],
    }


def test_the_eventmodel_export_is_the_model_as_slices_of_the_public_schema(
    checkout: InProcess,
) -> None:
    checkout.run("command Place Order -> E1")
    checkout.run("fields C1: order id*")
    checkout.run("fields E1: order id")
    checkout.run("view Order Summary <- E1")
    checkout.run("fields V1: order id, placed by <- C1.order id")
    checkout.run("scenario Happy path: given nothing when C1 then E1")
    model = json.loads(checkout.export("eventmodel").text)
    jsonschema.validate(model, EVENT_MODEL)
    slices = {s["id"]: s for s in model["slices"]}
    assert list(slices) == ["slice-C1", "slice-V1", "slice-uncaused"]
    place = slices["slice-C1"]
    assert (place["title"], place["sliceType"], place["index"]) == (
        "slice: Place Order",
        "STATE_CHANGE",
        1,
    )
    (command,) = place["commands"]
    assert (command["id"], command["title"]) == ("C1", "Place Order")
    assert command["fields"] == [
        {"name": "orderId", "type": "String", "cardinality": "Single", "generated": True}
    ]
    assert command["dependencies"] == [
        {"id": "E1", "type": "OUTBOUND", "title": "Order Placed", "elementType": "EVENT"}
    ]
    assert [(e["id"], e["title"], e["fields"]) for e in place["events"]] == [
        ("E1", "Order Placed", [{"name": "orderId", "type": "String", "cardinality": "Single"}])
    ]
    (happy,) = place["specifications"]
    assert (happy["id"], happy["title"], happy["given"], happy["linkedId"]) == (
        "S1",
        "Happy path",
        [],
        "slice-C1",
    )
    assert [(s["type"], s["linkedId"]) for s in happy["when"] + happy["then"]] == [
        ("SPEC_COMMAND", "C1"),
        ("SPEC_EVENT", "E1"),
    ]
    (summary,) = slices["slice-V1"]["readmodels"]
    assert summary["fields"] == [
        {"name": "orderId", "type": "String", "cardinality": "Single"},
        {
            "name": "placedBy",
            "type": "String",
            "cardinality": "Single",
            "mapping": "orderId",  # C1's field, named as code names it
        },
    ]
    assert [d["id"] for d in summary["dependencies"]] == ["E1"]
    assert [e["id"] for e in slices["slice-uncaused"]["events"]] == ["E2", "E3"]


def test_the_slices_export_is_a_zip_of_one_markdown_file_per_slice(checkout: InProcess) -> None:
    checkout.run("command Place Order -> E1")
    checkout.run("actor Customer -> C1")
    checkout.run("fields C1: order id*, items")
    checkout.run("fields E1: order id, items")
    checkout.run("command Pay -> E2")
    checkout.run("policy Ask for payment: E1 -> C2")
    checkout.run("view Order Summary <- E1, E2")
    checkout.run("fields V1: order id, paid <- E2.amount")
    checkout.run("scenario Happy path: given nothing when C1 then E1")
    checkout.run("scenario Twice: given E1 when C1 then error already placed")
    uploaded = checkout.export("slices")
    assert uploaded.filename == "storm-slices.zip"
    with zipfile.ZipFile(io.BytesIO(uploaded.content)) as archive:
        files = {name: archive.read(name).decode() for name in archive.namelist()}
    assert list(files) == [
        "01-place-order.md",
        "02-pay.md",
        "03-order-summary.md",
        "04-events-without-a-cause.md",
    ]
    place = files["01-place-order.md"].splitlines()
    assert place[0] == "# Slice 1: Place Order"
    assert "- Actor R1 Customer" in place
    assert "| order id | String | `orderId` | generated |" in place
    assert "| items | String | `items` |  |" in place
    assert "### E1 Order Placed" in place
    happy = place.index("### S1 Happy path")
    assert place[happy + 2 : happy + 9] == [
        "- **Given** nothing has happened",
        "- **When** C1 Place Order",
        "  - order id: String",
        "  - items: String",
        "- **Then** E1 Order Placed",
        "  - order id: String",
        "  - items: String",
    ]
    assert "- **Then** the command is rejected: already placed" in place
    pay = files["02-pay.md"].splitlines()
    assert "- Policy P1 Ask for payment: whenever E1 Order Placed" in pay
    summary = files["03-order-summary.md"].splitlines()
    assert summary[summary.index("## Sources") + 2 : summary.index("## Sources") + 4] == [
        "- E1 Order Placed",
        "- E2 Payment Received",
    ]
    assert "| paid | String | `paid` | from E2 Payment Received: amount |" in summary
    assert "### E3 Order Shipped" in files["04-events-without-a-cause.md"].splitlines()

"""The completeness check on a model built through `/storm` lines, and every step's summary."""

from __future__ import annotations

from tests.support.running import InProcess, text_of

MODEL_LINES = [
    "event Order Placed; Payment Received; Order Shipped",
    "command Place Order -> E1",
    "command Pay -> E2",
    "command Cancel Order",
    "view Order Summary <- E1",
    "view Orphan View",
    "fields C1: order id*, items, coupon",
    "fields E1: order id, items, placed at*",
    "fields V1: order id, items, total",
    "fields C2: order_id, amount",
    "fields E2: OrderId, amount",
    "aggregate Order: C1 E1 C2 E2",
    "scenario Happy: given nothing when C1 then E1",
    "scenario Wrong: given nothing when C1 then E2",  # C1 does not cause E2
    "hotspot Free shipping?",
]

EXPECTED = {
    ("input-lost", "error", "C1", "coupon"),
    ("command-no-event", "error", "C3", None),
    ("field-no-origin", "error", "V1", "total"),
    ("view-no-source", "error", "V2", None),
    ("scenario-mismatch", "error", "S2", None),
    ("command-no-scenario", "warning", "C2", None),
    ("element-no-fields", "warning", "C3", None),
    ("not-aggregated", "warning", "C3", None),
    ("command-no-scenario", "warning", "C3", None),
    ("field-no-destination", "warning", "E1", "placed at"),
    ("field-no-destination", "warning", "E2", "OrderId"),
    ("field-no-destination", "warning", "E2", "amount"),
    ("event-no-cause", "warning", "E3", None),
    ("element-no-fields", "warning", "E3", None),
    ("not-aggregated", "warning", "E3", None),
    ("element-no-fields", "warning", "V2", None),
    ("hotspot-open", "info", "H1", None),
}


def _build(storm: InProcess) -> None:
    storm.run("start Checkout")
    for line in MODEL_LINES:
        answer = storm.run(line)
        assert ":warning:" not in answer and ":no_entry_sign:" not in answer, (line, answer)


def test_the_exported_findings_are_exactly_the_expected_ones(storm: InProcess) -> None:
    _build(storm)
    completeness = storm.export_json()["completeness"]
    found = {(f["code"], f["severity"], f["element"], f["field"]) for f in completeness["findings"]}
    assert found == EXPECTED
    assert completeness["passed"] is False
    assert 0 < completeness["score"] < 1
    assert all(f["message"] for f in completeness["findings"])


def test_fixing_the_model_makes_the_check_pass(storm: InProcess) -> None:
    _build(storm)
    for line in [
        "drop C3",
        "drop V2",
        "drop S2",
        "resolve H1",
        "fields C1: order id*, items",
        "fields V1: order id, items, placed at",
        "view Payments <- E2",
        "fields V3: order id, amount",
        "command Ship -> E3",
        "fields C3: order id",
        "drop C4",
        "scenario Pays: given E1 when C2 then E2",
    ]:
        storm.run(line)
    storm.run("check")
    report = text_of(storm.wait_for_post("Completeness check")[0])
    assert ":white_check_mark: passes" in report


def test_each_step_closes_with_its_deliverable(storm: InProcess) -> None:
    _build(storm)
    storm.run("vote E1", user="U2")
    storm.run("hotspot Gift wrap?")
    storm.run("resolve H2 Not this year")
    expected = {
        1: ["Timeline (3 events)", "*E1* Order Placed · 1 vote", "Contributors"],
        2: [
            "Timeline",
            "Merged (0)",
            "Dropped (0)",
            "Open hotspots (1)",
            "Free shipping?",
            "Resolved hotspots (1)",
            "*H2* Gift wrap? · resolved: Not this year",
        ],
        3: ["What causes each event", "*C1* Place Order", "_no cause yet_"],
        4: ["Aggregates (1)", "*A1* Order", "Not grouped yet (2)", "*C3* Cancel Order"],
        5: ["Commands and their fields (3)", "`order id*`", "`coupon`"],
        6: ["Views, their fields and sources (2)", "`total`", "Events and their fields (3)"],
        7: ["Scenarios (2)", "*S1* Happy", "given nothing when *C1* Place Order then *E1*"],
    }
    for number, needles in expected.items():
        storm.run("next")
        summary = text_of(storm.wait_for_post(f"Step {number} closed")[0])
        for needle in needles:
            assert needle in summary, (number, needle, summary)
    storm.run("end")
    final = storm.wait_for_post("Final report · Checkout")[0]
    storm.wait_until_sent()
    # The final report carries every deliverable, so ending posts no separate step summary;
    # a long report continues in its thread.
    assert not any("Step 8 closed" in text_of(m) for m in storm.posts())
    report = "\n".join(text_of(m) for m in storm.fake.thread("C1", final.ts))
    for needle in (
        "Timeline (3 events)",
        "Completeness",
        "input-lost",
        "Contributors",
        "*H2* Gift wrap? · resolved: Not this year",
    ):
        assert needle in report, needle

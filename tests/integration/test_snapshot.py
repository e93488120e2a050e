"""A whole scripted workshop, read back with `load_snapshot`: exactly the model people built."""

from __future__ import annotations

from dataclasses import replace

from bot.core.model import ElementInfo, FieldSpec, Scenario
from tests.integration.conftest import Driver

SCRIPT = [
    # step 1: collect events
    ("U1", "start Checkout"),
    ("U1", "event Order Placed; Payment Received; Order Shipped"),
    ("U2", "event Order was placed"),
    ("U2", "event Coupon Applied"),
    ("U3", "hotspot Who pays shipping? on E3"),
    # step 2: refine
    ("U1", "next"),
    ("U2", "merge E4 into E1"),
    ("U1", "drop E5"),
    ("U2", "vote E1"),
    ("U3", "vote E1"),
    ("U3", "vote E2"),
    ("U1", "move E3 before E2"),
    ("U1", "rename E2 Payment Taken"),
    # step 3: causes
    ("U1", "next"),
    ("U1", "command Place Order -> E4"),  # E4 is E1 now
    ("U1", "command Take Payment -> E2"),
    ("U1", "view Order Summary <- E1, E2"),
    ("U1", "policy Ship when paid: E2 -> Ship Order"),
    ("U1", "actor Customer -> C1, C2"),
    ("U1", "external Payment Provider -> E2"),
    ("U1", "command Ship Order -> E3"),  # the command the policy made
    # step 4: aggregates
    ("U1", "step 4"),
    ("U1", "aggregate Order: C1 E1"),
    ("U1", "aggregate Payment: C2 E2"),
    # steps 5 and 6: fields
    ("U1", "step 5"),
    ("U1", "fields C1: order_id*, customer, total"),
    ("U1", "fields E1: order_id <- C1.order_id, total <- C1.total"),
    ("U1", "fields V1: order_id <- E1.order_id, status"),
    ("U1", "fields C2: amount <- E9.amount"),  # an origin that does not exist (yet)
    # step 7: scenarios
    ("U1", "step 7"),
    ("U1", "scenario Happy path: given E1 when C2 then E2"),
    ("U1", "scenario Declined: given E4 when C2 then error Card declined"),
    ("U1", "scenario Summary shows: given E1, E2 then V1"),
    ("U2", "hotspot Is the summary live? on V1"),
    ("U1", "resolve H1"),
    ("U2", "vote C1"),
]


def expected_elements() -> dict[str, ElementInfo]:
    """The model the script builds, written out by hand."""
    elements = [
        ElementInfo(
            "E1",
            "event",
            "Order Placed",
            "U1",
            votes=2,
            step_number=1,
            position=1,
            fields=(
                FieldSpec("order_id", origin="C1.order_id"),
                FieldSpec("total", origin="C1.total"),
            ),
            aggregate="A1",
            aliases=("E4",),
        ),
        ElementInfo(
            "E2", "event", "Payment Taken", "U1", votes=1, step_number=1, position=3, aggregate="A2"
        ),
        ElementInfo("E3", "event", "Order Shipped", "U1", votes=0, step_number=1, position=2),
        ElementInfo(
            "H1",
            "hotspot",
            "Who pays shipping?",
            "U3",
            votes=0,
            step_number=1,
            on="E3",
            resolved=True,
        ),
        ElementInfo(
            "C1",
            "command",
            "Place Order",
            "U1",
            votes=1,
            step_number=3,
            fields=(
                FieldSpec("order_id", generated=True),
                FieldSpec("customer"),
                FieldSpec("total"),
            ),
            causes=("E1",),
            aggregate="A1",
        ),
        ElementInfo(
            "C2",
            "command",
            "Take Payment",
            "U1",
            votes=0,
            step_number=3,
            fields=(FieldSpec("amount", origin="E9.amount"),),
            causes=("E2",),
            aggregate="A2",
        ),
        ElementInfo("C3", "command", "Ship Order", "U1", votes=0, step_number=3, causes=("E3",)),
        ElementInfo(
            "V1",
            "view",
            "Order Summary",
            "U1",
            votes=0,
            step_number=3,
            fields=(FieldSpec("order_id", origin="E1.order_id"), FieldSpec("status")),
            fed_by=("E1", "E2"),
        ),
        ElementInfo(
            "P1",
            "policy",
            "Ship when paid",
            "U1",
            votes=0,
            step_number=3,
            issues=("C3",),
            on="E2",
            triggers=("E2",),
        ),
        ElementInfo("R1", "actor", "Customer", "U1", votes=0, step_number=3, issues=("C1", "C2")),
        ElementInfo(
            "X1", "external", "Payment Provider", "U1", votes=0, step_number=3, causes=("E2",)
        ),
        ElementInfo("A1", "aggregate", "Order", "U1", votes=0, step_number=4, members=("C1", "E1")),
        ElementInfo(
            "A2", "aggregate", "Payment", "U1", votes=0, step_number=4, members=("C2", "E2")
        ),
        ElementInfo(
            "S1",
            "scenario",
            "Happy path",
            "U1",
            votes=0,
            step_number=7,
            scenario=Scenario(given=("E1",), when="C2", then=("E2",)),
        ),
        ElementInfo(
            "S2",
            "scenario",
            "Declined",
            "U1",
            votes=0,
            step_number=7,
            scenario=Scenario(given=("E1",), when="C2", error="Card declined"),
        ),
        ElementInfo(
            "S3",
            "scenario",
            "Summary shows",
            "U1",
            votes=0,
            step_number=7,
            scenario=Scenario(given=("E1", "E2"), view="V1"),
        ),
        ElementInfo("H2", "hotspot", "Is the summary live?", "U2", votes=0, step_number=7, on="V1"),
    ]
    return {element.key: element for element in elements}


def test_the_snapshot_is_exactly_the_model_built(driver: Driver) -> None:
    for user, line in SCRIPT:
        answer = driver.run(line, user=user)
        assert ":no_entry_sign:" not in answer, (line, answer)
    snapshot = driver.snapshot()
    # Creation times are the clock's; everything else is compared whole.
    actual = {e.key: replace(e, created_at=None) for e in snapshot.elements}
    assert actual == expected_elements()
    assert snapshot.dropped == (("E5", "Coupon Applied"),)
    assert [e.key for e in snapshot.events] == ["E1", "E3", "E2"]
    assert snapshot.by_key()["E4"].key == "E1"
    assert (snapshot.title, snapshot.team_id, snapshot.channel_id) == ("Checkout", "T1", "C1")
    assert snapshot.facilitators == ("U1",)
    assert snapshot.current_step == 7
    assert snapshot.contributors_by_step == {
        1: frozenset({"U1", "U2", "U3"}),
        2: frozenset({"U1", "U2", "U3"}),
        3: frozenset({"U1"}),
        4: frozenset({"U1"}),
        5: frozenset({"U1"}),
        7: frozenset({"U1", "U2"}),
    }


def test_the_answers_along_the_way_name_what_was_made(driver: Driver) -> None:
    answers = {line: driver.run(line, user=user) for user, line in SCRIPT}
    assert answers["policy Ship when paid: E2 -> Ship Order"].startswith(
        "Added policy *P1* Ship when paid: whenever *E2* Payment Taken, then *C3* Ship Order "
        "(new command *C3* Ship Order)."
    )
    assert answers["command Ship Order -> E3"].startswith(
        "Updated *C3* Ship Order: causes *E3* Order Shipped."
    )
    assert ":warning: E9 does not exist (yet)." in answers["fields C2: amount <- E9.amount"]
    assert answers["scenario Declined: given E4 when C2 then error Card declined"].startswith(
        "Added scenario *S2* Declined: given *E1* Order Placed when *C2* Take Payment "
        "then error “Card declined”."
    )

"""IDs people type (E1, C1…): per kind and per workshop, in order, never reused."""

from __future__ import annotations

from tests.integration.conftest import Driver


def test_one_line_of_events_is_numbered_in_the_order_typed(checkout: Driver) -> None:
    answer = checkout.run("event Item Reserved; Stock Released", user="U2")
    assert answer.splitlines() == [
        "Added 2 events:",
        "*E4* Item Reserved",
        "*E5* Stock Released",
    ]
    events = checkout.elements()
    assert [(key, events[key].name) for key in checkout.timeline()] == [
        ("E1", "Order Placed"),
        ("E2", "Payment Received"),
        ("E3", "Order Shipped"),
        ("E4", "Item Reserved"),
        ("E5", "Stock Released"),
    ]
    assert [events[key].position for key in checkout.timeline()] == [1, 2, 3, 4, 5]
    assert events["E4"].author == "U2"


def test_each_kind_counts_on_its_own(checkout: Driver) -> None:
    assert "*C1* Place Order" in checkout.run("command Place Order -> E1")
    assert "*V1* Order Summary" in checkout.run("view Order Summary <- E1")
    assert "*H1* Who pays?" in checkout.run("hotspot Who pays? on E2")
    assert "*C2* Pay" in checkout.run("command Pay -> E2")
    assert "*E4* Refund Issued" in checkout.run("event Refund Issued")
    assert "*H2* Partial refunds?" in checkout.run("hotspot Partial refunds?")
    assert sorted(checkout.elements()) == ["C1", "C2", "E1", "E2", "E3", "E4", "H1", "H2", "V1"]


def test_ids_are_never_reused_after_a_drop_or_an_undo(checkout: Driver) -> None:
    checkout.run("drop E3")
    assert "*E4* Order Cancelled" in checkout.run("event Order Cancelled")
    checkout.run("undo")  # takes E4 back
    assert "*E5* Order Returned" in checkout.run("event Order Returned")
    checkout.run("command Cancel -> E1")
    checkout.run("undo")
    assert "*C2* Return" in checkout.run("command Return -> E5")
    assert checkout.timeline() == ["E1", "E2", "E5"]
    assert dict(checkout.snapshot().dropped) == {
        "E3": "Order Shipped",
        "E4": "Order Cancelled",
        "C1": "Cancel",
    }


def test_a_merged_id_is_not_given_to_a_new_element(checkout: Driver) -> None:
    checkout.run("event Order was placed")
    checkout.run("merge E4 into E1")
    assert "*E5* Invoice Sent" in checkout.run("event Invoice Sent")


def test_two_channels_and_two_workspaces_number_independently(driver: Driver) -> None:
    places = [("T1", "C1"), ("T1", "C2"), ("T2", "C1")]
    for team, channel in places:
        driver.run("start Checkout", team=team, channel=channel)
    driver.run("event A1; A2; A3", team="T1", channel="C1")
    assert "*E1* B1" in driver.run("event B1", team="T1", channel="C2")
    assert "*C1* Do B" in driver.run("command Do B -> E1", team="T1", channel="C2")
    assert "*E1* D1" in driver.run("event D1", team="T2", channel="C1")
    driver.run("event A4", team="T1", channel="C1")
    assert driver.timeline("C1", "T1") == ["E1", "E2", "E3", "E4"]
    assert driver.timeline("C2", "T1") == ["E1"]
    assert driver.timeline("C1", "T2") == ["E1"]
    assert [e.name for e in driver.snapshot("C1", "T2").events] == ["D1"]


def test_a_new_workshop_in_the_same_channel_starts_again_at_e1(checkout: Driver) -> None:
    checkout.run("end")
    checkout.run("start Returns")
    assert "*E1* Return Requested" in checkout.run("event Return Requested")
    assert checkout.timeline() == ["E1"]


def test_order_and_move_set_the_timeline_positions(checkout: Driver) -> None:
    checkout.run("event Invoice Sent")
    assert "Timeline updated: *E2* → *E1*" in checkout.run("order E2 E1")
    assert checkout.timeline() == ["E2", "E1", "E3", "E4"]
    assert "Moved *E4* Invoice Sent before *E1* Order Placed" in checkout.run("move E4 before E1")
    assert checkout.timeline() == ["E2", "E4", "E1", "E3"]
    checkout.run("move E2 after E3")
    assert checkout.timeline() == ["E4", "E1", "E3", "E2"]
    events = checkout.elements()
    assert {key: events[key].position for key in events} == {"E4": 1, "E1": 2, "E3": 3, "E2": 4}
    # A new event goes at the end of the reordered timeline, under the next number.
    checkout.run("event Order Closed")
    assert checkout.timeline() == ["E4", "E1", "E3", "E2", "E5"]


def test_order_by_name_and_refusals(checkout: Driver) -> None:
    # The named events line up from the first one's place on (SPEC: `order`).
    checkout.run("order Order Shipped, Order Placed")
    assert checkout.timeline() == ["E2", "E3", "E1"]
    assert "Name at least two different events" in checkout.run("order E1, Order Placed")
    assert "E1 cannot move relative to itself" in checkout.run("move E1 after Order Placed")
    checkout.run("command Pay -> E2")
    assert "C1 is a command, not an event" in checkout.run("move C1 after E1")
    assert checkout.timeline() == ["E2", "E3", "E1"]

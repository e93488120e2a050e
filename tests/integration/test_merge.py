"""Merging a duplicate: what moves to the survivor, and its old ID still finding it."""

from __future__ import annotations

import pytest

from bot.core.model import FieldSpec
from tests.integration.conftest import Driver


@pytest.fixture
def duplicate(checkout: Driver) -> Driver:
    """E4, U2's duplicate of E1, with votes, links, fields, a hotspot and an aggregate."""
    run = checkout.run
    run("event Order was placed", user="U2")
    for user, ref in [("U2", "E1"), ("U3", "E1"), ("U2", "E4"), ("U4", "E4")]:
        run(f"vote {ref}", user=user)
    run("command Place Order -> E4")
    run("view Order Summary <- E1, E4")
    run("policy Ship when placed: E4 -> Ship Order")
    run("external Shop -> E4")
    run("fields E1: amount")
    run("fields E4: Amount, currency")
    run("hotspot Same as E1? on E4")
    run("aggregate Order: E4 C1")
    return checkout


def test_merge_moves_votes_links_fields_hotspots_and_membership(duplicate: Driver) -> None:
    answer = duplicate.run("merge E4 into E1", user="U2")
    assert answer.splitlines()[0] == (
        "Merged *E4* into *E1* Order Placed: its votes, links, fields and hotspots moved, "
        "and E4 still finds E1."
    )
    snapshot = duplicate.snapshot()
    elements = {e.key: e for e in snapshot.elements}
    assert "E4" not in elements
    assert dict(snapshot.dropped) == {}
    e1 = elements["E1"]
    assert e1.votes == 3  # U2, U3 and U4: U2 voted for both and counts once
    assert e1.aliases == ("E4",)
    assert snapshot.by_key()["E4"] is e1
    assert e1.fields == (FieldSpec("amount"), FieldSpec("currency"))  # `Amount` is `amount`
    assert e1.aggregate == "A1"
    assert set(elements["A1"].members) == {"C1", "E1"}
    assert elements["C1"].causes == ("E1",)
    assert elements["V1"].fed_by == ("E1",)  # fed by E1 and E4: now once by E1
    assert elements["P1"].on == "E1"
    assert elements["P1"].issues == ("C2",)
    assert elements["X1"].causes == ("E1",)
    assert elements["H1"].on == "E1"
    assert duplicate.timeline() == ["E1", "E2", "E3"]


def test_the_merged_id_still_finds_the_survivor(duplicate: Driver) -> None:
    duplicate.run("merge E4 into E1", user="U2")
    assert "Renamed *E1* from Order Placed to Order Submitted" in duplicate.run(
        "rename E4 Order Submitted"
    )
    assert "Voted for *E1* Order Submitted (4 votes)." in duplicate.run("vote e4", user="U5")
    assert "You already voted for *E1*." in duplicate.run("vote E4", user="U4")
    assert "Added hotspot *H2* Typo? on *E1* Order Submitted" in duplicate.run(
        "hotspot Typo? on E4"
    )
    duplicate.run("command Submit Order -> E4")
    elements = duplicate.elements()
    assert elements["E1"].name == "Order Submitted"
    assert elements["E1"].votes == 4
    assert elements["C3"].causes == ("E1",)
    assert elements["H2"].on == "E1"
    assert "E1 cannot be merged into itself" in duplicate.run("merge E4 into E1")


def test_merging_different_kinds_is_refused(duplicate: Driver) -> None:
    answer = duplicate.run("merge E4 into C1", user="U2")
    assert answer == (
        ":no_entry_sign: Only elements of the same kind merge: E4 is an event, C1 is a command."
    )
    assert "E4" in duplicate.elements()


def test_only_a_facilitator_or_the_author_merges(duplicate: Driver) -> None:
    refused = duplicate.run("merge E4 into E1", user="U3")
    assert refused == ":no_entry_sign: Only a facilitator or the author of E4 can merge it."
    # Authoring the surviving element is not enough: the duplicate is the one that goes.
    duplicate.run("event Order Confirmed", user="U3")
    assert "Only a facilitator or the author of E4" in duplicate.run("merge E4 into E5", user="U3")
    assert {"E4", "E5"} <= set(duplicate.elements())
    # The facilitator may merge anyone's duplicate.
    assert "Merged *E5* into *E1*" in duplicate.run("merge E5 into E1", user="U1")
    assert duplicate.elements()["E1"].aliases == ("E5",)


def test_merge_by_name(checkout: Driver) -> None:
    checkout.run("event Payment Taken")
    assert "Merged *E4* into *E2* Payment Received" in checkout.run(
        "merge Payment Taken into Payment Received"
    )
    assert checkout.elements()["E2"].aliases == ("E4",)

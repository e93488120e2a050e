"""Two workspaces with the same channel ID (and the same user IDs) share nothing."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Driver


@pytest.fixture
def twins(driver: Driver) -> Driver:
    """Workshops in T1/C1 (started by U1) and T2/C1 (started by U2)."""
    driver.run("start Checkout", team="T1")
    driver.run("event Order Placed; Payment Received", team="T1")
    driver.run("start Onboarding", user="U2", team="T2")
    driver.run("event Account Opened", user="U2", team="T2")
    return driver


def test_each_workspace_sees_only_its_own_workshop(twins: Driver) -> None:
    one, two = twins.snapshot(team="T1"), twins.snapshot(team="T2")
    assert (one.title, one.facilitators) == ("Checkout", ("U1",))
    assert (two.title, two.facilitators) == ("Onboarding", ("U2",))
    assert [(e.key, e.name) for e in one.elements] == [
        ("E1", "Order Placed"),
        ("E2", "Payment Received"),
    ]
    assert [(e.key, e.name) for e in two.elements] == [("E1", "Account Opened")]


def test_ids_and_names_resolve_within_one_workspace(twins: Driver) -> None:
    assert "There is no E2 in this workshop" in twins.run("vote E2", team="T2")
    assert twins.run("vote Payment Received", team="T2") == (
        ":no_entry_sign: Nothing is called “Payment Received”."
    )
    twins.run("rename E1 Account Created", user="U2", team="T2")
    twins.run("vote E1", user="U3", team="T2")
    twins.run("event Account Opened", team="T1")  # a twin name, in the other workspace
    one, two = twins.elements(team="T1"), twins.elements(team="T2")
    assert (one["E1"].name, one["E1"].votes) == ("Order Placed", 0)
    assert (two["E1"].name, two["E1"].votes) == ("Account Created", 1)
    assert sorted(one) == ["E1", "E2", "E3"]
    assert sorted(two) == ["E1"]


def test_facilitation_belongs_to_one_workspace(twins: Driver) -> None:
    refused = ":no_entry_sign: Only a facilitator of this workshop can do that."
    assert twins.run("next", user="U1", team="T2") == refused
    assert twins.run("next", user="U2", team="T1") == refused
    twins.run("next", user="U1", team="T1")
    twins.run("end", user="U2", team="T2")
    assert twins.snapshot(team="T1").current_step == 2
    assert twins.snapshot(team="T1").finished_at is None
    assert twins.snapshot(team="T2").current_step == 1
    assert twins.snapshot(team="T2").finished_at is not None
    assert "Added 1 event" in twins.run("event Order Shipped", team="T1")


def test_undo_and_merge_stay_in_their_workspace(twins: Driver) -> None:
    twins.run("event Account Openned", team="T2")  # U1 in T2: E2 there
    twins.run("rename E1 Order Submitted", team="T1")
    assert twins.run("undo", team="T2") == "Undone: added *E2* Account Openned"
    assert twins.elements(team="T1")["E1"].name == "Order Submitted"
    twins.run("event Order was placed", team="T1")
    twins.run("merge E3 into E1", team="T1")
    assert twins.elements(team="T1")["E1"].aliases == ("E3",)
    assert twins.elements(team="T2")["E1"].aliases == ()
    assert "There is no E3 in this workshop" in twins.run("vote E3", team="T2")


def test_a_workshop_in_one_workspace_is_none_in_another(twins: Driver) -> None:
    answer = twins.run("status", team="T3")
    assert answer == (
        ":no_entry_sign: There is no workshop in this channel. "
        "Start one with `/storm start <title>`."
    )
    assert twins.run("start Checkout", team="T3").startswith("Workshop *Checkout* started")

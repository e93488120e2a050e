"""`/storm undo`: each person takes back their own last change, newest first, and is told
what was undone. (Whether undo refuses once someone has built on a change is not tested here.)
"""

from __future__ import annotations

from bot.core.model import FieldSpec
from tests.integration.conftest import Driver


def test_undo_takes_back_the_last_change_first_and_names_it(checkout: Driver) -> None:
    checkout.run("rename E1 Order Submitted")
    checkout.run("vote E2")
    checkout.run("fields E2: amount, currency")
    assert checkout.run("undo") == "Undone: Fields of *E2* Payment Received: amount, currency."
    assert checkout.elements()["E2"].fields == ()
    assert checkout.elements()["E2"].votes == 1
    assert checkout.run("undo") == "Undone: Voted for *E2* Payment Received (1 vote)."
    assert checkout.elements()["E2"].votes == 0
    assert checkout.elements()["E1"].name == "Order Submitted"
    assert checkout.run("undo") == ("Undone: Renamed *E1* from Order Placed to Order Submitted.")
    assert checkout.elements()["E1"].name == "Order Placed"
    # Then the three events of the first line, all at once.
    assert checkout.run("undo") == (
        "Undone: added *E1* Order Placed, *E2* Payment Received, *E3* Order Shipped"
    )
    assert checkout.timeline() == []
    assert checkout.run("undo") == (":no_entry_sign: You have no change in this workshop to undo.")


def test_undoing_a_long_line_of_events_names_the_first_five_as_numbered(checkout: Driver) -> None:
    answer = checkout.run("event 50% Off Applied; Cart Saved; %s Sent; A; B; C; D")
    assert answer.splitlines()[1:3] == ["*E4* 50% Off Applied", "*E5* Cart Saved"]
    assert checkout.run("undo") == (
        "Undone: added *E4* 50% Off Applied, *E5* Cart Saved, *E6* %s Sent, *E7* A, *E8* B"
        " and 2 more"
    )
    assert checkout.timeline() == ["E1", "E2", "E3"]
    assert checkout.run("event Order Paid").splitlines()[1] == "*E11* Order Paid"


def test_undo_leaves_other_peoples_changes_alone(checkout: Driver) -> None:
    checkout.run("event Invoice Sent", user="U2")
    checkout.run("rename E1 Order Submitted")
    checkout.run("vote E4", user="U2")
    checkout.run("vote E4")
    assert checkout.run("undo", user="U2") == "Undone: Voted for *E4* Invoice Sent (1 vote)."
    elements = checkout.elements()
    assert elements["E4"].votes == 1  # U1's vote stays
    assert elements["E1"].name == "Order Submitted"
    # U1 voted for U2's event since: it stays, and nothing changes (SPEC §3).
    refused = checkout.run("undo", user="U2")
    assert refused.startswith(":no_entry_sign: Nothing was undone")
    assert "*E4* Invoice Sent stays: <@U1> voted for it since." in refused
    assert checkout.timeline() == ["E1", "E2", "E3", "E4"]
    assert checkout.elements()["E1"].name == "Order Submitted"
    assert "no change in this workshop to undo" in checkout.run("undo", user="U3")


def test_a_dropped_element_comes_back_with_undo(checkout: Driver) -> None:
    checkout.run("vote E2", user="U2")
    checkout.run("command Pay -> E2")
    checkout.run("hotspot Card or cash? on E2")
    assert checkout.run("drop E2").startswith("Dropped *E2* Payment Received")
    assert checkout.timeline() == ["E1", "E3"]
    assert dict(checkout.snapshot().dropped) == {"E2": "Payment Received"}
    assert "E2 was dropped" in checkout.run("vote E2", user="U3")
    assert checkout.run("undo") == (
        "Undone: Dropped *E2* Payment Received: it left the board and every report. "
        "`/storm undo` brings it back."
    )
    snapshot = checkout.snapshot()
    elements = {e.key: e for e in snapshot.elements}
    assert snapshot.dropped == ()
    assert checkout.timeline() == ["E1", "E2", "E3"]
    assert elements["E2"].position == 2
    assert elements["E2"].votes == 1
    assert elements["C1"].causes == ("E2",)
    assert elements["H1"].on == "E2"


def test_undoing_a_merge_splits_the_elements_again(checkout: Driver) -> None:
    checkout.run("event Order was placed", user="U2")
    checkout.run("vote E4", user="U2")
    checkout.run("vote E1", user="U3")
    checkout.run("fields E4: amount")
    checkout.run("merge E4 into E1", user="U2")
    assert checkout.elements()["E1"].votes == 2
    assert checkout.run("undo", user="U2").startswith("Undone: Merged *E4* into *E1*")
    elements = checkout.elements()
    assert checkout.timeline() == ["E1", "E2", "E3", "E4"]
    assert (elements["E1"].votes, elements["E4"].votes) == (1, 1)
    assert elements["E1"].aliases == ()
    assert elements["E4"].fields == (FieldSpec("amount"),)
    assert elements["E1"].fields == ()


def test_undoing_an_order_restores_the_timeline(checkout: Driver) -> None:
    checkout.run("move E3 before E1")
    checkout.run("order E2 E1")
    assert checkout.timeline() == ["E3", "E2", "E1"]
    checkout.run("undo")
    assert checkout.timeline() == ["E3", "E1", "E2"]
    checkout.run("undo")
    assert checkout.timeline() == ["E1", "E2", "E3"]


def test_undo_does_not_reach_into_another_workshop(checkout: Driver) -> None:
    """The same person in another channel: their last change there is not this one."""
    checkout.run("start Returns", channel="C2")
    checkout.run("event Return Requested", channel="C2")
    checkout.run("rename E1 Order Submitted")
    assert checkout.run("undo", channel="C2") == "Undone: added *E1* Return Requested"
    assert checkout.elements()["E1"].name == "Order Submitted"
    assert checkout.timeline("C2") == []

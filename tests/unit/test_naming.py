"""Naming help: past tense and near-duplicates are pointed out, never refused."""

import pytest

from bot.core.naming import hints, looks_past_tense, similar
from bot.core.references import Candidate

EXISTING = [Candidate("E1", "Order Placed", "event"), Candidate("C1", "Place Order", "command")]


@pytest.mark.parametrize(
    "name", ["Order Placed", "Invoice Sent", "Payment Received", "Goods Shipped", "Refund Paid"]
)
def test_past_tense_names(name: str) -> None:
    assert looks_past_tense(name)


@pytest.mark.parametrize("name", ["Place Order", "Send Invoice", "Payment", "Shipping"])
def test_names_that_are_not_past_tense(name: str) -> None:
    assert not looks_past_tense(name)


@pytest.mark.parametrize(
    "name", ["Order placed", "OrderPlaced", "Order was placed", "order_placed"]
)
def test_near_duplicates_are_found(name: str) -> None:
    assert [c.key for c in similar(name, EXISTING)] == ["E1"]


def test_different_names_are_not_duplicates() -> None:
    assert similar("Payment Received", EXISTING) == []


def test_hints_name_the_existing_id_and_the_merge() -> None:
    notes = hints("Order was placed", "event", "E2", EXISTING)
    assert notes == [
        "E2 looks like E1 “Order Placed”: if they are the same, `/storm merge E2 into E1`."
    ]
    notes = hints("Place Order", "event", "E3", EXISTING)
    assert len(notes) == 1 and "past tense" in notes[0]  # the command of that name is another kind
    assert hints("Payment Received", "event", "E4", EXISTING) == []

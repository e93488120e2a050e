"""Naming help: past tense and near-duplicates are pointed out, never refused."""

import pytest

from bot.core.naming import hints, looks_past_tense, name_variants, similar
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


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Order Placed", "Order Plcaed"),  # two letters swapped: one deletion each way
        ("Order Placed", "Orders Placed"),
        ("Order Placed", "Ordr Placed"),
        ("Order Placed", "Order Plazed"),
        ("Order Placed", "Order was placed"),
    ],
)
def test_names_one_edit_apart_meet_under_a_variant(one: str, other: str) -> None:
    assert name_variants(one) & name_variants(other)


def test_different_names_share_no_variant() -> None:
    assert not name_variants("Order Placed") & name_variants("Payment Received")


def test_long_names_have_a_bounded_number_of_variants() -> None:
    assert len(name_variants("Customer " * 30 + "Registered")) <= 41

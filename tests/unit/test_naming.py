"""Naming help: past tense and near-duplicates are pointed out, never refused."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.naming import hints, looks_past_tense, name_keys, similar, twin_keys
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
        ("Order Placed", "Order Plcaed"),  # two letters swapped within one half
        ("Order Placed", "Orders Placed"),
        ("Order Placed", "Ordr Placed"),
        ("Order Placed", "Order Plazed"),
        ("Order Placed", "Order was placed"),
        ("Invoice Sent", "Invoices Sent"),
    ],
)
def test_names_one_edit_apart_meet_under_a_key(one: str, other: str) -> None:
    assert name_keys(one) & twin_keys(other) and name_keys(other) & twin_keys(one)


@given(st.text(alphabet="abc", max_size=14), st.integers(0, 14), st.sampled_from("abc"), st.data())
def test_every_single_edit_is_found(key: str, at: int, letter: str, data: st.DataObject) -> None:
    """Brute force over a tiny alphabet: a substitution, insertion or deletion anywhere."""
    at = min(at, len(key))
    edit = data.draw(st.sampled_from(["insert", "substitute", "delete"]))
    if edit == "insert":
        other = key[:at] + letter + key[at:]
    elif key:
        at = min(at, len(key) - 1)
        other = key[:at] + (letter if edit == "substitute" else "") + key[at + 1 :]
    else:
        other = letter
    assert name_keys(key) & twin_keys(other) and name_keys(other) & twin_keys(key)


def test_different_names_share_no_key() -> None:
    assert not name_keys("Order Placed") & twin_keys("Payment Received")


def test_a_name_has_two_keys_and_looks_under_at_most_six() -> None:
    long = "Customer " * 30 + "Registered"
    assert len(name_keys(long)) == 2 and len(twin_keys(long)) <= 6

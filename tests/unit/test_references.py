"""Resolving names people type: exact (ignoring case and spaces), ambiguous, or unknown."""

import pytest

from bot.core.references import Candidate, UnknownReference, resolve_by_name

CANDIDATES = [
    Candidate("E1", "Order Placed", "event"),
    Candidate("E2", "order placed", "event"),
    Candidate("E3", "Payment Received", "event"),
    Candidate("C1", "Place Order", "command"),
]


def test_a_name_resolves_ignoring_case_spaces_and_separators() -> None:
    assert resolve_by_name("payment_received", CANDIDATES).key == "E3"
    assert resolve_by_name("  PLACE   order ", CANDIDATES).key == "C1"


def test_an_ambiguous_name_lists_the_candidates() -> None:
    with pytest.raises(UnknownReference) as error:
        resolve_by_name("Order Placed", CANDIDATES)
    assert "could be any of: E1 Order Placed, E2 order placed. Use the ID." in str(error.value)


def test_an_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UnknownReference) as error:
        resolve_by_name("Payment Recieved", CANDIDATES)
    assert (
        str(error.value)
        == "Nothing is called “Payment Recieved”. Did you mean E3 Payment Received?"
    )
    with pytest.raises(UnknownReference) as error:
        resolve_by_name("Zebra", CANDIDATES)
    assert str(error.value) == "Nothing is called “Zebra”."


def test_names_in_errors_are_escaped() -> None:
    with pytest.raises(UnknownReference) as error:
        resolve_by_name("<!channel>", CANDIDATES)
    assert "&lt;!channel&gt;" in str(error.value) and "<!channel>" not in str(error.value)

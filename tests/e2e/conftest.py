"""Fixtures the element-message tests share: a workshop whose three events have their messages."""

from __future__ import annotations

import pytest

from tests.support.running import InProcess


@pytest.fixture
def checkout(storm: InProcess) -> InProcess:
    storm.run("start Checkout")
    storm.run("event Order Placed; Payment Received; Order Shipped")
    for key in ("E1", "E2", "E3"):
        storm.wait_for_post(f"*{key}*")
    return storm

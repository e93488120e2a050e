"""Fixtures the end-to-end tests share: a workshop whose three events have their messages, and a
fake Socket Mode server Storm can connect to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.sandbox.fake_slack import FakeSlack
from tests.support.running import InProcess
from tests.support.socket_mode import APP_TOKEN, FakeSocketMode


@pytest.fixture
def checkout(storm: InProcess) -> InProcess:
    storm.run("start Checkout")
    storm.run("event Order Placed; Payment Received; Order Shipped")
    for key in ("E1", "E2", "E3"):
        storm.wait_for_post(f"*{key}*")
    return storm


@pytest.fixture
def socket_mode(fake_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    """A fake Socket Mode server, which the fake Slack's `apps.connections.open` points to."""
    server = FakeSocketMode().start()
    fake_slack.enable_socket_mode(APP_TOKEN, server.url)
    try:
        yield server
    finally:
        server.stop()

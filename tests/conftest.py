"""Fixtures: a fake Slack Web API on loopback, and Storm serving real HTTP against it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.sandbox.fake_slack import FakeSlack
from tests.support.running import BOT_TOKEN, CHANNEL, InProcess, start_in_process

PEOPLE = {
    "U1": {"name": "alice", "real_name": "Alice Archer", "display_name": "alice"},
    "U2": {"name": "bob", "real_name": "Bob Baker", "display_name": "bob"},
    "U3": {"name": "carol", "real_name": "Carol Cruz", "display_name": "carol"},
}


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(BOT_TOKEN, users=PEOPLE).start()
    fake.set_channel_members(CHANNEL, ["U1", "U2", "U3", fake.bot_user_id])
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A real SQLite file, as users have it."""
    return f"sqlite:///{tmp_path / 'storm.db'}"


@pytest.fixture
def storm(fake_slack: FakeSlack, database_url: str) -> Iterator[InProcess]:
    running = start_in_process(fake_slack, database_url)
    try:
        yield running
    finally:
        running.stop()


MORNING = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


@pytest.fixture
def berlin(fake_slack: FakeSlack, database_url: str) -> Iterator[InProcess]:
    """Storm at 06:00 UTC, with a facilitator in Berlin (UTC+1 in November): a 09:00 digest
    is due at 08:00 UTC."""
    fake_slack.add_user("U1", "alice", tz="Europe/Berlin")
    running = start_in_process(fake_slack, database_url, clock=ManualClock(MORNING))
    try:
        yield running
    finally:
        running.stop()

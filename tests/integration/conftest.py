"""Fixtures for integration tests: the service on a real database, without HTTP or Slack.

These tests drive `Workshops.run` with parsed `/storm` lines and read the stored model back
with `load_snapshot`, so they check what a user would notice (IDs, names, links, refusals'
wording) far faster than an end-to-end test over signed HTTP can.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from bot.core.clock import ManualClock
from bot.core.grammar import parse
from bot.core.messages import Post
from bot.core.model import ElementInfo, Snapshot
from bot.service.context import Actor
from bot.service.snapshots import load_snapshot
from bot.service.workshops import Workshops
from storage import repository as repo
from storage.migrate import ready_engine
from storage.unit_of_work import unit_of_work

# Storm's clock starts far from the wall clock, so that anything reading the wall clock instead
# of Storm's (a deadline, a step's opening) shows up as a failure.
START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def db_engine(database_url: str) -> Iterator[Engine]:
    """A real SQLite file (WAL, BEGIN IMMEDIATE, writer queue), as the bot runs on; or
    PostgreSQL."""
    engine = ready_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def service(db_engine: Engine, clock: ManualClock) -> Workshops:
    return Workshops(db_engine, clock, wake=lambda: None)


def shown(post: Post) -> str:
    """What the person sees of an answer: its heading, sections and footnote (mrkdwn)."""
    parts = [post.heading, *post.sections, post.context]
    return "\n".join(part for part in parts if part) or post.text


@dataclass
class Driver:
    """Types `/storm` lines as someone in a channel, and reads that channel's workshop."""

    service: Workshops
    engine: Engine
    clock: ManualClock

    def run(self, text: str, user: str = "U1", channel: str = "C1", team: str = "T1") -> str:
        return shown(self.service.run(Actor(team, channel, user), parse(text)))

    def snapshot(self, channel: str = "C1", team: str = "T1") -> Snapshot:
        """The channel's latest workshop (ended or not) as the core reads it."""
        with unit_of_work(self.engine, read_only=True) as session:
            workshop = repo.last_workshop(session, team_id=team, channel_id=channel)
            assert workshop is not None, f"no workshop in {team}/{channel}"
            return load_snapshot(session, workshop)

    def elements(self, channel: str = "C1", team: str = "T1") -> dict[str, ElementInfo]:
        """Live elements by ID (no aliases)."""
        return {e.key: e for e in self.snapshot(channel, team).elements}

    def timeline(self, channel: str = "C1", team: str = "T1") -> list[str]:
        """Live events' IDs in timeline order."""
        return [e.key for e in self.snapshot(channel, team).events]


@pytest.fixture
def driver(service: Workshops, db_engine: Engine, clock: ManualClock) -> Driver:
    return Driver(service, db_engine, clock)


@pytest.fixture
def checkout(driver: Driver) -> Driver:
    """A workshop in C1 started by U1 (its facilitator) with three events by U1."""
    driver.run("start Checkout")
    driver.run("event Order Placed; Payment Received; Order Shipped")
    return driver

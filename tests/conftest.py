"""Fixtures: a fake Slack Web API on loopback, and Storm serving real HTTP against it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.sandbox.fake_slack import FakeSlack
from tests.support.postgres import empty, migrated_database, require_server
from tests.support.running import BOT_TOKEN, CHANNEL, InProcess, start_in_process

# The suites whose tests run on both databases Storm supports (those that use one at all):
# storage and service, end to end, and the crash-safety storm.
ON_BOTH_DATABASES = (
    "e2e",
    "integration",
    "stress/test_crash_safety.py",
    "stress/test_instances.py",
)
DATABASES = ("sqlite", "postgresql")

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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test of the storage, service and end-to-end suites that needs a database once
    on SQLite and once on PostgreSQL (ids `[sqlite]`, `[postgresql]`), unless it is about
    SQLite itself (`@pytest.mark.sqlite_only`)."""
    where = metafunc.definition.path.relative_to(Path(__file__).parent).as_posix()
    if (
        "database" in metafunc.fixturenames
        and where.startswith(ON_BOTH_DATABASES)
        and metafunc.definition.get_closest_marker("sqlite_only") is None
    ):
        metafunc.parametrize("database", DATABASES, indirect=True)


@pytest.fixture
def database(request: pytest.FixtureRequest) -> str:
    """Which database the test runs on: SQLite unless parametrised."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """The run's own PostgreSQL database, migrated once, dropped at the end of the run."""
    require_server()
    with migrated_database() as url:
        yield url


@pytest.fixture
def database_url(database: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A real SQLite file, as users have it; or the run's PostgreSQL database, emptied."""
    if database == "sqlite":
        return f"sqlite:///{tmp_path / 'storm.db'}"
    url = str(request.getfixturevalue("postgresql_url"))
    empty(url)
    return url


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

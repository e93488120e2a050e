"""`stormbot migrate --copy-from sqlite:///storm.db`: a SQLite database, release 1's included,
copied into PostgreSQL row for row; the copy carries on numbering where the file left off."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import SQLModel

from bot.cli import main
from bot.core.clock import ManualClock
from bot.core.grammar import parse
from bot.service.context import Actor
from bot.service.workshops import Workshops
from storage import repository as repo
from storage.capture import transaction
from storage.migrate import ready_engine
from storage.unit_of_work import unit_of_work
from tests.integration.conftest import START, shown
from tests.integration.test_migrations import _release_1_database
from tests.support.postgres import empty

# A workshop in each of several steps, with every kind of row Storm keeps.
LINES = {
    ("T1", "C1"): [
        "start Checkout",
        "event Order Placed; Payment Received; Order Shipped; Order was placed",
        "hotspot Who approves refunds? on E2",
        "vote E2",
        "merge E4 into E1",
        "next",
        "command Place Order -> E1",
        "view Order Summary <- E1 E2",
        "fields E1: order id, items",
        "aggregate Order: E1 C1",
        "policy Ship when paid: E2 -> Ship Order",
        "resolve H1 Finance approves them",
        "rename E3 Order Dispatched",
        "move E3 before E2",
        "drop E3",
        "step 6",
    ],
    ("T1", "C2"): ["start Returns", "event Return Requested", "timebox 3 30m", "end"],
    ("T2", "C1"): ["start Onboarding", "event Account Opened; Profile Completed", "vote E1"],
}


def _fill(engine: Engine, clock: ManualClock) -> None:
    """The app's own services fill the database, as people would."""
    service = Workshops(engine, clock, wake=lambda: None)
    for (team, channel), lines in LINES.items():
        for n, line in enumerate(lines):
            user = f"U{n % 3 + 1}" if line.startswith(("vote", "event")) else "U1"
            answer = shown(service.run(Actor(team, channel, user), parse(line)))
            assert ":no_entry_sign:" not in answer, (line, answer)
            clock.advance(timedelta(minutes=7))
    service.capture_message(
        Actor("T1", "C1", "U2"), text="Refund Issued", author="U3", source_ts="1900000000.000100"
    )
    with transaction(engine) as store:
        store.record_slack_event(
            event_id="Ev1", team_id="T1", payload={"event": {"type": "x"}}, at=clock.now()
        )
    with unit_of_work(engine) as session:
        repo.save_user(session, team_id="T1", user_id="U1", name="alice", tz="UTC", is_bot=False)
        repo.replace_channel_members(session, team_id="T1", channel_id="C1", user_ids=["U1", "U2"])


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary key order, as the models read them."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns.values())
                )
            ]
            for table in SQLModel.metadata.sorted_tables
        }


def _copy(monkeypatch: pytest.MonkeyPatch, target: str, source: str) -> int:
    monkeypatch.setenv("DATABASE_URL", target)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    return main(["migrate", "--copy-from", source])


@pytest.fixture
def postgresql(postgresql_url: str) -> str:
    empty(postgresql_url)
    return postgresql_url


def test_a_sqlite_database_is_copied_into_postgresql_row_for_row_and_numbering_goes_on(
    tmp_path: Path,
    postgresql: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "storm.db"
    clock = ManualClock(START)
    source = ready_engine(f"sqlite:///{path}")
    target = ready_engine(postgresql)
    try:
        _fill(source, clock)
        before = _rows(source)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()

        assert _copy(monkeypatch, postgresql, f"sqlite:///{path}") == 0

        assert (
            capsys.readouterr()
            .out.strip()
            .splitlines()[-1]
            .startswith(f"copied {sum(len(rows) for rows in before.values())} rows in ")
        )
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest  # only read
        assert _rows(target) == before
        assert all(before[name] for name in ("element", "link", "element_field", "vote", "change"))
        # New rows on PostgreSQL take the next ids and numbers, after the copied ones.
        service = Workshops(target, clock, wake=lambda: None)
        actor = Actor("T1", "C1", "U2")
        assert "*E6* Order Cancelled" in shown(service.run(actor, parse("event Order Cancelled")))
        assert "*C3* Cancel Order" in shown(service.run(actor, parse("command Cancel Order -> E6")))
        assert "*E3* Welcome Sent" in shown(
            service.run(Actor("T2", "C1", "U1"), parse("event Welcome Sent"))
        )
    finally:
        source.dispose()
        target.dispose()


def test_a_release_1_file_is_copied_with_everything_it_kept(
    tmp_path: Path, postgresql: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _release_1_database(tmp_path / "storm.db")

    assert _copy(monkeypatch, postgresql, url) == 0

    upgraded = ready_engine(url)  # the file itself, brought to head only now, for comparison
    target = ready_engine(postgresql)
    try:
        assert _rows(target) == _rows(upgraded)
        answer = Workshops(target, ManualClock(START), wake=lambda: None).run(
            Actor("T0001", "C1", "U2"), parse("event Refund Issued")
        )
        assert "*E5* Refund Issued" in shown(answer)  # E4 was dropped: never reused
    finally:
        upgraded.dispose()
        target.dispose()


def test_a_database_that_is_not_empty_is_refused_with_one_line_and_left_as_it_was(
    tmp_path: Path,
    postgresql: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = _release_1_database(tmp_path / "storm.db")
    target = ready_engine(postgresql)
    try:
        Workshops(target, ManualClock(START), wake=lambda: None).run(
            Actor("T1", "C1", "U1"), parse("start Already Here")
        )
        before = _rows(target)

        assert _copy(monkeypatch, postgresql, url) == 1

        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("stormbot: ") and "is not empty (workshop has 1 rows)" in line
        assert _rows(target) == before
    finally:
        target.dispose()


def test_copying_from_anything_but_a_sqlite_file_is_refused(
    tmp_path: Path,
    postgresql: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _copy(monkeypatch, postgresql, f"sqlite:///{tmp_path / 'missing.db'}") == 1
    assert capsys.readouterr().err.strip() == (
        f"stormbot: --copy-from: there is no SQLite file at {tmp_path / 'missing.db'}"
    )
    assert _copy(monkeypatch, postgresql, postgresql) == 1
    assert "takes a SQLite file's URL" in capsys.readouterr().err

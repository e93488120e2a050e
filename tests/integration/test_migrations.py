"""The versioned schema: release 1's databases are adopted, migrations agree with the models,
`stormbot migrate` reports what it did, and processes starting together migrate once."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from bot.core.clock import ManualClock
from bot.sandbox.fake_slack import FakeSlack
from storage import tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.migrate import alembic_config, head, upgrade
from tests.support.running import start_in_process

RELEASE_1_SCHEMA = (Path(__file__).parent / "release_1_schema.sql").read_text()
# A workshop as release 1 left it, one day into step 1 (rows as its app wrote them): three
# events, one of them voted for twice, a hotspot, a command causing E1, a view fed by E1 and
# E2 with fields, an aggregate, E1's fields, and E4 dropped; its step 1 deadline is pending.
RELEASE_1_ROWS = """
INSERT INTO workshop VALUES (1, 'T0001', 'C1', 'Checkout', 'U1',
    '2030-03-04 09:00:00.000000', NULL, 1, 0, '09:00', NULL, NULL);
INSERT INTO facilitator VALUES (1, 1, 'U1');
INSERT INTO steprun VALUES (1, 1, 1, 172800, '2030-03-04 09:00:00.000000',
    '2030-03-06 09:00:00.000000', NULL, '1900000000.000100');
INSERT INTO steprun VALUES (2, 1, 2, 86400, NULL, NULL, NULL, NULL);
INSERT INTO steprun VALUES (3, 1, 3, 86400, NULL, NULL, NULL, NULL);
INSERT INTO steprun VALUES (4, 1, 4, 86400, NULL, NULL, NULL, NULL);
INSERT INTO steprun VALUES (5, 1, 5, 86400, NULL, NULL, NULL, NULL);
INSERT INTO steprun VALUES (6, 1, 6, 86400, NULL, NULL, NULL, NULL);
INSERT INTO steprun VALUES (7, 1, 7, 86400, NULL, NULL, NULL, NULL);
INSERT INTO steprun VALUES (8, 1, 8, 86400, NULL, NULL, NULL, NULL);
INSERT INTO element VALUES (1, 1, 'event', 1, 'Order Placed', 'U2', 'U2',
    '2030-03-04 10:00:00.000000', 1, 1, NULL, '1900000000.000200', NULL, NULL, 0, 0, NULL, 7,
    'null');
INSERT INTO element VALUES (2, 1, 'event', 2, 'Payment Received', 'U2', 'U2',
    '2030-03-04 10:00:00.000000', 1, 2, NULL, '1900000000.000300', NULL, NULL, 0, 0, NULL, NULL,
    'null');
INSERT INTO element VALUES (3, 1, 'event', 3, 'Order Shipped', 'U2', 'U2',
    '2030-03-04 10:00:00.000000', 1, 3, NULL, '1900000000.000400', NULL, NULL, 0, 0, NULL, 7,
    'null');
INSERT INTO element VALUES (4, 1, 'hotspot', 1, 'Who approves refunds?', 'U3', 'U3',
    '2030-03-04 10:05:00.000000', 1, NULL, NULL, '1900000000.000500', NULL, NULL, 0, 0, 2, NULL,
    'null');
INSERT INTO element VALUES (5, 1, 'command', 1, 'Place Order', 'U1', 'U1',
    '2030-03-04 10:10:00.000000', 1, NULL, NULL, '1900000000.000600', NULL, NULL, 0, 0, NULL, 7,
    'null');
INSERT INTO element VALUES (6, 1, 'view', 1, 'Order Summary', 'U2', 'U2',
    '2030-03-04 10:15:00.000000', 1, NULL, NULL, '1900000000.000700', NULL, NULL, 0, 0, NULL,
    NULL, 'null');
INSERT INTO element VALUES (7, 1, 'aggregate', 1, 'Order', 'U1', 'U1',
    '2030-03-04 10:20:00.000000', 1, NULL, NULL, '1900000000.000800', NULL, NULL, 0, 0, NULL,
    NULL, 'null');
INSERT INTO element VALUES (8, 1, 'event', 4, 'Order was placed', 'U3', 'U3',
    '2030-03-04 10:25:00.000000', 1, 4, NULL, NULL, '2030-03-04 10:26:00.000000', NULL, 0, 0,
    NULL, NULL, 'null');
INSERT INTO name_key VALUES (1, 1, 'event', '<order', 1), (2, 1, 'event', '>placed', 1),
    (3, 1, 'event', '<payment', 2), (4, 1, 'event', '>received', 2),
    (5, 1, 'event', '<orders', 3), (6, 1, 'event', '>hipped', 3),
    (7, 1, 'event', '<order', 8), (8, 1, 'event', '>placed', 8);
INSERT INTO link VALUES (1, 1, 'causes', 5, 1), (2, 1, 'feeds', 1, 6), (3, 1, 'feeds', 2, 6);
INSERT INTO element_field VALUES (1, 1, 0, 'order id', 0, NULL), (2, 1, 1, 'items', 0, NULL),
    (3, 6, 0, 'order id', 0, NULL), (4, 6, 1, 'total', 0, 'E2.amount');
INSERT INTO vote VALUES (1, 1, 2, 'U1', '2030-03-04 11:00:00.000000'),
    (2, 1, 2, 'U3', '2030-03-04 11:01:00.000000');
INSERT INTO contribution VALUES (1, 1, 1, 'U2', '2030-03-04 10:00:00.000000'),
    (2, 1, 1, 'U3', '2030-03-04 10:05:00.000000'), (3, 1, 1, 'U1', '2030-03-04 10:10:00.000000');
INSERT INTO change VALUES (1, 1, 'U3', '2030-03-04 10:26:00.000000',
    'Dropped *E4* Order was placed.',
    '[{"table": "element", "op": "update", "id": 8, "before": {"dropped_at": null}}]', NULL);
INSERT INTO scheduled_post VALUES (1, 1, 'kickoff', NULL, '2030-03-04 09:00:00.000000', '{}',
    'sent', '2030-03-04 09:00:00.100000', 0, NULL);
INSERT INTO scheduled_post VALUES (2, 1, 'deadline', 1, '2030-03-06 09:00:00.000000',
    '{"deadline_at": "2030-03-06T09:00:00+00:00"}', 'pending', NULL, 0, NULL);
INSERT INTO slack_user VALUES (1, 'T0001', 'U1', 'alice', 'UTC', 0),
    (2, 'T0001', 'U2', 'bob', 'UTC', 0), (3, 'T0001', 'U3', 'carol', 'UTC', 0);
INSERT INTO channel_member VALUES (1, 'T0001', 'C1', 'U1'), (2, 'T0001', 'C1', 'U2'),
    (3, 'T0001', 'C1', 'U3');
"""
# A day into the workshop: step 1's deadline is a day away.
RELEASE_1_NOW = datetime(2030, 3, 5, 9, 0, tzinfo=UTC)


def _release_1_database(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        connection.executescript(RELEASE_1_SCHEMA + RELEASE_1_ROWS)
    connection.close()
    return f"sqlite:///{path}"


def _contents(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but Alembic's own."""
    connection = sqlite3.connect(path)
    try:
        names = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
            if name != "alembic_version"
        ]
        return {
            name: connection.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall()
            for name in names
        }
    finally:
        connection.close()


def _schema(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return sorted(
            sql
            for (sql,) in connection.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name != 'alembic_version'"
            )
        )
    finally:
        connection.close()


def _version(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
    finally:
        connection.close()


def _differences(url: str) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the models."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    finally:
        engine.dispose()


def test_a_release_1_database_is_adopted_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "storm.db"
    url = _release_1_database(path)
    before = _contents(path)

    done = upgrade(url)

    assert (done.before, done.after, done.adopted) == (None, head(), True)
    assert "adopted release 1's tables" in str(done)
    assert _contents(path) == before
    assert _version(path) == [head()]
    assert _differences(url) == []
    again = upgrade(url)
    assert (again.before, again.after, again.adopted) == (head(), head(), False)


def test_storm_opens_a_release_1_database_and_carries_on_with_its_workshop(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    url = _release_1_database(tmp_path / "storm.db")
    storm = start_in_process(fake_slack, url, clock=ManualClock(start=RELEASE_1_NOW))
    try:
        storm.run("export json")
        storm.fake.wait_for(lambda f: len(f.files("C1")) == 1)
        model = json.loads(storm.fake.files("C1")[0].text)
        added = storm.run("event Refund Issued", user="U2")
    finally:
        storm.stop()

    workshop = model["workshop"]
    assert (workshop["title"], workshop["facilitators"]) == ("Checkout", ["U1"])
    assert workshop["step"]["number"] == 1
    assert [(e["id"], e["name"], e["votes"]) for e in model["events"]] == [
        ("E1", "Order Placed", 0),
        ("E2", "Payment Received", 2),
        ("E3", "Order Shipped", 0),
    ]
    assert model["events"][0]["fields"] == [
        {"name": "order id", "origin": None, "generated": False},
        {"name": "items", "origin": None, "generated": False},
    ]
    (command,) = model["commands"]
    assert (command["id"], command["name"], command["causes"]) == ("C1", "Place Order", ["E1"])
    (view,) = model["views"]
    assert (view["id"], view["fed_by"]) == ("V1", ["E1", "E2"])
    assert [f["origin"] for f in view["fields"]] == [None, "E2.amount"]
    (aggregate,) = model["aggregates"]
    assert (aggregate["id"], aggregate["name"]) == ("A1", "Order")
    (hotspot,) = model["hotspots"]
    assert (hotspot["id"], hotspot["on"]) == ("H1", "E2")
    # Numbers go on from release 1's, the dropped E4 included: IDs are never reused.
    assert "*E5* Refund Issued" in added


def test_a_fresh_database_migrated_to_head_is_what_the_models_declare(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'storm.db'}"

    done = upgrade(url)

    assert (done.before, done.after, done.adopted) == (None, head(), False)
    assert _differences(url) == []
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            script = ScriptDirectory.from_config(alembic_config(connection))
    finally:
        engine.dispose()
    assert script.get_current_head() == head()  # the file names' ids are Alembic's


def test_release_1_schema_is_revision_0001_exactly(tmp_path: Path) -> None:
    """Revision 1 makes what release 1's `create_all` made, so adopting it by a stamp is right
    (this test pins it once later revisions exist: it only applies revision 0001)."""
    from alembic import command

    migrated = tmp_path / "migrated.db"
    engine = create_engine(f"sqlite:///{migrated}")
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0001")
    finally:
        engine.dispose()
    written_by_release_1 = tmp_path / "release_1.db"
    with sqlite3.connect(written_by_release_1) as connection:
        connection.executescript(RELEASE_1_SCHEMA)
    connection.close()

    normalise = " ".join
    assert [normalise(s.split()) for s in _schema(migrated)] == [
        normalise(s.split()) for s in _schema(written_by_release_1)
    ]


def _migrate(path: Path) -> subprocess.Popen[str]:
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{path}"}
    environment.pop("SLACK_BOT_TOKEN", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "migrate"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_stormbot_migrate_upgrades_a_fresh_database_then_finds_nothing_to_do(
    tmp_path: Path,
) -> None:
    path = tmp_path / "storm.db"
    for expected in (f"{path}: upgraded from (none) to {head()}", f"{path}: already at {head()}"):
        out, err = _migrate(path).communicate(timeout=60)
        assert (out.strip(), err) == (expected, "")
    assert _version(path) == [head()]


def test_two_processes_migrating_one_fresh_file_at_once_both_succeed(tmp_path: Path) -> None:
    path = tmp_path / "storm.db"
    processes = [_migrate(path) for _ in range(2)]
    results = [(p.communicate(timeout=60), p.returncode) for p in processes]

    assert [code for _, code in results] == [0, 0]
    outputs = sorted(out.strip() for (out, _), _ in results)
    assert outputs == [f"{path}: already at {head()}", f"{path}: upgraded from (none) to {head()}"]
    assert _version(path) == [head()]
    assert _differences(f"sqlite:///{path}") == []

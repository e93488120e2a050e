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
from sqlalchemy import Connection, create_engine, make_url, text
from sqlmodel import SQLModel

from bot.core.clock import ManualClock
from bot.sandbox.fake_slack import FakeSlack
from storage import tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.migrate import MIGRATIONS, alembic_config, head, upgrade
from tests.support.postgres import new_database, require_server
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


def _contents(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table but Alembic's own, by column name."""
    connection = sqlite3.connect(path)
    try:
        names = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
            if name != "alembic_version"
        ]
        found = {}
        for name in names:
            cursor = connection.execute(f'SELECT * FROM "{name}" ORDER BY 1')
            columns = [column[0] for column in cursor.description]
            found[name] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        return found
    finally:
        connection.close()


# What columns added since release 1 hold in rows written before them, where not nothing:
# a field written before types existed is a String, not a list (revision 0004), and does not
# identify its element (revision 0005); a post has been sent no times yet (revision 0006).
_ADDED_DEFAULTS = {
    ("element_field", "type"): "String",
    ("element_field", "is_list"): 0,
    ("element_field", "id_attribute"): 0,
    ("scheduled_post", "attempts"): 0,
}


def _kept(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]) -> None:
    """Every row of `before` is in `after` as it was; columns added since hold nothing, or
    their default (`_ADDED_DEFAULTS`)."""
    assert set(after) == set(before)
    for table, rows in before.items():
        assert len(after[table]) == len(rows), table
        for old, new in zip(rows, after[table], strict=True):
            assert {column: new[column] for column in old} == old, table
            assert {column: new[column] for column in new if column not in old} == {
                column: _ADDED_DEFAULTS.get((table, column)) for column in new if column not in old
            }, table


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
    _kept(before, _contents(path))
    assert "answer" in _contents(path)["element"][0]  # revision 0002 was applied after
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
        storm.run("resolve H1 Finance approves them", user="U3")
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
    # Release 1 had no field types: its fields are Strings, with identifiers from their names.
    assert model["events"][0]["fields"] == [
        {
            "name": "order id",
            "origin": None,
            "generated": False,
            "type": "String",
            "identifier": "orderId",
        },
        {
            "name": "items",
            "origin": None,
            "generated": False,
            "type": "String",
            "identifier": "items",
        },
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
    # Release 1 kept no answers; resolving one now keeps it (revision 0002).
    assert (hotspot["resolved"], hotspot["answer"]) == (True, "Finance approves them")
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


def test_revision_0002_adds_the_hotspot_answer_and_goes_back_without_losing_a_row(
    tmp_path: Path,
) -> None:
    """A database at 0001 with a resolved hotspot gains `element.answer` (empty: release 1
    kept no answers) and keeps every row; downgrading to 0001 gives back 0001's schema."""
    from alembic import command

    path = tmp_path / "storm.db"
    url = _release_1_database(path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE element SET resolved = 1 WHERE kind = 'hotspot'")
    connection.close()
    before = _contents(path)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.stamp(alembic_config(connection), "0001")
            command.upgrade(alembic_config(connection), "0002")
        _kept(before, _contents(path))
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE element SET answer = 'Finance' WHERE kind = 'hotspot'")
        connection.close()
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0001")
    finally:
        engine.dispose()
    assert _contents(path) == before
    assert _version(path) == ["0001"]
    written_by_release_1 = tmp_path / "release_1.db"
    with sqlite3.connect(written_by_release_1) as connection:
        connection.executescript(RELEASE_1_SCHEMA)
    connection.close()
    assert _columns_and_indexes(path) == _columns_and_indexes(written_by_release_1)


def test_revision_0003_gives_workshops_no_canvas_and_goes_back_without_losing_a_row(
    tmp_path: Path,
) -> None:
    """A database at 0002 gains the canvas columns, empty (no workshop follows a canvas until
    `/storm canvas on`), keeps every row, and downgrading to 0002 gives its rows back."""
    from alembic import command

    path = tmp_path / "storm.db"
    url = _release_1_database(path)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.stamp(alembic_config(connection), "0001")
            command.upgrade(alembic_config(connection), "0002")
        before = _contents(path)
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0003")
        after = _contents(path)
        _kept(before, after)
        assert {"canvas_by", "canvas_id", "canvas_problem", "canvas_hash", "canvas_sent_at"} <= set(
            after["workshop"][0]
        )
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE workshop SET canvas_by = 'U1', canvas_id = 'F1'")
        connection.close()
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0002")
    finally:
        engine.dispose()
    assert _contents(path) == before
    assert _version(path) == ["0002"]


def test_revision_0004_makes_every_field_a_string_and_goes_back_without_losing_a_row(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """A database at 0003 with fields gains their type (`String`, not a list) and an empty
    identifier, keeps every row, and Storm then reads, shows and retypes those fields;
    downgrading to 0003 gives its rows back."""
    from alembic import command

    path = tmp_path / "storm.db"
    url = _release_1_database(path)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.stamp(alembic_config(connection), "0001")
            command.upgrade(alembic_config(connection), "0003")
        before = _contents(path)
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0004")
        after = _contents(path)
        _kept(before, after)
        assert [
            (f["name"], f["type"], f["is_list"], f["identifier"]) for f in after["element_field"]
        ] == [
            ("order id", "String", 0, None),
            ("items", "String", 0, None),
            ("order id", "String", 0, None),
            ("total", "String", 0, None),
        ]
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE element_field SET type = 'UUID', identifier = 'id'")
        connection.close()
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0003")
    finally:
        engine.dispose()
    assert _contents(path) == before
    assert _version(path) == ["0003"]

    storm = start_in_process(fake_slack, url, clock=ManualClock(start=RELEASE_1_NOW))
    try:
        answer = storm.run("fields V1: order id, total:Decimal <- E2.amount", user="U2")
        model = storm.export_json()
    finally:
        storm.stop()
    assert "total:Decimal" in answer
    (view,) = model["views"]
    assert [(f["name"], f["type"], f["identifier"]) for f in view["fields"]] == [
        ("order id", "String", "orderId"),
        ("total", "Decimal", "total"),
    ]
    assert [f["type"] for f in model["events"][0]["fields"]] == ["String", "String"]


def test_revision_0005_keeps_every_field_and_goes_back_without_losing_a_row(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """A database at 0004 gains what an import keeps of a field (not an id attribute, no
    example, mapping or subfields), keeps every row, and Storm then reads and exports those
    fields as before; downgrading to 0004 gives its rows back."""
    from alembic import command

    path = tmp_path / "storm.db"
    url = _release_1_database(path)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.stamp(alembic_config(connection), "0001")
            command.upgrade(alembic_config(connection), "0004")
        before = _contents(path)
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0005")
        after = _contents(path)
        _kept(before, after)
        assert {
            (f["id_attribute"], f["example"], f["mapping"], f["subfields"])
            for f in after["element_field"]
        } == {(0, None, None, None)}
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE element_field SET id_attribute = 1, example = '\"x\"'")
        connection.close()
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0004")
    finally:
        engine.dispose()
    assert _contents(path) == before
    assert _version(path) == ["0004"]

    storm = start_in_process(fake_slack, url, clock=ManualClock(start=RELEASE_1_NOW))
    try:
        model = storm.export_json()
    finally:
        storm.stop()
    assert [f["name"] for f in model["views"][0]["fields"]] == ["order id", "total"]
    assert all("id_attribute" not in f for f in model["views"][0]["fields"])


def _columns_and_indexes(path: Path) -> dict[str, tuple[list[Any], list[Any]]]:
    """Each table's columns (name, type, not null, default, primary key) and indexes (name,
    unique, partial, columns): the schema as queries see it, whatever the text that made it."""
    connection = sqlite3.connect(path)
    try:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name != "alembic_version"
        ]
        found = {}
        for table in tables:
            columns = [row[1:] for row in connection.execute(f'PRAGMA table_info("{table}")')]
            indexes = sorted(
                (
                    name,
                    unique,
                    partial,
                    [c[2] for c in connection.execute(f'PRAGMA index_info("{name}")')],
                )
                for _, name, unique, _, partial in connection.execute(
                    f'PRAGMA index_list("{table}")'
                )
            )
            found[table] = (columns, indexes)
        return found
    finally:
        connection.close()


def _migrate(path: Path) -> subprocess.Popen[str]:
    return _migrate_url(f"sqlite:///{path}")


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


# ---- on PostgreSQL ----------------------------------------------------------------------------


def test_a_fresh_postgresql_database_migrated_to_head_is_what_the_models_declare() -> None:
    require_server()
    with new_database() as url:
        done = upgrade(url)

        assert (done.before, done.after, done.adopted) == (None, head(), False)
        assert _differences(url) == []


def test_every_postgresql_revision_goes_back_and_forth() -> None:
    """Down to release 1's schema and up again, one revision at a time, on PostgreSQL."""
    from alembic import command

    require_server()
    with new_database() as url:
        upgrade(url)
        engine = create_engine(url)
        try:
            for revision in sorted(SEQUENCE, reverse=True)[1:]:
                with engine.begin() as connection:
                    command.downgrade(alembic_config(connection), revision)
                    assert _pg_version(connection) == revision
            with engine.begin() as connection:
                command.upgrade(alembic_config(connection), "head")
        finally:
            engine.dispose()
        assert _differences(url) == []


def test_two_processes_migrating_one_fresh_postgresql_database_at_once_both_succeed() -> None:
    require_server()
    with new_database() as url:
        processes = [_migrate_url(url) for _ in range(2)]
        results = [(p.communicate(timeout=60), p.returncode) for p in processes]

        assert [code for _, code in results] == [0, 0], results
        shown = make_url(url).render_as_string(hide_password=True)
        outputs = sorted(out.strip() for (out, _), _ in results)
        assert outputs == [
            f"{shown}: already at {head()}",
            f"{shown}: upgraded from (none) to {head()}",
        ]
        assert _differences(url) == []


SEQUENCE = sorted(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("*_*.py"))


def _pg_version(connection: Connection) -> str | None:
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _migrate_url(url: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "DATABASE_URL": url}
    environment.pop("SLACK_BOT_TOKEN", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "migrate"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

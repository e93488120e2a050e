"""Copying a SQLite database into another (PostgreSQL, to scale out): `stormbot migrate
--copy-from sqlite:///storm.db`.

The user's file is only read: it is copied (SQLite's backup, consistent even while Storm
writes to it) into a temporary file, and that copy is brought to the newest revision, so that
a database of any release, release 1's included, is read with today's tables. The target is
migrated to head too, and must hold no rows at all: a copy adds to nothing. Every table is
then copied in foreign-key order, in batches, through the models' column types (times,
JSON, booleans as each database keeps them), all in one transaction on the target, so that a
failed copy leaves it empty. Ids are kept, since rows point at each other by id, and
PostgreSQL's id sequences are then moved past them.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, func, make_url, select, update
from sqlalchemy.exc import ArgumentError
from sqlmodel import SQLModel

from storage import tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.migrate import ready_engine, upgrade
from storage.sequences import advance_sequences
from storage.unit_of_work import READ_ONLY

BATCH_ROWS = 1000


class CopyRefused(Exception):
    """Why nothing was copied, in one line for the person who asked."""


@dataclass(frozen=True)
class Copied:
    """How many rows of each table were copied, from where to where."""

    source: str
    target: str
    rows: dict[str, int]

    def __str__(self) -> str:
        total = sum(self.rows.values())
        return (
            f"copied {total} rows in {len(self.rows)} tables from {self.source} into {self.target}"
        )


def copy_database(source_url: str, target: Engine) -> Copied:
    """Copy every row of the SQLite database at `source_url` into `target` (migrated first);
    raises `CopyRefused` when the source is not a SQLite file or the target holds rows."""
    path = _sqlite_path(source_url)
    shown = target.url.render_as_string(hide_password=True)
    upgrade(target)
    with tempfile.TemporaryDirectory(prefix="storm-copy-") as folder:
        copy = Path(folder) / "storm.db"
        _snapshot(path, copy)
        source = ready_engine(f"sqlite:///{copy}")
        try:
            reader = source.execution_options(**{READ_ONLY: True})
            with reader.connect() as reading, target.begin() as writing:
                _refuse_unless_empty(writing, shown)
                rows = {t.name: _copy_table(reading, writing, t) for t in _tables()}
                advance_sequences(writing, SQLModel.metadata)
        finally:
            source.dispose()
    return Copied(str(path), shown, rows)


def _sqlite_path(url: str) -> Path:
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None
    database = parsed.database if parsed is not None else None
    if parsed is None or parsed.get_backend_name() != "sqlite" or not database:
        raise CopyRefused(
            f"--copy-from takes a SQLite file's URL, such as sqlite:///storm.db, not {url!r}"
        )
    path = Path(database)
    if not path.is_file():
        raise CopyRefused(f"--copy-from: there is no SQLite file at {path}")
    return path


def _snapshot(path: Path, copy: Path) -> None:
    """A consistent copy of the file (what a writer has committed so far), opened read-only."""
    original = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        duplicate = sqlite3.connect(copy)
        try:
            original.backup(duplicate)
        finally:
            duplicate.close()
    except sqlite3.DatabaseError as error:
        raise CopyRefused(
            f"--copy-from: {path} cannot be read as a SQLite database ({error})"
        ) from error
    finally:
        original.close()


def _tables() -> list[Table]:
    """Storm's tables, each after the tables it points at."""
    return list(SQLModel.metadata.sorted_tables)


def _refuse_unless_empty(connection: Connection, shown: str) -> None:
    for table in _tables():
        count = connection.execute(select(func.count()).select_from(table)).scalar_one()
        if count:
            raise CopyRefused(
                f"{shown} is not empty ({table.name} has {count} rows): "
                "copy into a new, empty database"
            )


def _copy_table(source: Connection, target: Connection, table: Table) -> int:
    """Copy one table's rows in batches; returns how many.

    Columns that point at the same table (an element merged into, or attached to, another
    made later) are filled in once all its rows are there: PostgreSQL checks each row's
    foreign keys as it arrives.
    """
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    key = table.primary_key.columns.values()[0]
    pointing: list[dict[str, Any]] = []
    copied = 0
    for rows in _batches(source, table):
        target.execute(table.insert(), [{**row, **dict.fromkeys(own)} for row in rows])
        pointing += [
            {"row_key": row[key.name], **{name: row[name] for name in own}}
            for row in rows
            if any(row[name] is not None for name in own)
        ]
        copied += len(rows)
    if pointing:
        fill = (
            update(table)
            .where(key == bindparam("row_key"))
            .values({name: bindparam(name) for name in own})
        )
        target.execute(fill, pointing)
    return copied


def _batches(connection: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    """The table's rows in primary key order, BATCH_ROWS at a time."""
    key = table.primary_key.columns.values()[0]
    last: Any = None
    while True:
        statement = select(table).order_by(key).limit(BATCH_ROWS)
        if last is not None:
            statement = statement.where(key > last)
        rows = [dict(row) for row in connection.execute(statement).mappings()]
        if not rows:
            return
        yield rows
        last = rows[-1][key.name]

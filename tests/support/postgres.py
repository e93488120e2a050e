"""A PostgreSQL database of the test run's own, on the server at 127.0.0.1:5432 (trust auth).

The run creates one database, `storm_t_<pid>_<random>`, migrates it once to head, and drops it
at the end; each test that uses it starts from an empty model (`empty`: every table but
Alembic's emptied, ids starting from 1 again), which takes milliseconds where a migrated
database of its own would take a second.

Without a reachable server the PostgreSQL tests are skipped with one line saying why, except
under CI=true, where the server is part of the contract and its absence fails the run.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlmodel import SQLModel

from storage import tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.migrate import VERSION_TABLE, upgrade
from storage.sequences import advance_sequences

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
# Any existing database serves to create and drop the run's own.
MAINTENANCE = f"{SERVER}/postgres"


@functools.cache
def unreachable() -> str | None:
    """Why the server cannot be used, in one line; None when it can (asked once a run)."""
    engine = create_engine(MAINTENANCE, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect is the reason to tell
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        return f"PostgreSQL not reachable at 127.0.0.1:5432: {reason}"
    finally:
        engine.dispose()
    return None


def require_server() -> None:
    """Skip the test (fail it under CI=true) when the server cannot be used."""
    reason = unreachable()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: PostgreSQL is required)", pytrace=False)
    pytest.skip(reason)


@contextmanager
def new_database(prefix: str = "storm_t") -> Iterator[str]:
    """A new, empty database (no tables) for as long as the block runs, then dropped with
    whatever is still connected to it."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(MAINTENANCE, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield f"{SERVER}/{name}"
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def empty(url: str) -> None:
    """Empty every table but Alembic's, ids starting from 1 again: a migrated, unused model.

    DELETE, children first, rather than TRUNCATE: on tables this small it takes a millisecond
    where TRUNCATE takes fifty (it makes every table's files anew).
    """
    with _emptier(url).begin() as connection:
        known = {table.name for table in SQLModel.metadata.sorted_tables}
        others = [n for n in inspect(connection).get_table_names() if n not in known]
        order = [n for n in others if n != VERSION_TABLE]
        order += [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
        connection.exec_driver_sql("; ".join(f'DELETE FROM "{name}"' for name in order))
        advance_sequences(connection, SQLModel.metadata)


@functools.cache
def _emptier(url: str) -> Engine:
    """One engine per database for `empty`, kept for the run (the database is dropped with
    whatever is connected to it)."""
    return create_engine(url, pool_size=1)


@contextmanager
def migrated_database() -> Iterator[str]:
    """A new database at the newest revision, dropped when the block ends."""
    with new_database() as url:
        upgrade(url)
        yield url

"""A PostgreSQL database of the test run's own, on the server at 127.0.0.1:5432 (trust auth).

The run creates one database, `storm_t_<pid>_<random>`, migrates it once to head, and drops it
at the end; each test that uses it starts from an empty model (`empty`: every table but
Alembic's emptied, ids starting from 1 again), which takes milliseconds where a migrated
database of its own would take a second.

Without a reachable server the PostgreSQL tests are skipped with one line saying why, except
under CI=true, where the server is part of the contract and its absence fails the run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, inspect, text

from storage.migrate import VERSION_TABLE, upgrade

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
# Any existing database serves to create and drop the run's own.
MAINTENANCE = f"{SERVER}/postgres"


def unreachable() -> str | None:
    """Why the server cannot be used, in one line; None when it can."""
    engine = create_engine(MAINTENANCE, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect is the reason to tell
        return f"PostgreSQL not reachable at 127.0.0.1:5432: {str(error).splitlines()[0]}"
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
    """Empty every table but Alembic's, ids starting from 1 again: a migrated, unused model."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            names = [n for n in inspect(connection).get_table_names() if n != VERSION_TABLE]
            # Whatever a previous test left running gives way rather than holding this up.
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            quoted = ", ".join(f'"{name}"' for name in names)
            connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@contextmanager
def migrated_database() -> Iterator[str]:
    """A new database at the newest revision, dropped when the block ends."""
    with new_database() as url:
        upgrade(url)
        yield url

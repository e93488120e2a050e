"""Reading the bot's database from a test while the bot writes to it, taking no lock."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

from sqlalchemy import create_engine, make_url, text


def rows(database_url: str, query: str) -> list[tuple[Any, ...]]:
    """What `query` finds now: straight from the SQLite file (a reader that takes no lock and
    needs none of Storm's machinery), or on a connection of its own to PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database
        with contextlib.closing(sqlite3.connect(url.database, timeout=5)) as db:
            return list(db.execute(query))
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query))]
    finally:
        engine.dispose()

"""The transaction boundary: one transaction per user action, never held across a Slack call.

Writers on SQLite take the database's write lock when they begin (BEGIN IMMEDIATE). SQLite's
own wait for that lock is a sleep-and-retry loop that can starve an unlucky writer for
seconds under load, so writers in one process first queue on a plain lock, and only one at a
time asks SQLite. Readers begin a deferred transaction and, in WAL mode, never wait at all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlmodel import Session

READ_ONLY = "storm_read_only"
_writers: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_writers_guard = threading.Lock()


def writer_lock(engine: Engine) -> threading.Lock:
    """The lock this process's writers on `engine` queue on before asking SQLite."""
    with _writers_guard:
        return _writers.setdefault(engine, threading.Lock())


@contextmanager
def unit_of_work(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """Commit when the block ends normally, roll back when it raises.

    `read_only` units only read: they neither queue for the write lock nor take it.
    """
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    queue = writer_lock(engine) if not read_only and engine.dialect.name == "sqlite" else None
    with queue or nullcontext(), Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

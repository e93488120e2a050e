"""The transaction boundary: one transaction per user action, never held across a Slack call.

Writers on SQLite take the database's write lock when they begin (BEGIN IMMEDIATE). SQLite's
own wait for that lock is a sleep-and-retry loop that can starve an unlucky writer for
seconds under load, so writers first queue (`WriterQueue`: a lock in the process, then a lock
file shared by all processes), and only one at a time asks SQLite. Readers begin a deferred
transaction and, in WAL mode, never wait at all.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from weakref import WeakKeyDictionary

from sqlalchemy import Engine

try:
    import fcntl
except ImportError:  # not on Windows: there, writers of several processes rely on SQLite's wait
    fcntl = None  # type: ignore[assignment]
from sqlmodel import Session

READ_ONLY = "storm_read_only"
_writers: WeakKeyDictionary[Engine, WriterQueue] = WeakKeyDictionary()
_writers_guard = threading.Lock()


class WriterQueue:
    """Where writers to one SQLite database wait their turn: first on a lock in this process,
    then on an advisory lock file beside the database, shared by every process (the web
    workers and the background worker).

    SQLite's own wait for its write lock is a sleep-and-retry loop (1, 2, 5, 10 … 100 ms), so
    under load a writer that just missed the lock sleeps far longer than the writer before it
    held it. A blocked `flock` is woken by the kernel the moment the lock is released; with
    every writer queued there, BEGIN IMMEDIATE never has to wait at all. A process that dies
    holding the lock releases it with its file descriptors.
    """

    def __init__(self, database: str | None) -> None:
        self._threads = threading.Lock()
        self._path = f"{database}.writer-lock" if database and fcntl is not None else None
        self._file: tuple[int, int] | None = None  # (pid, fd): a lock file per process

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            if self._path is not None:
                fcntl.flock(self._fd(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *_: object) -> None:
        try:
            if self._path is not None:
                fcntl.flock(self._fd(), fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _fd(self) -> int:
        assert self._path is not None
        if self._file is None or self._file[0] != os.getpid():
            self._file = (os.getpid(), os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600))
        return self._file[1]


def writer_lock(engine: Engine) -> WriterQueue:
    """The queue this process's writers on `engine` (SQLite) join before asking SQLite."""
    with _writers_guard:
        queue = _writers.get(engine)
        if queue is None:
            queue = _writers[engine] = WriterQueue(sqlite_file(engine))
        return queue


def sqlite_file(engine: Engine) -> str | None:
    """The SQLite database file, beside which the processes sharing it keep their lock files;
    None for other databases and in-memory ones."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


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

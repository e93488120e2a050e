"""The engine: SQLite tuned for a busy bot, or any SQLAlchemy URL (PostgreSQL to scale out)."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event, text

from storage.unit_of_work import READ_ONLY

SQLITE_BUSY_TIMEOUT_SECONDS = 15
# PostgreSQL connections each process keeps (and may add under a burst): a web worker serves
# one request at a time plus its after-ack work, health check and sender; the background
# worker runs the outbox, the scheduler, canvases and the inbox on threads of their own.
# Ten processes at the most stay under PostgreSQL's default of 100 connections.
POSTGRESQL_POOL_SIZE = 5
POSTGRESQL_POOL_OVERFLOW = 5
log = logging.getLogger(__name__)


def make_engine(url: str, *, checkpoints: bool = True) -> Engine:
    """Create the engine; the tables are `storage.migrate`'s job (`ready_engine`).

    On PostgreSQL: a pool of connections per process, checked before use; writers to one
    workshop queue on its row (`storage.repository.lock_workshop`), not on a lock file.

    On SQLite: WAL so that readers never wait for the writer, a busy timeout, and every
    writing transaction opened with BEGIN IMMEDIATE so that two writers queue for the lock at
    the start instead of failing with "database is locked" when a read turns into a write.

    `checkpoints=False` leaves copying the WAL back into the database to another process
    (`Checkpointer`): a commit that happens to cross SQLite's threshold would otherwise do it,
    with a sync, while a web worker's request waits.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        if not checkpoints:
            event.listen(engine, "connect", _no_checkpoints)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        # Pre-ping: a connection the server or a proxy dropped while idle is replaced rather
        # than failing the next person's request.
        engine = create_engine(
            url,
            pool_size=POSTGRESQL_POOL_SIZE,
            max_overflow=POSTGRESQL_POOL_OVERFLOW,
            pool_pre_ping=True,
        )
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (the pysqlite driver would defer it).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    _switch_to_wal(cursor)
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """Put the file in WAL mode (it stays so; later connections find it done).

    Switching needs the file to itself, and SQLite reports "database is locked" at once,
    without waiting out the busy timeout, when another connection is opening or switching a
    fresh file at the same moment (two processes starting on a new database): so wait here.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _no_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


class Checkpointer:
    """Copies what the WAL holds back into the database every `interval` seconds, on a thread
    of its own, without blocking anyone (PASSIVE).

    Run by the one process whose engine was made with `checkpoints=False` elsewhere (the
    background worker beside the web workers). Under a burst the WAL grows by about 50 KiB a
    request, and what a reader searches for a page is the part not yet copied back: checked
    under 1,500 captures a second, copying every 0.1 s kept it at about 1,800 pages on
    average. SQLite starts the file over only after a checkpoint that no commit followed,
    which a burst seldom leaves room for, so during one the file itself can reach a few
    hundred MB; it is reused afterwards.
    """

    def __init__(self, engine: Engine, interval: float) -> None:
        self._engine = engine
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="storm-checkpoint", daemon=True)

    def start(self) -> None:
        if self._engine.dialect.name == "sqlite":
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        failing = False
        while not self._stopping.wait(self._interval):
            try:
                checkpoint(self._engine)
            except Exception:  # a locked or vanished file now is no reason to stop for good
                if not failing:  # said once, not ten times a second
                    log.exception("checkpointing the WAL failed; will keep trying")
                failing = True
            else:
                if failing:
                    log.info("checkpointing the WAL works again")
                failing = False


def checkpoint(engine: Engine) -> None:
    """Copy what the WAL holds back into the database, without blocking anyone (PASSIVE)."""
    # On the driver's connection, outside any transaction: SQLAlchemy would begin one (and
    # inside a transaction SQLite refuses to checkpoint: "database table is locked").
    pooled = engine.raw_connection()
    try:
        driver = pooled.driver_connection
        assert driver is not None, "a pooled connection has its driver's connection"
        driver.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        pooled.close()


def _sqlite_begin(connection: Any) -> None:
    """Writers take the write lock up front; read-only units begin a deferred transaction."""
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def is_reachable(engine: Engine) -> bool:
    """Whether a trivial query succeeds: what `/healthz` reports."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not reachable", which is the answer
        return False
    return True

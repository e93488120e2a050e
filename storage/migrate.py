"""Schema migrations: Alembic's revisions in `storage/migrations/versions`, applied at start-up.

Whoever opens the database for Storm calls `upgrade` first (`build_app` through `ready_engine`,
`stormbot serve` before its workers start, `stormbot migrate`). Storm starts many times with
the schema already at head (every web worker, the background worker, every restart), so that
case is one query: the version row is read and compared with the newest revision file's id,
without importing Alembic (slow to import). Otherwise one process at a time applies what is
pending, in one transaction so that a failed revision leaves the database as it was: on SQLite
it queues with the writers (`writer_lock`, a lock file beside the database, which waits as long
as the migration takes), on PostgreSQL behind an advisory lock held until the transaction ends.
The next process in line then finds nothing left to do.

A database written by release 1 (Storm's tables and no `alembic_version`) is adopted as it is:
stamped at 0001, which is release 1's schema, then upgraded.

Revision ids are the numbers their files start with (`0002_what_changed.py`): the next one is
written with `alembic.command.revision(alembic_config(connection), message=..., rev_id="0002",
autogenerate=True)` against a database at head, then read and tidied by hand.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from storage.db import make_engine
from storage.unit_of_work import READ_ONLY, sqlite_file, writer_lock

if TYPE_CHECKING:  # Alembic is imported only when there is something to migrate
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
RELEASE_1 = "0001"  # release 1 made its tables with `create_all`, without a version
VERSION_TABLE = "alembic_version"
# Any fixed number shared by every Storm process ("Storm" in ASCII).
_POSTGRESQL_LOCK = 0x53746F726D

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` found and left: the revisions before and after, and whether it adopted a
    database written by release 1."""

    database: str
    before: str | None
    after: str
    adopted: bool = False

    def __str__(self) -> str:
        if self.adopted:
            return (
                f"{self.database}: adopted release 1's tables as {RELEASE_1}, "
                f"upgraded to {self.after}"
            )
        if self.before == self.after:
            return f"{self.database}: already at {self.after}"
        return f"{self.database}: upgraded from {self.before or '(none)'} to {self.after}"


def head() -> str:
    """The newest revision's id, from the file names (a test checks that Alembic agrees)."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("*_*.py"))


def ready_engine(url: str, *, checkpoints: bool = True) -> Engine:
    """Storm's engine on a database brought up to date first (see `make_engine`)."""
    engine = make_engine(url, checkpoints=checkpoints)
    upgrade(engine)
    return engine


def upgrade(target: Engine | str) -> Upgrade:
    """Apply the pending revisions to the database (an engine, or a URL opened and closed)."""
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        database = sqlite_file(engine) or engine.url.render_as_string(hide_password=True)
        with engine.execution_options(**{READ_ONLY: True}).connect() as connection:
            current = version(connection)
        if current == head():
            return Upgrade(database, current, current)
        done = _upgrade(engine, database)
    finally:
        if isinstance(target, str):
            engine.dispose()
    if done.before != done.after:
        log.info("database %s", done)
    return done


def version(connection: Connection) -> str | None:
    """The revision the database is at; None before any (empty, or written by release 1)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration, built here rather than read from alembic.ini, for `connection`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def _upgrade(engine: Engine, database: str) -> Upgrade:
    from alembic import command

    queue = writer_lock(engine) if engine.dialect.name == "sqlite" else nullcontext()
    with queue, engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRESQL_LOCK}
            )
        before = version(connection)
        config = alembic_config(connection)
        adopted = before is None and inspect(connection).has_table("workshop")
        if adopted:
            command.stamp(config, RELEASE_1)
        command.upgrade(config, "head")
        after = version(connection)
    assert after is not None
    return Upgrade(database, before, after, adopted)

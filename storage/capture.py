"""Adding elements in a few statements: the work behind most acknowledgements.

Capture is what a whole department does at once (`/storm event`, :zap:), so its statements are
few and cheap: the element's number and timeline position are computed inside its INSERT, and
its name's keys, the person's contribution, the element's post and the change for undo are
one statement each, however large the workshop. They run as prepared statements on the driver's
connection (`storage.prepared`), either on a connection of their own (`connected`, whose
`writing` is the transaction behind the `/storm event` acknowledgement, and `transaction`) or
inside an ORM unit of work (`in_session`), so an element, a post or a contribution comes to be
one way only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, bindparam, false, func, insert, literal, select, true, union_all
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.expression import ScalarSelect
from sqlmodel import Session, col

from storage.prepared import prepared
from storage.tables import (
    Change,
    Contribution,
    Element,
    NameKey,
    ScheduledPost,
    SlackEvent,
    Workshop,
    table_of,
)
from storage.unit_of_work import writer_lock

_ELEMENT = table_of(Element)
_IDLE = TransactionStatus.IDLE  # a PostgreSQL connection outside any transaction

# Enough to point out every real twin; a name that shares a key with more elements than
# this is one of a family of numbered names ("Invoice 12 sent"), not a duplicate.
TWINS_LOOKED_AT = 20
# `bot.core.naming.twin_keys` gives at most this many; the look-up has a fixed number of
# slots so that it is compiled once.
KEY_SLOTS = 6


@dataclass(frozen=True)
class OpenWorkshop:
    """What capture needs of the channel's unfinished workshop."""

    id: int
    current_step: int
    post_problem: str | None


@dataclass(frozen=True)
class Twin:
    """A live element that may be a near-duplicate of a new name (to be confirmed)."""

    kind: str
    number: int
    name: str


def _next(column: Any, kind: Any, workshop: Any = None) -> ScalarSelect[Any]:
    """One past the highest `column` of a kind in the workshop, inside the INSERT. IDs are
    never reused: dropped elements count too.

    Two captures never get the same number because each runs holding a lock: on SQLite the
    database's write lock, on PostgreSQL the workshop's row (`Capture.add_element`), so that
    writers from several processes queue per workshop, and nothing is ever retried."""
    return (
        select(func.coalesce(func.max(column), 0) + 1)
        .where(
            col(Element.workshop_id)
            == (bindparam("in_workshop") if workshop is None else workshop),
            col(Element.kind) == kind,
        )
        .scalar_subquery()
    )


# The row is locked for the rest of the transaction (`storage.repository._locked`); SQLite
# writes no FOR UPDATE. FOR NO KEY UPDATE queues writers to the workshop as FOR UPDATE does
# (the two conflict), but leaves alone the key-share locks that other transactions' foreign
# keys take on the row when they insert rows of the workshop (posts, contributions).
_IS_OPEN = (
    col(Workshop.team_id) == bindparam("team_id"),
    col(Workshop.channel_id) == bindparam("channel_id"),
    col(Workshop.finished_at).is_(None),
)
_OPEN_WORKSHOP = (
    select(col(Workshop.id), col(Workshop.current_step), col(Workshop.post_problem))
    .where(*_IS_OPEN)
    .with_for_update(key_share=True)
)
_LOCK_WORKSHOP = (
    select(col(Workshop.id))
    .where(col(Workshop.id) == bindparam("id"))
    .with_for_update(key_share=True)
)
_INSERT_ELEMENT = (
    insert(_ELEMENT)
    .values(number=_next(Element.number, bindparam("of_kind")))
    .returning(_ELEMENT.c.id, _ELEMENT.c.number)
)
# A new event goes to the end of the timeline.
_INSERT_EVENT = _INSERT_ELEMENT.values(position=_next(Element.position, "event"))
# An event added to the channel's unfinished workshop, which the statement finds itself
# (none added when there is none), so that it can be sent before the workshop's row is known:
# pipelined right behind the statement that locks the row (`Capture.add_events`).
_WORKSHOP = table_of(Workshop)
_INSERT_EVENT_INTO_OPEN = (
    insert(_ELEMENT)
    .from_select(
        [
            "workshop_id",
            "kind",
            "name",
            "author",
            "added_by",
            "created_at",
            "step_number",
            "renamed",
            "resolved",
            "number",
            "position",
        ],
        select(
            _WORKSHOP.c.id,
            literal("event"),
            bindparam("name", type_=_ELEMENT.c.name.type),
            bindparam("author", type_=_ELEMENT.c.author.type),
            bindparam("added_by", type_=_ELEMENT.c.added_by.type),
            bindparam("created_at", type_=_ELEMENT.c.created_at.type),
            _WORKSHOP.c.current_step,
            false(),
            false(),
            _next(Element.number, "event", _WORKSHOP.c.id),
            _next(Element.position, "event", _WORKSHOP.c.id),
        ).where(*_IS_OPEN),
    )
    .returning(_ELEMENT.c.id, _ELEMENT.c.number)
)
_INSERT_NAME_KEY = insert(table_of(NameKey))
_INSERT_CONTRIBUTION = insert(table_of(Contribution))
_INSERT_POST = insert(table_of(ScheduledPost))
_INSERT_CHANGE = insert(table_of(Change))
_INSERT_SLACK_EVENT = insert(table_of(SlackEvent))
_TWINS = (
    select(col(Element.kind), col(Element.number), col(Element.name))
    .distinct()
    .join(NameKey, col(NameKey.element_id) == col(Element.id))
    .where(
        col(NameKey.workshop_id) == bindparam("workshop_id"),
        col(NameKey.kind) == bindparam("kind"),
        col(NameKey.name_key).in_([bindparam(f"k{n}") for n in range(KEY_SLOTS)]),
        col(Element.id) != bindparam("besides"),
        col(Element.dropped_at).is_(None),
        col(Element.merged_into).is_(None),
    )
    .order_by(col(Element.number))
    .limit(TWINS_LOOKED_AT)
)
# The same on PostgreSQL, written so that its plan cannot depend on statistics: one index
# look-up per key (an equality on each of the index's columns), then each element found
# read by its id (a LATERAL subquery that OFFSET keeps the planner from turning into a join).
# Written as `_TWINS`, PostgreSQL planned it from the statistics of a database whose tables
# were small at its last ANALYZE (a new one, filling up during a burst) as a scan of the
# workshop's whole name index, or of every element, for each capture: 1-2 ms at 2,000
# events and growing with them, against about 0.05 ms.
_KEYED = union_all(
    *(
        select(col(NameKey.element_id)).where(
            col(NameKey.workshop_id) == bindparam("workshop_id"),
            col(NameKey.kind) == bindparam("kind"),
            col(NameKey.name_key) == bindparam(f"k{n}"),
        )
        for n in range(KEY_SLOTS)
    )
).subquery("keyed")
_LIVE = (
    select(col(Element.kind), col(Element.number), col(Element.name))
    .where(
        col(Element.id) == _KEYED.c.element_id,
        col(Element.id) != bindparam("besides"),
        col(Element.dropped_at).is_(None),
        col(Element.merged_into).is_(None),
    )
    .offset(0)
    .lateral("live")
)
_TWINS_POSTGRESQL = (
    select(_LIVE.c.kind, _LIVE.c.number, _LIVE.c.name)
    .distinct()
    .select_from(_KEYED)
    .join(_LIVE, true())
    .order_by(_LIVE.c.number)
    .limit(TWINS_LOOKED_AT)
)


class Capture:
    """Capture's statements on one DBAPI connection, inside the transaction it is in."""

    def __init__(self, dbapi_connection: Any, dialect: Dialect) -> None:
        self._connection = dbapi_connection
        self._dialect = dialect
        # Workshops whose row this transaction holds (PostgreSQL; SQLite locks it all).
        self._locked: set[int] = set()
        self._row_locks = dialect.name != "sqlite"
        # In PostgreSQL's pipeline mode (`Connected.writing(pipelined=True)`) statements are
        # sent without waiting for the server; only those whose rows are read are waited for.
        self._pipelined = False

    def open_workshop(self, *, team_id: str, channel_id: str) -> OpenWorkshop | None:
        """The channel's unfinished workshop, if any, locked until the transaction ends."""
        row = self._run(_OPEN_WORKSHOP, {"team_id": team_id, "channel_id": channel_id})
        if row is None:
            return None
        self._locked.add(row[0])
        return OpenWorkshop(*row)

    def _lock_workshop(self, workshop_id: int) -> None:
        """Queue for the workshop's row, once per transaction, before reading the numbers
        taken so far (`_next`); SQLite's writers hold the whole database already."""
        if self._row_locks and workshop_id not in self._locked:
            self._run(_LOCK_WORKSHOP, {"id": workshop_id})
            self._locked.add(workshop_id)

    def add_events(
        self,
        *,
        team_id: str,
        channel_id: str,
        names: Sequence[tuple[str, Iterable[str]]],
        author: str,
        now: datetime,
    ) -> tuple[OpenWorkshop, list[tuple[int, int]]] | None:
        """Events added at the end of the channel's unfinished workshop, which stays locked
        until the transaction ends: the workshop, and each event's row id and number, in the
        order of `names` (each a name and its keys). None, and nothing added, without one.

        Pipelined, the lock and the inserts go to the server together and are waited for
        once: another capture into the workshop waits for the lock only while the server
        runs this one's statements and the few sent after them, not while each statement
        travels to the server and back. Each insert still reads the numbers taken so far
        after the lock is held, as its own statement (`_next`).
        """
        if not self._pipelined:
            workshop = self.open_workshop(team_id=team_id, channel_id=channel_id)
            if workshop is None:
                return None
            added = [
                self.add_element(
                    workshop_id=workshop.id,
                    kind="event",
                    name=name,
                    keys=keys,
                    author=author,
                    added_by=author,
                    step_number=workshop.current_step,
                    now=now,
                )
                for name, keys in names
            ]
            return workshop, added
        where = {"team_id": team_id, "channel_id": channel_id}
        locked = self._send(_OPEN_WORKSHOP, where)
        inserts = [
            self._send(
                _INSERT_EVENT_INTO_OPEN,
                {"name": name, "author": author, "added_by": author, "created_at": now, **where},
            )
            for name, _ in names
        ]
        row = locked.fetchone()  # waits for them all
        if row is None:
            return None
        workshop = OpenWorkshop(*row)
        added = [insert.fetchone() for insert in inserts]
        for (element_id, _), (_, keys) in zip(added, names, strict=True):
            self.index_name(workshop_id=workshop.id, kind="event", element_id=element_id, keys=keys)
        return workshop, added

    def add_element(
        self,
        *,
        workshop_id: int,
        kind: str,
        name: str,
        keys: Iterable[str],
        author: str,
        added_by: str,
        step_number: int,
        now: datetime,
        source_ts: str | None = None,
        on_element: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> tuple[int, int]:
        """Insert an element and index its name; returns its row id and its number."""
        self._lock_workshop(workshop_id)
        row = self._run(
            _INSERT_EVENT if kind == "event" else _INSERT_ELEMENT,
            {
                "workshop_id": workshop_id,
                "kind": kind,
                "name": name,
                "author": author,
                "added_by": added_by,
                "created_at": now,
                "step_number": step_number,
                "position": None,
                "source_ts": source_ts,
                "message_ts": None,
                "dropped_at": None,
                "merged_into": None,
                "renamed": False,
                "resolved": False,
                "on_element": on_element,
                "aggregate_id": None,
                "details": details,
                "in_workshop": workshop_id,
                "of_kind": kind,
            },
        )
        assert row is not None
        element_id, number = row
        self.index_name(workshop_id=workshop_id, kind=kind, element_id=element_id, keys=keys)
        return element_id, number

    def index_name(
        self, *, workshop_id: int, kind: str, element_id: int, keys: Iterable[str]
    ) -> None:
        """Index a name an element has (a new one, or its new name after a rename)."""
        values = [
            {"workshop_id": workshop_id, "kind": kind, "name_key": k, "element_id": element_id}
            for k in keys
        ]
        statement = prepared(_INSERT_NAME_KEY, self._dialect, tuple(values[0]))
        rows = [statement.parameters(row) for row in values]
        cursor = self._connection.cursor()
        try:
            cursor.executemany(statement.sql, rows)
        finally:
            cursor.close()

    def twins(
        self, *, workshop_id: int, kind: str, keys: Iterable[str], besides: int
    ) -> list[Twin]:
        """Live elements of `kind` (other than `besides`) indexed under one of `keys`."""
        slots = sorted(keys)[:KEY_SLOTS]
        slots += [slots[0]] * (KEY_SLOTS - len(slots))  # unused slots repeat a key
        values = {f"k{n}": key for n, key in enumerate(slots)}
        rows = self._run(
            _TWINS if self._dialect.name == "sqlite" else _TWINS_POSTGRESQL,
            {"workshop_id": workshop_id, "kind": kind, "besides": besides, **values},
            all_rows=True,
        )
        return [Twin(*row) for row in rows]

    def add_contribution(
        self, *, workshop_id: int, step_number: int, user_id: str, at: datetime
    ) -> None:
        """Who did something in which step: the basis of "who has not contributed yet"."""
        self._run(
            _INSERT_CONTRIBUTION,
            {"workshop_id": workshop_id, "step_number": step_number, "user_id": user_id, "at": at},
        )

    def schedule_post(
        self,
        *,
        workshop_id: int,
        kind: str,
        due_at: datetime,
        step_number: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Queue a post; the outbox sends it after the transaction commits, once it is due."""
        self._run(
            _INSERT_POST,
            {
                "workshop_id": workshop_id,
                "kind": kind,
                "step_number": step_number,
                "due_at": due_at,
                "payload": payload or {},
                "status": "pending",
                "claimed_at": None,
                "late": False,
                "error": None,
                "attempts": 0,
            },
        )

    def add_change(
        self,
        *,
        workshop_id: int,
        user_id: str,
        at: datetime,
        summary: str,
        entries: list[dict[str, Any]],
    ) -> None:
        """Record one person's change with the journal that `/storm undo` reverts."""
        self._run(
            _INSERT_CHANGE,
            {
                "workshop_id": workshop_id,
                "user_id": user_id,
                "at": at,
                "summary": summary,
                "entries": entries,
                "undone_at": None,
            },
        )

    def record_slack_event(
        self, *, event_id: str, team_id: str, payload: dict[str, Any], at: datetime
    ) -> bool:
        """Store an incoming event once; False when this `event_id` was seen before."""
        try:
            self._run(
                _INSERT_SLACK_EVENT,
                {
                    "event_id": event_id,
                    "team_id": team_id,
                    "payload": payload,
                    "received_at": at,
                    "processed_at": None,
                },
            )
        except self._dialect.loaded_dbapi.IntegrityError:
            return False
        return True

    def _run(
        self, statement: ClauseElement, values: dict[str, Any], *, all_rows: bool = False
    ) -> Any:
        """Run a statement; its first row (or all of them), None when it returns none.
        Pipelined, a statement that returns no rows is only sent: its errors come when the
        transaction commits."""
        cursor = self._send(statement, values)
        try:
            if all_rows:
                return cursor.fetchall()
            return cursor.fetchone() if cursor.description else None
        finally:
            cursor.close()

    def _send(self, statement: ClauseElement, values: dict[str, Any]) -> Any:
        """The cursor a statement was executed on, or, pipelined, sent on."""
        compiled = prepared(statement, self._dialect, tuple(values))
        cursor = self._connection.cursor()
        cursor.execute(compiled.sql, compiled.parameters(values))
        return cursor


def in_session(session: Session) -> Capture:
    """Capture inside an ORM unit of work: same connection, same transaction.

    The session is flushed first, so that what the ORM still holds (an element made a moment
    ago, say) is in the database before capture's statements read it.
    """
    session.flush()
    connection = session.connection()
    return Capture(connection.connection.driver_connection, connection.dialect)


class Connected(Capture):
    """Capture on a pooled connection of its own, outside any transaction until `writing`.

    Reads outside `writing` see what is committed and take no lock. That is where work that
    only reads belongs (naming help after a capture): under a burst, the web workers queue for
    the one writer's lock, so whatever runs while holding it is paid for by every worker. On
    PostgreSQL the connection is in autocommit meanwhile, so such a read is one round trip,
    with no BEGIN before it or ROLLBACK after.
    """

    def __init__(self, dbapi_connection: Any, engine: Engine) -> None:
        super().__init__(dbapi_connection, engine.dialect)
        self._sqlite = engine.dialect.name == "sqlite"
        self._writers = writer_lock(engine) if self._sqlite else None

    @contextmanager
    def writing(self, *, pipelined: bool = False) -> Iterator[Capture]:
        """A write transaction, committed when the block ends normally.

        On SQLite it queues on the writers' lock and takes SQLite's write lock up front
        (BEGIN IMMEDIATE), as every unit of work does. On PostgreSQL writers queue on the
        workshop's row (`open_workshop`, `add_element`, `add_events`); `pipelined`: in
        psycopg's pipeline mode, where the BEGIN, the statements whose rows are not read and
        the COMMIT are sent without waiting, so that after the last rows read the rest of the
        transaction is one round trip, and its errors are raised when it commits.
        """
        with self._writers if self._writers is not None else nullcontext():
            self._locked.clear()  # row locks end with the transaction before
            if self._sqlite:
                self._connection.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                    self._connection.commit()
                except BaseException:
                    self._connection.rollback()
                    raise
                return
            connection = self._connection
            try:
                with connection.pipeline() if pipelined else nullcontext():
                    self._pipelined = pipelined
                    connection.execute("BEGIN")
                    yield self
                    connection.execute("COMMIT")
            except BaseException:
                if not connection.closed and connection.info.transaction_status != _IDLE:
                    connection.execute("ROLLBACK")
                raise
            finally:
                self._pipelined = False


@contextmanager
def connected(engine: Engine) -> Iterator[Connected]:
    """A connection from the pool for capture's statements, given back when the block ends.

    It is taken before any lock, so a writer holds the writers' lock only for its statements.
    On PostgreSQL it is in autocommit until given back (`Connected`).
    """
    pooled = engine.raw_connection()
    driver: Any = pooled.driver_connection
    postgresql = engine.dialect.name != "sqlite"
    try:
        if postgresql:
            driver.autocommit = True
        yield Connected(driver, engine)
    finally:
        if postgresql and not driver.closed:
            driver.autocommit = False  # as the pool's other users expect it
        pooled.close()


@contextmanager
def transaction(engine: Engine) -> Iterator[Capture]:
    """A write transaction of capture's own on a connection of its own (`Connected.writing`)."""
    with connected(engine) as store, store.writing():
        yield store

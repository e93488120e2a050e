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

from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, func, insert, select, update
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


def _next(column: Any, kind: Any) -> ScalarSelect[Any]:
    """One past the highest `column` of a kind in the workshop, inside the INSERT. IDs are
    never reused: dropped elements count too.

    Two captures never get the same number because each runs holding a lock: on SQLite the
    database's write lock, on PostgreSQL the workshop's row (`Capture.add_element`), so that
    writers from several processes queue per workshop, and nothing is ever retried."""
    return (
        select(func.coalesce(func.max(column), 0) + 1)
        .where(col(Element.workshop_id) == bindparam("in_workshop"), col(Element.kind) == kind)
        .scalar_subquery()
    )


# The row is locked for the rest of the transaction (`storage.repository._locked`); SQLite
# writes no FOR UPDATE.
_OPEN_WORKSHOP = (
    select(col(Workshop.id), col(Workshop.current_step), col(Workshop.post_problem))
    .where(
        col(Workshop.team_id) == bindparam("team_id"),
        col(Workshop.channel_id) == bindparam("channel_id"),
        col(Workshop.finished_at).is_(None),
    )
    .with_for_update()
)
_LOCK_WORKSHOP = (
    select(col(Workshop.id)).where(col(Workshop.id) == bindparam("id")).with_for_update()
)
_INSERT_ELEMENT = (
    insert(_ELEMENT)
    .values(number=_next(Element.number, bindparam("of_kind")))
    .returning(_ELEMENT.c.id, _ELEMENT.c.number)
)
# A new event goes to the end of the timeline.
_INSERT_EVENT = _INSERT_ELEMENT.values(position=_next(Element.position, "event"))
_INSERT_NAME_KEY = insert(table_of(NameKey))
_INSERT_CONTRIBUTION = insert(table_of(Contribution))
_INSERT_POST = insert(table_of(ScheduledPost))
_INSERT_CHANGE = insert(table_of(Change))
_INSERT_SLACK_EVENT = insert(table_of(SlackEvent))
# The element's pending message update, if any (`pending_element_update`): an UPDATE that
# changes nothing but matches the post only while it is pending.
_POST = table_of(ScheduledPost)
_PENDING_UPDATE_OF = (
    update(_POST)
    .where(
        col(ScheduledPost.status) == "pending",
        col(ScheduledPost.kind) == "element_update",
        col(ScheduledPost.workshop_id) == bindparam("in_workshop"),
    )
    .values(status="pending")
)
_PENDING_UPDATE_OF_ELEMENT = _PENDING_UPDATE_OF.where(
    col(ScheduledPost.payload)["element_id"].as_integer() == bindparam("of_element")
)
_PENDING_UPDATE_OF_MESSAGE = _PENDING_UPDATE_OF.where(
    col(ScheduledPost.payload)["element_id"]
    .as_integer()
    .in_(
        select(col(Element.id)).where(
            col(Element.workshop_id) == bindparam("in_workshop"),
            col(Element.message_ts) == bindparam("on_message"),
        )
    )
)
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


class Capture:
    """Capture's statements on one DBAPI connection, inside the transaction it is in."""

    def __init__(self, dbapi_connection: Any, dialect: Dialect) -> None:
        self._connection = dbapi_connection
        self._dialect = dialect
        # Workshops whose row this transaction holds (PostgreSQL; SQLite locks it all).
        self._locked: set[int] = set()
        self._row_locks = dialect.name != "sqlite"

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
            _TWINS,
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

    def pending_element_update(
        self, *, workshop_id: int, element_id: int, message_ts: str | None
    ) -> bool:
        """Whether an update of the element's message is pending: of the element's own, or of
        any element on the same message (`message_ts`), which is one message to update."""
        if message_ts is None:
            statement = _PENDING_UPDATE_OF_ELEMENT
            values: dict[str, Any] = {"in_workshop": workshop_id, "of_element": element_id}
        else:
            statement = _PENDING_UPDATE_OF_MESSAGE
            values = {"in_workshop": workshop_id, "on_message": message_ts}
        compiled = prepared(statement, self._dialect, tuple(values))
        cursor = self._connection.cursor()
        try:
            cursor.execute(compiled.sql, compiled.parameters(values))
            return bool(cursor.rowcount)
        finally:
            cursor.close()

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
        compiled = prepared(statement, self._dialect, tuple(values))
        cursor = self._connection.cursor()
        try:
            cursor.execute(compiled.sql, compiled.parameters(values))
            if all_rows:
                return cursor.fetchall()
            return cursor.fetchone() if cursor.description else None
        finally:
            cursor.close()


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
    the one writer's lock, so whatever runs while holding it is paid for by every worker.
    """

    def __init__(self, dbapi_connection: Any, engine: Engine) -> None:
        super().__init__(dbapi_connection, engine.dialect)
        self._sqlite = engine.dialect.name == "sqlite"
        self._writers = writer_lock(engine) if self._sqlite else None

    @contextmanager
    def writing(self) -> Iterator[Capture]:
        """A write transaction, committed when the block ends normally.

        On SQLite it queues on the writers' lock and takes SQLite's write lock up front
        (BEGIN IMMEDIATE), as every unit of work does; PostgreSQL begins on the first
        statement, and writers queue on the workshop's row (`open_workshop`, `add_element`).
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


@contextmanager
def connected(engine: Engine) -> Iterator[Connected]:
    """A connection from the pool for capture's statements, given back when the block ends.

    It is taken before any lock, so a writer holds the writers' lock only for its statements.
    """
    pooled = engine.raw_connection()
    try:
        yield Connected(pooled.driver_connection, engine)
    finally:
        pooled.close()


@contextmanager
def transaction(engine: Engine) -> Iterator[Capture]:
    """A write transaction of capture's own on a connection of its own (`Connected.writing`)."""
    with connected(engine) as store, store.writing():
        yield store

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
from sqlalchemy import (
    Engine,
    String,
    bindparam,
    func,
    insert,
    select,
    text,
    true,
    union_all,
    update,
)
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
from storage.types import UTCDateTime
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


def _next(column: Any, kind: Any) -> ScalarSelect[Any]:
    """One past the highest `column` of a kind in the workshop, inside the INSERT. IDs are
    never reused: dropped elements count too.

    Two captures never get the same number because each runs holding a lock: on SQLite the
    database's write lock, on PostgreSQL the workshop's row (`Capture.add_element`,
    `Connected.capture_events`, which writes the same subqueries out in `_ADDING_EVENT`), so
    that writers from several processes queue per workshop, and nothing is ever retried."""
    return (
        select(func.coalesce(func.max(column), 0) + 1)
        .where(col(Element.workshop_id) == bindparam("in_workshop"), col(Element.kind) == kind)
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
# `/storm event` on PostgreSQL (`Connected.capture_events`): statements that find the
# channel's unfinished workshop themselves (and write nothing when there is none), so that
# they can all be sent right behind the one that locks its row, before its answer is known.
# Each reads the numbers taken so far after the lock is held, as its own statement, and a
# new event goes to the end of the timeline (`_next`). Its name's keys and its post are
# written by the same statement, which knows its row id.
_OPEN = "w.team_id = :team_id AND w.channel_id = :channel_id AND w.finished_at IS NULL"
_ADDING_EVENT = f"""
    WITH added AS (
        INSERT INTO element (workshop_id, kind, name, author, added_by, created_at,
                             step_number, renamed, resolved, number, position)
        SELECT w.id, 'event', :name, :author, :author, :at, w.current_step, false, false,
               (SELECT coalesce(max(e.number), 0) + 1 FROM element e
                WHERE e.workshop_id = w.id AND e.kind = 'event'),
               (SELECT coalesce(max(e.position), 0) + 1 FROM element e
                WHERE e.workshop_id = w.id AND e.kind = 'event')
        FROM workshop w WHERE {_OPEN}
        RETURNING id, number, workshop_id, step_number
    ), indexed AS (
        INSERT INTO name_key (workshop_id, kind, name_key, element_id)
        SELECT added.workshop_id, 'event', name_key, added.id
        FROM added, unnest(CAST(:keys AS VARCHAR[])) AS name_key
    ), posted AS (
        INSERT INTO scheduled_post (workshop_id, kind, step_number, due_at, payload, status,
                                    late, attempts)
        SELECT workshop_id, 'element', step_number, :at, json_build_object('element_id', id),
               'pending', false, 0
        FROM added
    )"""
_ADDED = "SELECT id, number FROM added"
_ADD_EVENT = text(_ADDING_EVENT + " " + _ADDED).bindparams(bindparam("at", type_=UTCDateTime()))
# A command of one event (most are) writes its change for undo in the same statement.
_ADD_EVENT_AND_CHANGE = text(
    _ADDING_EVENT
    + """, changed AS (
        INSERT INTO change (workshop_id, user_id, at, summary, entries)
        SELECT workshop_id, :author, :at, format(:summary, CAST(number AS TEXT)),
               json_build_array(json_build_object('table', 'element', 'op', 'insert', 'id', id))
        FROM added
    ) """
    + _ADDED
).bindparams(bindparam("at", type_=UTCDateTime()))
# The change for undo of a command of several events: they are the workshop's last `count`,
# and its summary names the first `shown` of them (`format`, with `%s` for their numbers).
# They are picked by a range of numbers, which the index of numbers finds without reading
# the others.
_ADD_CHANGE = text(
    f"""
    WITH opened AS (
        SELECT w.id FROM workshop w WHERE {_OPEN}
    ), added AS (
        SELECT e.id, e.number FROM element e, opened
        WHERE e.workshop_id = opened.id AND e.kind = 'event'
          AND e.number > (SELECT max(l.number) FROM element l
                          WHERE l.workshop_id = opened.id AND l.kind = 'event') - :count
    )
    INSERT INTO change (workshop_id, user_id, at, summary, entries)
    SELECT opened.id, :author, :at,
           format(:summary, VARIADIC ARRAY(
               SELECT CAST(added.number AS TEXT) AS shown FROM added
               ORDER BY added.number LIMIT :shown)),
           (SELECT json_agg(json_build_object('table', 'element', 'op', 'insert', 'id', id)
                            ORDER BY number)
            FROM added)
    FROM opened
    """
).bindparams(bindparam("at", type_=UTCDateTime()))
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


def _twins_postgresql(workshop: Any) -> Any:
    """`_TWINS` for PostgreSQL, of the workshop `workshop` names (an id, or a subquery),
    written so that its plan cannot depend on statistics: one index look-up per key (an
    equality on each of the index's columns), then each element found read by its id (a
    LATERAL subquery that OFFSET keeps the planner from turning into a join).

    Written as `_TWINS`, PostgreSQL planned it from the statistics of a database whose tables
    were small at its last ANALYZE (a new one, filling up during a burst) as a scan of the
    workshop's whole name index, or of every element, for each capture: 1-2 ms at 2,000
    events and growing with them, against about 0.05 ms.
    """
    keyed = union_all(
        *(
            select(col(NameKey.element_id)).where(
                col(NameKey.workshop_id) == workshop,
                col(NameKey.kind) == bindparam("kind"),
                col(NameKey.name_key) == bindparam(f"k{n}"),
            )
            for n in range(KEY_SLOTS)
        )
    ).subquery("keyed")
    live = (
        select(col(Element.kind), col(Element.number), col(Element.name))
        .where(
            col(Element.id) == keyed.c.element_id,
            col(Element.id) != bindparam("besides"),
            col(Element.dropped_at).is_(None),
            col(Element.merged_into).is_(None),
        )
        .offset(0)
        .lateral("live")
    )
    return (
        select(live.c.kind, live.c.number, live.c.name)
        .distinct()
        .select_from(keyed)
        .join(live, true())
        .order_by(live.c.number)
        .limit(TWINS_LOOKED_AT)
    )


_TWINS_POSTGRESQL = _twins_postgresql(bindparam("workshop_id"))
# The same for the channel's unfinished workshop: sent in `/storm event`'s pipeline before
# its row is locked, so that looking for twins costs no round trip of its own and holds up
# no other capture.
_TWINS_IN_CHANNEL = _twins_postgresql(select(col(Workshop.id)).where(*_IS_OPEN).scalar_subquery())


def _first_twins_locking() -> Any:
    """`/storm event`'s first statement on PostgreSQL: the first name's twins
    (`_TWINS_IN_CHANNEL`), read before the lock is waited for, each beside the channel's
    unfinished workshop, whose row it locks (`_OPEN_WORKSHOP`) and to which it adds the
    person's contribution (whose foreign key takes a share of the row that the lock leaves
    alone). One row with no twin when there is none; no row when there is no workshop.

    The lock has to be taken by a statement before the one that numbers the events, which
    must see what the captures it waited for committed: a statement reads as of its start."""
    contributed = (
        insert(table_of(Contribution))
        .from_select(
            ["workshop_id", "step_number", "user_id", "at"],
            select(
                col(Workshop.id),
                col(Workshop.current_step),
                bindparam("author", type_=String()),
                bindparam("at", type_=UTCDateTime()),
            ).where(*_IS_OPEN),
        )
        .cte("contributed")
    )
    locked = _OPEN_WORKSHOP.cte("locked")
    twins = _TWINS_IN_CHANNEL.subquery("twins")
    return (
        select(
            locked.c.id,
            locked.c.current_step,
            locked.c.post_problem,
            twins.c.kind,
            twins.c.number,
            twins.c.name,
        )
        .select_from(locked)
        .outerjoin(twins, true())
        .order_by(twins.c.number)
        .add_cte(contributed)
    )


_FIRST_TWINS_LOCKING = _first_twins_locking()


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
        values = _key_slots(keys)
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
        """Run a statement; its first row (or all of them), None when it returns none."""
        cursor = self._send(statement, values)
        try:
            if all_rows:
                return cursor.fetchall()
            return cursor.fetchone() if cursor.description else None
        finally:
            cursor.close()

    def _send(self, statement: ClauseElement, values: dict[str, Any]) -> Any:
        """The cursor a statement was executed on (in pipeline mode: sent on)."""
        compiled = prepared(statement, self._dialect, tuple(values))
        cursor = self._connection.cursor()
        cursor.execute(compiled.sql, compiled.parameters(values))
        return cursor


def _numbers_named(summary: str) -> int:
    """How many events' numbers a change's `summary` names (its `%s`; `%%` is a percent)."""
    return summary.replace("%%", "").count("%s")


def _key_slots(keys: Iterable[str]) -> dict[str, str]:
    """The twins look-up's fixed key slots filled with `keys` (unused ones repeat a key)."""
    slots = sorted(keys)[:KEY_SLOTS]
    slots += [slots[0]] * (KEY_SLOTS - len(slots))
    return {f"k{n}": key for n, key in enumerate(slots)}


def in_session(session: Session) -> Capture:
    """Capture inside an ORM unit of work: same connection, same transaction.

    The session is flushed first, so that what the ORM still holds (an element made a moment
    ago, say) is in the database before capture's statements read it.
    """
    session.flush()
    connection = session.connection()
    return Capture(connection.connection.driver_connection, connection.dialect)


@dataclass(frozen=True)
class Captured:
    """Events added by one `/storm event`."""

    workshop: OpenWorkshop
    added: list[tuple[int, int]]  # each event's row id and number, in the order typed
    # On PostgreSQL, each event's possible twins among the elements there before it, looked
    # up in the same pipeline; None where they are to be looked up afterwards (`twins`).
    twins: list[list[Twin]] | None = None


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
    def writing(self) -> Iterator[Capture]:
        """A write transaction, committed when the block ends normally.

        On SQLite it queues on the writers' lock and takes SQLite's write lock up front
        (BEGIN IMMEDIATE), as every unit of work does; on PostgreSQL writers queue on the
        workshop's row (`open_workshop`, `add_element`).
        """
        with self._writers if self._writers is not None else nullcontext():
            self._locked.clear()  # row locks end with the transaction before
            self._connection.execute("BEGIN IMMEDIATE" if self._sqlite else "BEGIN")
            try:
                yield self
                if self._sqlite:
                    self._connection.commit()
                else:
                    self._connection.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    def capture_events(
        self,
        *,
        team_id: str,
        channel_id: str,
        names: Sequence[tuple[str, Iterable[str]]],
        author: str,
        now: datetime,
        summary: str,
        twin_keys: Sequence[Iterable[str]],
    ) -> Captured | None:
        """`/storm event`, committed: events added at the end of the channel's unfinished
        workshop (`names`: each a name and its keys), each with its post in the thread, the
        author's contribution, and the change for undo, whose `summary` has `%s` for each of
        the numbers it names (the first events'), `%%` for a percent sign. None, and
        nothing written, when the channel has no unfinished workshop. On PostgreSQL, the
        twins of each name (under its `twin_keys`, one set per name) come with them
        (`Captured.twins`).

        On PostgreSQL the whole transaction is sent at once (psycopg's pipeline mode) and
        waited for once: another capture into the workshop waits for its row only while
        the server runs these few statements, not while each travels to the server and back
        and this process, on a busy machine, waits for a turn on the CPU between them. They
        are as few as can be, as each has a cost of its own on the server beside its work:
        for one event, the twins with the lock and the contribution, then the event with
        its keys, its post and the change for undo.
        """
        if self._sqlite:
            return self._capture_one_by_one(
                team_id=team_id,
                channel_id=channel_id,
                names=names,
                author=author,
                now=now,
                summary=summary,
            )
        connection = self._connection
        where = {"team_id": team_id, "channel_id": channel_id}
        done = {"author": author, "at": now, **where}
        try:
            with connection.pipeline():
                connection.execute("BEGIN")
                # The twins are read before the row is locked, and so keep no other
                # capture waiting; the first name's look-up locks it.
                twins = [
                    self._send(
                        _TWINS_IN_CHANNEL if n else _FIRST_TWINS_LOCKING,
                        {**(where if n else done), "kind": "event", "besides": 0}
                        | _key_slots(keys),
                    )
                    for n, keys in enumerate(twin_keys)
                ]
                if len(names) == 1:
                    [(name, keys)] = names
                    inserts = [
                        self._send(
                            _ADD_EVENT_AND_CHANGE,
                            {"name": name, "keys": list(keys), "summary": summary, **done},
                        )
                    ]
                else:
                    inserts = [
                        self._send(_ADD_EVENT, {"name": name, "keys": list(keys), **done})
                        for name, keys in names
                    ]
                    shown = _numbers_named(summary)
                    changed = {"summary": summary, "count": len(names), "shown": shown}
                    self._send(_ADD_CHANGE, {**changed, **done})
                connection.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        first, *others = [cursor.fetchall() for cursor in twins]
        if not first:
            return None
        workshop = OpenWorkshop(*first[0][:3])
        first = [row[3:] for row in first if row[3] is not None]
        return Captured(
            workshop,
            [tuple(insert.fetchone()) for insert in inserts],
            [[Twin(*found) for found in rows] for rows in [first, *others]],
        )

    def _capture_one_by_one(
        self,
        *,
        team_id: str,
        channel_id: str,
        names: Sequence[tuple[str, Iterable[str]]],
        author: str,
        now: datetime,
        summary: str,
    ) -> Captured | None:
        """`capture_events` a statement at a time, each waited for: on SQLite, in process,
        that costs nothing."""
        with self.writing() as store:
            workshop = store.open_workshop(team_id=team_id, channel_id=channel_id)
            if workshop is None:
                return None
            added = []
            for name, keys in names:
                element_id, number = store.add_element(
                    workshop_id=workshop.id,
                    kind="event",
                    name=name,
                    keys=keys,
                    author=author,
                    added_by=author,
                    step_number=workshop.current_step,
                    now=now,
                )
                store.schedule_post(
                    workshop_id=workshop.id,
                    kind="element",
                    due_at=now,
                    step_number=workshop.current_step,
                    payload={"element_id": element_id},
                )
                added.append((element_id, number))
            store.add_contribution(
                workshop_id=workshop.id,
                step_number=workshop.current_step,
                user_id=author,
                at=now,
            )
            shown = _numbers_named(summary)
            store.add_change(
                workshop_id=workshop.id,
                user_id=author,
                at=now,
                summary=summary % tuple(number for _, number in added[:shown]),
                entries=[{"table": "element", "op": "insert", "id": i} for i, _ in added],
            )
        return Captured(workshop, added)

    def _rollback(self) -> None:
        """End a transaction that failed (on PostgreSQL, if the server had begun one)."""
        connection = self._connection
        if self._sqlite:
            connection.rollback()
        elif not connection.closed and connection.info.transaction_status != _IDLE:
            connection.execute("ROLLBACK")


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

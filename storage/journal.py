"""A journal of row changes, so that `/storm undo` can revert a person's last change exactly.

While a session is journaling, every insert, update and delete of the model's tables is
recorded with what it takes to revert it (the row's id, the columns' values before). The
journal rides on SQLAlchemy's flush events, so no action has to describe its own inverse.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlmodel import Session, SQLModel

from storage.tables import Element, ElementField, Link, Vote

JOURNALED: dict[str, type[SQLModel]] = {
    "element": Element,
    "link": Link,
    "element_field": ElementField,
    "vote": Vote,
}
_NAMES = {table: name for name, table in JOURNALED.items()}
_ENTRIES, _NEW = "storm_journal", "storm_journal_new"


def start(session: Session) -> None:
    """Journal every change this session makes to the model from now on."""
    session.info[_ENTRIES] = []
    session.info[_NEW] = []


def record_insert(session: Session, table: str, row_id: int) -> None:
    """Journal a row inserted without the ORM (capture's Core INSERT), if journaling."""
    if _ENTRIES in session.info:
        session.info[_ENTRIES].append({"table": table, "op": "insert", "id": row_id})


def entries(session: Session) -> list[dict[str, Any]]:
    """What the session changed, in order; flushes first so nothing is missed."""
    session.flush()
    return list(session.info.get(_ENTRIES, []))


def rows(recorded: list[dict[str, Any]]) -> set[tuple[str, int]]:
    """The rows (table, id) that recorded changes wrote."""
    return {(entry["table"], entry["id"]) for entry in recorded}


def values(session: Session, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """What one recorded change's row held: its values now (if it still exists) and before
    the change (for an update or a delete), so that a reader sees every element the row
    referred to. Columns no longer known are left out."""
    row = session.get(JOURNALED[entry["table"]], entry["id"])
    now = (
        {}
        if row is None
        else {c.key: getattr(row, c.key) for c in inspect(row).mapper.column_attrs}
    )
    found = [now] if now else []
    for recorded in (entry.get("before"), entry.get("row")):
        if recorded:
            found.append({**now, **{key: _decode(value) for key, value in recorded.items()}})
    return found


# What an element's message shows of the element row itself (its votes and fields are rows of
# their own): a change to any other column (its place on the timeline, its links) leaves the
# message as it is.
_SHOWN = frozenset({"name", "dropped_at", "merged_into", "resolved", "answer"})


def elements_shown_changed(session: Session, recorded: list[dict[str, Any]]) -> set[int]:
    """The elements whose message these changes alter: renamed, dropped, merged or resolved,
    or whose votes or fields changed. Read before the changes are reverted (a vote the change
    added is looked up to find its element). Elements the changes made are not included:
    their messages are posted as they are."""
    changed: set[int] = set()
    for entry in recorded:
        if entry["table"] == "element":
            if entry["op"] == "update" and _SHOWN & set(entry["before"]):
                changed.add(entry["id"])
        elif entry["table"] in ("vote", "element_field"):
            row = session.get(JOURNALED[entry["table"]], entry["id"])
            if row is not None:
                changed.add(row.element_id)  # type: ignore[attr-defined]
            before = entry.get("row") or entry.get("before") or {}
            if "element_id" in before:
                changed.add(before["element_id"])
    return changed


def revert(session: Session, recorded: list[dict[str, Any]], *, now: datetime) -> list[Element]:
    """Undo recorded changes, newest first. Elements made by the change are dropped (their IDs
    are never reused); returns those, so their messages can be withdrawn."""
    dropped: list[Element] = []
    for entry in reversed(recorded):
        table = JOURNALED[entry["table"]]
        row = session.get(table, entry["id"])
        if entry["op"] == "insert":
            if isinstance(row, Element):
                row.dropped_at = now
                # Taken back, not dropped: summaries list only what `/storm drop` dropped.
                row.details = {**(row.details or {}), "withdrawn": True}
                session.add(row)
                dropped.append(row)
            elif row is not None:
                session.delete(row)
        elif entry["op"] == "update" and row is not None:
            for column, value in entry["before"].items():
                setattr(row, column, _decode(value))
            session.add(row)
        elif entry["op"] == "delete" and row is None:
            session.add(table(**{k: _decode(v) for k, v in entry["row"].items()}))
        session.flush()
    return dropped


def _encode(value: Any) -> Any:
    return {"$datetime": value.isoformat()} if isinstance(value, datetime) else value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$datetime"}:
        return datetime.fromisoformat(value["$datetime"])
    return value


def _columns(row: SQLModel) -> dict[str, Any]:
    mapper = inspect(type(row))
    return {column.key: _encode(getattr(row, column.key)) for column in mapper.column_attrs}


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if _ENTRIES not in session.info:
        return
    journal = session.info[_ENTRIES]
    for row in session.dirty:
        name = _NAMES.get(type(row))
        if name is None or not session.is_modified(row):
            continue
        state = inspect(row)
        before = {}
        for attribute in state.mapper.column_attrs:
            history = state.attrs[attribute.key].history
            if history.deleted:
                before[attribute.key] = _encode(history.deleted[0])
        if before:
            journal.append({"table": name, "op": "update", "id": row.id, "before": before})
    for row in session.deleted:
        name = _NAMES.get(type(row))
        if name is not None:
            journal.append({"table": name, "op": "delete", "id": row.id, "row": _columns(row)})
    session.info[_NEW].extend(row for row in session.new if type(row) in _NAMES)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    if _ENTRIES not in session.info:
        return
    for row in session.info[_NEW]:
        session.info[_ENTRIES].append({"table": _NAMES[type(row)], "op": "insert", "id": row.id})
    session.info[_NEW] = []

"""Statements for the hottest path: compiled once by SQLAlchemy, run on the driver's cursor.

An acknowledgement of `/storm event` has about a millisecond of CPU to spend, and SQLAlchemy's
`Connection.execute` costs about 100 µs per statement on this kind of machine (measured: 97 µs
for an INSERT that the sqlite3 cursor runs in 5 µs). So capture's statements are still written
and compiled with SQLAlchemy Core, for the engine's own dialect and with the columns' own type
processing (time stamps, JSON), but executed on the DBAPI connection, inside whatever
transaction that connection is in.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_compiled: dict[tuple[int, str, tuple[str, ...]], Prepared] = {}


class Prepared:
    """One statement compiled for one dialect, with its parameters' type processors."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=list(keys)))
        self.sql = compiled.string
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        # The positional parameters in the driver's order, picked in one C call.
        self._in_order: Callable[[dict[str, Any]], Any] | None = None
        if order is not None and len(order) > 1:
            self._in_order = operator.itemgetter(*order)
        elif order is not None:
            self._in_order = lambda given: tuple(given[name] for name in order)
        self._defaults = {name: bind.effective_value for name, bind in compiled.binds.items()}
        self._processors: list[tuple[str, Callable[[Any], Any]]] = []
        for name, bind in compiled.binds.items():
            # The dialect's own processing (psycopg's JSON wrapper, say), as SQLAlchemy does.
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._processors.append((name, processor))

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters: every bind filled from `values` (or the statement's own
        literal), processed by its column type, in the driver's style."""
        given = {**self._defaults, **values}
        for name, processor in self._processors:
            given[name] = processor(given[name])
        if self._in_order is None:
            return given
        return self._in_order(given)


def prepared(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> Prepared:
    """`statement` compiled for `dialect`, once per process (statements are module constants).

    `keys` are the names of the values it will be given: an INSERT sets those columns.
    """
    key = (id(statement), dialect.name, keys)
    found = _compiled.get(key)
    if found is None:
        found = _compiled[key] = Prepared(statement, dialect, keys)
    return found

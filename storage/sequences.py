"""PostgreSQL's id sequences, moved past rows written with ids of their own.

Rows inserted with explicit ids (a database copied from SQLite, a workshop seeded in bulk)
leave a `SERIAL` column's sequence where it was, and the next ordinary insert would take an
id that is already used. SQLite needs nothing: it takes one past the largest id there is.
"""

from __future__ import annotations

from sqlalchemy import Connection, MetaData, text


def advance_sequences(connection: Connection, metadata: MetaData) -> None:
    """Set each table's id sequence so that the next id is one past the largest in the table
    (1 for an empty table)."""
    if connection.dialect.name != "postgresql":
        return
    for table in metadata.sorted_tables:
        if "id" not in table.c:
            continue
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
            ),
            {"table": table.name},
        )

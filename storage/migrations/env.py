"""Alembic's environment, run by `storage.migrate` on the connection it passes in.

There is no alembic.ini and no offline (`--sql`) mode: the connection comes from Storm's own
engine, already inside the transaction (and under the lock) that `storage.migrate` holds, so
that a revision applies completely or not at all.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from storage import tables  # noqa: F401  (registers the tables on SQLModel.metadata)

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=SQLModel.metadata,
    # SQLite alters a table by copying it: autogenerate writes revisions in batch mode, which
    # does that on SQLite and plain ALTERs elsewhere.
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()

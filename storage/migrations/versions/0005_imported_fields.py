"""What an imported Event Modeling file says of a field and Storm kept (SPEC §7.1): whether it
identifies its element (`element_field.id_attribute`, false before), its example value
(`example`, JSON text), a source field named without its element (`mapping`) and the fields
of a `Custom` field (`subfields`, JSON text, as Event Modeling writes them).

Everything else an import keeps (an element's Event Modeling id, description and slice, a
scenario's comments and step data, votes counted elsewhere) lives in the JSON `details` the
element and scenario rows have had since release 1.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "element_field",
        sa.Column("id_attribute", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("element_field", sa.Column("example", sa.String(), nullable=True))
    op.add_column("element_field", sa.Column("mapping", sa.String(), nullable=True))
    op.add_column("element_field", sa.Column("subfields", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("element_field") as batch:
        for name in ("id_attribute", "example", "mapping", "subfields"):
            batch.drop_column(name)

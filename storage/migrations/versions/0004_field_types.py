"""Fields have a type and a code identifier (SPEC §3): `element_field.type` (one of the
field types, `String` for every field written before), `is_list` (`Type[]`, false before) and
`identifier` (an imported identifier; empty: derived from the name).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-19
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "element_field", sa.Column("type", sa.String(), nullable=False, server_default="String")
    )
    op.add_column(
        "element_field",
        sa.Column("is_list", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("element_field", sa.Column("identifier", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("element_field") as batch:
        for name in ("type", "is_list", "identifier"):
            batch.drop_column(name)

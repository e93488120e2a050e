"""A resolved hotspot keeps its answer (SPEC §3): `element.answer`, empty for every element
written before.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("element", sa.Column("answer", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("element") as batch:
        batch.drop_column("answer")

"""Claims with a lease, so that several instances share one database (SPEC §8): the instance
sending a post, applying a Slack event or writing a channel canvas (`claimed_by`), and until
when (`claimed_until`); another takes the work over once the lease has run out. A post also
counts its sends (`attempts`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("scheduled_post", "slack_event"):
        op.add_column(table, sa.Column("claimed_by", sa.String(), nullable=True))
        op.add_column(table, sa.Column("claimed_until", UTCDateTime(), nullable=True))
    op.add_column(
        "scheduled_post",
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("workshop", sa.Column("canvas_claimed_by", sa.String(), nullable=True))
    op.add_column("workshop", sa.Column("canvas_claimed_until", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workshop") as batch:
        batch.drop_column("canvas_claimed_by")
        batch.drop_column("canvas_claimed_until")
    with op.batch_alter_table("scheduled_post") as batch:
        batch.drop_column("attempts")
    for table in ("scheduled_post", "slack_event"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("claimed_by")
            batch.drop_column("claimed_until")

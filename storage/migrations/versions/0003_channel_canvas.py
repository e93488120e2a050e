"""The live channel canvas (SPEC §4.5): what a workshop needs to keep one current.

`workshop.canvas_by` (who turned it on; empty: not following), `canvas_id` (the canvas Storm
writes), `canvas_problem` (Slack's refusal, told once), `canvas_hash` and `canvas_sent_at`
(the last Markdown sent, and when). Every workshop written before has no canvas.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TEXT_COLUMNS = ("canvas_by", "canvas_id", "canvas_problem", "canvas_hash")


def upgrade() -> None:
    for name in _TEXT_COLUMNS:
        op.add_column("workshop", sa.Column(name, sa.String(), nullable=True))
    op.add_column(
        "workshop", sa.Column("canvas_sent_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("workshop") as batch:
        for name in (*_TEXT_COLUMNS, "canvas_sent_at"):
            batch.drop_column(name)

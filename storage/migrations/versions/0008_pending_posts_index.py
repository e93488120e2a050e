"""An index of each workshop's posts by status and kind: every change to an element looks
for its message's pending update, and a busy outbox holds thousands of pending posts of other
kinds, which the index of due posts (status, due time) made it read one by one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_scheduled_post_workshop", "scheduled_post", ["workshop_id", "status", "kind"]
    )


def downgrade() -> None:
    op.drop_index("ix_scheduled_post_workshop", table_name="scheduled_post")

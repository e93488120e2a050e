"""Release 1's schema, as `SQLModel.metadata.create_all` made it before there were migrations.

Written out in full, with SQLAlchemy's own types rather than the models', so that changing a
model later never changes what this revision makes. A database written by release 1 has
exactly these tables, and is stamped at this revision rather than migrated (`storage.migrate`).

Revision ID: 0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TABLES = (  # in the order they are made; dropped in reverse
    "workshop",
    "slack_event",
    "slack_user",
    "channel_member",
    "facilitator",
    "steprun",
    "element",
    "contribution",
    "change",
    "scheduled_post",
    "name_key",
    "link",
    "element_field",
    "vote",
)


def _utc() -> sa.DateTime:
    """`storage.types.UTCDateTime` underneath: DATETIME on SQLite, with a time zone elsewhere."""
    return sa.DateTime(timezone=True)


def _workshop_id() -> sa.Column[int]:
    return sa.Column("workshop_id", sa.Integer(), sa.ForeignKey("workshop.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "workshop",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.Column("current_step", sa.Integer(), nullable=False),
        sa.Column("auto_advance", sa.Boolean(), nullable=False),
        sa.Column("digest_time", sa.String(), nullable=True),
        sa.Column("last_digest_score", sa.Float(), nullable=True),
        sa.Column("post_problem", sa.String(), nullable=True),
    )
    op.create_index("ix_workshop_channel", "workshop", ["team_id", "channel_id", "finished_at"])

    op.create_table(
        "slack_event",
        sa.Column("event_id", sa.String(), primary_key=True),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", _utc(), nullable=False),
        sa.Column("processed_at", _utc(), nullable=True),
    )
    op.create_index("ix_slack_event_unprocessed", "slack_event", ["processed_at", "received_at"])

    op.create_table(
        "slack_user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("tz", sa.String(), nullable=True),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("team_id", "user_id"),
    )

    op.create_table(
        "channel_member",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.UniqueConstraint("team_id", "channel_id", "user_id"),
    )

    op.create_table(
        "facilitator",
        sa.Column("id", sa.Integer(), primary_key=True),
        _workshop_id(),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.UniqueConstraint("workshop_id", "user_id"),
    )
    op.create_index("ix_facilitator_workshop_id", "facilitator", ["workshop_id"])

    op.create_table(
        "steprun",
        sa.Column("id", sa.Integer(), primary_key=True),
        _workshop_id(),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("timebox_seconds", sa.Integer(), nullable=False),
        sa.Column("opened_at", _utc(), nullable=True),
        sa.Column("deadline_at", _utc(), nullable=True),
        sa.Column("closed_at", _utc(), nullable=True),
        sa.Column("prompt_ts", sa.String(), nullable=True),
        sa.UniqueConstraint("workshop_id", "number"),
    )
    op.create_index("ix_steprun_workshop_id", "steprun", ["workshop_id"])

    op.create_table(
        "element",
        sa.Column("id", sa.Integer(), primary_key=True),
        _workshop_id(),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("added_by", sa.String(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("step_number", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("source_ts", sa.String(), nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("dropped_at", _utc(), nullable=True),
        sa.Column("merged_into", sa.Integer(), sa.ForeignKey("element.id"), nullable=True),
        sa.Column("renamed", sa.Boolean(), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("on_element", sa.Integer(), sa.ForeignKey("element.id"), nullable=True),
        sa.Column("aggregate_id", sa.Integer(), sa.ForeignKey("element.id"), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.UniqueConstraint("workshop_id", "kind", "number"),
    )
    for name, column in (("ix_element_message", "message_ts"), ("ix_element_source", "source_ts")):
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            name,
            "element",
            ["workshop_id", column],
            sqlite_where=where,
            postgresql_where=where,
        )
    op.create_index("ix_element_position", "element", ["workshop_id", "kind", "position"])

    op.create_table(
        "contribution",
        sa.Column("id", sa.Integer(), primary_key=True),
        _workshop_id(),
        sa.Column("step_number", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
    )
    op.create_index("ix_contribution_step", "contribution", ["workshop_id", "step_number"])

    op.create_table(
        "change",
        sa.Column("id", sa.Integer(), primary_key=True),
        _workshop_id(),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("undone_at", _utc(), nullable=True),
    )
    op.create_index("ix_change_author", "change", ["workshop_id", "user_id"])

    op.create_table(
        "scheduled_post",
        sa.Column("id", sa.Integer(), primary_key=True),
        _workshop_id(),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("step_number", sa.Integer(), nullable=True),
        sa.Column("due_at", _utc(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("claimed_at", _utc(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
    )
    op.create_index("ix_scheduled_post_due", "scheduled_post", ["status", "due_at"])

    op.create_table(
        "name_key",
        sa.Column("id", sa.Integer(), primary_key=True),
        _workshop_id(),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name_key", sa.String(), nullable=False),
        sa.Column("element_id", sa.Integer(), sa.ForeignKey("element.id"), nullable=False),
    )
    op.create_index("ix_name_key", "name_key", ["workshop_id", "kind", "name_key"])

    op.create_table(
        "link",
        sa.Column("id", sa.Integer(), primary_key=True),
        _workshop_id(),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("element.id"), nullable=False),
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("element.id"), nullable=False),
        sa.UniqueConstraint("source_id", "kind", "target_id"),
    )
    op.create_index("ix_link_workshop_id", "link", ["workshop_id"])

    op.create_table(
        "element_field",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("element_id", sa.Integer(), sa.ForeignKey("element.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("generated", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(), nullable=True),
    )
    op.create_index("ix_element_field_element_id", "element_field", ["element_id"])

    op.create_table(
        "vote",
        sa.Column("id", sa.Integer(), primary_key=True),
        _workshop_id(),
        sa.Column("element_id", sa.Integer(), sa.ForeignKey("element.id"), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.UniqueConstraint("element_id", "user_id"),
    )
    op.create_index("ix_vote_element_id", "vote", ["element_id"])
    op.create_index("ix_vote_workshop_id", "vote", ["workshop_id"])


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)  # its indexes go with it

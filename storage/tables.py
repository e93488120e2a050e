"""SQLModel tables: the whole workshop model, the outbox of posts, and the inbox of events.

Every row hangs off a workshop, and every workshop is keyed by Slack workspace and channel,
so that every query can be scoped by both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Table, UniqueConstraint, false, inspect, text
from sqlmodel import Field, SQLModel

from storage import slack_installations  # noqa: F401  (OAuth's tables, on the same metadata)
from storage.types import UTCDateTime


def _utc(nullable: bool = True) -> Any:
    """A timezone-aware timestamp column (SQLite keeps it as text, PostgreSQL natively)."""
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class Workshop(SQLModel, table=True):
    """One workshop in one channel; a channel has at most one unfinished workshop."""

    __table_args__ = (Index("ix_workshop_channel", "team_id", "channel_id", "finished_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    channel_id: str
    title: str
    created_by: str
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = _utc()
    current_step: int = 1
    auto_advance: bool = False
    digest_time: str | None = "09:00"
    last_digest_score: float | None = None
    post_problem: str | None = None  # Slack's error when the channel last refused a post
    # The live channel canvas (SPEC §4.5, revision 0003): who turned it on (None: not
    # following), the canvas Storm writes, Slack's refusal once told (nothing is tried again
    # until `/storm canvas on`), and the last Markdown sent (its hash, and when, in real time:
    # Slack's rate counts real seconds) so that an unchanged model sends nothing.
    canvas_by: str | None = None
    canvas_id: str | None = None
    canvas_problem: str | None = None
    canvas_hash: str | None = None
    canvas_sent_at: datetime | None = _utc()
    # Which instance is writing the canvas, until when (revision 0006): one at a time, so
    # that two instances never make two canvases for one channel.
    canvas_claimed_by: str | None = None
    canvas_claimed_until: datetime | None = _utc()


class Facilitator(SQLModel, table=True):
    """A facilitator of a workshop; the earliest added is the first facilitator."""

    __table_args__ = (UniqueConstraint("workshop_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    user_id: str


class StepRun(SQLModel, table=True):
    """A step's timebox and, once opened, when it opened, its deadline and its prompt."""

    __table_args__ = (UniqueConstraint("workshop_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    number: int
    timebox_seconds: int
    opened_at: datetime | None = _utc()
    deadline_at: datetime | None = _utc()
    closed_at: datetime | None = _utc()
    prompt_ts: str | None = None


class Element(SQLModel, table=True):
    """Any element of the model (SPEC §3); `kind` and `number` make its ID, never reused."""

    __table_args__ = (
        # Also the index of every query by workshop. Indexes cost each capture a page or two
        # to write, so only columns that are set are indexed below (most elements have no
        # source message).
        UniqueConstraint("workshop_id", "kind", "number"),
        Index(
            "ix_element_source",
            "workshop_id",
            "source_ts",
            sqlite_where=text("source_ts IS NOT NULL"),
            postgresql_where=text("source_ts IS NOT NULL"),
        ),
        Index(
            "ix_element_message",
            "workshop_id",
            "message_ts",
            sqlite_where=text("message_ts IS NOT NULL"),
            postgresql_where=text("message_ts IS NOT NULL"),
        ),
        # The end of the timeline, found by every new event.
        Index("ix_element_position", "workshop_id", "kind", "position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id")
    kind: str
    number: int
    name: str
    author: str
    added_by: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    step_number: int
    position: int | None = None
    source_ts: str | None = None
    message_ts: str | None = None
    dropped_at: datetime | None = _utc()
    merged_into: int | None = Field(default=None, foreign_key="element.id")
    renamed: bool = False
    resolved: bool = False
    answer: str | None = None  # a resolved hotspot's answer (SPEC §3); revision 0002
    on_element: int | None = Field(default=None, foreign_key="element.id")
    aggregate_id: int | None = Field(default=None, foreign_key="element.id")
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class NameKey(SQLModel, table=True):
    """An element's name under one of its keys (`bot.core.naming.name_keys`).

    Capture looks a new name's twin keys up here to find its possible near-duplicates with one
    indexed query, whatever the workshop's size. Rows are only added (a rename adds the new
    name's): candidates are always confirmed against the elements' current names.
    """

    __tablename__ = "name_key"
    __table_args__ = (Index("ix_name_key", "workshop_id", "kind", "name_key"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id")
    kind: str
    name_key: str
    element_id: int = Field(foreign_key="element.id")


class Link(SQLModel, table=True):
    """A directed relation between two elements: causes, feeds, triggers, issues…"""

    __table_args__ = (UniqueConstraint("source_id", "kind", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    kind: str
    source_id: int = Field(foreign_key="element.id")
    target_id: int = Field(foreign_key="element.id")


class ElementField(SQLModel, table=True):
    """A field of a command, event, view, policy or screen, generated or with an explicit
    origin, with its type (`Decimal`; `is_list` for `Decimal[]`) and, when one was given
    (imported), its code identifier: None derives it from the name (revision 0004)."""

    __tablename__ = "element_field"

    id: int | None = Field(default=None, primary_key=True)
    element_id: int = Field(foreign_key="element.id", index=True)
    position: int
    name: str
    generated: bool = False
    origin: str | None = None
    # Fields written before types existed are Strings, the default (SPEC §3).
    type: str = Field(default="String", sa_column_kwargs={"server_default": "String"})
    is_list: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    identifier: str | None = None
    # Event Modeling's words for a field, kept from an imported file (revision 0005): whether
    # it identifies its element (`idAttribute`), its example value (JSON text), a source
    # field the file named without saying whose (`mapping`), and a `Custom` field's own fields
    # (`subfields`, JSON text as Event Modeling writes them), all written back as they were.
    id_attribute: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    example: str | None = None
    mapping: str | None = None
    subfields: str | None = None


class Vote(SQLModel, table=True):
    """One person's vote for one element."""

    __table_args__ = (UniqueConstraint("element_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    element_id: int = Field(foreign_key="element.id", index=True)
    user_id: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Contribution(SQLModel, table=True):
    """Who did something in which step: the basis of “who has not contributed yet”."""

    __table_args__ = (Index("ix_contribution_step", "workshop_id", "step_number"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id")
    step_number: int
    user_id: str
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Change(SQLModel, table=True):
    """One person's change to the model, with the journal that `/storm undo` reverts."""

    __table_args__ = (Index("ix_change_author", "workshop_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id")
    user_id: str
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    summary: str
    entries: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    undone_at: datetime | None = _utc()


class SlackEvent(SQLModel, table=True):
    """The inbox of Slack events: its key makes a retried delivery change nothing."""

    __tablename__ = "slack_event"
    # What is left to apply, oldest first: read on every poll of the background worker.
    __table_args__ = (Index("ix_slack_event_unprocessed", "processed_at", "received_at"),)

    event_id: str = Field(primary_key=True)
    team_id: str
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    processed_at: datetime | None = _utc()
    # The instance applying it, until when (revision 0006): applied by one at a time; a claim
    # whose instance died is taken over once its lease has run out.
    claimed_by: str | None = None
    claimed_until: datetime | None = _utc()


class ScheduledPost(SQLModel, table=True):
    """The outbox: every post to Slack, due now or later, claimed once before it is sent."""

    __tablename__ = "scheduled_post"
    __table_args__ = (
        Index("ix_scheduled_post_due", "status", "due_at"),
        # A workshop's pending posts of a kind (revision 0008): every change to an element
        # looks for its message's pending update, and a busy outbox holds thousands of
        # pending posts of other kinds.
        Index("ix_scheduled_post_workshop", "workshop_id", "status", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id")
    kind: str
    step_number: int | None = None
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = "pending"
    claimed_at: datetime | None = _utc()
    # The instance sending it and its lease (revision 0006): a post still "sending" when the
    # lease has run out is taken over by another instance, which first looks in the channel
    # for it (`bot.slack.outbox`). `attempts` counts the sends, so that one Slack keeps
    # failing ambiguously is given up.
    claimed_by: str | None = None
    claimed_until: datetime | None = _utc()
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    late: bool = False
    error: str | None = None


class SlackUser(SQLModel, table=True):
    """What Storm knows of a person from `users.info`: a name to show and a time zone."""

    __tablename__ = "slack_user"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    user_id: str
    name: str
    tz: str | None = None
    is_bot: bool = False


class ChannelMember(SQLModel, table=True):
    """The people in a channel when Storm last asked, for reminders and status."""

    __tablename__ = "channel_member"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    channel_id: str
    user_id: str


def table_of(model: type[SQLModel]) -> Table:
    """The table behind a model, for Core statements (the ORM's class attributes are typed
    for the ORM, not as the table)."""
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table

"""Which Slack workspace the work at hand is for, so that its Web API calls carry its token.

Installed into many workspaces (OAuth, SPEC §8), each workspace has its own bot token. A
request from Slack comes with its own authorized client, but the work done outside requests
(the outbox's posts, reactions and App Homes applied after the ack, canvases, imports) shares
one client: each such job runs inside `acting_for(team_id)` of its workshop's workspace, and
the client (`bot.slack.workspaces.WorkspaceClient`) reads it from here. With one workspace and
`SLACK_BOT_TOKEN`, it is simply not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Engine

from storage import repository as repo
from storage.unit_of_work import unit_of_work

_acting_for: ContextVar[str | None] = ContextVar("storm_workspace", default=None)


@contextmanager
def acting_for(team_id: str | None) -> Iterator[None]:
    """Make the Web API calls within, on this thread, in the name of workspace `team_id`."""
    token = _acting_for.set(team_id or None)
    try:
        yield
    finally:
        _acting_for.reset(token)


def acting_team() -> str | None:
    """The workspace the calls at hand are for (None: none was named)."""
    return _acting_for.get()


def team_of(engine: Engine, workshop_id: int) -> str:
    """The workspace a workshop is in."""
    with unit_of_work(engine, read_only=True) as session:
        return repo.workshop_by_id(session, workshop_id=workshop_id).team_id

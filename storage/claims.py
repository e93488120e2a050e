"""Claims with a lease: how several instances on one database share the work once each.

A claim is an UPDATE that only one caller can win, in any process on any machine: it names
the instance (`claimed_by`) and how long the work is its own (`claimed_until`). An instance
that dies leaves its claims behind; once their lease has run out another instance takes them
over. Due rows are read with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so that instances reading
at the same moment pass over each other's rows instead of queueing behind them; SQLite's
single writer serialises the claims anyway (SQLAlchemy leaves the clause out there).
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, update
from sqlmodel import Session, col, select

from storage.tables import ScheduledPost, SlackEvent, Workshop

DEFAULT_LEASE = timedelta(seconds=60)


def _host() -> str:
    """This host, as the names of its processes' claimants start: its name, and its pid
    namespace where it has one (containers sharing a host name do not share pids)."""
    try:
        space = os.readlink("/proc/self/ns/pid").removeprefix("pid:").strip("[]")
    except OSError:
        space = ""
    return f"{socket.gethostname()}{'/' + space if space else ''}:"


_HOST = _host()


def _name() -> str:
    return f"{_HOST}{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Claimant:
    """One instance (one process) taking work: its name, and the lease its claims carry."""

    lease: timedelta = DEFAULT_LEASE
    name: str = field(default_factory=_name)

    def until(self, now: datetime) -> datetime:
        return now + self.lease


# ---- posts -------------------------------------------------------------------------------


def expired_posts(session: Session, *, now: datetime, limit: int = 20) -> list[ScheduledPost]:
    """Posts claimed for sending whose lease ran out before they were finished: the instance
    died (or Slack's answer was lost), and another is to take them over. A read, made on
    every poll: taking one over is `take_over_post`'s conditional UPDATE."""
    query = (
        select(ScheduledPost)
        .where(
            col(ScheduledPost.status) == "sending",
            col(ScheduledPost.claimed_until) < now,
        )
        .order_by(col(ScheduledPost.claimed_until))
        .limit(limit)
    )
    return list(session.exec(query))


def take_over_post(session: Session, *, post_id: int, now: datetime, by: Claimant) -> bool:
    """Claim a post whose lease ran out: exactly one instance wins it."""
    result = session.exec(
        update(ScheduledPost)
        .where(
            col(ScheduledPost.id) == post_id,
            col(ScheduledPost.status) == "sending",
            col(ScheduledPost.claimed_until) < now,
        )
        .values(
            claimed_by=by.name,
            claimed_until=by.until(now),
            attempts=col(ScheduledPost.attempts) + 1,
        )
    )
    return result.rowcount == 1


def retry_post_soon(session: Session, *, post_id: int, at: datetime) -> None:
    """Slack's answer to a send was lost (the connection dropped, a 5xx): the post may or may
    not have gone out. Its lease ends at `at`, when it is taken over like a dead instance's:
    the channel is looked at before it is sent again."""
    session.exec(
        update(ScheduledPost)
        .where(col(ScheduledPost.id) == post_id, col(ScheduledPost.status) == "sending")
        .values(claimed_until=at)
    )


def outbox_backlog(session: Session, *, now: datetime) -> tuple[int, datetime | None]:
    """How many posts are due and not sent yet (pending, or claimed and unfinished), and
    since when the oldest of them is due: what an operator watches."""
    count, oldest = session.exec(
        select(func.count(), func.min(ScheduledPost.due_at)).where(
            col(ScheduledPost.status).in_(("pending", "sending")),
            col(ScheduledPost.due_at) <= now,
        )
    ).one()
    return int(count), oldest


# ---- Slack events ------------------------------------------------------------------------


def claim_slack_event(session: Session, *, event_id: str, now: datetime, by: Claimant) -> bool:
    """Take a recorded event for applying: one instance at a time; a dead one's after its
    lease."""
    result = session.exec(
        update(SlackEvent)
        .where(
            col(SlackEvent.event_id) == event_id,
            col(SlackEvent.processed_at).is_(None),
            _free(col(SlackEvent.claimed_until), now),
        )
        .values(claimed_by=by.name, claimed_until=by.until(now))
    )
    return result.rowcount == 1


def inbox_backlog(session: Session) -> int:
    """Events recorded and not applied yet."""
    return int(
        session.exec(select(func.count()).where(col(SlackEvent.processed_at).is_(None))).one()
    )


# ---- canvases ----------------------------------------------------------------------------


def claim_canvas(session: Session, *, workshop_id: int, now: datetime, by: Claimant) -> bool:
    """Take a workshop's canvas for writing, so that two instances never create two."""
    result = session.exec(
        update(Workshop)
        .where(
            col(Workshop.id) == workshop_id,
            or_(
                col(Workshop.canvas_claimed_by) == by.name,
                _free(col(Workshop.canvas_claimed_until), now),
            ),
        )
        .values(canvas_claimed_by=by.name, canvas_claimed_until=by.until(now))
    )
    return result.rowcount == 1


def release_canvas(session: Session, *, workshop_id: int, by: Claimant) -> None:
    session.exec(
        update(Workshop)
        .where(col(Workshop.id) == workshop_id, col(Workshop.canvas_claimed_by) == by.name)
        .values(canvas_claimed_by=None, canvas_claimed_until=None)
    )


def end_leases_of_the_dead(session: Session, *, now: datetime) -> int:
    """The claims of this host's processes that are gone (killed, crashed) end now instead
    of when their leases run out: what such a process left half done is taken over at once,
    and its workshop's posts waiting behind it go on. Run as a sender starts, this is what
    makes a restart after a crash as quick as before leases. A pid used again by another
    process only makes its claims wait for their leases. Returns how many claims ended."""
    ended = 0
    for table, by, until in (
        (ScheduledPost, ScheduledPost.claimed_by, ScheduledPost.claimed_until),
        (SlackEvent, SlackEvent.claimed_by, SlackEvent.claimed_until),
        (Workshop, Workshop.canvas_claimed_by, Workshop.canvas_claimed_until),
    ):
        held = session.exec(
            select(by).where(col(by).startswith(_HOST, autoescape=True), col(until) > now)
        ).all()
        dead = {name for name in held if name is not None and not _running(name)}
        if dead:
            result = session.exec(
                update(table).where(col(by).in_(dead), col(until) > now).values({until: now})
            )
            ended += result.rowcount
    return ended


def _running(name: str) -> bool:
    """Whether the process of a claimant of this host is still there."""
    try:
        os.kill(int(name[len(_HOST) :].split(":")[0]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):  # someone else's process; a name not ours
        return True
    return True


def _free(claimed_until: Any, now: datetime) -> ColumnElement[bool]:
    """Nobody holds it: never claimed, or the lease has run out."""
    return or_(claimed_until.is_(None), claimed_until < now)

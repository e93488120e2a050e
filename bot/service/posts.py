"""Post planning: what a due post stands for in the model, decided when it is claimed.

A deadline's step change and a digest's next date are database work. They are done in the
same transaction as the claim, so a crash can never take the claim without them; only the
message to Slack is left for the sender (and a deadline's message is a post of its own).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.core.steps import LAST_STEP
from bot.core.timeline import DEADLINE, DIGEST_STALE_AFTER, is_late, next_digest
from bot.service import facilitation
from storage import repository as repo
from storage.claims import Claimant
from storage.tables import ScheduledPost


def claim(
    session: Session,
    batch: list[ScheduledPost],
    *,
    now: datetime,
    started_at: datetime,
    by: Claimant | None = None,
) -> list[ScheduledPost]:
    """Take the posts of `batch`, which go out one after the other, and make the changes each
    stands for; returns those taken, a prefix of `batch` (none when another sender has the
    first).

    `started_at` is when this sender started: what fell due before it was missed while down.

    Nothing is taken while one of the workshop's posts is being sent (by another instance, or
    taken over): what comes after it waits, in order.

    Only the workshop's next posts in sending order are taken, read in one query however long
    the batch: this transaction holds the database's write lock, which every acknowledgement
    waits for. Claiming a deadline queues its time's-up, due when time was up, so the claim
    stops after any post whose claim changes what comes next; a sender working through posts
    it read before that would otherwise send a later digest first. Refused here, it reads the
    posts again.

    `by` is the instance claiming: its claims carry a lease, after which another instance
    takes an unfinished post over (`bot.slack.outbox`).
    """
    workshop_id = batch[0].workshop_id
    if repo.post_in_flight(session, workshop_id=workshop_id):
        return []  # an earlier post is on its way (another instance's): it goes first
    upcoming = repo.next_due_posts(session, workshop_id=workshop_id, now=now, limit=len(batch))
    taken: list[ScheduledPost] = []
    for post, next_id in zip(batch, upcoming, strict=False):
        assert post.id is not None
        until = by.until(now) if by is not None else None
        name = by.name if by is not None else None
        if post.id != next_id or not repo.claim_post(
            session, post_id=post.id, now=now, by=name, until=until
        ):
            break
        taken.append(post)
        if post.kind in _PLANNING:
            _plan(session, post, now=now, started_at=started_at)
            break
    return taken


# Posts whose claim schedules or changes others.
_PLANNING = (DEADLINE, "plan_digest", "digest")


def _plan(session: Session, post: ScheduledPost, *, now: datetime, started_at: datetime) -> None:
    if post.kind == DEADLINE:
        _deadline(session, post, now=now, started_at=started_at)
    elif post.kind == "plan_digest":
        plan_digest(session, post.workshop_id, after=now)
    elif post.kind == "digest":
        if not post.payload.get("once"):
            # The day after this one, even when this one is skipped: a digest missed on
            # Friday leaves Saturday's in place (SPEC §5).
            plan_digest(session, post.workshop_id, after=post.due_at)
        _board_after_digest(session, post, now=now)


def _board_after_digest(session: Session, post: ScheduledPost, *, now: datetime) -> None:
    """A digest that goes out carries the board when the model changed in its day (SPEC
    §4.5): its own post, queued behind it in this claim's transaction."""
    if now - post.due_at > DIGEST_STALE_AFTER:
        return  # the digest is skipped (`bot.slack.outbox`)
    workshop = repo.workshop_by_id(session, workshop_id=post.workshop_id)
    if workshop.finished_at is not None:
        return
    if repo.contributors_since(
        session, workshop_id=post.workshop_id, since=now - timedelta(days=1)
    ):
        facilitation.schedule_board(session, post.workshop_id, after="digest", now=now)


def _deadline(
    session: Session, post: ScheduledPost, *, now: datetime, started_at: datetime
) -> None:
    """Time is up: say so (a post of its own), and with auto-advance move on."""
    workshop = repo.workshop_by_id(session, workshop_id=post.workshop_id)
    if workshop.finished_at is not None or workshop.current_step != post.step_number:
        return  # moot: the step was closed already
    assert post.step_number is not None
    advancing = workshop.auto_advance and post.step_number < LAST_STEP
    repo.schedule_post(
        session,
        workshop_id=post.workshop_id,
        kind="times_up",
        due_at=post.due_at,  # before whatever fell due after time was up
        step_number=post.step_number,
        payload={
            "due_at": post.due_at.isoformat(),
            "late": is_late(post.due_at, started_at),
            "advancing": advancing,
        },
    )
    if advancing:
        facilitation.advance(session, workshop, now)


def plan_digest(session: Session, workshop_id: int, *, after: datetime) -> None:
    """Schedule the first daily digest after `after`, in the first facilitator's zone."""
    workshop = repo.workshop_by_id(session, workshop_id=workshop_id)
    if workshop.finished_at is not None or workshop.digest_time is None:
        return
    first = repo.facilitators(session, workshop_id=workshop_id)[0]
    known = repo.known_users(session, team_id=workshop.team_id, user_ids=[first])
    zone = known[first].tz if first in known else None
    repo.cancel_daily_digests(session, workshop_id=workshop_id)
    repo.schedule_post(
        session,
        workshop_id=workshop_id,
        kind="digest",
        due_at=next_digest(after, workshop.digest_time, zone),
    )

"""Queries, keyword-only, each scoped by workspace and channel or by a workshop found that way.

Functions take the session of the caller's unit of work and never commit: the transaction
boundary belongs to `unit_of_work`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, text, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage import capture
from storage.tables import (
    Change,
    ChannelMember,
    Contribution,
    Element,
    ElementField,
    Facilitator,
    Link,
    NameKey,
    ScheduledPost,
    SlackEvent,
    SlackUser,
    StepRun,
    Vote,
    Workshop,
)


def open_workshop(
    session: Session, *, team_id: str, channel_id: str, for_update: bool = False
) -> Workshop | None:
    """The channel's unfinished workshop, if any; `for_update`: locked (`_locked`)."""
    statement = _OPEN_WORKSHOP_LOCKED if for_update else _OPEN_WORKSHOP
    return session.exec(statement, params={"team_id": team_id, "channel_id": channel_id}).first()


def last_workshop(
    session: Session, *, team_id: str, channel_id: str, for_update: bool = False
) -> Workshop | None:
    """The channel's most recently started workshop, finished or not; `for_update`: locked
    (`_locked`)."""
    statement = _LAST_WORKSHOP_LOCKED if for_update else _LAST_WORKSHOP
    return session.exec(statement, params={"team_id": team_id, "channel_id": channel_id}).first()


def _locked(statement: SelectOfScalar[Workshop]) -> SelectOfScalar[Workshop]:
    """The workshop's row locked until the transaction ends, as it is now (not as the session
    may have read it before).

    This is how writers to one workshop queue on PostgreSQL, where several processes write at
    once: whatever a change reads to decide what to write (the next element number, the end
    of the timeline, the step in progress) cannot change under it, and writers to other
    workshops do not wait. On SQLite, where every writer already holds the whole database's
    write lock (BEGIN IMMEDIATE), FOR UPDATE is not even written out.
    """
    return statement.with_for_update().execution_options(populate_existing=True)


# The hottest reads, built once: a click or a form reads the workshop, its facilitators and
# an element before anything else, and SQLAlchemy builds a statement in about as long as it
# takes to run it.
_OPEN_WORKSHOP = select(Workshop).where(
    col(Workshop.team_id) == bindparam("team_id"),
    col(Workshop.channel_id) == bindparam("channel_id"),
    col(Workshop.finished_at).is_(None),
)
_LAST_WORKSHOP = (
    select(Workshop)
    .where(
        col(Workshop.team_id) == bindparam("team_id"),
        col(Workshop.channel_id) == bindparam("channel_id"),
    )
    .order_by(col(Workshop.id).desc())
    .limit(1)
)
_FACILITATORS = (
    select(Facilitator.user_id)
    .where(col(Facilitator.workshop_id) == bindparam("workshop_id"))
    .order_by(col(Facilitator.id))
)
_ELEMENT_BY_KEY = select(Element).where(
    col(Element.workshop_id) == bindparam("workshop_id"),
    col(Element.kind) == bindparam("kind"),
    col(Element.number) == bindparam("number"),
)
_OPEN_WORKSHOP_LOCKED = _locked(_OPEN_WORKSHOP)
_LAST_WORKSHOP_LOCKED = _locked(_LAST_WORKSHOP)


def lock_channel(session: Session, *, team_id: str, channel_id: str) -> None:
    """Queue behind anyone else starting a workshop in this channel until the transaction
    ends, so that two `/storm start` at once make one workshop, not two (PostgreSQL: an
    advisory lock on the channel; on SQLite the write lock serialises them already)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:channel, 0))"),
        {"channel": f"storm-channel/{team_id}/{channel_id}"},
    )


def workshop_by_id(session: Session, *, workshop_id: int, for_update: bool = False) -> Workshop:
    """The workshop; `for_update`: locked (`_locked`)."""
    workshop = (
        session.get(Workshop, workshop_id, with_for_update=True, populate_existing=True)
        if for_update
        else session.get(Workshop, workshop_id)
    )
    if workshop is None:
        raise LookupError(f"workshop {workshop_id} does not exist")
    return workshop


def facilitators(session: Session, *, workshop_id: int) -> list[str]:
    """Facilitators' user ids, the first facilitator first."""
    return list(session.exec(_FACILITATORS, params={"workshop_id": workshop_id}))


def remove_facilitator(session: Session, *, workshop_id: int, user_id: str) -> None:
    row = session.exec(
        select(Facilitator).where(
            col(Facilitator.workshop_id) == workshop_id, col(Facilitator.user_id) == user_id
        )
    ).one()
    session.delete(row)


def step_runs(session: Session, *, workshop_id: int) -> list[StepRun]:
    return list(
        session.exec(
            select(StepRun)
            .where(col(StepRun.workshop_id) == workshop_id)
            .order_by(col(StepRun.number))
        )
    )


def step_run(session: Session, *, workshop_id: int, number: int) -> StepRun:
    run = session.exec(
        select(StepRun).where(
            col(StepRun.workshop_id) == workshop_id, col(StepRun.number) == number
        )
    ).one()
    return run


def links(session: Session, *, workshop_id: int) -> list[Link]:
    return list(
        session.exec(
            select(Link).where(col(Link.workshop_id) == workshop_id).order_by(col(Link.id))
        )
    )


def fields_of(session: Session, *, element_id: int) -> list[ElementField]:
    return list(
        session.exec(
            select(ElementField)
            .where(col(ElementField.element_id) == element_id)
            .order_by(col(ElementField.position))
        )
    )


def links_of(session: Session, *, element_id: int) -> list[Link]:
    """Links from or to one element."""
    return list(
        session.exec(
            select(Link).where(
                or_(col(Link.source_id) == element_id, col(Link.target_id) == element_id)
            )
        )
    )


def add_link(
    session: Session, *, workshop_id: int, kind: str, source_id: int, target_id: int
) -> bool:
    """Link two elements; False when that link exists already."""
    exists = session.exec(
        select(Link.id).where(
            col(Link.source_id) == source_id,
            col(Link.kind) == kind,
            col(Link.target_id) == target_id,
        )
    ).first()
    if exists is not None:
        return False
    session.add(Link(workshop_id=workshop_id, kind=kind, source_id=source_id, target_id=target_id))
    return True


def votes_of(session: Session, *, element_id: int) -> list[Vote]:
    return list(session.exec(select(Vote).where(col(Vote.element_id) == element_id)))


def elements_on(session: Session, *, element_id: int) -> list[Element]:
    """Hotspots about an element, and elements grouped in it (when it is an aggregate)."""
    return list(
        session.exec(
            select(Element).where(
                or_(col(Element.on_element) == element_id, col(Element.aggregate_id) == element_id)
            )
        )
    )


def events_in_order(session: Session, *, workshop_id: int) -> list[Element]:
    """Live events on the timeline, first to last."""
    return list(
        session.exec(
            select(Element)
            .where(
                col(Element.workshop_id) == workshop_id,
                col(Element.kind) == "event",
                col(Element.dropped_at).is_(None),
                col(Element.merged_into).is_(None),
            )
            .order_by(col(Element.position), col(Element.number))
        )
    )


def add_change(
    session: Session,
    *,
    workshop_id: int,
    user_id: str,
    at: datetime,
    summary: str,
    entries: list[dict[str, Any]],
) -> None:
    """Record one person's change with the journal that `/storm undo` reverts."""
    capture.in_session(session).add_change(
        workshop_id=workshop_id, user_id=user_id, at=at, summary=summary, entries=entries
    )


def last_change(session: Session, *, workshop_id: int, user_id: str) -> Change | None:
    """The person's most recent change that has not been undone."""
    return session.exec(
        select(Change)
        .where(
            col(Change.workshop_id) == workshop_id,
            col(Change.user_id) == user_id,
            col(Change.undone_at).is_(None),
        )
        .order_by(col(Change.id).desc())
    ).first()


def changes_by_others_since(
    session: Session, *, workshop_id: int, change_id: int, user_id: str
) -> list[Change]:
    """Changes other people made after this one and have not undone, oldest first: what
    undoing it must not destroy."""
    return list(
        session.exec(
            select(Change)
            .where(
                col(Change.workshop_id) == workshop_id,
                col(Change.id) > change_id,
                col(Change.user_id) != user_id,
                col(Change.undone_at).is_(None),
            )
            .order_by(col(Change.id))
        )
    )


def votes_by_others_since(
    session: Session, *, element_ids: Iterable[int], user_id: str, since: datetime
) -> list[Vote]:
    """Votes for these elements by other people since a moment (reaction votes included,
    which are not changes of their own)."""
    return list(
        session.exec(
            select(Vote)
            .where(
                col(Vote.element_id).in_(list(element_ids)),
                col(Vote.user_id) != user_id,
                col(Vote.created_at) >= since,
            )
            .order_by(col(Vote.id))
        )
    )


def element_by_key(session: Session, *, workshop_id: int, kind: str, number: int) -> Element | None:
    return session.exec(
        _ELEMENT_BY_KEY, params={"workshop_id": workshop_id, "kind": kind, "number": number}
    ).first()


def unindexed_elements(session: Session) -> list[Element]:
    """Elements whose names are not in the name index: made before there was one."""
    indexed = select(NameKey.element_id)
    return list(session.exec(select(Element).where(col(Element.id).not_in(indexed))))


def elements_named(session: Session, *, workshop_id: int, kinds: Iterable[str]) -> list[Element]:
    """Live elements of these kinds, for resolving a reference by name."""
    return list(
        session.exec(
            select(Element).where(
                col(Element.workshop_id) == workshop_id,
                col(Element.kind).in_(list(kinds)),
                col(Element.dropped_at).is_(None),
                col(Element.merged_into).is_(None),
            )
        )
    )


def elements_by_message(session: Session, *, workshop_id: int, message_ts: str) -> list[Element]:
    """The elements a message of Storm's carries: one, or several captured close together that
    share it (SPEC §4.3), in the order they were made; taken back ones too (`withdrawn`)."""
    return list(
        session.exec(
            select(Element)
            .where(col(Element.workshop_id) == workshop_id, col(Element.message_ts) == message_ts)
            .order_by(col(Element.id))
        )
    )


def withdrawn(element: Element) -> bool:
    """Taken back (an undone capture, a removed :zap:), not dropped: its message loses it."""
    return element.dropped_at is not None and bool((element.details or {}).get("withdrawn"))


def element_from_source(
    session: Session, *, workshop_id: int, kind: str, source_ts: str
) -> Element | None:
    """The element a reaction on this message made, dropped or not (a second adds nothing)."""
    return session.exec(
        select(Element).where(
            col(Element.workshop_id) == workshop_id,
            col(Element.kind) == kind,
            col(Element.source_ts) == source_ts,
        )
    ).first()


def add_vote(
    session: Session, *, workshop_id: int, element_id: int, user_id: str, at: datetime
) -> bool:
    """Record a vote; False when this person already voted for this element."""
    exists = session.exec(
        select(Vote.id).where(col(Vote.element_id) == element_id, col(Vote.user_id) == user_id)
    ).first()
    if exists is not None:
        return False
    session.add(
        Vote(workshop_id=workshop_id, element_id=element_id, user_id=user_id, created_at=at)
    )
    session.flush()
    return True


def remove_vote(session: Session, *, element_id: int, user_id: str) -> bool:
    vote = session.exec(
        select(Vote).where(col(Vote.element_id) == element_id, col(Vote.user_id) == user_id)
    ).first()
    if vote is None:
        return False
    session.delete(vote)
    return True


def vote_count(session: Session, *, element_id: int) -> int:
    return session.exec(
        select(func.count(col(Vote.id))).where(col(Vote.element_id) == element_id)
    ).one()


def add_contribution(
    session: Session, *, workshop_id: int, step_number: int, user_id: str, at: datetime
) -> None:
    capture.in_session(session).add_contribution(
        workshop_id=workshop_id, step_number=step_number, user_id=user_id, at=at
    )


def contributors_by_step(session: Session, *, workshop_id: int) -> dict[int, frozenset[str]]:
    rows = session.exec(
        select(Contribution.step_number, Contribution.user_id)
        .where(col(Contribution.workshop_id) == workshop_id)
        .distinct()
    )
    found: dict[int, set[str]] = {}
    for step_number, user_id in rows:
        found.setdefault(step_number, set()).add(user_id)
    return {number: frozenset(users) for number, users in found.items()}


def contributors_since(session: Session, *, workshop_id: int, since: datetime) -> list[str]:
    rows = session.exec(
        select(Contribution.user_id)
        .where(col(Contribution.workshop_id) == workshop_id, col(Contribution.at) >= since)
        .distinct()
    )
    return list(rows)


def schedule_post(
    session: Session,
    *,
    workshop_id: int,
    kind: str,
    due_at: datetime,
    step_number: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Queue a post; it is sent after the transaction commits, once it is due."""
    capture.in_session(session).schedule_post(
        workshop_id=workshop_id,
        kind=kind,
        due_at=due_at,
        step_number=step_number,
        payload=payload,
    )


def cancel_pending_posts(
    session: Session, *, workshop_id: int, kinds: Iterable[str], step_number: int | None = None
) -> None:
    conditions = [
        col(ScheduledPost.workshop_id) == workshop_id,
        col(ScheduledPost.status) == "pending",
        col(ScheduledPost.kind).in_(list(kinds)),
    ]
    if step_number is not None:
        conditions.append(col(ScheduledPost.step_number) == step_number)
    session.exec(update(ScheduledPost).where(and_(*conditions)).values(status="cancelled"))


def cancel_daily_digests(session: Session, *, workshop_id: int) -> None:
    """Cancel the pending daily digest (it is planned anew), but not one asked for with
    `/storm digest now`, which is due at once and must still go out."""
    pending = session.exec(
        select(ScheduledPost).where(
            col(ScheduledPost.workshop_id) == workshop_id,
            col(ScheduledPost.status) == "pending",
            col(ScheduledPost.kind) == "digest",
        )
    )
    for post in pending:
        if not (post.payload or {}).get("once"):
            post.status = "cancelled"
            session.add(post)


def future_posts(session: Session, *, now: datetime) -> list[tuple[int, datetime]]:
    """(id, due time) of every pending post not due yet: what the scheduler plans from."""
    rows = session.exec(
        select(ScheduledPost.id, ScheduledPost.due_at).where(
            col(ScheduledPost.status) == "pending", col(ScheduledPost.due_at) > now
        )
    )
    return [(post_id, due_at) for post_id, due_at in rows if post_id is not None]


def workshops_with_due_posts(session: Session, *, now: datetime) -> list[int]:
    """The workshops that have posts due by `now`, the one waiting longest first."""
    rows = session.exec(
        select(ScheduledPost.workshop_id, func.min(ScheduledPost.due_at))
        .where(col(ScheduledPost.status) == "pending", col(ScheduledPost.due_at) <= now)
        .group_by(col(ScheduledPost.workshop_id))
        .order_by(func.min(ScheduledPost.due_at))
    )
    return [workshop_id for workshop_id, _ in rows]


def schedule_element_update(
    session: Session, *, workshop_id: int, element_id: int, now: datetime
) -> None:
    """Queue an update of an element's message, unless one is pending already.

    The pending one renders the message as it is when it is sent, so it carries this change
    too: a burst of votes makes one update, not one each. A message that several elements
    share is one message: a pending update for any of them will do. The check is an UPDATE
    that matches the post only while it is pending, so it cannot miss a sender's claim made
    meanwhile (the claim updates the same row: one of the two waits for the other, and a
    claimed post gets a successor).
    """
    element = session.get(Element, element_id)
    store = capture.in_session(session)
    if not store.pending_element_update(
        workshop_id=workshop_id,
        element_id=element_id,
        message_ts=element.message_ts if element is not None else None,
    ):
        store.schedule_post(
            workshop_id=workshop_id,
            kind="element_update",
            due_at=now,
            payload={"element_id": element_id},
        )


def postpone_post(session: Session, *, post_id: int, due_at: datetime) -> None:
    """Move a pending post later (an element's message updated a moment ago waits a little)."""
    session.exec(
        update(ScheduledPost)
        .where(col(ScheduledPost.id) == post_id, col(ScheduledPost.status) == "pending")
        .values(due_at=due_at)
    )


def survivor(session: Session, element: Element) -> Element:
    """Follow merges to the element that carries `element` on (SPEC §3: a merged element's ID
    still resolves to it)."""
    seen: set[int | None] = set()
    while element.merged_into is not None and element.id not in seen:
        seen.add(element.id)
        merged_into = session.get(Element, element.merged_into)
        if merged_into is None:
            break
        element = merged_into
    return element


def set_message_ts(session: Session, *, element_id: int, message_ts: str) -> None:
    """Remember an element's message, so reactions on it find the element."""
    session.exec(update(Element).where(col(Element.id) == element_id).values(message_ts=message_ts))


# The order in which due posts are sent: soonest first, except that a digest, which reports
# the workshop as it is when sent, waits for every other post already due (after a jump of
# the clock it would otherwise say that time is up before "Time's up" is posted). At the same
# moment, a deadline (whose claim queues its time's-up) and its time's-up go first.
_DIGEST_LAST = case((col(ScheduledPost.kind) == "digest", 1), else_=0)
_SAME_TIME_ORDER = case(
    (col(ScheduledPost.kind) == "deadline", 0),
    (col(ScheduledPost.kind) == "times_up", 1),
    else_=2,
)
_SEND_ORDER = (_DIGEST_LAST, col(ScheduledPost.due_at), _SAME_TIME_ORDER, col(ScheduledPost.id))


def due_posts(
    session: Session, *, now: datetime, limit: int = 100, workshop_id: int | None = None
) -> list[ScheduledPost]:
    """Pending posts due by `now`, in the order they are to be sent (`_SEND_ORDER`), of one
    workshop or of all."""
    query = select(ScheduledPost).where(
        col(ScheduledPost.status) == "pending", col(ScheduledPost.due_at) <= now
    )
    if workshop_id is not None:
        query = query.where(col(ScheduledPost.workshop_id) == workshop_id)
    return list(session.exec(query.order_by(*_SEND_ORDER).limit(limit)))


def next_due_posts(
    session: Session, *, workshop_id: int, now: datetime, limit: int = 1
) -> list[int]:
    """The ids of the workshop's pending posts that are to be sent next (up to `limit`), in
    sending order, of those due."""
    return [
        post_id
        for post_id in session.exec(
            select(ScheduledPost.id)
            .where(
                col(ScheduledPost.workshop_id) == workshop_id,
                col(ScheduledPost.status) == "pending",
                col(ScheduledPost.due_at) <= now,
            )
            .order_by(*_SEND_ORDER)
            .limit(limit)
            # Another instance's claim in progress holds its rows: they are passed over (the
            # claim then stops, as the workshop's next post is not this one) and no one waits.
            .with_for_update(skip_locked=True)
        ).all()
        if post_id is not None
    ]


def post_in_flight(session: Session, *, workshop_id: int) -> bool:
    """Whether one of the workshop's posts is being sent (claimed, not finished): by another
    instance, or by a take-over. Its later posts wait for it, so that none jumps ahead (an
    element's message before the prompt whose thread it goes in). A claim without a lease
    (from before leases existed) is never finished or taken over, and holds nothing up."""
    return (
        session.exec(
            select(ScheduledPost.id)
            .where(
                col(ScheduledPost.workshop_id) == workshop_id,
                col(ScheduledPost.status) == "sending",
                col(ScheduledPost.claimed_until).is_not(None),
            )
            .limit(1)
        ).first()
        is not None
    )


def release_post(session: Session, *, post_id: int) -> None:
    """Give a claimed post back: Slack refused it for now (a rate limit), so it was not sent
    and goes out later, in its place in the sending order."""
    session.exec(
        update(ScheduledPost)
        .where(col(ScheduledPost.id) == post_id, col(ScheduledPost.status) == "sending")
        .values(status="pending", claimed_at=None, claimed_by=None, claimed_until=None)
    )


def claim_post(
    session: Session,
    *,
    post_id: int,
    now: datetime,
    by: str | None = None,
    until: datetime | None = None,
) -> bool:
    """Take a due post for sending: exactly one caller, in any process, wins. `by` and `until`
    name the instance and its lease (`storage.claims`)."""
    result = session.exec(
        update(ScheduledPost)
        .where(
            col(ScheduledPost.id) == post_id,
            col(ScheduledPost.status) == "pending",
            col(ScheduledPost.due_at) <= now,
        )
        .values(
            status="sending",
            claimed_at=now,
            claimed_by=by,
            claimed_until=until,
            attempts=col(ScheduledPost.attempts) + 1,
        )
    )
    return result.rowcount == 1


def finish_post(session: Session, *, post_id: int, status: str, error: str | None = None) -> None:
    session.exec(
        update(ScheduledPost)
        .where(col(ScheduledPost.id) == post_id)
        .values(status=status, error=error)
    )


def pending_slack_event(session: Session, *, event_id: str) -> SlackEvent | None:
    """The recorded event, unless it has been applied already."""
    row = session.get(SlackEvent, event_id)
    return row if row is not None and row.processed_at is None else None


def mark_slack_event_done(session: Session, *, event_id: str, now: datetime) -> None:
    session.exec(
        update(SlackEvent)
        .where(col(SlackEvent.event_id) == event_id, col(SlackEvent.processed_at).is_(None))
        .values(processed_at=now)
    )


def unprocessed_slack_events(session: Session, *, now: datetime | None = None) -> list[str]:
    """Events left to apply, oldest first; given `now`, without those another instance is
    applying (claimed, and its lease still runs)."""
    query = select(SlackEvent.event_id).where(col(SlackEvent.processed_at).is_(None))
    if now is not None:
        query = query.where(
            or_(col(SlackEvent.claimed_until).is_(None), col(SlackEvent.claimed_until) < now)
        )
    return list(session.exec(query.order_by(col(SlackEvent.received_at))))


def unprocessed_people_events(
    session: Session, *, types: Collection[str]
) -> list[tuple[str, tuple[str, str]]]:
    """(event id, (team, user)) of what is left to apply among events of `types`, oldest
    first. Read from inside the payloads by the database: a burst leaves thousands of
    reactions to apply, whose payloads need not all be in memory at once to find these."""
    event = SlackEvent.payload["event"]
    rows = session.exec(
        select(SlackEvent.event_id, SlackEvent.team_id, event["user"].as_string())
        .where(
            col(SlackEvent.processed_at).is_(None),
            event["type"].as_string().in_(list(types)),
        )
        .order_by(col(SlackEvent.received_at))
    )
    return [(event_id, (team_id, str(user))) for event_id, team_id, user in rows]


def user_names(session: Session, *, team_id: str) -> dict[str, str]:
    rows = session.exec(
        select(SlackUser.user_id, SlackUser.name).where(col(SlackUser.team_id) == team_id)
    )
    return dict(rows.all())


def known_users(session: Session, *, team_id: str, user_ids: Iterable[str]) -> dict[str, SlackUser]:
    rows = session.exec(
        select(SlackUser).where(
            col(SlackUser.team_id) == team_id, col(SlackUser.user_id).in_(list(user_ids))
        )
    )
    return {user.user_id: user for user in rows}


def save_user(
    session: Session, *, team_id: str, user_id: str, name: str, tz: str | None, is_bot: bool
) -> None:
    user = session.exec(
        select(SlackUser).where(
            col(SlackUser.team_id) == team_id, col(SlackUser.user_id) == user_id
        )
    ).first()
    if user is None:
        user = SlackUser(team_id=team_id, user_id=user_id, name=name)
    user.name, user.tz, user.is_bot = name, tz, is_bot
    session.add(user)


def channel_members(session: Session, *, team_id: str, channel_id: str) -> list[str]:
    """Human members of the channel as last seen, bots left out."""
    bots = select(SlackUser.user_id).where(col(SlackUser.team_id) == team_id, col(SlackUser.is_bot))
    rows = session.exec(
        select(ChannelMember.user_id)
        .where(
            col(ChannelMember.team_id) == team_id,
            col(ChannelMember.channel_id) == channel_id,
            col(ChannelMember.user_id).not_in(bots),
        )
        .order_by(col(ChannelMember.id))
    )
    return list(rows)


def replace_channel_members(
    session: Session, *, team_id: str, channel_id: str, user_ids: Iterable[str]
) -> None:
    existing = session.exec(
        select(ChannelMember).where(
            col(ChannelMember.team_id) == team_id, col(ChannelMember.channel_id) == channel_id
        )
    )
    for member in existing:
        session.delete(member)
    session.flush()
    for user_id in dict.fromkeys(user_ids):
        session.add(ChannelMember(team_id=team_id, channel_id=channel_id, user_id=user_id))


def has_live_links(session: Session, *, element_id: int) -> bool:
    """Whether anything points at or from this element (links, merges, hotspots, grouping)."""
    link = session.exec(
        select(Link.id).where(
            or_(col(Link.source_id) == element_id, col(Link.target_id) == element_id)
        )
    ).first()
    if link is not None:
        return True
    other = session.exec(
        select(Element.id).where(
            or_(col(Element.merged_into) == element_id, col(Element.on_element) == element_id)
        )
    ).first()
    return other is not None


def workshops_of_person(session: Session, *, team_id: str, user_id: str) -> list[Workshop]:
    """The workspace's workshops a person is in: those of the channels they are in (as last
    seen), and those they facilitate or contributed to (their channel's members may not be
    known yet); newest first. Workshops of other workspaces never, whatever the user id."""
    channels = select(ChannelMember.channel_id).where(
        col(ChannelMember.team_id) == team_id, col(ChannelMember.user_id) == user_id
    )
    facilitating = select(Facilitator.workshop_id).where(col(Facilitator.user_id) == user_id)
    contributed = select(Contribution.workshop_id).where(col(Contribution.user_id) == user_id)
    return list(
        session.exec(
            select(Workshop)
            .where(
                col(Workshop.team_id) == team_id,
                or_(
                    col(Workshop.channel_id).in_(channels),
                    col(Workshop.id).in_(facilitating),
                    col(Workshop.id).in_(contributed),
                ),
            )
            .order_by(col(Workshop.started_at).desc(), col(Workshop.id).desc())
        )
    )


def added_in_step(
    session: Session, *, workshop_id: int, step_number: int, user_id: str
) -> list[tuple[str, int]]:
    """(kind, number) of the live elements a person added or authored in a step, oldest first."""
    rows = session.exec(
        select(Element.kind, Element.number)
        .where(
            col(Element.workshop_id) == workshop_id,
            col(Element.step_number) == step_number,
            or_(col(Element.added_by) == user_id, col(Element.author) == user_id),
            col(Element.dropped_at).is_(None),
            col(Element.merged_into).is_(None),
        )
        .order_by(col(Element.id))
    )
    return list(rows.all())


def channels_in_progress_without(session: Session, *, team_id: str, user_id: str) -> list[str]:
    """Channels of the workspace with a workshop in progress where the person was not among
    the members when Storm last asked."""
    known = select(ChannelMember.channel_id).where(
        col(ChannelMember.team_id) == team_id, col(ChannelMember.user_id) == user_id
    )
    rows = session.exec(
        select(Workshop.channel_id)
        .where(
            col(Workshop.team_id) == team_id,
            col(Workshop.finished_at).is_(None),
            col(Workshop.channel_id).not_in(known),
        )
        .order_by(col(Workshop.started_at).desc())
    )
    return list(dict.fromkeys(rows))

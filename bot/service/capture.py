"""`/storm event`: the command a whole department runs at once.

It runs as a few prepared statements in one short transaction of its own (`storage.capture`)
rather than through the ORM; on PostgreSQL they are sent to the server all at once. The
naming help never holds up another capture: on SQLite it is looked up after the commit,
outside the writers' lock (it only reads, and under a burst every moment spent holding that
lock is a moment the other web workers wait), and then also sees a twin added a moment later
by someone else; on PostgreSQL it is read in the same pipeline before the workshop's row is
locked, and the command's own names are compared with each other here.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core import commands, messages, naming
from bot.core.messages import Post
from bot.core.model import KIND_LETTERS, element_key
from bot.core.references import Candidate
from bot.core.text import literal, plural
from bot.service.context import (
    Request,
    naming_notes,
    notes_on,
    refusal_without_workshop,
    twins_as_candidates,
    with_post_problem,
)
from storage import capture
from storage.unit_of_work import unit_of_work


def add_events(request: Request, command: commands.AddEvents) -> Post:
    actor, now, names = request.actor, request.now, command.names
    with capture.connected(request.engine) as connection:
        captured = connection.capture_events(
            team_id=actor.team_id,
            channel_id=actor.channel_id,
            names=[(name, naming.name_keys(name)) for name in names],
            author=actor.user_id,
            now=now,
            summary=_summary(names),  # what `/storm undo` will say it undid
            twin_keys=[naming.twin_keys(name) for name in names],
        )
        if captured is None:
            with unit_of_work(request.engine, read_only=True) as session:
                raise refusal_without_workshop(session, actor)
        workshop = captured.workshop
        added = [
            (element_id, element_key("event", number), name)
            for name, (element_id, number) in zip(names, captured.added, strict=True)
        ]
        if captured.twins is None:  # looked up now, among everything committed
            notes = [
                naming_notes(connection, workshop.id, element_id, "event", name, event)
                for element_id, event, name in added
            ]
        else:  # found before these were added: each is compared with the others here
            notes = [
                notes_on(
                    name,
                    "event",
                    event,
                    twins_as_candidates(twins)
                    + [Candidate(other, its, "event") for _, other, its in added if other != event],
                )
                for (_, event, name), twins in zip(added, captured.twins, strict=True)
            ]
        lines = [
            f"*{event}* {literal(name)}{note}"
            for (_, event, name), note in zip(added, notes, strict=True)
        ]
    heading = f"Added {plural(len(names), 'event')}:"
    return with_post_problem(
        messages.notice(f"{heading}\n" + "\n".join(lines)), workshop.post_problem
    )


def _summary(names: Sequence[str]) -> str:
    """`added *E%s* Order Placed, *E%s* Payment Taken` (mrkdwn), short enough for the change
    journal: past a few names, the rest are counted. `%s` is each event's number, filled in
    by storage when it has them (`storage.capture.Connected.capture_events`)."""
    shown = [
        f"*{KIND_LETTERS['event']}%s* {literal(name[:80]).replace('%', '%%')}" for name in names[:5]
    ]
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return "added " + ", ".join(shown) + more

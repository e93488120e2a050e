"""`/storm event`: the command a whole department runs at once.

It runs as a few prepared statements in one short transaction of its own (`storage.capture`)
rather than through the ORM, pipelined on PostgreSQL: the lock and the inserts are one round
trip to the server, the rest and the commit another. The naming help is looked up after the commit, outside the
writers' lock: it only reads, and under a burst every moment spent holding that lock is a
moment the other web workers wait. It then also sees a twin added a moment later by someone
else.
"""

from __future__ import annotations

from bot.core import commands, messages, naming
from bot.core.messages import Post
from bot.core.model import element_key
from bot.core.text import literal, plural
from bot.service.context import Request, naming_notes, refusal_without_workshop, with_post_problem
from storage import capture
from storage.unit_of_work import unit_of_work


def add_events(request: Request, command: commands.AddEvents) -> Post:
    actor, now, names = request.actor, request.now, command.names
    with capture.connected(request.engine) as connection:
        with connection.writing(pipelined=True) as store:
            opened = store.add_events(
                team_id=actor.team_id,
                channel_id=actor.channel_id,
                names=[(name, naming.name_keys(name)) for name in names],
                author=actor.user_id,
                now=now,
            )
            if opened is None:
                with unit_of_work(request.engine, read_only=True) as session:
                    raise refusal_without_workshop(session, actor)
            workshop, numbered = opened
            added, entries = [], []
            for name, (element_id, number) in zip(names, numbered, strict=True):
                store.schedule_post(
                    workshop_id=workshop.id,
                    kind="element",
                    due_at=now,
                    step_number=workshop.current_step,
                    payload={"element_id": element_id},
                )
                entries.append({"table": "element", "op": "insert", "id": element_id})
                added.append((element_id, element_key("event", number), name))
            store.add_contribution(
                workshop_id=workshop.id,
                step_number=workshop.current_step,
                user_id=actor.user_id,
                at=now,
            )
            store.add_change(
                workshop_id=workshop.id,
                user_id=actor.user_id,
                at=now,
                # what `/storm undo` will say it undid
                summary=_summary(added),
                entries=entries,
            )
        lines = [
            f"*{event}* {literal(name)}"
            + naming_notes(connection, workshop.id, element_id, "event", name, event)
            for element_id, event, name in added
        ]
    heading = f"Added {plural(len(names), 'event')}:"
    return with_post_problem(
        messages.notice(f"{heading}\n" + "\n".join(lines)), workshop.post_problem
    )


def _summary(added: list[tuple[int, str, str]]) -> str:
    """`added *E4* Order Placed, *E5* Payment Taken` (mrkdwn), short enough for the change
    journal: past a few names, the rest are counted."""
    shown = [f"*{event}* {literal(name[:80])}" for _, event, name in added[:5]]
    more = f" and {len(added) - 5} more" if len(added) > 5 else ""
    return "added " + ", ".join(shown) + more

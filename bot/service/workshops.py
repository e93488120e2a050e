from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import commands, messages, naming
from bot.core.clock import Clock
from bot.core.messages import Post
from bot.core.model import Snapshot
from bot.core.references import UnknownReference
from bot.core.text import literal
from bot.service.context import (
    Action,
    Actor,
    Context,
    Refused,
    Request,
    key,
    label,
    refusal_without_workshop,
    row_id,
    with_post_problem,
)
from bot.service.handlers import HANDLERS, Registration
from bot.service.snapshots import load_snapshot
from storage import capture, journal
from storage import repository as repo
from storage.tables import Element, Workshop
from storage.unit_of_work import unit_of_work

__all__ = ["Actor", "Refused", "Workshops"]


class Workshops:
    """Runs workshops: every `/storm` command through its registered handler, and capture and
    votes from reactions, one transaction each."""

    def __init__(self, engine: Engine, clock: Clock, wake: Callable[[], None]) -> None:
        self._engine = engine
        self._clock = clock
        self._wake = wake

    def index_old_names(self) -> None:
        """Index the names of elements made before names were indexed (a database from an
        earlier version), so that naming help finds their twins too. Nothing to do after."""
        with unit_of_work(self._engine) as session:
            store = capture.in_session(session)
            for element in repo.unindexed_elements(session):
                store.index_name(
                    workshop_id=element.workshop_id,
                    kind=element.kind,
                    element_id=row_id(element),
                    keys=naming.name_keys(element.name),
                )

    # ---- slash commands -------------------------------------------------------------

    def run(self, actor: Actor, command: commands.Command) -> Post:
        """Carry out one parsed `/storm` line and return the ephemeral answer."""
        registration = HANDLERS[type(command)]
        if registration.needs == "nothing":
            return registration.handler(None, command)
        try:
            if registration.needs == "request":
                request = Request(self._engine, actor, self._clock.now())
                answer = registration.handler(request, command)
            else:
                with unit_of_work(self._engine) as session:
                    answer = self._dispatch(session, actor, command, registration)
        except (Refused, UnknownReference) as refusal:
            return messages.notice(f":no_entry_sign: {refusal}")
        self._wake()
        return answer

    def _dispatch(
        self,
        session: Session,
        actor: Actor,
        command: commands.Command,
        registration: Registration,
    ) -> Post:
        now = self._clock.now()
        if registration.needs == "channel":
            return registration.handler(Context(session, actor, now), command)
        workshop = repo.open_workshop(session, team_id=actor.team_id, channel_id=actor.channel_id)
        if workshop is None and registration.after_end:
            # The team afterwards still reads and exports the channel's last workshop.
            workshop = repo.last_workshop(
                session, team_id=actor.team_id, channel_id=actor.channel_id
            )
        if workshop is None:
            raise refusal_without_workshop(session, actor)
        facilitators = repo.facilitators(session, workshop_id=row_id(workshop))
        is_facilitator = actor.user_id in facilitators
        if registration.facilitator_only and not is_facilitator:
            raise Refused("Only a facilitator of this workshop can do that.")
        action = Action(session, actor, now, workshop, is_facilitator, registration.step)
        if registration.journaled:
            answer = _journaled(action, registration.handler, command)
        else:
            answer = registration.handler(action, command)
        return with_post_problem(answer, workshop.post_problem)

    # ---- capture and votes from reactions ------------------------------------------

    @contextmanager
    def _reaction(self, actor: Actor) -> Iterator[Action | None]:
        """One reaction's transaction on the channel's workshop (None when there is none)."""
        with unit_of_work(self._engine) as session:
            workshop = repo.open_workshop(
                session, team_id=actor.team_id, channel_id=actor.channel_id
            )
            if workshop is None:
                yield None
                return
            facilitators = repo.facilitators(session, workshop_id=row_id(workshop))
            is_facilitator = actor.user_id in facilitators
            yield Action(session, actor, self._clock.now(), workshop, is_facilitator)
        self._wake()

    def capture_message(
        self, actor: Actor, *, text: str, author: str, source_ts: str, kind: str = "event"
    ) -> Post | None:
        """A :zap: (event) or :question: (hotspot) on a message: capture it once.

        None when the channel has no workshop. A hotspot made from an element's own message
        is attached to that element.
        """
        with self._reaction(actor) as action:
            if action is None:
                return None
            existing = repo.element_from_source(
                action.session, workshop_id=action.workshop_id, kind=kind, source_ts=source_ts
            )
            if existing is not None:
                answer = messages.notice(
                    f"That message is already {existing.kind} {label(existing)}."
                )
            else:
                answer = _journaled(
                    action, lambda a, _: _capture(a, kind, text, author, source_ts), None
                )
            action.schedule("ephemeral", _ephemeral(actor.user_id, answer))
        return answer

    def uncapture_message(self, actor: Actor, *, source_ts: str) -> None:
        """:zap: removed: during step 1, take the event back if nobody has touched it."""
        with self._reaction(actor) as action:
            if action is None:
                return
            element = repo.element_from_source(
                action.session, workshop_id=action.workshop_id, kind="event", source_ts=source_ts
            )
            if element is None or element.dropped_at is not None:
                return
            reason = _why_event_stays(action.session, action.workshop, element)
            if reason:
                answer = messages.notice(f"*{key(element)}* stays: {reason}.")
            else:
                element.dropped_at = action.now
                element.details = {**(element.details or {}), "withdrawn": True}
                action.session.add(element)
                if element.message_ts:
                    action.schedule("delete_message", {"ts": element.message_ts})
                answer = messages.notice(f"Removed {label(element)}.")
            action.schedule("ephemeral", _ephemeral(actor.user_id, answer))

    def vote_by_message(
        self,
        actor: Actor,
        *,
        message_ts: str,
        on: bool,
        element: tuple[int, str] | None = None,
    ) -> bool:
        """:+1: added to (or removed from) an element's message.

        False when Storm has no record of that message. `element` (workshop id and element
        ID, read from the message's metadata) names it when the record is missing, because
        the message went out just before a crash or is not recorded yet; it is recorded then.
        """
        with self._reaction(actor) as action:
            if action is None:
                return True
            target = repo.element_by_message(
                action.session, workshop_id=action.workshop_id, message_ts=message_ts
            )
            if target is None and element is not None and element[0] == action.workshop_id:
                target = action.resolve(element[1])
                if target.message_ts is None:
                    target.message_ts = message_ts
                    action.session.add(target)
            if target is None:
                return False
            survivor = action.survivor(target)
            if survivor.dropped_at is not None:
                if on:  # the message says so too; a :+1: there must not vanish unanswered
                    action.schedule(
                        "ephemeral", _ephemeral(actor.user_id, _no_votes(target, survivor))
                    )
                return True
            element_id = row_id(survivor)
            if not on:
                changed = repo.remove_vote(
                    action.session, element_id=element_id, user_id=actor.user_id
                )
            elif changed := repo.add_vote(
                action.session,
                workshop_id=action.workshop_id,
                element_id=element_id,
                user_id=actor.user_id,
                at=action.now,
            ):
                action.contribute()
            if changed:
                action.update_messages([element_id])
            if on and survivor is not target:
                answer = messages.notice(
                    f"*{key(target)}* was merged into {label(survivor)}: your vote counts there."
                )
                action.schedule("ephemeral", _ephemeral(actor.user_id, answer))
        return True

    def snapshot(self, session: Session, workshop: Workshop) -> Snapshot:
        """The workshop as the core reads it."""
        return load_snapshot(session, workshop)


def _capture(action: Action, kind: str, text: str, author: str, source_ts: str) -> Post:
    if kind == "event":
        element = action.new_element("event", text, author=author, source_ts=source_ts)
        return messages.notice(
            f"Added {label(element)} from that message.{action.naming_notes(element)}"
        )
    about = repo.element_by_message(
        action.session, workshop_id=action.workshop_id, message_ts=source_ts
    )
    if about is None:
        hotspot = action.new_element("hotspot", text, author=author, source_ts=source_ts)
        return messages.notice(f"Added hotspot {label(hotspot)} from that message.")
    if about.kind == "hotspot":
        # A question about a question would only nest ("Question about H1 Question about…").
        return messages.notice(
            f"That message is hotspot {label(about)} already: it is the question. To ask "
            "another, `/storm hotspot <question> on <ID>`."
        )
    # An element's message: the hotspot is about the element, and says so in its text.
    element = action.survivor(about)
    hotspot = action.new_element(
        "hotspot",
        f"Question about {key(element)} {element.name}",
        author=author,
        source_ts=source_ts,
        on_element=element.id,
    )
    return messages.notice(f"Added hotspot {label(hotspot)} on {label(element)}.")


def _no_votes(element: Element, survivor: Element) -> Post:
    """Why a :+1: on a dropped element's message (or one merged into a dropped one) counts
    for nothing."""
    if survivor is element:
        return messages.notice(f"{label(element)} was dropped, so it takes no votes.")
    return messages.notice(
        f"*{key(element)}* was merged into {label(survivor)}, which was dropped, so it takes "
        "no votes."
    )


def _why_event_stays(session: Session, workshop: Workshop, element: Element) -> str | None:
    if workshop.current_step != 1:
        return "the workshop is past step 1, so events made by :zap: are kept"
    if repo.vote_count(session, element_id=row_id(element)):
        return "it has votes"
    if element.renamed:
        return "it was renamed"
    if repo.has_live_links(session, element_id=row_id(element)):
        return "it is linked to other elements"
    return None


def _ephemeral(user_id: str, post: Post) -> dict[str, Any]:
    return {"user": user_id, "text": post.text, "sections": list(post.sections)}


def _journaled(action: Action, handler: Callable[[Any, Any], Post], command: Any) -> Post:
    """Run a handler that changes the model, recording its changes for `/storm undo`."""
    journal.start(action.session)
    answer = handler(action, command)
    entries = journal.entries(action.session)
    action.update_messages(journal.elements_shown_changed(action.session, entries))
    if entries:
        repo.add_change(
            action.session,
            workshop_id=action.workshop_id,
            user_id=action.actor.user_id,
            at=action.now,
            summary=_summary(answer),
            entries=entries,
        )
    return answer


def _summary(answer: Post) -> str:
    """What `/storm undo` will say it undid: the confirmation's first line, as mrkdwn (a
    very long one as plain text, shortened, so no cut can break Slack's markup)."""
    line = (answer.sections[0] if answer.sections else answer.text).splitlines()[0]
    if len(line) <= 300:
        return line
    return literal(answer.text.splitlines()[0][:200] + "…")

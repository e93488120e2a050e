from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import commands, messages, naming
from bot.core.clock import Clock
from bot.core.messages import Post
from bot.core.model import Snapshot, parse_element_key
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

__all__ = ["Actor", "Outcome", "Refused", "Workshops"]

T = TypeVar("T")


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

    # ---- buttons and forms -------------------------------------------------------------

    def attempt(self, actor: Actor, command: commands.Command, *, made_for: int) -> Outcome:
        """Carry out a click or a form's command made for workshop `made_for`, and tell the
        person the answer ephemerally in the channel (through the outbox, after the ack).

        The click is checked as it arrives, as a typed line is: the person's rights now, and
        that the channel's workshop is still the one the button or form was made for (a stale
        button on an old message, or a payload from another channel or workspace, is refused).
        A refusal changes nothing; `Outcome.told` says whether it could be told in the channel.
        """
        registration = HANDLERS[type(command)]
        try:
            with unit_of_work(self._engine) as session:
                answer = self._dispatch(session, actor, command, registration, made_for)
                # `_dispatch` checked it is the channel's workshop (already in the session)
                workshop = session.get(Workshop, made_for)
                assert workshop is not None
                self._tell(session, workshop, actor.user_id, answer)
        except (Refused, UnknownReference) as refusal:
            notice = messages.notice(f":no_entry_sign: {refusal}")
            return Outcome(notice, refused=str(refusal), told=self._tell_refusal(actor, notice))
        self._wake()
        return Outcome(answer)

    def look(self, actor: Actor, made_for: int | None, reader: Callable[[Action], T]) -> T:
        """Read what a form needs (an element, the choices of a picker) from workshop
        `made_for`, checked as `attempt` checks a click; raises `Refused` otherwise.
        `made_for` None is the channel's open workshop: a form asked for by a typed line."""
        with unit_of_work(self._engine, read_only=True) as session:
            if made_for is None:
                found = repo.open_workshop(
                    session, team_id=actor.team_id, channel_id=actor.channel_id
                )
                if found is None:
                    raise refusal_without_workshop(session, actor)
                workshop, made_for = found, row_id(found)
            else:
                workshop = _made_for(session, actor, made_for, for_update=False)
            facilitators = repo.facilitators(session, workshop_id=made_for)
            is_facilitator = actor.user_id in facilitators
            try:
                return reader(Action(session, actor, self._clock.now(), workshop, is_facilitator))
            except UnknownReference as gone:  # a stale menu of an element dropped since
                raise Refused(str(gone)) from gone

    def channel_workshop(self, actor: Actor) -> int:
        """The id of the open workshop in the actor's channel, for a form opened outside any
        Storm message (a shortcut); raises `Refused` saying why there is none."""
        with unit_of_work(self._engine, read_only=True) as session:
            workshop = repo.open_workshop(
                session, team_id=actor.team_id, channel_id=actor.channel_id
            )
            if workshop is None:
                raise refusal_without_workshop(session, actor)
            return row_id(workshop)

    def tell(self, actor: Actor, answer: Post) -> bool:
        """Show `answer` to the person in the channel's workshop, after the ack; False when
        the channel has no workshop to post through."""
        return self._tell_refusal(actor, answer)

    def _tell_refusal(self, actor: Actor, notice: Post) -> bool:
        with unit_of_work(self._engine) as session:
            workshop = repo.open_workshop(
                session, team_id=actor.team_id, channel_id=actor.channel_id
            ) or repo.last_workshop(session, team_id=actor.team_id, channel_id=actor.channel_id)
            if workshop is None:
                return False
            self._tell(session, workshop, actor.user_id, notice)
        self._wake()
        return True

    def _tell(self, session: Session, workshop: Workshop, user_id: str, answer: Post) -> None:
        repo.schedule_post(
            session,
            workshop_id=row_id(workshop),
            kind="ephemeral",
            due_at=self._clock.now(),
            step_number=workshop.current_step,
            payload=_ephemeral(user_id, answer),
        )

    def _dispatch(
        self,
        session: Session,
        actor: Actor,
        command: commands.Command,
        registration: Registration,
        made_for: int | None = None,
    ) -> Post:
        now = self._clock.now()
        if registration.needs == "channel":
            return registration.handler(Context(session, actor, now), command)
        # The workshop's row is locked until the command's transaction ends: writers to one
        # workshop queue there (PostgreSQL), so what one reads to decide cannot change under it.
        if made_for is not None:
            workshop: Workshop | None = _made_for(session, actor, made_for)
        else:
            workshop = repo.open_workshop(
                session, team_id=actor.team_id, channel_id=actor.channel_id, for_update=True
            )
        if workshop is None and registration.after_end:
            # The team afterwards still reads and exports the channel's last workshop.
            workshop = repo.last_workshop(
                session, team_id=actor.team_id, channel_id=actor.channel_id, for_update=True
            )
        if workshop is None:
            raise refusal_without_workshop(session, actor)
        if made_for is not None and workshop.finished_at is not None and not registration.after_end:
            raise Refused(
                f"The workshop *{literal(workshop.title)}* has ended: its buttons do nothing now."
            )
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
                session, team_id=actor.team_id, channel_id=actor.channel_id, for_update=True
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
                action.withdraw_messages([element])
                answer = messages.notice(f"Removed {label(element)}.")
            action.schedule("ephemeral", _ephemeral(actor.user_id, answer))

    def vote_by_message(
        self,
        actor: Actor,
        *,
        message_ts: str,
        on: bool,
        elements: tuple[int, tuple[str, ...]] | None = None,
    ) -> bool:
        """:+1: added to (or removed from) an element's message.

        False when Storm has no record of that message. `elements` (workshop id and element
        IDs, read from the message's metadata) names them when the record is missing, because
        the message went out just before a crash or is not recorded yet; it is recorded then.
        A message that several elements share takes no vote: which one would it be for? The
        person is told to use the Vote button of the one they mean (SPEC §4.3).
        """
        with self._reaction(actor) as action:
            if action is None:
                return True
            on_message = repo.elements_by_message(
                action.session, workshop_id=action.workshop_id, message_ts=message_ts
            )
            if not on_message and elements is not None and elements[0] == action.workshop_id:
                on_message = _by_keys(action, elements[1])
                for found in on_message:
                    if found.message_ts is None:
                        found.message_ts = message_ts
                        action.session.add(found)
            if not on_message:
                return False
            shown = [e for e in on_message if not repo.withdrawn(e)] or on_message
            if len(shown) > 1:
                if on:
                    action.schedule("ephemeral", _ephemeral(actor.user_id, _shared(shown)))
                return True
            target = shown[0]
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


@dataclass(frozen=True)
class Outcome:
    """What a click or a form did: the answer, why it was refused (None when it was not), and
    whether the answer was queued for the person in the channel."""

    answer: Post
    refused: str | None = None
    told: bool = True


STALE = "That button belongs to an earlier workshop or another channel: it does nothing now."


def _made_for(
    session: Session, actor: Actor, workshop_id: int, *, for_update: bool = True
) -> Workshop:
    """Workshop `workshop_id`, if it is the one in the actor's workspace and channel (open
    or, for what still works afterwards, ended), locked unless only read (`for_update`
    False: a form's reading must not queue behind the workshop's writers); a button or form
    never reaches further."""
    workshop = repo.open_workshop(
        session, team_id=actor.team_id, channel_id=actor.channel_id, for_update=for_update
    ) or repo.last_workshop(
        session, team_id=actor.team_id, channel_id=actor.channel_id, for_update=for_update
    )
    if workshop is None or workshop.id != workshop_id:
        raise Refused(STALE)
    return workshop


def _capture(action: Action, kind: str, text: str, author: str, source_ts: str) -> Post:
    if kind == "event":
        element = action.new_element("event", text, author=author, source_ts=source_ts)
        return messages.notice(
            f"Added {label(element)} from that message.{action.naming_notes(element)}"
        )
    on_message = [
        e
        for e in repo.elements_by_message(
            action.session, workshop_id=action.workshop_id, message_ts=source_ts
        )
        if not repo.withdrawn(e)
    ]
    if len(on_message) > 1:
        return _shared(on_message, ask=True)
    about = on_message[0] if on_message else None
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


def _by_keys(action: Action, keys: tuple[str, ...]) -> list[Element]:
    """The elements these IDs are, as they were made (not followed through merges), dropped
    or not: those a message's metadata says it carries."""
    found = []
    for ref in keys:
        parsed = parse_element_key(ref)
        element = (
            repo.element_by_key(
                action.session, workshop_id=action.workshop_id, kind=parsed[0], number=parsed[1]
            )
            if parsed is not None
            else None
        )
        if element is not None:
            found.append(element)
    return found


def _shared(elements: list[Element], *, ask: bool = False) -> Post:
    """Why a reaction on a message that several elements share does nothing: the buttons
    under each element say which one is meant."""
    keys = ", ".join(f"*{key(e)}*" for e in elements)
    if ask:
        return messages.notice(
            f"That message holds several elements ({keys}): to ask about one, choose "
            "*Hotspot on this…* in its menu, or `/storm hotspot <question> on <ID>`."
        )
    return messages.notice(
        f"That message holds several elements ({keys}): vote with the *Vote* button under the "
        "one you mean, or `/storm vote <ID>`."
    )


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

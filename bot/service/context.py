"""What every handler of the service works with: who acted, in which transaction and workshop.

An `Action` is one person's action on one workshop inside one transaction: it resolves
references, makes elements, schedules posts (into the outbox, in the same transaction) and
records contributions. `Refused` is an action Storm will not do, said in words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import naming
from bot.core.grammar import USAGES
from bot.core.messages import CHANNEL_PROBLEMS, Post
from bot.core.model import KIND_LETTERS, element_key, normalise, parse_element_key
from bot.core.references import Candidate, UnknownReference, resolve_by_name
from bot.core.steps import STEPS
from bot.core.text import escape, literal, with_article
from storage import capture, journal
from storage import repository as repo
from storage.tables import Element, Workshop


class Refused(Exception):
    """An action Storm will not do; the message is shown to the person as it is (escaped)."""


@dataclass(frozen=True)
class Actor:
    """Who acted, and where: every action is scoped by workspace and channel."""

    team_id: str
    channel_id: str
    user_id: str


NO_WORKSHOP = "There is no workshop in this channel. Start one with `/storm start <title>`."


@dataclass(frozen=True)
class Request:
    """One person's request, for a handler that opens its own short transaction."""

    engine: Engine
    actor: Actor
    now: datetime


@dataclass
class Context:
    """One person's request inside one transaction, before any workshop is involved."""

    session: Session
    actor: Actor
    now: datetime


@dataclass
class Action(Context):
    """One person's action on one workshop, inside one transaction.

    `step` is the step the command belongs to (its registration's), for "noted early".
    `made` holds the elements this action made, by normalised name: a name names them first,
    so that several commands carried out as one (`commands.Several`) can link and give fields
    to what an earlier one made, even where an older element has the same name.
    """

    workshop: Workshop
    is_facilitator: bool
    step: int | None = None
    made: dict[str, list[Element]] = field(default_factory=dict)

    @property
    def workshop_id(self) -> int:
        assert self.workshop.id is not None
        return self.workshop.id

    # ---- references ----------------------------------------------------------------

    def resolve(self, ref: str, *kinds: str) -> Element:
        """The live element `ref` names (ID, merged ID or exact name), of one of `kinds`."""
        parsed = parse_element_key(ref)
        if parsed is not None:
            element = repo.element_by_key(
                self.session, workshop_id=self.workshop_id, kind=parsed[0], number=parsed[1]
            )
            if element is None:
                raise UnknownReference(f"There is no {literal(ref.upper())} in this workshop.")
            element = self.survivor(element)
            if element.dropped_at is not None:
                raise UnknownReference(f"{literal(ref.upper())} was dropped.")
        elif made := [e for e in self.made.get(normalise(ref), []) if not kinds or e.kind in kinds]:
            element = made[0]
        else:
            candidates = repo.elements_named(
                self.session, workshop_id=self.workshop_id, kinds=kinds or KIND_LETTERS
            )
            by_key = {key(e): e for e in candidates}
            chosen = resolve_by_name(ref, [Candidate(k, e.name, e.kind) for k, e in by_key.items()])
            element = by_key[chosen.key]
        if kinds and element.kind not in kinds:
            wanted = " or ".join(kinds)
            raise Refused(
                f"{key(element)} is {with_article(element.kind)}, not {with_article(wanted)}."
            )
        return element

    def survivor(self, element: Element) -> Element:
        """Follow merges, so a merged element's ID still resolves (SPEC §3)."""
        return repo.survivor(self.session, element)

    def find_or_create(self, kind: str, name: str) -> tuple[Element, bool]:
        """The element of `kind` that `name` names (ID or name), or a new one called `name`."""
        try:
            return self.resolve(name, kind), False
        except UnknownReference:
            if parse_element_key(name) is not None:
                raise
            return self.new_element(kind, name), True

    # ---- changes --------------------------------------------------------------------

    def new_element(self, kind: str, name: str, **values: Any) -> Element:
        """A new element, posted in the current step's thread and counted as a contribution."""
        element_id, _ = capture.in_session(self.session).add_element(
            workshop_id=self.workshop_id,
            kind=kind,
            name=name,
            keys=naming.name_keys(name),
            author=values.pop("author", self.actor.user_id),
            added_by=self.actor.user_id,
            step_number=self.workshop.current_step,
            now=self.now,
            **values,
        )
        journal.record_insert(self.session, "element", element_id)
        self.contribute()
        self.schedule("element", {"element_id": element_id})
        element = self.session.get(Element, element_id)
        assert element is not None
        self.made.setdefault(normalise(name), []).append(element)
        return element

    def contribute(self) -> None:
        repo.add_contribution(
            self.session,
            workshop_id=self.workshop_id,
            step_number=self.workshop.current_step,
            user_id=self.actor.user_id,
            at=self.now,
        )

    def schedule(self, kind: str, payload: dict[str, Any] | None = None) -> None:
        """Queue a post to go out right after this transaction commits."""
        repo.schedule_post(
            self.session,
            workshop_id=self.workshop_id,
            kind=kind,
            due_at=self.now,
            step_number=self.workshop.current_step,
            payload=payload,
        )

    def update_messages(self, element_ids: Iterable[int]) -> None:
        """Keep these elements' messages true (SPEC §4.3): queue an update of each one posted.

        An element whose message has not gone out yet needs none: its post renders it as it
        is when sent (and the sender checks for a change made while it was on its way).
        """
        for element_id in sorted(set(element_ids)):
            element = self.session.get(Element, element_id)
            if element is not None and element.message_ts:
                repo.schedule_element_update(
                    self.session, workshop_id=self.workshop_id, element_id=element_id, now=self.now
                )

    def withdraw_messages(self, elements: Iterable[Element]) -> None:
        """Elements taken back (an undone capture, a removed :zap:) leave their messages: a
        message that was theirs alone is deleted; one they shared with others that stay is
        updated without them (SPEC §4.3), once however many of its elements went."""
        for ts in dict.fromkeys(e.message_ts for e in elements if e.message_ts):
            staying = [
                other
                for other in repo.elements_by_message(
                    self.session, workshop_id=self.workshop_id, message_ts=ts
                )
                if not repo.withdrawn(other)
            ]
            if staying:
                repo.schedule_element_update(
                    self.session,
                    workshop_id=self.workshop_id,
                    element_id=row_id(staying[0]),
                    now=self.now,
                )
            else:
                self.schedule("delete_message", {"ts": ts})

    def link(self, kind: str, source: Element, target: Element) -> bool:
        assert source.id is not None and target.id is not None
        return repo.add_link(
            self.session,
            workshop_id=self.workshop_id,
            kind=kind,
            source_id=source.id,
            target_id=target.id,
        )

    def require_owner(self, element: Element, what: str) -> None:
        if not (self.is_facilitator or element.author == self.actor.user_id):
            raise Refused(f"Only a facilitator or the author of {key(element)} can {what} it.")

    def early(self, activity: str, step: int | None = None) -> str:
        """“Noted early: …” when this belongs to a later step than the current one: `step`,
        or the command's own."""
        number = step or self.step
        if number is None or number <= self.workshop.current_step:
            return ""
        return f"\n_Noted early: {activity} belong to step {number}, {STEPS[number - 1].name}._"

    def naming_notes(self, element: Element) -> str:
        """Capture's naming help for a new or renamed element (SPEC §4.1), escaped."""
        assert element.id is not None
        return naming_notes(
            capture.in_session(self.session),
            self.workshop_id,
            element.id,
            element.kind,
            element.name,
            key(element),
        )


def naming_notes(
    store: capture.Capture, workshop_id: int, element_id: int, kind: str, name: str, key: str
) -> str:
    """Past tense and possible twins, looked up through the name index (one query)."""
    twins = store.twins(
        workshop_id=workshop_id,
        kind=kind,
        keys=naming.twin_keys(name),
        besides=element_id,
    )
    return notes_on(name, kind, key, twins_as_candidates(twins))


def twins_as_candidates(twins: Iterable[capture.Twin]) -> list[Candidate]:
    """Twins found in the name index, as the naming help compares them."""
    return [Candidate(element_key(t.kind, t.number), t.name, t.kind) for t in twins]


def notes_on(name: str, kind: str, key: str, existing: list[Candidate]) -> str:
    """Naming help for element `key` named `name`, among `existing` elements that may be its
    twins (SPEC §4.1), escaped."""
    notes = naming.hints(name, kind, key, existing)
    return "".join(f"\n:bulb: {literal(note)}" for note in notes)


def usage(sub_command: str) -> str:
    """How a sub-command is written, for a refusal that is about how the line was written."""
    shown = USAGES[sub_command]
    return f"Usage: `{escape(shown.syntax)}` (e.g. `{escape(shown.example)}`)"


def key(element: Element) -> str:
    return element_key(element.kind, element.number)


def label(element: Element) -> str:
    """`*E3* Order Placed`, escaped, for confirmations."""
    return f"*{key(element)}* {literal(element.name)}"


def row_id(row: Workshop | Element) -> int:
    """A row's id, which exists once the row is flushed."""
    assert row.id is not None, "rows are flushed before their id is used"
    return row.id


def with_post_problem(answer: Post, post_problem: str | None) -> Post:
    """Commands in a channel that refuses Storm's posts say so until a post goes through."""
    if post_problem not in CHANNEL_PROBLEMS:
        return answer
    problem = f":warning: My posts to this channel fail: {CHANNEL_PROBLEMS[post_problem]}"
    return replace(answer, sections=(*answer.sections, problem))


def refusal_without_workshop(session: Session, actor: Actor) -> Refused:
    """Why a channel with no open workshop cannot do this: it never had one, or its last one
    has ended (then say what still works on it)."""
    workshop = repo.last_workshop(session, team_id=actor.team_id, channel_id=actor.channel_id)
    if workshop is None:
        return Refused(NO_WORKSHOP)
    return Refused(
        f"The workshop *{literal(workshop.title)}* in this channel has ended. `/storm report`, "
        "`check`, `export` and `trace` still work on it; `/storm start <title>` begins a new one."
    )

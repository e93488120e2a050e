"""The model as the core reads it: a snapshot of one workshop, plain dataclasses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from bot.core.steps import STEPS, Step

KIND_LETTERS: dict[str, str] = {
    "event": "E",
    "command": "C",
    "view": "V",
    "aggregate": "A",
    "hotspot": "H",
    "policy": "P",
    "actor": "R",
    "external": "X",
    "scenario": "S",
}
KINDS_BY_LETTER = {letter: kind for kind, letter in KIND_LETTERS.items()}
KIND_EMOJI: dict[str, str] = {
    "event": ":large_orange_square:",
    "command": ":large_blue_square:",
    "view": ":large_green_square:",
    "aggregate": ":large_yellow_square:",
    "hotspot": ":large_red_square:",
    "policy": ":large_purple_square:",
    "actor": ":bust_in_silhouette:",
    "external": ":white_large_square:",
    "scenario": ":clipboard:",
}
_ID = re.compile(r"([A-Za-z])(\d+)")


def element_key(kind: str, number: int) -> str:
    """The short ID people type: `E3`."""
    return f"{KIND_LETTERS[kind]}{number}"


def parse_element_key(ref: str) -> tuple[str, int] | None:
    """(`event`, 3) for `E3` or `e3`; None when `ref` is not shaped like an ID."""
    match = _ID.fullmatch(ref.strip())
    if not match or match.group(1).upper() not in KINDS_BY_LETTER:
        return None
    return KINDS_BY_LETTER[match.group(1).upper()], int(match.group(2))


def normalise(name: str) -> str:
    """Names and fields match when equal ignoring case, spaces, `_` and `-` (SPEC §3)."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A field of a command, event or view (SPEC §3).

    `generated` is `name*` (made by the system); `origin` is an explicit origin as written,
    `<element key>.<field name>` (for example `E3.amount`), already resolved to a key.
    """

    name: str
    generated: bool = False
    origin: str | None = None

    def __str__(self) -> str:
        if self.origin:
            return f"{self.name} <- {self.origin}"
        return f"{self.name}*" if self.generated else self.name


@dataclass(frozen=True, slots=True)
class Scenario:
    """A given/when/then specification, stored as written (keys of whatever it names).

    A command scenario has `when` and either `then` (events) or `error`; a view scenario has
    `view` and no `when`.
    """

    given: tuple[str, ...] = ()
    when: str | None = None
    then: tuple[str, ...] = ()
    error: str | None = None
    view: str | None = None


@dataclass(frozen=True, slots=True)
class ElementInfo:
    """One live element with its relations, as the core reads it.

    Relations are element keys: `causes` (a command's or external system's events), `fed_by`
    (a view's source events), `issues` (an actor's commands; a policy's one command), `on` (a
    policy's triggering event, or the element a hotspot is about), `members` (an aggregate's
    commands and events), `aggregate` (the aggregate a command or event belongs to).
    """

    key: str
    kind: str
    name: str
    author: str
    votes: int
    step_number: int
    position: int | None = None
    fields: tuple[FieldSpec, ...] = ()
    causes: tuple[str, ...] = ()
    fed_by: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    on: str | None = None
    members: tuple[str, ...] = ()
    aggregate: str | None = None
    resolved: bool = False
    scenario: Scenario | None = None
    created_at: datetime | None = None
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """`E3 Order Placed`, unescaped."""
        return f"{self.key} {self.name}"


@dataclass(frozen=True, slots=True)
class StepState:
    """A step's timebox and where it stands."""

    number: int
    timebox: timedelta
    opened_at: datetime | None
    deadline_at: datetime | None
    closed_at: datetime | None

    @property
    def step(self) -> Step:
        return STEPS[self.number - 1]


@dataclass(frozen=True)
class Snapshot:
    """Everything the core needs to compose a post about one workshop."""

    team_id: str
    title: str
    channel_id: str
    facilitators: tuple[str, ...]
    current_step: int
    steps: tuple[StepState, ...]
    auto_advance: bool
    started_at: datetime
    finished_at: datetime | None
    elements: tuple[ElementInfo, ...]
    contributors_by_step: dict[int, frozenset[str]] = field(default_factory=dict)
    members: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)
    dropped: tuple[tuple[str, str], ...] = ()  # (key, name) of elements gone from the board
    # Keys among `dropped` of elements taken back rather than dropped with `/storm drop`: an
    # addition undone, an event whose :zap: was removed. Summaries do not call them drops.
    withdrawn: frozenset[str] = frozenset()

    @property
    def current(self) -> StepState:
        return self.steps[self.current_step - 1]

    @property
    def events(self) -> list[ElementInfo]:
        """Live events in timeline order (a new list each time; sorted once)."""
        return list(self._events)

    @cached_property
    def _events(self) -> tuple[ElementInfo, ...]:
        events = [e for e in self.elements if e.kind == "event"]
        return tuple(sorted(events, key=lambda e: (e.position or 0, int(e.key[1:]))))

    def name_of(self, user_id: str) -> str:
        """A person's name as Slack shows it, never a mention."""
        return self.names.get(user_id, user_id)

    def contributors(self, step_number: int) -> frozenset[str]:
        return self.contributors_by_step.get(step_number, frozenset())

    def not_contributed(self, step_number: int) -> list[str]:
        """Channel members (and earlier contributors) who have done nothing in this step."""
        done = self.contributors(step_number)
        everyone = dict.fromkeys(self.members)
        for users in self.contributors_by_step.values():
            everyone.update(dict.fromkeys(sorted(users)))
        return [user for user in everyone if user not in done]

    def added_in_step(self, step_number: int) -> list[ElementInfo]:
        return [e for e in self.elements if e.step_number == step_number]

    def by_key(self) -> dict[str, ElementInfo]:
        """Live elements by ID, merged IDs included as aliases of their survivor (built once:
        reports look references up for every line)."""
        return self._index

    @cached_property
    def _index(self) -> dict[str, ElementInfo]:
        found: dict[str, ElementInfo] = {}
        for element in self.elements:
            found[element.key] = element
            for alias in element.aliases:
                found.setdefault(alias, element)
        return found

    def of_kind(self, kind: str) -> list[ElementInfo]:
        """Live elements of one kind in ID order (events in timeline order); a new list each
        time, from lists grouped and sorted once per snapshot (reports ask for each kind
        several times)."""
        if kind == "event":
            return self.events
        found = self._sorted_kinds.get(kind)
        if found is None:
            unsorted = self._kinds.get(kind, [])
            found = self._sorted_kinds[kind] = tuple(sorted(unsorted, key=lambda e: int(e.key[1:])))
        return list(found)

    @cached_property
    def _kinds(self) -> dict[str, list[ElementInfo]]:
        grouped: dict[str, list[ElementInfo]] = {}
        for element in self.elements:
            grouped.setdefault(element.kind, []).append(element)
        return grouped

    @cached_property
    def _sorted_kinds(self) -> dict[str, tuple[ElementInfo, ...]]:
        return {}

    def counts_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for element in self.elements:
            counts[element.kind] = counts.get(element.kind, 0) + 1
        return counts

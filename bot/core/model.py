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
    "screen": "U",
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
    "screen": ":desktop_computer:",
}
# The kinds that carry fields (SPEC §3): policies and screens too, as Event Modeling's
# processors and screens do.
WITH_FIELDS: tuple[str, ...] = ("command", "event", "view", "policy", "screen")
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


# A field's types (SPEC §3), spelled as written back; `String` is the default.
FIELD_TYPES = (
    "String",
    "Int",
    "Long",
    "Double",
    "Decimal",
    "Boolean",
    "UUID",
    "Date",
    "DateTime",
    "Custom",
)
DEFAULT_FIELD_TYPE = "String"
_WORDS = re.compile(r"[^\W_]+")
_APOSTROPHES = re.compile("['\u2019]")  # ' and its typographic twin


def code_identifier(name: str) -> str:
    """The identifier code uses for a field named `name` (SPEC §3), in camelCase: `order id`,
    `order_id` and `Order ID` all give `orderId`, so that fields matching by name also match
    in code. A word's inner capitals are kept (`orderId` stays as it is) unless the whole word
    is capitals (`ID` is a word, `Id`); apostrophes join (`customer's` → `customers`). A name
    starting with a digit gets a leading `_`, since no language's identifier may."""
    words = _WORDS.findall(_APOSTROPHES.sub("", name))
    parts = []
    for index, word in enumerate(words):
        if len(word) > 1 and word.isupper():
            word = word.lower()
        first = word[0].lower() if index == 0 else word[0].upper()
        parts.append(first + word[1:])
    found = "".join(parts) or "field"
    return f"_{found}" if found[0].isdigit() else found


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A field of a command, event, view, policy or screen (SPEC §3).

    `generated` is `name*` (made by the system); `origin` is an explicit origin as written,
    `<element key>.<field name>` (for example `E3.amount`), already resolved to a key. `type`
    is one of `FIELD_TYPES` and `is_list` says `Type[]`. `identifier` is the name code uses
    when it was given (imported); None means it is derived from the name (`code_identifier`).
    An imported Event Modeling file may also say that the field identifies its element
    (`id_attribute`), give an example value (`example`, as JSON text), name a source field
    without its element (`mapping`, written back as it was) and give a `Custom` field fields of
    its own (`subfields`, the list as JSON text in Event Modeling's words).
    """

    name: str
    generated: bool = False
    origin: str | None = None
    type: str = DEFAULT_FIELD_TYPE
    is_list: bool = False
    identifier: str | None = None
    id_attribute: bool = False
    example: str | None = None
    mapping: str | None = None
    subfields: str | None = None

    @property
    def written_type(self) -> str:
        """`Decimal`, or `Decimal[]` for a list."""
        return f"{self.type}[]" if self.is_list else self.type

    @property
    def typed_name(self) -> str:
        """`total:Decimal`; the name alone when the type is the default, `String`."""
        if self.type == DEFAULT_FIELD_TYPE and not self.is_list:
            return self.name
        return f"{self.name}:{self.written_type}"

    @property
    def code_name(self) -> str:
        """The field's identifier for code: the one given, or derived from its name."""
        return self.identifier or code_identifier(self.name)

    def __str__(self) -> str:
        """The field as `/storm fields` takes it: `order id:UUID*`, `total:Decimal <- E3.amount`."""
        if self.origin:
            return f"{self.typed_name} <- {self.origin}"
        return f"{self.typed_name}*" if self.generated else self.typed_name


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
    comments: tuple[str, ...] = ()  # an imported specification's comments
    data: tuple[StepData, ...] = ()  # an imported specification's data, step by step


@dataclass(frozen=True, slots=True)
class StepData:
    """The fields (with example values) an imported specification gives one of its steps:
    `part` is given, when or then, `index` the step's place there; `step_id` the file's id."""

    part: str
    index: int
    fields: tuple[FieldSpec, ...] = ()
    step_id: str | None = None


@dataclass(frozen=True, slots=True)
class Imported:
    """What an imported Event Modeling file said of an element that Storm keeps to write it
    back: its id there, its description, that an event is EXTERNAL, and the slice cut around
    it (id, title, status, the aggregates it lists)."""

    external_id: str | None = None
    description: str | None = None
    external_context: bool = False
    slice_id: str | None = None
    slice_title: str | None = None
    slice_status: str | None = None
    slice_aggregates: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ElementInfo:
    """One live element with its relations, as the core reads it.

    Relations are element keys: `causes` (a command's or external system's events), `fed_by`
    (a view's source events), `issues` (an actor's or a screen's commands; a policy's one
    command), `shows` (a screen's views), `on` (a policy's trigger, an event or a view, or the
    element a hotspot is about), `triggers` (all of a policy's triggers, `on` first: an
    imported processor may read several views), `members` (an aggregate's elements),
    `aggregate` (the aggregate an element belongs to). `imported` is what an imported file
    said of it that Storm writes back.
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
    shows: tuple[str, ...] = ()
    on: str | None = None
    triggers: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    aggregate: str | None = None
    resolved: bool = False
    answer: str | None = None  # a resolved hotspot's answer, as typed
    scenario: Scenario | None = None
    created_at: datetime | None = None
    aliases: tuple[str, ...] = ()
    imported: Imported | None = None

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

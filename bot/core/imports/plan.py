"""What an imported file holds, in Storm's terms, before anything is stored: a `Plan`.

Every reader (one module per file format) turns bytes into the same plan, so that storing,
confirming and reporting never depend on where a model came from. Elements are named by the
file's own ids (`ref`); the service gives them Storm IDs when it stores them. A plan is
complete and checked: every reference names an element of the plan, every name follows the
rules of a typed name. A file that cannot become one raises `ImportProblem`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.model import DEFAULT_FIELD_TYPE, KIND_LETTERS


class ImportProblem(ValueError):
    """A file Storm will not import; the message names the first problem and where it is
    (`slices[3].commands[0].title: …`), in words, unescaped."""


@dataclass(frozen=True, slots=True)
class PlanField:
    """A field as the file gives it. `origin` is (element ref, field name) when the file ties
    the field to a source element; `mapping` a source field the file names without one (Event
    Modeling's `mapping`), kept as written. `example` is the file's example value as JSON text."""

    name: str
    type: str = DEFAULT_FIELD_TYPE
    is_list: bool = False
    generated: bool = False
    origin: tuple[str, str] | None = None
    mapping: str | None = None
    identifier: str | None = None
    id_attribute: bool = False
    example: str | None = None
    subfields: str | None = None  # a Custom field's fields, as JSON text in Event Modeling's words


@dataclass(frozen=True, slots=True)
class PlanStep:
    """The data a file gives one step of a specification (`given` 0, `then` 1…): its own
    fields and example values, which may differ from the element's, and the step's id."""

    part: str  # "given", "when" or "then"
    index: int
    fields: tuple[PlanField, ...] = ()
    step_id: str | None = None


@dataclass(frozen=True, slots=True)
class PlanScenario:
    """A given/when/then specification: refs of the plan's elements (`given` keeps
    repetitions), or an error text for a rejection."""

    given: tuple[str, ...] = ()
    when: str | None = None
    then: tuple[str, ...] = ()
    error: str | None = None
    view: str | None = None
    comments: tuple[str, ...] = ()
    data: tuple[PlanStep, ...] = ()


@dataclass(frozen=True, slots=True)
class SliceMeta:
    """An Event Modeling slice's own words, kept on the element the slice is cut around (its
    command, view, processor…), so that an export cuts the same slice and writes them back."""

    slice_id: str | None = None
    title: str | None = None
    status: str | None = None
    # The aggregates the slice lists, which need not be its elements' (Nebulit writes an
    # element's `aggregate: "default"` and leaves it out of the slice's list).
    aggregates: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class PlanElement:
    """One element of the file. Relations are refs of other plan elements, as in
    `bot.core.model.ElementInfo`: `causes`, `fed_by`, `issues`, `shows`, `on` (a policy's
    triggers, in order, or the one element a hotspot is about), `aggregate`."""

    ref: str
    kind: str
    name: str
    number: int | None = None  # the Storm ID's number the file gives (storm-model/1)
    author: str | None = None  # a Slack user id, of the workspace `Plan.team`
    fields: tuple[PlanField, ...] = ()
    causes: tuple[str, ...] = ()
    fed_by: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    shows: tuple[str, ...] = ()
    on: tuple[str, ...] = ()
    aggregate: str | None = None
    votes: int = 0
    resolved: bool = False
    answer: str | None = None
    scenario: PlanScenario | None = None
    # Event Modeling's own words for the element: its id, description and context
    # (`EXTERNAL` events), and the slice it is cut around (`SliceMeta`).
    external_id: str | None = None
    description: str | None = None
    external_context: bool = False
    slice: SliceMeta | None = None

    def __post_init__(self) -> None:
        assert self.kind in KIND_LETTERS, self.kind


@dataclass(frozen=True)
class Plan:
    """A whole file: its title (for a workshop it starts), what it is (`storm-model/1`,
    `Event Modeling`), and its elements in the order they are to be made (events in timeline
    order). `keep_numbers` says the refs are Storm IDs worth keeping (a storm-model/1 file
    into an empty workshop keeps `E3` as `E3`)."""

    title: str
    source: str
    elements: tuple[PlanElement, ...]
    keep_numbers: bool = False
    team: str | None = None  # the Slack workspace the file's user ids belong to

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for element in self.elements:
            counts[element.kind] = counts.get(element.kind, 0) + 1
        return counts

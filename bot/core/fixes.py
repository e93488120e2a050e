"""One-click fixes for completeness findings, and the scenario form's draft (SPEC §4.4, §6).

A finding whose fix is mechanical gets a Fix button on the completeness report. What the
button does is worked out again from the model when it is clicked (`remedy`), never read
from the button: the button only names the finding (`FixTarget`), so a finding fixed since
the report was posted is recognised as such (`find` no longer finds it) and an old button
explains itself instead of doing something the model no longer needs.

A remedy either is one command of the vocabulary (`Apply`: carry a field, mark it generated)
or needs a person's choice first (`ChooseOrigin`, `ChooseAggregate`, `WriteScenario`), which
the Slack adapter asks for in a form. Pure functions of a snapshot, like the check itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

from bot.core import controls
from bot.core.commands import AddField, FieldInput
from bot.core.completeness import Finding
from bot.core.controls import Button
from bot.core.model import DEFAULT_FIELD_TYPE, ElementInfo, Snapshot, normalise

# Fix buttons one report carries: two actions blocks of Slack's 25, so a long report stays a
# report; fixing those and checking again brings the next ones.
MAX_FIXES = 50
_SHOWN_FIELD = 24  # characters of a field name a button's label shows (labels stop at 75)


@dataclass(frozen=True)
class FixTarget:
    """What a Fix button names: the workshop it was made for and the finding (its code,
    element and field), and nothing about what to do: that is decided when it is clicked."""

    workshop_id: int
    code: str
    element: str
    field: str | None

    def value(self) -> str:
        """The button's value (Slack allows 2,000 characters; names are at most 200)."""
        return json.dumps(
            [self.workshop_id, self.code, self.element, self.field],
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @staticmethod
    def parse(value: str) -> FixTarget | None:
        """The target a button's value names; None for anything else."""
        try:
            workshop, code, element, field = json.loads(value)
        except (ValueError, TypeError):
            return None
        if (
            not isinstance(workshop, int)
            or not isinstance(code, str)
            or not isinstance(element, str)
            or not (field is None or isinstance(field, str))
        ):
            return None
        return FixTarget(workshop, code, element, field)

    def about(self) -> str:
        """The finding in words, plain: `C1 “amount” (input-lost)`."""
        field = f" “{self.field}”" if self.field is not None else ""
        return f"{self.element}{field} ({self.code})"


def find(findings: tuple[Finding, ...], target: FixTarget) -> Finding | None:
    """The finding `target` names among the current `findings`, if it is still there."""
    wanted = normalise(target.field) if target.field is not None else None
    for finding in findings:
        if finding.code != target.code or finding.element != target.element:
            continue
        if (finding.field is None) == (wanted is None) and (
            finding.field is None or normalise(finding.field) == wanted
        ):
            return finding
    return None


# ---- remedies ------------------------------------------------------------------------


@dataclass(frozen=True)
class Apply:
    """A fix that is one command: nothing to choose."""

    command: AddField


@dataclass(frozen=True)
class ChooseOrigin:
    """A field with no origin: add it to one of `sources` (the commands causing the event,
    or the events feeding the view), or mark it generated where it is."""

    element: ElementInfo
    field: str
    sources: tuple[ElementInfo, ...]


@dataclass(frozen=True)
class ChooseAggregate:
    """A command or event in no aggregate: pick one (`draft` is the likely one) or name a new one."""

    element: ElementInfo
    draft: ElementInfo | None


@dataclass(frozen=True)
class WriteScenario:
    """A command no scenario exercises: the scenario form, drafted from the command's links."""

    command: ElementInfo


Remedy = Apply | ChooseOrigin | ChooseAggregate | WriteScenario


class _Model:
    """The snapshot's live elements by key (aliases included) and the timeline's order."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.by_key = snapshot.by_key()
        self.timeline = {event.key: n for n, event in enumerate(snapshot.events)}

    def get(self, key: str | None, kind: str) -> ElementInfo | None:
        found = self.by_key.get(key.strip().upper()) if key else None
        return found if found is not None and found.kind == kind else None

    def aggregate_key(self, element: ElementInfo) -> str | None:
        """The key of the live aggregate `element` belongs to (a merged one's survivor)."""
        aggregate = self.get(element.aggregate, "aggregate")
        return aggregate.key if aggregate is not None else None

    def related(self, keys: tuple[str, ...], kind: str) -> list[ElementInfo]:
        """The distinct live elements of `kind` that `keys` name, in ID order."""
        found = {e.key: e for e in (self.get(key, kind) for key in keys) if e is not None}
        return sorted(found.values(), key=lambda e: int(e.key[1:]))

    def causing(self, event: ElementInfo) -> list[ElementInfo]:
        """The live commands that cause `event`, in ID order."""
        return self._causing.get(event.key, [])

    @cached_property
    def _causing(self) -> dict[str, list[ElementInfo]]:
        """Commands by the events they cause, built once: a report asks for every finding."""
        found: dict[str, list[ElementInfo]] = {}
        for command in self.snapshot.of_kind("command"):
            for event in self.related(command.causes, "event"):
                found.setdefault(event.key, []).append(command)
        return found

    def on_timeline(self, events: list[ElementInfo]) -> list[ElementInfo]:
        return sorted(events, key=lambda e: self.timeline.get(e.key, 0))


def remedy(snapshot: Snapshot, finding: Finding) -> Remedy | None:
    """How to fix `finding` now, or None when its fix is not mechanical (it needs thought: a
    broken explicit origin, a view fed by nothing, a command that causes nothing yet)."""
    return _remedy(_Model(snapshot), finding)


def _remedy(model: _Model, finding: Finding) -> Remedy | None:
    element = model.by_key.get(finding.element)
    if element is None:
        return None
    name = finding.field
    if finding.code == "input-lost" and name is not None:
        events = model.related(element.causes, "event")
        if not events:
            return None
        lost = next((f for f in element.fields if normalise(f.name) == normalise(name)), None)
        typed = (lost.type, lost.is_list) if lost else (DEFAULT_FIELD_TYPE, False)
        # Carried with the command's type: the event records what the command took.
        return Apply(AddField(events[0].key, FieldInput(name, type=typed[0], is_list=typed[1])))
    if finding.code == "field-no-origin" and name is not None:
        spec = next((f for f in element.fields if normalise(f.name) == normalise(name)), None)
        if spec is None or spec.origin:
            return None
        if element.kind == "event":
            commands = model.causing(element)
            if not commands:
                return Apply(AddField(element.key, FieldInput(spec.name, generated=True)))
            return ChooseOrigin(element, spec.name, tuple(commands))
        sources = model.related(element.fed_by, "event")
        return ChooseOrigin(element, spec.name, tuple(sources)) if sources else None
    if finding.code == "not-aggregated":
        return ChooseAggregate(element, _likely_aggregate(model, element))
    if finding.code == "command-no-scenario":
        return WriteScenario(element)
    return None


def _likely_aggregate(model: _Model, element: ElementInfo) -> ElementInfo | None:
    """The aggregate a command or event most likely belongs to: that of the events the
    command causes, or of the commands causing the event (the first that has one)."""
    if element.kind == "command":
        neighbours = model.related(element.causes, "event")
    else:
        neighbours = model.causing(element)
    for neighbour in neighbours:
        aggregate = model.get(neighbour.aggregate, "aggregate")
        if aggregate is not None:
            return aggregate
    return None


def _short(name: str) -> str:
    return name if len(name) <= _SHOWN_FIELD else name[: _SHOWN_FIELD - 1] + "…"


def label(finding: Finding, found: Remedy) -> str:
    """What a Fix button says: the element, and the fix (`…` when a form asks first)."""
    key = finding.element
    if isinstance(found, Apply):
        field = found.command.field
        if field.generated:
            return f"{key}: mark “{_short(field.name)}” generated"
        return f"{key}: carry “{_short(field.name)}” on {found.command.ref}"
    if isinstance(found, ChooseOrigin):
        return f"{key}: origin of “{_short(found.field)}”…"
    if isinstance(found, ChooseAggregate):
        return f"{key}: put in an aggregate…"
    return f"{key}: write a scenario…"


def fix_buttons(
    snapshot: Snapshot, findings: tuple[Finding, ...], workshop_id: int
) -> tuple[tuple[Button, ...], int]:
    """The Fix buttons of the first `MAX_FIXES` findings that have a mechanical fix, in the
    report's order, and how many findings have one in all."""
    model = _Model(snapshot)
    buttons: list[Button] = []
    fixable = 0
    for finding in findings:
        found = _remedy(model, finding)
        if found is None:
            continue
        fixable += 1
        if len(buttons) < MAX_FIXES:
            target = FixTarget(workshop_id, finding.code, finding.element, finding.field)
            buttons.append(Button(label(finding, found), controls.FIX, target.value()))
    return tuple(buttons), fixable


# ---- the scenario form's draft -------------------------------------------------------


@dataclass(frozen=True)
class ScenarioDraft:
    """What the scenario form starts with for a command: `given`, the events before its
    first caused event on the timeline within its aggregate; `then`, the events it causes
    (both in timeline order); `note` says so in plain words (empty without a command)."""

    command: ElementInfo | None
    given: tuple[ElementInfo, ...] = ()
    then: tuple[ElementInfo, ...] = ()
    note: str = ""


def draft_scenario(snapshot: Snapshot, command_key: str | None) -> ScenarioDraft:
    """The scenario form's draft for the command `command_key` names (None: a blank form)."""
    model = _Model(snapshot)
    command = model.get(command_key, "command")
    if command is None:
        return ScenarioDraft(None)
    then = model.on_timeline(model.related(command.causes, "event"))
    if not then:
        return ScenarioDraft(
            command, note=f"{command.key} causes no event yet: choose what happens."
        )
    aggregate = model.get(command.aggregate, "aggregate")
    if aggregate is None:
        return ScenarioDraft(
            command,
            then=tuple(then),
            note=f"Then: the events {command.key} causes. It is in no aggregate, so given "
            "is left for you.",
        )
    first = model.timeline.get(then[0].key, 0)
    caused = {event.key for event in then}
    given = tuple(
        event
        for event in snapshot.events[:first]
        if event.key not in caused and model.aggregate_key(event) == aggregate.key
    )
    return ScenarioDraft(
        command,
        given=given,
        then=tuple(then),
        note=f"Given: the events of {aggregate.label} before {then[0].label} on the "
        f"timeline. Then: the events {command.key} causes.",
    )

"""What forms show before anything is typed: the element a form acts on, the choices of a
picker, a scenario's draft, what a Fix button finds. Readers for `Workshops.look`, which
checks the click as it arrives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core.completeness import Finding, check
from bot.core.fixes import (
    ChooseAggregate,
    FixTarget,
    Remedy,
    ScenarioDraft,
    WriteScenario,
    draft_scenario,
    find,
    remedy,
)
from bot.core.model import FieldSpec, Snapshot, element_key, normalise
from bot.core.references import UnknownReference
from bot.core.text import literal
from bot.service.context import Action, Refused, key, row_id
from bot.service.snapshots import field_spec, load_snapshot
from storage import repository as repo

# Slack shows at most this many options in a static menu; longer lists are searched.
MAX_OPTIONS = 100


@dataclass(frozen=True)
class FormElement:
    """The element a form acts on, as the form prefills it."""

    workshop_id: int
    key: str
    kind: str
    name: str
    fields: tuple[FieldSpec, ...]
    resolved: bool


def element(ref: str) -> Callable[[Action], FormElement]:
    """The live element `ref` names; a dropped or merged one refuses (its message is stale)."""

    def read(action: Action) -> FormElement:
        found = action.resolve(ref)
        if key(found) != ref.upper():
            raise Refused(f"*{ref.upper()}* was merged into *{key(found)}*: use its message.")
        return FormElement(
            workshop_id=action.workshop_id,
            key=key(found),
            kind=found.kind,
            name=found.name,
            fields=tuple(
                field_spec(f) for f in repo.fields_of(action.session, element_id=row_id(found))
            ),
            resolved=found.resolved,
        )

    return read


def choices(
    kinds: tuple[str, ...], *, query: str = "", leave_out: str | None = None
) -> Callable[[Action], tuple[list[tuple[str, str]], bool]]:
    """Live elements of `kinds` as (ID, name), those whose ID, name or both as the option
    shows them contain `query`, in timeline and ID order, at most `MAX_OPTIONS`; and whether
    there were more."""
    wanted = normalise(query)

    def read(action: Action) -> tuple[list[tuple[str, str]], bool]:
        found = repo.elements_named(action.session, workshop_id=action.workshop_id, kinds=kinds)
        found.sort(key=lambda e: (e.kind, e.position or 0, e.number))
        rows = [
            (element_key(e.kind, e.number), e.name)
            for e in found
            if element_key(e.kind, e.number) != leave_out
        ]
        if wanted:
            # As the option shows it too ("E3 Thing 3…"): a person types what they see.
            rows = [r for r in rows if wanted in normalise(r[0] + r[1])]
        return rows[:MAX_OPTIONS], len(rows) > MAX_OPTIONS

    return read


# A picker's options (at most `MAX_OPTIONS`, none when it is searched) and whether it is
# searched as the person types because the model has more.
Choices = tuple[list[tuple[str, str]], bool]


def _choices_of(snapshot: Snapshot, kind: str) -> Choices:
    """Every live element of `kind` (events in timeline order), or a searched picker."""
    rows = [(e.key, e.name) for e in snapshot.of_kind(kind)]
    return (rows, False) if len(rows) <= MAX_OPTIONS else ([], True)


def _still_open(action: Action) -> None:
    """Forms change the model: an ended workshop's buttons and forms do nothing."""
    if action.workshop.finished_at is not None:
        raise Refused(
            f"The workshop *{literal(action.workshop.title)}* has ended: its buttons do "
            "nothing now."
        )


@dataclass(frozen=True)
class ScenarioForm:
    """What the scenario form shows: its draft, and the choices of its pickers."""

    workshop_id: int
    draft: ScenarioDraft
    events: Choices
    commands: Choices
    views: Choices


def _scenario_form(workshop_id: int, snapshot: Snapshot, command: str | None) -> ScenarioForm:
    commands, views = _choices_of(snapshot, "command"), _choices_of(snapshot, "view")
    if not (commands[0] or commands[1] or views[0] or views[1]):
        raise Refused(
            "There is nothing to specify yet: a scenario is about a command or a view. Add one "
            "first (`/storm command <name> -> <event>`)."
        )
    return ScenarioForm(
        workshop_id,
        draft_scenario(snapshot, command),
        _choices_of(snapshot, "event"),
        commands,
        views,
    )


def scenario_form(command: str | None) -> Callable[[Action], ScenarioForm]:
    """The scenario form drafted for the live command `command` names (None: a blank one)."""

    def read(action: Action) -> ScenarioForm:
        _still_open(action)
        found = None
        if command is not None:
            try:
                found = key(action.resolve(command, "command"))
            except UnknownReference as unknown:
                raise Refused(str(unknown)) from None
        return _scenario_form(
            action.workshop_id, load_snapshot(action.session, action.workshop), found
        )

    return read


@dataclass(frozen=True)
class FixPlan:
    """What a Fix button finds when clicked: the finding it names if it is still there, its
    remedy if one is still mechanical, and what the remedy's form needs."""

    target: FixTarget
    finding: Finding | None = None
    remedy: Remedy | None = None
    aggregates: Choices = ([], False)
    scenario: ScenarioForm | None = None


def fix(target: FixTarget) -> Callable[[Action], FixPlan]:
    """The finding a Fix button names, checked again on the model as it is now."""

    def read(action: Action) -> FixPlan:
        _still_open(action)
        snapshot = load_snapshot(action.session, action.workshop)
        finding = find(check(snapshot).findings, target)
        if finding is None:
            return FixPlan(target)
        found = remedy(snapshot, finding)
        if isinstance(found, ChooseAggregate):
            return FixPlan(target, finding, found, aggregates=_choices_of(snapshot, "aggregate"))
        if isinstance(found, WriteScenario):
            form = _scenario_form(action.workshop_id, snapshot, found.command.key)
            return FixPlan(target, finding, found, scenario=form)
        return FixPlan(target, finding, found)

    return read


def wrong_refs(
    picked: dict[str, tuple[tuple[str, ...], tuple[str, ...]]],
) -> Callable[[Action], dict[str, str]]:
    """What is wrong with the elements picked in a form, by field: each field's IDs and the
    kinds it takes. An element dropped since the form opened, or a forged one of another
    kind, is refused beside its field (mrkdwn, as refusals are)."""

    def read(action: Action) -> dict[str, str]:
        wrong: dict[str, str] = {}
        for field, (refs, kinds) in picked.items():
            for ref in refs:
                try:
                    action.resolve(ref, *kinds)
                except (Refused, UnknownReference) as error:
                    wrong[field] = str(error)
                    break
        return wrong

    return read


# What the Add… form adds (SPEC §4.4), in the order its picker shows them.
ADDED_KINDS = ("event", "command", "view", "policy", "actor", "external", "screen", "hotspot")
# What the Add… form's links may name: a command's events, a view's sources, an event's causes
# and the views it feeds, an actor's, a policy's or a screen's commands, a policy's trigger, a
# screen's views, what a hotspot is about.
LINKED_KINDS = ("event", "command", "view")
# What each step is mostly about, so the form opens on the kind the step asks for.
_STEP_KIND = {2: "hotspot", 3: "command", 5: "command", 6: "view"}


@dataclass(frozen=True)
class AddChoices:
    """What the Add… form of a workshop shows: its title and step, the kind it opens on,
    and the elements its links may name (searched when there are more than a menu holds)."""

    title: str
    step: int
    kind: str
    links: list[tuple[str, str]]
    searched: bool


def add_choices(action: Action) -> AddChoices:
    """The Add… form of the workshop; an ended one adds nothing, so its button is stale."""
    workshop = action.workshop
    if workshop.finished_at is not None:
        raise Refused(
            f"The workshop *{literal(workshop.title)}* has ended: its buttons do nothing now."
        )
    links, more = choices(LINKED_KINDS)(action)
    return AddChoices(
        workshop.title,
        workshop.current_step,
        _STEP_KIND.get(workshop.current_step, "event"),
        links,
        more,
    )

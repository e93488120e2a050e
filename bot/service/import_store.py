"""Storing a checked `Plan` in a workshop, inside the caller's transaction, in a fixed number of
statements whatever its size (a model of 2,000 elements is stored in well under a second).

Elements whose kind and name (after normalisation) the workshop has already are not made
again: the plan's references to them lead to the existing element, which is left as it is
(import never overwrites, SPEC §7.1); links to and from it are added. New elements get the
next free numbers of their kind, or the numbers the file gives when it is a storm-model/1 file
going into a workshop that never had an element (so its IDs stay the same). Imported elements
get no message of their own: a model of hundreds of elements would flood the channel, which is
told of the import in one line instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from bot.core import naming
from bot.core.imports.plan import Plan, PlanElement, PlanField
from bot.core.imports.report import Match
from bot.core.model import element_key, normalise
from storage import repository as repo
from storage.tables import Element, ElementField, Link, NameKey, Workshop, table_of

_ELEMENT = table_of(Element)
_FIELD = table_of(ElementField)
_LINK = table_of(Link)
_NAME_KEY = table_of(NameKey)


@dataclass(frozen=True)
class Existing:
    """What the workshop has that an import must not duplicate or renumber."""

    by_name: dict[tuple[str, str], tuple[int, str]]  # (kind, normalised name) → (row id, ID)
    numbers: dict[str, int]  # the highest number of each kind ever used (dropped ones too)
    last_position: int
    live: int  # how many live elements there are

    def match(self, element: PlanElement) -> tuple[int, str] | None:
        return self.by_name.get((element.kind, normalise(element.name)))


def existing(session: Session, workshop_id: int) -> Existing:
    rows = session.execute(
        core_select(
            col(Element.id),
            col(Element.kind),
            col(Element.number),
            col(Element.name),
            col(Element.position),
            col(Element.dropped_at).is_(None) & col(Element.merged_into).is_(None),
        ).where(col(Element.workshop_id) == workshop_id)
    ).all()
    by_name: dict[tuple[str, str], tuple[int, str]] = {}
    numbers: dict[str, int] = {}
    last_position, live = 0, 0
    for element_id, kind, number, name, position, alive in sorted(rows, key=lambda r: r[2]):
        numbers[kind] = max(numbers.get(kind, 0), number)
        if kind == "event" and position is not None:
            last_position = max(last_position, position)
        if alive:
            live += 1
            by_name.setdefault((kind, normalise(name)), (element_id, element_key(kind, number)))
    return Existing(by_name, numbers, last_position, live)


def matches(plan: Plan, found: Existing) -> list[Match]:
    """The plan's elements that the workshop has already, each once, in the file's order."""
    seen: dict[str, Match] = {}
    for element in plan.elements:
        hit = found.match(element)
        if hit is not None:
            seen.setdefault(hit[1], Match(element.kind, element.name, hit[1]))
    return list(seen.values())


def store(
    session: Session,
    workshop: Workshop,
    plan: Plan,
    found: Existing,
    *,
    user_id: str,
    now: datetime,
) -> dict[str, int]:
    """Add the plan's new elements, their fields and links; returns how many of each kind."""
    assert workshop.id is not None
    workshop_id = workshop.id
    ids: dict[str, int] = {}  # plan ref → row id
    keys: dict[str, str] = {}  # plan ref → Storm ID
    new: list[PlanElement] = []
    for element in plan.elements:
        hit = found.match(element)
        if hit is not None:
            ids[element.ref], keys[element.ref] = hit
        else:
            new.append(element)
    keep = plan.keep_numbers and not found.numbers
    # Authors are Slack user ids: kept from a file of this workspace, else the importer's.
    same_team = plan.team is not None and plan.team == workshop.team_id
    numbers = dict(found.numbers)
    position = found.last_position
    rows: list[dict[str, Any]] = []
    made_keys: list[tuple[str, int]] = []
    for element in new:
        if keep and element.number is not None:
            number = element.number
        else:
            number = numbers.get(element.kind, 0) + 1
        numbers[element.kind] = max(numbers.get(element.kind, 0), number)
        keys[element.ref] = element_key(element.kind, number)
        if element.kind == "event":
            position += 1
        made_keys.append((element.kind, number))
        rows.append(
            {
                "workshop_id": workshop_id,
                "kind": element.kind,
                "number": number,
                "name": element.name,
                "author": element.author if same_team and element.author else user_id,
                "added_by": user_id,
                "created_at": now,
                "step_number": workshop.current_step,
                "position": position if element.kind == "event" else None,
                "renamed": False,
                "resolved": element.resolved,
                "answer": element.answer,
                "details": _details(element),
            }
        )
    if rows:
        session.execute(insert(_ELEMENT), rows)
    made = _ids(session, workshop_id, made_keys)
    for element, made_key in zip(new, made_keys, strict=True):
        ids[element.ref] = made[made_key]
    _index_names(session, workshop_id, new, ids)
    _relate(session, workshop_id, new, plan.elements, ids, keys)
    _fields(session, new, ids, keys)
    if new:
        repo.add_contribution(
            session,
            workshop_id=workshop_id,
            step_number=workshop.current_step,
            user_id=user_id,
            at=now,
        )
    added: dict[str, int] = {}
    for element in new:
        added[element.kind] = added.get(element.kind, 0) + 1
    return added


def _details(element: PlanElement) -> dict[str, Any] | None:
    """What the element row keeps beyond its columns (scenario references come later, once
    every element has its row id)."""
    details: dict[str, Any] = {}
    if element.votes:
        details["imported_votes"] = element.votes
    imported = {
        "id": element.external_id,
        "description": element.description,
        "external": element.external_context or None,
        "slice_id": element.slice.slice_id if element.slice else None,
        "slice_title": element.slice.title if element.slice else None,
        "slice_status": element.slice.status if element.slice else None,
        "slice_aggregates": list(element.slice.aggregates)
        if element.slice and element.slice.aggregates is not None
        else None,
    }
    imported = {name: value for name, value in imported.items() if value is not None}
    if imported:
        details["imported"] = imported
    return details or None


def _ids(
    session: Session, workshop_id: int, wanted: list[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    if not wanted:
        return {}
    kinds = sorted({kind for kind, _ in wanted})
    low = min(number for _, number in wanted)
    rows = session.execute(
        core_select(col(Element.kind), col(Element.number), col(Element.id)).where(
            col(Element.workshop_id) == workshop_id,
            col(Element.kind).in_(kinds),
            col(Element.number) >= low,
        )
    )
    return {(kind, number): element_id for kind, number, element_id in rows}


def _index_names(
    session: Session, workshop_id: int, new: list[PlanElement], ids: dict[str, int]
) -> None:
    """The name index capture looks twins up in (`storage.capture`)."""
    rows = [
        {"workshop_id": workshop_id, "kind": e.kind, "name_key": k, "element_id": ids[e.ref]}
        for e in new
        for k in naming.name_keys(e.name)
    ]
    if rows:
        session.execute(insert(_NAME_KEY), rows)


def _relate(
    session: Session,
    workshop_id: int,
    new: list[PlanElement],
    every: Iterable[PlanElement],
    ids: dict[str, int],
    keys: dict[str, str],
) -> None:
    """Links (all of the file's, added where missing), and the references that live on the
    element rows of new elements: aggregate, what a hotspot is about, a scenario's steps."""
    wanted: dict[tuple[int, str, int], None] = {}
    for element in every:
        source = ids[element.ref]
        for kind, refs in (
            ("causes", element.causes),
            ("issues", element.issues),
            ("shows", element.shows),
        ):
            for ref in refs:
                wanted[(source, kind, ids[ref])] = None
        for ref in element.fed_by:
            wanted[(ids[ref], "feeds", source)] = None
        if element.kind == "policy":
            for ref in element.on:
                wanted[(source, "on", ids[ref])] = None
    present = set(
        session.execute(
            core_select(col(Link.source_id), col(Link.kind), col(Link.target_id)).where(
                col(Link.workshop_id) == workshop_id
            )
        ).all()
    )
    links = [
        {"workshop_id": workshop_id, "kind": kind, "source_id": s, "target_id": t}
        for s, kind, t in wanted
        if (s, kind, t) not in present
    ]
    if links:
        session.execute(insert(_LINK), links)
    rows = []
    for element in new:
        on = element.on[0] if element.kind == "hotspot" and element.on else None
        scenario = element.scenario
        if element.aggregate is None and on is None and scenario is None:
            continue
        details = dict(_details(element) or {})
        if scenario is not None:
            details.update(
                given=[ids[r] for r in scenario.given],
                when=ids[scenario.when] if scenario.when else None,
                then=[ids[r] for r in scenario.then],
                error=scenario.error,
                view=ids[scenario.view] if scenario.view else None,
            )
            if scenario.comments:
                details["comments"] = list(scenario.comments)
            if scenario.data:
                details["data"] = [
                    {
                        "part": step.part,
                        "index": step.index,
                        "id": step.step_id,
                        "fields": [_stored_field(f, keys) for f in step.fields],
                    }
                    for step in scenario.data
                ]
        rows.append(
            {
                "row": ids[element.ref],
                "to_aggregate": ids[element.aggregate] if element.aggregate else None,
                "to_element": ids[on] if on else None,
                "to_details": details or None,
            }
        )
    if rows:
        session.connection().execute(
            update(_ELEMENT)
            .where(_ELEMENT.c.id == bindparam("row"))
            .values(
                aggregate_id=bindparam("to_aggregate"),
                on_element=bindparam("to_element"),
                details=bindparam("to_details"),
            ),
            rows,
        )


def _origin(spec: PlanField, keys: dict[str, str]) -> str | None:
    """An origin as Storm writes it, `E3.amount`, the file's ref turned into the Storm ID; one
    naming no element of the file is kept as written, as a typed one is."""
    if spec.origin is None:
        return None
    ref, name = spec.origin
    return f"{keys.get(ref, ref)}.{name}"


def _field_values(spec: PlanField, keys: dict[str, str]) -> dict[str, Any]:
    """What a field holds, under the names of its table's columns."""
    return {
        "name": spec.name,
        "generated": spec.generated,
        "origin": _origin(spec, keys),
        "type": spec.type,
        "is_list": spec.is_list,
        "identifier": spec.identifier,
        "id_attribute": spec.id_attribute,
        "example": spec.example,
        "mapping": spec.mapping,
        "subfields": spec.subfields,
    }


def _stored_field(spec: PlanField, keys: dict[str, str]) -> dict[str, Any]:
    """A field of a scenario's step data, as JSON in the scenario's details."""
    stored = _field_values(spec, keys)
    return {name: value for name, value in stored.items() if value not in (None, False)}


def _fields(
    session: Session, new: list[PlanElement], ids: dict[str, int], keys: dict[str, str]
) -> None:
    rows = [
        {"element_id": ids[element.ref], "position": position, **_field_values(spec, keys)}
        for element in new
        for position, spec in enumerate(element.fields)
    ]
    if rows:
        session.execute(insert(_FIELD), rows)

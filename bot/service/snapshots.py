"""Reading a workshop into the core's `Snapshot`, in a constant number of queries.

Merged elements become aliases of their survivor; dropped elements leave the board, but
references to them (from scenarios, say) keep their ID so that the check can see they are gone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from bot.core.model import (
    DEFAULT_FIELD_TYPE,
    ElementInfo,
    FieldSpec,
    Imported,
    Scenario,
    Snapshot,
    StepData,
    StepState,
    element_key,
)
from storage import repository as repo
from storage.tables import Element, ElementField, Link, Vote, Workshop


class _Row(NamedTuple):
    """The columns of one element the snapshot needs, read as plain values (no ORM objects:
    building 10,000 of them cost more than everything else the snapshot does)."""

    id: int
    kind: str
    number: int
    name: str
    author: str
    step_number: int
    position: int | None
    resolved: bool
    answer: str | None
    created_at: datetime
    dropped: bool
    merged_into: int | None
    on_element: int | None
    aggregate_id: int | None
    details: dict[str, Any] | None
    votes: int


def _elements(session: Session, workshop_id: int) -> list[_Row]:
    """Every element ever made in the workshop (dropped and merged ones too), with its number of
    votes, in one query: the snapshot needs the dead ones to resolve old references."""
    votes = (
        select(Vote.element_id, func.count(col(Vote.id)).label("votes"))
        .where(col(Vote.workshop_id) == workshop_id)
        .group_by(col(Vote.element_id))
        .subquery()
    )
    rows = session.execute(
        core_select(
            col(Element.id),
            col(Element.kind),
            col(Element.number),
            col(Element.name),
            col(Element.author),
            col(Element.step_number),
            col(Element.position),
            col(Element.resolved),
            col(Element.answer),
            col(Element.created_at),
            col(Element.dropped_at).is_not(None),
            col(Element.merged_into),
            col(Element.on_element),
            col(Element.aggregate_id),
            col(Element.details),
            func.coalesce(votes.c.votes, 0),
        )
        .outerjoin(votes, votes.c.element_id == Element.id)
        .where(col(Element.workshop_id) == workshop_id)
        .order_by(col(Element.kind), col(Element.number))
    )
    return [_Row._make(row) for row in rows]


def load_snapshot(session: Session, workshop: Workshop) -> Snapshot:
    assert workshop.id is not None
    workshop_id = workshop.id
    rows = _elements(session, workshop_id)
    by_id = {row.id: row for row in rows}
    keys = {row.id: element_key(row.kind, row.number) for row in rows}

    def survivor(element: _Row) -> _Row:
        seen: set[int] = set()
        while element.merged_into is not None and element.id not in seen:
            seen.add(element.id)
            element = by_id.get(element.merged_into, element)
        return element

    def key_of(element_id: int | None) -> str | None:
        """The ID to show for a reference: the survivor's, or the element's own if it is gone."""
        if element_id is None or element_id not in by_id:
            return None
        return keys[survivor(by_id[element_id]).id]

    live = {row.id: row for row in rows if not row.dropped and row.merged_into is None}
    aliases: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        if row.merged_into is not None and not row.dropped:
            aliases[survivor(row).id].append(keys[row.id])

    relations: dict[tuple[int, str], list[str]] = defaultdict(list)
    links = session.exec(
        select(Link.kind, Link.source_id, Link.target_id)
        .where(col(Link.workshop_id) == workshop_id)
        .order_by(col(Link.id))
    )
    for kind, source_id, target_id in links:
        if source_id not in live or target_id not in live:
            continue
        # Both ends are live, so neither was merged: each is its own survivor.
        if kind == "feeds":
            relations[(target_id, "fed_by")].append(keys[source_id])
        else:
            relations[(source_id, kind)].append(keys[target_id])
    fields: dict[int, list[FieldSpec]] = defaultdict(list)
    # Columns, not rows: a snapshot of thousands of fields is read on every post.
    for element_id, *values in session.execute(
        core_select(
            col(ElementField.element_id),
            col(ElementField.name),
            col(ElementField.generated),
            col(ElementField.origin),
            col(ElementField.type),
            col(ElementField.is_list),
            col(ElementField.identifier),
            col(ElementField.id_attribute),
            col(ElementField.example),
            col(ElementField.mapping),
            col(ElementField.subfields),
        )
        .join(Element, col(Element.id) == ElementField.element_id)
        .where(col(Element.workshop_id) == workshop_id)
        .order_by(col(ElementField.element_id), col(ElementField.position))
    ):
        fields[element_id].append(FieldSpec(*values))
    members: dict[int, list[str]] = defaultdict(list)
    for row in live.values():
        if row.aggregate_id in live:
            members[row.aggregate_id].append(keys[row.id])

    def info(row: _Row) -> ElementInfo:
        element_id = row.id
        triggers: tuple[str, ...] = ()
        if row.kind == "policy":
            triggers = tuple(relations.get((element_id, "on"), ()))
            on = next(iter(triggers), None)
        else:
            on = keys[row.on_element] if row.on_element in live else None
        details = row.details or {}
        return ElementInfo(
            key=keys[element_id],
            kind=row.kind,
            name=row.name,
            author=row.author,
            # Votes counted in the workshop a model was imported from come with it, as a
            # number: the people who cast them may not be in this workspace at all.
            votes=int(row.votes) + int(details.get("imported_votes", 0)),
            step_number=row.step_number,
            position=row.position,
            fields=tuple(fields.get(element_id, ())),
            causes=tuple(relations.get((element_id, "causes"), ())),
            fed_by=tuple(relations.get((element_id, "fed_by"), ())),
            issues=tuple(relations.get((element_id, "issues"), ())),
            shows=tuple(relations.get((element_id, "shows"), ())),
            on=on,
            triggers=triggers,
            members=tuple(members.get(element_id, ())),
            aggregate=keys[row.aggregate_id] if row.aggregate_id in live else None,
            resolved=row.resolved,
            answer=row.answer,
            scenario=_scenario(row, key_of),
            created_at=row.created_at,
            aliases=tuple(aliases.get(element_id, ())),
            imported=_imported(details.get("imported")),
        )

    return _snapshot(
        session,
        workshop,
        elements=tuple(info(row) for row in live.values()),
        dropped=tuple(
            (keys[row.id], row.name) for row in rows if row.dropped and row.merged_into is None
        ),
        withdrawn=frozenset(
            keys[row.id] for row in rows if row.dropped and (row.details or {}).get("withdrawn")
        ),
    )


def load_status(session: Session, workshop: Workshop) -> tuple[Snapshot, dict[str, int]]:
    """What `/storm status` shows, without reading the elements: the workshop and its steps
    (a snapshot without elements) and how many live elements of each kind there are.

    Status is answered on the acknowledgement path; reading every element of a workshop of
    2,000 took 58 ms there, while one worker's event loop waits for it.
    """
    assert workshop.id is not None
    counts = session.exec(
        select(Element.kind, func.count(col(Element.id)))
        .where(
            col(Element.workshop_id) == workshop.id,
            col(Element.dropped_at).is_(None),
            col(Element.merged_into).is_(None),
        )
        .group_by(col(Element.kind))
    )
    return _snapshot(session, workshop, elements=(), dropped=()), dict(counts.all())


def _snapshot(
    session: Session,
    workshop: Workshop,
    *,
    elements: tuple[ElementInfo, ...],
    dropped: tuple[tuple[str, str], ...],
    withdrawn: frozenset[str] = frozenset(),
) -> Snapshot:
    """The workshop around its elements: steps, facilitators, contributors, people."""
    assert workshop.id is not None
    workshop_id = workshop.id
    steps = tuple(
        StepState(
            number=run.number,
            timebox=timedelta(seconds=run.timebox_seconds),
            opened_at=run.opened_at,
            deadline_at=run.deadline_at,
            closed_at=run.closed_at,
        )
        for run in repo.step_runs(session, workshop_id=workshop_id)
    )
    return Snapshot(
        team_id=workshop.team_id,
        title=workshop.title,
        channel_id=workshop.channel_id,
        facilitators=tuple(repo.facilitators(session, workshop_id=workshop_id)),
        current_step=workshop.current_step,
        steps=steps,
        auto_advance=workshop.auto_advance,
        started_at=workshop.started_at,
        finished_at=workshop.finished_at,
        elements=elements,
        contributors_by_step=repo.contributors_by_step(session, workshop_id=workshop_id),
        members=tuple(
            repo.channel_members(session, team_id=workshop.team_id, channel_id=workshop.channel_id)
        ),
        names=repo.user_names(session, team_id=workshop.team_id),
        dropped=dropped,
        withdrawn=withdrawn,
    )


def _scenario(element: _Row, key_of: Callable[[int | None], str | None]) -> Scenario | None:
    """A scenario's references, stored as element ids, shown as (survivor) IDs."""
    if element.kind != "scenario" or not element.details:
        return None
    details = element.details

    def keys(ids: list[int]) -> tuple[str, ...]:
        return tuple(key for key in map(key_of, ids) if key is not None)

    return Scenario(
        given=keys(details.get("given", [])),
        when=key_of(details.get("when")),
        then=keys(details.get("then", [])),
        error=details.get("error"),
        view=key_of(details.get("view")),
        comments=tuple(details.get("comments", ())),
        data=tuple(
            StepData(
                part=step["part"],
                index=step["index"],
                fields=tuple(_stored_field(f) for f in step.get("fields", ())),
                step_id=step.get("id"),
            )
            for step in details.get("data", ())
        ),
    )


def _imported(stored: dict[str, Any] | None) -> Imported | None:
    """What an imported file said of an element (`details["imported"]`), if anything."""
    if not stored:
        return None
    return Imported(
        external_id=stored.get("id"),
        description=stored.get("description"),
        external_context=bool(stored.get("external")),
        slice_id=stored.get("slice_id"),
        slice_title=stored.get("slice_title"),
        slice_status=stored.get("slice_status"),
        slice_aggregates=tuple(stored["slice_aggregates"])
        if stored.get("slice_aggregates") is not None
        else None,
    )


def _stored_field(stored: dict[str, Any]) -> FieldSpec:
    """A field kept in a scenario's step data (JSON), as the core reads it."""
    return FieldSpec(
        name=stored["name"],
        generated=bool(stored.get("generated")),
        origin=stored.get("origin"),
        type=stored.get("type", DEFAULT_FIELD_TYPE),
        is_list=bool(stored.get("is_list")),
        identifier=stored.get("identifier"),
        id_attribute=bool(stored.get("id_attribute")),
        example=stored.get("example"),
        mapping=stored.get("mapping"),
        subfields=stored.get("subfields"),
    )


def field_spec(row: ElementField) -> FieldSpec:
    """A stored field as the core reads it."""
    return FieldSpec(
        row.name,
        row.generated,
        row.origin,
        row.type,
        row.is_list,
        row.identifier,
        row.id_attribute,
        row.example,
        row.mapping,
        row.subfields,
    )

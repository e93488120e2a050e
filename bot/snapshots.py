"""Reading a workshop into the core's `Snapshot`, in a constant number of queries.

Merged elements become aliases of their survivor; dropped elements leave the board, but
references to them (from scenarios, say) keep their ID so that the check can see they are gone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from sqlmodel import Session

from bot.core.model import ElementInfo, FieldSpec, Scenario, Snapshot, StepState, element_key
from storage import repository as repo
from storage.tables import Element, Workshop


def load_snapshot(session: Session, workshop: Workshop) -> Snapshot:
    assert workshop.id is not None
    workshop_id = workshop.id
    rows = repo.elements_with_votes(session, workshop_id=workshop_id)
    by_id = {element.id: element for element, _ in rows}

    def survivor(element: Element) -> Element:
        seen: set[int | None] = set()
        while element.merged_into is not None and element.id not in seen:
            seen.add(element.id)
            element = by_id.get(element.merged_into, element)
        return element

    def key_of(element_id: int | None) -> str | None:
        """The ID to show for a reference: the survivor's, or the element's own if it is gone."""
        if element_id is None or element_id not in by_id:
            return None
        target = survivor(by_id[element_id])
        return element_key(target.kind, target.number)

    live = {
        element.id: element
        for element, _ in rows
        if element.dropped_at is None and element.merged_into is None
    }
    votes = {element.id: count for element, count in rows}
    aliases: dict[int | None, list[str]] = defaultdict(list)
    for element, _ in rows:
        if element.merged_into is not None and element.dropped_at is None:
            aliases[survivor(element).id].append(element_key(element.kind, element.number))

    relations: dict[tuple[int | None, str], list[str]] = defaultdict(list)
    for link in repo.links(session, workshop_id=workshop_id):
        if link.source_id not in live or link.target_id not in live:
            continue
        source, target = key_of(link.source_id), key_of(link.target_id)
        assert source is not None and target is not None
        if link.kind == "feeds":
            relations[(link.target_id, "fed_by")].append(source)
        else:
            relations[(link.source_id, link.kind)].append(target)
    fields: dict[int, list[FieldSpec]] = defaultdict(list)
    for row in repo.fields_of_workshop(session, workshop_id=workshop_id):
        fields[row.element_id].append(FieldSpec(row.name, row.generated, row.origin))
    members: dict[int | None, list[str]] = defaultdict(list)
    for element in live.values():
        if element.aggregate_id in live:
            members[element.aggregate_id].append(element_key(element.kind, element.number))

    elements = tuple(
        ElementInfo(
            key=element_key(element.kind, element.number),
            kind=element.kind,
            name=element.name,
            author=element.author,
            votes=votes[element.id],
            step_number=element.step_number,
            position=element.position,
            fields=tuple(fields.get(element.id or 0, ())),
            causes=tuple(relations[(element.id, "causes")]),
            fed_by=tuple(relations[(element.id, "fed_by")]),
            issues=tuple(relations[(element.id, "issues")]),
            on=(
                next(iter(relations[(element.id, "on")]), None)
                if element.kind == "policy"
                else (key_of(element.on_element) if element.on_element in live else None)
            ),
            members=tuple(members[element.id]),
            aggregate=key_of(element.aggregate_id) if element.aggregate_id in live else None,
            resolved=element.resolved,
            scenario=_scenario(element, key_of),
            created_at=element.created_at,
            aliases=tuple(aliases[element.id]),
        )
        for element in live.values()
    )
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
        dropped=tuple(
            (element_key(element.kind, element.number), element.name)
            for element, _ in rows
            if element.dropped_at is not None and element.merged_into is None
        ),
    )


def _scenario(element: Element, key_of: Callable[[int | None], str | None]) -> Scenario | None:
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
    )

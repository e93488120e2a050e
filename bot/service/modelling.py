"""Modelling commands (SPEC §4.1): one function per sub-command, each inside the caller's
transaction, working through an `Action` that knows the workshop, the person and the time.

Nothing is forbidden by step: an action that belongs to a later step is done and noted early.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core import commands, messages, naming
from bot.core.messages import Post
from bot.core.model import FieldSpec, normalise
from bot.core.references import UnknownReference
from bot.core.text import escape, plural, with_article
from bot.service.context import Action, Refused, key, label, row_id
from storage import capture, journal
from storage import repository as repo
from storage.tables import Element, ElementField, Link

# The activity that renames, merges and orders belong to (step 2), as "noted early" says it.
_REFINE = "renames, merges and the timeline's order"


def _resolve_all(action: Action, refs: tuple[str, ...], *kinds: str) -> list[Element]:
    found = [action.resolve(ref, *kinds) for ref in refs]
    return list({e.id: e for e in found}.values())


def _done(text: str) -> Post:
    return messages.notice(text)


# ---- capture --------------------------------------------------------------------------


def add_hotspot(action: Action, command: commands.AddHotspot) -> Post:
    about = action.resolve(command.on) if command.on else None
    hotspot = action.new_element("hotspot", command.text, on_element=about.id if about else None)
    on = f" on {label(about)}" if about else ""
    return _done(f"Added hotspot {label(hotspot)}{on}.{action.early('hotspots')}")


def resolve_hotspot(action: Action, command: commands.Resolve) -> Post:
    hotspot = action.resolve(command.ref, "hotspot")
    if hotspot.resolved:
        return _done(f"Hotspot {label(hotspot)} was already resolved.")
    hotspot.resolved = True
    action.session.add(hotspot)
    action.contribute()
    return _done(f"Resolved hotspot {label(hotspot)}.")


# ---- refining -------------------------------------------------------------------------


def rename(action: Action, command: commands.Rename) -> Post:
    element = action.resolve(command.ref)
    old = element.name
    element.name, element.renamed = command.new_name, True
    action.session.add(element)
    assert element.id is not None
    capture.in_session(action.session).index_name(
        workshop_id=action.workshop_id,
        kind=element.kind,
        element_id=element.id,
        keys=naming.name_keys(element.name),
    )
    action.contribute()
    return _done(
        f"Renamed *{key(element)}* from {escape(old)} to {escape(element.name)}."
        f"{action.naming_notes(element)}{action.early(_REFINE)}"
    )


def merge(action: Action, command: commands.Merge) -> Post:
    source, target = action.resolve(command.source), action.resolve(command.target)
    if source.id == target.id:
        raise Refused(f"{key(source)} cannot be merged into itself.")
    if source.kind != target.kind:
        raise Refused(
            f"Only elements of the same kind merge: {key(source)} is {with_article(source.kind)}, "
            f"{key(target)} is {with_article(target.kind)}."
        )
    action.require_owner(source, "merge")
    session = action.session
    voters = {vote.user_id for vote in repo.votes_of(session, element_id=target.id or 0)}
    for vote in repo.votes_of(session, element_id=source.id or 0):
        if vote.user_id in voters:
            session.delete(vote)
        else:
            vote.element_id = target.id or 0
            session.add(vote)
    _move_links(action, source, target)
    kept = {normalise(f.name) for f in repo.fields_of(session, element_id=target.id or 0)}
    position = len(kept)
    for field in repo.fields_of(session, element_id=source.id or 0):
        if normalise(field.name) in kept:
            session.delete(field)
            continue
        field.element_id, field.position = target.id or 0, position
        position += 1
        session.add(field)
    for other in repo.elements_on(session, element_id=source.id or 0):
        if other.on_element == source.id:
            other.on_element = target.id
        if other.aggregate_id == source.id:
            other.aggregate_id = target.id
        session.add(other)
    if target.aggregate_id is None:
        target.aggregate_id = source.aggregate_id
    source.merged_into = target.id
    session.add_all([source, target])
    action.contribute()
    return _done(
        f"Merged *{key(source)}* into {label(target)}: its votes, links, fields and hotspots "
        f"moved, and {key(source)} still finds {key(target)}.{action.early(_REFINE)}"
    )


def _move_links(action: Action, source: Element, target: Element) -> None:
    session = action.session
    existing = {
        (link.kind, link.source_id, link.target_id)
        for link in repo.links_of(session, element_id=target.id or 0)
    }
    for link in repo.links_of(session, element_id=source.id or 0):
        moved: Link = link
        ends = (
            target.id if moved.source_id == source.id else moved.source_id,
            target.id if moved.target_id == source.id else moved.target_id,
        )
        if ends[0] == ends[1] or (moved.kind, *ends) in existing:
            session.delete(moved)
            continue
        moved.source_id, moved.target_id = ends[0] or 0, ends[1] or 0
        existing.add((moved.kind, *ends))
        session.add(moved)


def drop(action: Action, command: commands.Drop) -> Post:
    element = action.resolve(command.ref)
    action.require_owner(element, "drop")
    element.dropped_at = action.now
    action.session.add(element)
    action.contribute()
    return _done(
        f"Dropped {label(element)}: it left the board and every report. "
        "`/storm undo` brings it back."
    )


def order(action: Action, command: commands.Order) -> Post:
    events = _resolve_all(action, command.refs, "event")
    if len(events) < 2:
        raise Refused("Name at least two different events to put in order.")
    timeline = repo.events_in_order(action.session, workshop_id=action.workshop_id)
    ids = [e.id for e in events]
    start = min(timeline.index(e) for e in timeline if e.id == ids[0])
    before = sum(1 for e in timeline[:start] if e.id in ids)
    rest = [e for e in timeline if e.id not in ids]
    at = start - before
    _renumber(action, [*rest[:at], *events, *rest[at:]])
    return _done(
        "Timeline updated: " + " → ".join(f"*{key(e)}*" for e in events) + action.early(_REFINE)
    )


def move(action: Action, command: commands.Move) -> Post:
    event, anchor = action.resolve(command.ref, "event"), action.resolve(command.anchor, "event")
    if event.id == anchor.id:
        raise Refused(f"{key(event)} cannot move relative to itself.")
    timeline = [
        e
        for e in repo.events_in_order(action.session, workshop_id=action.workshop_id)
        if e.id != event.id
    ]
    at = next(i for i, e in enumerate(timeline) if e.id == anchor.id)
    timeline.insert(at + 1 if command.where == "after" else at, event)
    _renumber(action, timeline)
    return _done(f"Moved {label(event)} {command.where} {label(anchor)}.{action.early(_REFINE)}")


def _renumber(action: Action, timeline: list[Element]) -> None:
    for position, event in enumerate(timeline, start=1):
        if event.position != position:
            event.position = position
            action.session.add(event)
    action.contribute()


# ---- causes and structure ---------------------------------------------------------------


def _linker(
    kind: str, refs: str, link: str, targets: str, verb: str, activity: str, *, outgoing: bool
) -> Callable[[Action, Any], Post]:
    """A sub-command that names an element and links it to others: `command <name> -> E1`.

    `refs` is the parsed command's attribute holding the references; `outgoing` says whether
    the named element is the link's source (a command causes events) or its target (events
    feed a view).
    """

    def add(action: Action, command: Any) -> Post:
        element, created = action.find_or_create(kind, command.name)
        others = _resolve_all(action, getattr(command, refs), targets)
        linked = [
            other
            for other in others
            if (
                action.link(link, element, other) if outgoing else action.link(link, other, element)
            )
        ]
        return _linked(action, element, created, verb, linked, activity)

    return add


add_command = _linker("command", "causes", "causes", "event", "causes", "commands", outgoing=True)
add_view = _linker("view", "fed_by", "feeds", "event", "is fed by", "views", outgoing=False)
add_external = _linker(
    "external", "causes", "causes", "event", "causes", "external systems", outgoing=True
)
add_actor = _linker("actor", "issues", "issues", "command", "issues", "actors", outgoing=True)


def add_policy(action: Action, command: commands.AddPolicy) -> Post:
    event = action.resolve(command.on, "event")
    issued, issued_created = action.find_or_create("command", command.issues)
    policy, created = action.find_or_create("policy", command.name)
    action.link("on", policy, event)
    action.link("issues", policy, issued)
    action.contribute()
    made = f" (new command {label(issued)})" if issued_created else ""
    verb = "Added" if created else "Updated"
    return _done(
        f"{verb} policy {label(policy)}: whenever {label(event)}, then {label(issued)}{made}."
        f"{action.early('policies')}"
    )


def _linked(
    action: Action, element: Element, created: bool, verb: str, linked: list[Element], activity: str
) -> Post:
    if not created and not linked:
        return _done(f"Nothing new: {label(element)} already {verb} those.")
    action.contribute()
    head = f"Added {element.kind} {label(element)}" if created else f"Updated {label(element)}"
    tail = f": {verb} " + ", ".join(label(e) for e in linked) if linked else ""
    notes = action.naming_notes(element) if created else ""
    return _done(f"{head}{tail}.{notes}{action.early(activity)}")


def group(action: Action, command: commands.Group) -> Post:
    aggregate, created = action.find_or_create("aggregate", command.name)
    members = _resolve_all(action, command.members, "command", "event")
    moved = []
    for member in members:
        if member.aggregate_id not in (None, aggregate.id):
            moved.append(member)
        member.aggregate_id = aggregate.id
        action.session.add(member)
    action.contribute()
    moves = (
        "\nMoved from their previous aggregate: " + ", ".join(f"*{key(m)}*" for m in moved)
        if moved
        else ""
    )
    verb = "Added aggregate" if created else "Updated aggregate"
    return _done(
        f"{verb} {label(aggregate)}: " + ", ".join(label(m) for m in members) + "."
        f"{moves}{action.early('aggregates')}"
    )


def set_fields(action: Action, command: commands.SetFields) -> Post:
    element = action.resolve(command.ref, "command", "event", "view")
    session = action.session
    for old in repo.fields_of(session, element_id=element.id or 0):
        session.delete(old)
    shown, warnings = [], []
    for position, spec in enumerate(command.fields):
        origin = None
        if spec.origin_ref is not None:
            try:
                origin = f"{key(action.resolve(spec.origin_ref))}.{spec.origin_field}"
            except UnknownReference:
                origin = f"{spec.origin_ref.upper()}.{spec.origin_field}"
                warnings.append(f"\n:warning: {escape(spec.origin_ref)} does not exist (yet).")
        field = ElementField(
            element_id=element.id or 0,
            position=position,
            name=spec.name,
            generated=spec.generated,
            origin=origin,
        )
        session.add(field)
        shown.append(escape(str(FieldSpec(field.name, field.generated, field.origin))))
    action.contribute()
    return _done(
        f"Fields of {label(element)}: {', '.join(shown) or 'none'}.{''.join(warnings)}"
        f"{action.early(f'{element.kind} fields', 5 if element.kind == 'command' else 6)}"
    )


def add_scenario(action: Action, command: commands.AddScenario) -> Post:
    given = _resolve_all(action, command.given)
    when = action.resolve(command.when) if command.when else None
    then = _resolve_all(action, command.then)
    view = action.resolve(command.view) if command.view else None
    scenario = action.new_element(
        "scenario",
        command.title,
        details={
            "given": [e.id for e in given],
            "when": when.id if when else None,
            "then": [e.id for e in then],
            "error": command.error,
            "view": view.id if view else None,
        },
    )
    shape = f"given {_refs(given)}"
    if when is not None:
        shape += f" when {label(when)}"
    if view is not None:
        shape += f" then {label(view)}"
    elif command.error is not None:
        shape += f" then error “{escape(command.error)}”"
    else:
        shape += f" then {_refs(then)}"
    return _done(f"Added scenario {label(scenario)}: {shape}.{action.early('scenarios')}")


def _refs(elements: list[Element]) -> str:
    return ", ".join(label(e) for e in elements) if elements else "nothing"


# ---- votes and undo ---------------------------------------------------------------------


def vote(action: Action, command: commands.Vote) -> Post:
    element = action.resolve(command.ref)
    if not repo.add_vote(
        action.session,
        workshop_id=action.workshop_id,
        element_id=row_id(element),
        user_id=action.actor.user_id,
        at=action.now,
    ):
        return messages.notice(f"You already voted for *{key(element)}*.")
    action.contribute()
    votes = repo.vote_count(action.session, element_id=row_id(element))
    return messages.notice(f"Voted for {label(element)} ({plural(votes, 'vote')}).")


def undo(action: Action, _: commands.Undo) -> Post:
    change = repo.last_change(
        action.session, workshop_id=action.workshop_id, user_id=action.actor.user_id
    )
    if change is None:
        raise Refused("You have no change in this workshop to undo.")
    changed = journal.elements_shown_changed(action.session, change.entries)
    for element in journal.revert(action.session, change.entries, now=action.now):
        changed.discard(row_id(element))  # withdrawn: its message goes
        if element.message_ts:
            action.schedule("delete_message", {"ts": element.message_ts})
    action.update_messages(changed)
    change.undone_at = action.now
    action.session.add(change)
    return messages.notice(f"Undone: {escape(change.summary)}")

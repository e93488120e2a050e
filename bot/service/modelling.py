"""Modelling commands (SPEC §4.1): one function per sub-command, each inside the caller's
transaction, working through an `Action` that knows the workshop, the person and the time.

Nothing is forbidden by step: an action that belongs to a later step is done and noted early.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.core import commands, messages, naming
from bot.core.messages import Post
from bot.core.model import DEFAULT_FIELD_TYPE, WITH_FIELDS, normalise, parse_element_key
from bot.core.references import UnknownReference
from bot.core.text import escape, literal, plural, sentence, with_article
from bot.service.context import Action, Refused, key, label, row_id, usage
from bot.service.loops import loop_warning
from bot.service.snapshots import field_spec
from storage import capture
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


def add_events(action: Action, command: commands.AddEvents) -> Post:
    """Events made inside the caller's transaction, for a form whose events come with links
    and fields (`commands.Several`); a typed `/storm event` takes the faster path of
    `bot.service.capture`, which commits on its own."""
    made = [action.new_element("event", name) for name in command.names]
    notes = "".join(action.naming_notes(e) for e in made)
    return _done(f"Added {plural(len(made), 'event')}: {', '.join(label(e) for e in made)}.{notes}")


def add_hotspot(action: Action, command: commands.AddHotspot) -> Post:
    text, note = command.text, ""
    if command.on:
        about: Element | None = action.resolve(command.on)
    else:
        text, about, note = _on_by_name(action, command.text)
    hotspot = action.new_element("hotspot", text, on_element=about.id if about else None)
    on = f" on {label(about)}" if about else ""
    return _done(sentence(f"Added hotspot {label(hotspot)}{on}") + note + action.early("hotspots"))


# ` on ` in a hotspot's text, where an element's name may follow.
_ON = re.compile(r"(?<!\S)on\s+", re.IGNORECASE)


def _on_by_name(action: Action, text: str) -> tuple[str, Element | None, str]:
    """A hotspot whose text ends in `on <an element's name>` is about that element: (its
    text without that ending, the element, ""). The grammar only knows IDs and quoted names,
    and ` on ` is common in questions, so the longest ending that names an element exactly
    wins; when none does, the text stays whole and a note says that it is not attached."""
    unknown: UnknownReference | None = None
    for match in _ON.finditer(text):
        before, name = text[: match.start()].strip(), text[match.end() :].strip()
        if not before or not name:
            continue
        try:
            return before, action.resolve(name), ""
        except UnknownReference as error:
            unknown = error
    if unknown is None:
        return text, None, ""
    return (
        text,
        None,
        f"\n:information_source: Not attached to an element: {unknown} To attach it, end the "
        "line with `on <ID>`.",
    )


def resolve_hotspot(action: Action, command: commands.Resolve) -> Post:
    """Resolve a hotspot, keeping its answer (SPEC §3). Resolving it again with an answer
    replaces the answer: whoever knows better can say so, and `undo` brings the old one back."""
    hotspot = action.resolve(command.ref, "hotspot")
    answer = f" Answer: {literal(command.answer)}" if command.answer else ""
    if hotspot.resolved and (command.answer is None or command.answer == hotspot.answer):
        return _done(f"Hotspot {label(hotspot)} was already resolved.")
    if hotspot.resolved:
        hotspot.answer = command.answer
        action.session.add(hotspot)
        action.contribute()
        return _done(f"Hotspot {label(hotspot)} has a new answer.{answer}")
    hotspot.resolved, hotspot.answer = True, command.answer
    action.session.add(hotspot)
    action.contribute()
    return _done(sentence(f"Resolved hotspot {label(hotspot)}") + answer)


def add_from_message(action: Action, command: commands.AddFromMessage) -> Post:
    """An element from a message (the Add to Storm shortcut), attributed to its author and
    kept with the message's ts and permalink, as a reaction capture is; a hotspot made from
    an element's own message is about that element."""
    existing = repo.element_from_source(
        action.session,
        workshop_id=action.workshop_id,
        kind=command.kind,
        source_ts=command.source_ts,
    )
    if existing is not None and existing.dropped_at is None:
        return _done(f"That message is already {existing.kind} {label(existing)}.")
    about = None
    if command.kind == "hotspot":  # about the element of its message; of a shared one, none
        on_message = [
            e
            for e in repo.elements_by_message(
                action.session, workshop_id=action.workshop_id, message_ts=command.source_ts
            )
            if not repo.withdrawn(e)
        ]
        found = on_message[0] if len(on_message) == 1 else None
        about = action.survivor(found) if found is not None and found.kind != "hotspot" else None
    element = action.new_element(
        command.kind,
        command.name,
        author=command.author,
        source_ts=command.source_ts,
        on_element=about.id if about else None,
        details={"permalink": command.permalink} if command.permalink else None,
    )
    on = f" on {label(about)}" if about else ""
    kind = "domain event" if command.kind == "event" else command.kind
    activity = {"command": "commands", "view": "views"}.get(command.kind)
    early = action.early(activity, 3) if activity else ""
    return _done(
        f"Added {kind} {label(element)}{on} from that message.{action.naming_notes(element)}{early}"
    )


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
        f"Renamed *{key(element)}* from {literal(old)} to {literal(element.name)}."
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
    source_id, target_id = row_id(source), row_id(target)
    existing = {
        (link.kind, link.source_id, link.target_id)
        for link in repo.links_of(session, element_id=target_id)
    }
    for link in repo.links_of(session, element_id=source_id):
        moved: Link = link
        ends = (
            target_id if moved.source_id == source_id else moved.source_id,
            target_id if moved.target_id == source_id else moved.target_id,
        )
        if ends[0] == ends[1] or (moved.kind, *ends) in existing:
            session.delete(moved)
            continue
        moved.source_id, moved.target_id = ends
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
    try:
        events = _resolve_all(action, command.refs, "event")
    except UnknownReference as unknown:
        refs = command.refs
        if any(" " in ref for ref in refs) or all(parse_element_key(ref) for ref in refs):
            raise  # names separated by commas, or IDs: the reference is simply unknown
        raise UnknownReference(f"{unknown} {_commas_hint(action, command.refs)}") from None
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


def _commas_hint(action: Action, words: tuple[str, ...]) -> str:
    """How to write an `order` whose names were read one word each (separated by spaces):
    the line with commas, when its words make up event names, or else the events whose
    names hold the word that names nothing."""
    names: list[str] = []
    start = 0
    while start < len(words):
        for end in range(len(words), start, -1):
            name = " ".join(words[start:end])
            if _names_an_event(action, name):
                names.append(name)
                start = end
                break
        else:
            names = []
            break
    if len(names) >= 2:
        line = escape(f"/storm order {', '.join(names)}")
        return f"Names with spaces need commas between them: `{line}`"
    found = ""
    unknown = [word for word in words if not _names_an_event(action, word)]
    if unknown:
        wanted = normalise(unknown[0])
        timeline = repo.events_in_order(action.session, workshop_id=action.workshop_id)
        holding = [e for e in timeline if wanted in normalise(e.name)]
        if holding:
            shown = ", ".join(label(e) for e in holding[:5])
            found = f" Events with “{literal(unknown[0])}” in their name: {shown}."
    return (
        "Names with spaces need commas between them, like "
        f"`/storm order Order Placed, Payment Received`.{found}"
    )


def _names_an_event(action: Action, ref: str) -> bool:
    try:
        action.resolve(ref, "event")
    except (UnknownReference, Refused):
        return False
    return True


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
        # A command's new cause may close a loop through a policy.
        loop = loop_warning(action, [(element, e) for e in linked]) if kind == "command" else ""
        return _linked(action, element, created, verb, linked, activity, loop)

    return add


add_command = _linker("command", "causes", "causes", "event", "causes", "commands", outgoing=True)
add_view = _linker("view", "fed_by", "feeds", "event", "is fed by", "views", outgoing=False)
add_external = _linker(
    "external", "causes", "causes", "event", "causes", "external systems", outgoing=True
)
add_actor = _linker("actor", "issues", "issues", "command", "issues", "actors", outgoing=True)


def add_policy(action: Action, command: commands.AddPolicy) -> Post:
    """A policy on an event (whenever it happens) or on a view (for each item of that to-do
    list, SPEC §3), issuing one command.

    Only a policy on an event can make a loop worth a warning: a to-do list's command is
    meant to change the list it reads (the item done leaves it), so command → event → view →
    policy → command is the pattern itself, not a slip.
    """
    trigger = action.resolve(command.on, "event", "view")
    issued, issued_created = action.find_or_create("command", command.issues)
    policy, created = action.find_or_create("policy", command.name)
    action.link("on", policy, trigger)
    action.link("issues", policy, issued)
    action.contribute()
    made = f" (new command {label(issued)})" if issued_created else ""
    verb = "Added" if created else "Updated"
    when = f"whenever {label(trigger)}"
    loop = ""
    if trigger.kind == "event":
        loop = loop_warning(action, [(trigger, issued)])
    else:
        when = f"for each item of {label(trigger)}"
    return _done(
        f"{verb} policy {label(policy)}: {when}, then {label(issued)}{made}."
        f"{loop}{action.early('policies')}"
    )


def add_screen(action: Action, command: commands.AddScreen) -> Post:
    """A screen and the commands it issues and the views it shows (Event Modeling's UI
    lane); naming an existing screen adds links to it."""
    screen, created = action.find_or_create("screen", command.name)
    issued = [
        c
        for c in _resolve_all(action, command.issues, "command")
        if action.link("issues", screen, c)
    ]
    shown = [
        v for v in _resolve_all(action, command.shows, "view") if action.link("shows", screen, v)
    ]
    if not created and not issued and not shown:
        return _done(f"Nothing new: {label(screen)} already issues and shows those.")
    action.contribute()
    head = f"Added screen {label(screen)}" if created else f"Updated {label(screen)}"
    parts = []
    if issued:
        parts.append("issues " + ", ".join(label(c) for c in issued))
    if shown:
        parts.append("shows " + ", ".join(label(v) for v in shown))
    tail = ": " + "; ".join(parts) if parts else ""
    notes = action.naming_notes(screen) if created else ""
    return _done(f"{head}{tail}.{notes}{action.early('screens')}")


def _linked(
    action: Action,
    element: Element,
    created: bool,
    verb: str,
    linked: list[Element],
    activity: str,
    warning: str = "",
) -> Post:
    if not created and not linked:
        return _done(f"Nothing new: {label(element)} already {verb} those.")
    action.contribute()
    head = f"Added {element.kind} {label(element)}" if created else f"Updated {label(element)}"
    tail = f": {verb} " + ", ".join(label(e) for e in linked) if linked else ""
    notes = action.naming_notes(element) if created else ""
    return _done(f"{head}{tail}.{notes}{warning}{action.early(activity)}")


def group(action: Action, command: commands.Group) -> Post:
    aggregate, created = action.find_or_create("aggregate", command.name)
    members = _resolve_all(action, command.members, "command", "event", "view")
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
    element = action.resolve(command.ref, *WITH_FIELDS)
    session = action.session
    # What an import gave a field (its identifier, whether it identifies the element, its
    # example, subfields, a mapping without an origin) stays with it while it keeps its name.
    imported: dict[str, ElementField] = {}
    for old in repo.fields_of(session, element_id=element.id or 0):
        imported[old.name] = old
        session.delete(old)
    shown, warnings = [], []
    for position, spec in enumerate(command.fields):
        origin = None
        if spec.origin_ref is not None:
            try:
                origin = f"{key(action.resolve(spec.origin_ref))}.{spec.origin_field}"
            except UnknownReference:
                origin = f"{spec.origin_ref.upper()}.{spec.origin_field}"
                warnings.append(f"\n:warning: {literal(spec.origin_ref)} does not exist (yet).")
        before = imported.get(spec.name)
        field = ElementField(
            element_id=element.id or 0,
            position=position,
            name=spec.name,
            generated=spec.generated,
            origin=origin,
            type=spec.type,
            is_list=spec.is_list,
            identifier=spec.identifier or (before.identifier if before else None),
            id_attribute=before.id_attribute if before else False,
            example=before.example if before else None,
            mapping=before.mapping if before and origin is None else None,
            subfields=before.subfields if before else None,
        )
        session.add(field)
        shown.append(literal(str(field_spec(field))))
    action.contribute()
    return _done(
        f"Fields of {label(element)}: {', '.join(shown) or 'none'}.{''.join(warnings)}"
        f"{action.early(f'{element.kind} fields', 5 if element.kind == 'command' else 6)}"
    )


def add_field(action: Action, command: commands.AddField) -> Post:
    """One field added to an element's list, or rewritten where it stands when the element
    has it already (after normalisation): `/storm fields` with the other fields kept. A Fix
    marks or carries a field without saying its type, so a rewritten field keeps its type and
    identifier unless the command gives another type."""
    element = action.resolve(command.ref, *WITH_FIELDS)
    wanted = normalise(command.field.name)
    untyped = command.field.type == DEFAULT_FIELD_TYPE and not command.field.is_list
    kept: list[commands.FieldInput] = []
    for field in repo.fields_of(action.session, element_id=row_id(element)):
        if normalise(field.name) == wanted:
            kept.append(
                replace(
                    command.field,
                    type=field.type if untyped else command.field.type,
                    is_list=field.is_list if untyped else command.field.is_list,
                    identifier=command.field.identifier or field.identifier,
                )
            )
            continue
        origin = (field.origin or "").partition(".")
        kept.append(
            commands.FieldInput(
                field.name,
                field.generated,
                origin_ref=origin[0] or None,
                origin_field=origin[2] if origin[0] else None,
                type=field.type,
                is_list=field.is_list,
                identifier=field.identifier,
            )
        )
    if not any(normalise(field.name) == wanted for field in kept):
        kept.append(command.field)
    return set_fields(action, commands.SetFields(key(element), tuple(kept)))


def add_scenario(action: Action, command: commands.AddScenario) -> Post:
    # A given keeps repetitions: `given E1, E1` is two events (SPEC §3); a then is a set.
    given = [
        _scenario_ref(action, ref, "event", "the given of a scenario lists events")
        for ref in command.given
    ]
    when = (
        _scenario_ref(action, command.when, "command", "when names a command")
        if command.when
        else None
    )
    then = [
        _scenario_ref(action, ref, "event", "the then of a scenario lists events")
        for ref in dict.fromkeys(command.then)
    ]
    view = (
        _scenario_ref(action, command.view, "view", "the then of a view scenario names a view")
        if command.view
        else None
    )
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
        shape += f" then error “{literal(command.error)}”"
    else:
        shape += f" then {_refs(then)}"
    return _done(f"Added scenario {label(scenario)}: {shape}.{action.early('scenarios')}")


def _scenario_ref(action: Action, ref: str, kind: str, rule: str) -> Element:
    """The element a scenario names where it needs `kind`, or a refusal that says the rule
    and shows the scenario's usage, as a malformed line would. A name is looked for among
    elements of `kind` first, so that a command and an event of the same name are no puzzle."""
    try:
        return action.resolve(ref, kind)
    except Refused as wrong_kind:
        wrong = str(wrong_kind)
    except UnknownReference as unknown:
        try:
            other = action.resolve(ref)
        except UnknownReference:
            raise unknown from None
        wrong = f"{label(other)} is {with_article(other.kind)}, not {with_article(kind)}."
    raise Refused(f"{wrong} {rule[0].upper()}{rule[1:]}.\n{usage('scenario')}")


def _refs(elements: list[Element]) -> str:
    return ", ".join(label(e) for e in elements) if elements else "nothing"


# ---- votes ------------------------------------------------------------------------------


def vote(action: Action, command: commands.Vote) -> Post:
    element = action.resolve(command.ref)
    element_id = row_id(element)
    user_id = action.actor.user_id
    if not repo.add_vote(
        action.session,
        workshop_id=action.workshop_id,
        element_id=element_id,
        user_id=user_id,
        at=action.now,
    ):
        if not command.toggle:
            return messages.notice(f"You already voted for *{key(element)}*.")
        repo.remove_vote(action.session, element_id=element_id, user_id=user_id)
        votes = repo.vote_count(action.session, element_id=element_id)
        return messages.notice(
            f"Took back your vote for {label(element)} ({plural(votes, 'vote')})."
        )
    action.contribute()
    votes = repo.vote_count(action.session, element_id=element_id)
    return messages.notice(f"Voted for {label(element)} ({plural(votes, 'vote')}).")

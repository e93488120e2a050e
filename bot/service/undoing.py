"""`/storm undo` (SPEC §3): revert its author's last change, unless someone has built on it since.

A change is the journal of the rows it wrote (`storage.journal`). Reverting it is only safe
while no one else's later work depends on it: a later change by someone else that wrote one
of the same rows (a rename after a rename), or that used an element the change made or
renamed (linked it, gave it fields, voted for it, put it in a scenario, merged it…). Then
undo says who did what on which element and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core import commands, messages
from bot.core.messages import Post
from bot.core.model import parse_element_key
from bot.service.context import Action, Refused, label, row_id
from storage import journal
from storage import repository as repo
from storage.tables import Change, Element

# What someone did to an element, said of it ("it"); `{other}` is the other element involved.
_PHRASES = {
    "renamed": "renamed it",
    "linked": "linked {other} to it",
    "fields": "set its fields",
    "origin": "used its fields in {other}",
    "voted": "voted for it",
    "on": "put {other} on it",
    "scenario": "used it in scenario {other}",
    "merged": "merged it into {other}",
    "merged in": "merged {other} into it",
    "grouped": "grouped it in {other}",
    "member": "grouped {other} in it",
    "moved": "moved it on the timeline",
    "dropped": "dropped it",
    "resolved": "resolved it",
    "changed": "changed it",
}


@dataclass(frozen=True)
class _Touch:
    """Something a change did to an element (`element_id`), maybe with another one."""

    element_id: int
    how: str
    other_id: int | None = None


def undo(action: Action, _: commands.Undo) -> Post:
    change = repo.last_change(
        action.session, workshop_id=action.workshop_id, user_id=action.actor.user_id
    )
    if change is None:
        raise Refused("You have no change in this workshop to undo.")
    in_the_way = _built_on(action, change)
    if in_the_way:
        raise Refused(_why_not(action, change, in_the_way))
    changed = journal.elements_shown_changed(action.session, change.entries)
    withdrawn = journal.revert(action.session, change.entries, now=action.now)
    changed.difference_update(row_id(element) for element in withdrawn)
    action.withdraw_messages(withdrawn)
    action.update_messages(changed)
    change.undone_at = action.now
    action.session.add(change)
    return messages.notice(f"Undone: {change.summary}")


def _built_on(action: Action, change: Change) -> list[tuple[str, _Touch]]:
    """(who, what they did) for every later piece of someone else's work on this change."""
    session = action.session
    written = journal.rows(change.entries)
    made, fielded = _subjects(action, change.entries)
    found: list[tuple[str, _Touch]] = []
    for later in repo.changes_by_others_since(
        session,
        workshop_id=action.workshop_id,
        change_id=change.id or 0,
        user_id=change.user_id,
    ):
        for entry in later.entries:
            same_row = (entry["table"], entry["id"]) in written
            if entry["table"] != "element" and entry["op"] == "update" and not same_row:
                continue  # a merge moving links, votes, fields: its element says "merged"
            touches = _touches(action, entry)
            for number, touch in enumerate(touches):
                if (
                    touch.element_id in made
                    or (touch.how == "origin" and touch.element_id in fielded)
                    or (same_row and number == 0)
                ):
                    found.append((later.user_id, touch))
    if made:
        for vote in repo.votes_by_others_since(
            session, element_ids=made, user_id=change.user_id, since=change.at
        ):
            found.append((vote.user_id, _Touch(vote.element_id, "voted")))
    return found


def _subjects(action: Action, entries: list[dict[str, Any]]) -> tuple[set[int], set[int]]:
    """The elements a change made or renamed (what others build on), and those whose fields
    it set (what other fields may take their origin from)."""
    made = {
        entry["id"]
        for entry in entries
        if entry["table"] == "element"
        and (entry["op"] == "insert" or "name" in entry.get("before", {}))
    }
    fielded = {
        values["element_id"]
        for entry in entries
        if entry["table"] == "element_field"
        for values in journal.values(action.session, entry)
        if values.get("element_id") is not None
    }
    return made, fielded


def _touches(action: Action, entry: dict[str, Any]) -> list[_Touch]:
    """What one journaled row change did, element by element; the row's own element first."""
    touches: list[_Touch] = []
    for values in journal.values(action.session, entry):
        if entry["table"] == "element":
            touches += _element_touches(entry, values)
        elif entry["table"] == "link":
            source, target = values.get("source_id"), values.get("target_id")
            if source is not None and target is not None:
                touches += [_Touch(source, "linked", target), _Touch(target, "linked", source)]
        elif entry["table"] == "element_field" and values.get("element_id") is not None:
            touches.append(_Touch(values["element_id"], "fields"))
            origin = _origin(action, values.get("origin"))
            if origin is not None:
                touches.append(_Touch(origin, "origin", values["element_id"]))
        elif entry["table"] == "vote" and values.get("element_id") is not None:
            touches.append(_Touch(values["element_id"], "voted"))
    return list(dict.fromkeys(touches))


def _element_touches(entry: dict[str, Any], values: dict[str, Any]) -> list[_Touch]:
    """An element row's change: the element itself first (for an update), then the elements
    it came to refer to (all of them for a new element, the changed ones for an update)."""
    element_id = entry["id"]
    if entry["op"] == "update":
        changed = set(entry.get("before", {})) - {"renamed"}
        how = _how_changed(changed)
        other = {"merged": values.get("merged_into"), "grouped": values.get("aggregate_id")}
        # Values from before the change name no element it was merged into or grouped in.
        touches = (
            [] if how in other and other[how] is None else [_Touch(element_id, how, other.get(how))]
        )
    else:
        changed = set(values)
        touches = []
    if "on_element" in changed and values.get("on_element"):
        touches.append(_Touch(values["on_element"], "on", element_id))
    if "aggregate_id" in changed and values.get("aggregate_id"):
        touches.append(_Touch(element_id, "grouped", values["aggregate_id"]))
        touches.append(_Touch(values["aggregate_id"], "member", element_id))
    if "merged_into" in changed and values.get("merged_into"):
        touches.append(_Touch(element_id, "merged", values["merged_into"]))
        touches.append(_Touch(values["merged_into"], "merged in", element_id))
    details = values.get("details") or {}
    if entry["op"] == "insert" and "given" in details:
        used = [*details.get("given", []), details.get("when"), *details.get("then", [])]
        used.append(details.get("view"))
        touches += [_Touch(ref, "scenario", element_id) for ref in used if ref is not None]
    return touches


def _how_changed(columns: set[str]) -> str:
    for column, how in (
        ("name", "renamed"),
        ("merged_into", "merged"),
        ("aggregate_id", "grouped"),
        ("dropped_at", "dropped"),
        ("resolved", "resolved"),
        ("position", "moved"),
    ):
        if column in columns:
            return how
    return "changed"


def _origin(action: Action, origin: str | None) -> int | None:
    """The element a field's explicit origin (`E3.amount`) names, if it exists."""
    parsed = parse_element_key((origin or "").partition(".")[0])
    if parsed is None:
        return None
    element = repo.element_by_key(
        action.session, workshop_id=action.workshop_id, kind=parsed[0], number=parsed[1]
    )
    return element.id if element is not None else None


def _why_not(action: Action, change: Change, in_the_way: list[tuple[str, _Touch]]) -> str:
    """`*E2* Guest Arrived stays: <@U3> linked *C1* Register Arrival to it and set its fields
    since.`, one line per element, people mentioned (the answer is ephemeral)."""
    by_element: dict[int, dict[str, list[str]]] = {}
    for user_id, touch in in_the_way:
        other = _label_of(action, touch.other_id)
        phrase = _PHRASES[touch.how].format(other=other)
        phrases = by_element.setdefault(touch.element_id, {}).setdefault(user_id, [])
        if phrase not in phrases:
            phrases.append(phrase)
    lines = []
    for element_id, people in by_element.items():
        who = "; ".join(f"<@{user}> {_and(phrases)}" for user, phrases in people.items())
        lines.append(f"{_label_of(action, element_id)} stays: {who} since.")
    return (
        f"Nothing was undone: others have built on your last change "
        f"({change.summary}) since.\n" + "\n".join(lines)
    )


def _label_of(action: Action, element_id: int | None) -> str:
    element = action.session.get(Element, element_id) if element_id is not None else None
    return label(element) if element is not None else "an element"


def _and(phrases: list[str]) -> str:
    return phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} and {phrases[-1]}"

"""Policy loops: a policy whose command causes, directly or through other policies, the very
event that sets it off. Storm points them out and never refuses them: a loop may be meant
(a retry), but it usually is a slip."""

from __future__ import annotations

from collections import deque

from bot.service.context import Action, label, row_id
from storage import repository as repo
from storage.tables import Element


def loop_warning(action: Action, new_links: list[tuple[Element, Element]]) -> str:
    """`\n:warning: …` naming a loop that one of `new_links` closes, or "" when none does.

    A new link (`source`, `target`) closes a loop when the model already leads from its
    target back to its source: command → event (causes) → command (a policy on the event
    issues it) → … .
    """
    live = {
        e.id: e
        for e in repo.elements_named(
            action.session, workshop_id=action.workshop_id, kinds=("event", "command", "policy")
        )
    }
    leads_to: dict[int, list[int]] = {}
    policy_on: dict[int, list[int]] = {}
    policy_issues: dict[int, list[int]] = {}
    for link in repo.links(action.session, workshop_id=action.workshop_id):
        if link.source_id not in live or link.target_id not in live:
            continue
        source = live[link.source_id]
        if link.kind == "causes" and source.kind == "command":
            leads_to.setdefault(link.source_id, []).append(link.target_id)
        elif link.kind == "on" and source.kind == "policy":
            policy_on.setdefault(link.source_id, []).append(link.target_id)
        elif link.kind == "issues" and source.kind == "policy":
            policy_issues.setdefault(link.source_id, []).append(link.target_id)
    # An event leads to the commands that the policies on it issue.
    for policy, events in policy_on.items():
        for event in events:
            leads_to.setdefault(event, []).extend(policy_issues.get(policy, []))
    for source, target in new_links:
        path = _path(row_id(target), row_id(source), leads_to)
        if path is not None:
            shown = " → ".join(label(live[element_id]) for element_id in [row_id(source), *path])
            return (
                f"\n:warning: This makes a loop: {shown}. Each time round, a policy issues the "
                "command that causes the event it reacts to."
            )
    return ""


def _path(start: int, end: int, leads_to: dict[int, list[int]]) -> list[int] | None:
    """The shortest way from `start` to `end` (both included), breadth first."""
    came_from: dict[int, int] = {start: start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == end:
            path = [node]
            while path[-1] != start:
                path.append(came_from[path[-1]])
            return list(reversed(path))
        for following in leads_to.get(node, []):
            if following not in came_from:
                came_from[following] = node
                queue.append(following)
    return None

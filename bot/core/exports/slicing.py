"""The model cut into slices the way Event Modeling draws them, one cut for every export that
hands slices on (SPEC §7: `eventmodel` and `slices`), so that both always agree.

- one STATE_CHANGE slice per command, holding the command, the events it causes, and the
  policies (automations) that issue it: the real tools put a processor in the slice of the
  command it issues;
- one STATE_VIEW slice per view;
- one STATE_CHANGE slice per external system with the events it causes, and a last one for
  events that nothing causes yet, so that every event appears somewhere;
- one AUTOMATION slice per policy that issues no live command, so that no policy is lost;
- screens in the slices of the commands they issue and of the views they show (a screen may
  be in several, as in the real tools' files), and one STATE_VIEW slice for each screen that
  does neither, so that no screen is lost either.

A scenario belongs to the slice of its command (`when`) or of its view; one whose command or
view was dropped has nothing to specify and is left out. Slices follow the timeline: a command
slice sits at its first event, a view or a lone policy right after the last event it reads.

A `Slice` only points at elements; each export builds its text slice by slice from it, so that
a large model is never held twice in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.exports.links import Links
from bot.core.model import ElementInfo, Scenario, Snapshot


@dataclass(frozen=True, slots=True)
class Slice:
    """One slice: `key` is what it is named after (`C1`, `V2`, `X1`, `P3`, `U1` or `uncaused`),
    `members` the elements it holds, `scenarios` the scenario elements that specify it."""

    index: int  # 1, 2, … in timeline order
    key: str
    name: str
    slice_type: str  # STATE_CHANGE, STATE_VIEW or AUTOMATION (the schema's words)
    members: tuple[ElementInfo, ...]
    scenarios: tuple[ElementInfo, ...]

    @property
    def id(self) -> str:
        """The slice's stable id, which its specifications' `linkedId` names."""
        return f"slice-{self.key}"

    def of_kind(self, kind: str) -> list[ElementInfo]:
        return [member for member in self.members if member.kind == kind]


def cut(snapshot: Snapshot, links: Links) -> list[Slice]:
    """Every slice of the model, numbered, in timeline order."""
    position = {event.key: n for n, event in enumerate(snapshot.events, start=1)}
    end = len(position) + 1

    def first(events: list[str]) -> float:
        return min((position[e] for e in events if e in position), default=end)

    def after_last(events: list[str]) -> float:
        return max((position[e] for e in events if e in position), default=end) + 0.5

    scenarios: dict[str, list[ElementInfo]] = {}
    for element in snapshot.of_kind("scenario"):
        scenario = element.scenario or Scenario()
        subject = links.key(scenario.view) or links.key(scenario.when)
        if subject:
            scenarios.setdefault(subject, []).append(element)
    issuers: dict[str, list[ElementInfo]] = {}
    lone: list[ElementInfo] = []
    for policy in snapshot.of_kind("policy"):
        commands = links.keys(policy.issues)
        for command in commands:
            issuers.setdefault(command, []).append(policy)
        if not commands:
            lone.append(policy)

    screens: dict[str, list[ElementInfo]] = {}  # by the command it issues or view it shows
    for screen in snapshot.of_kind("screen"):
        shown = links.keys(screen.issues) + links.keys(screen.shows)
        for key in shown:
            screens.setdefault(key, []).append(screen)
        if not shown:
            screens.setdefault(screen.key, []).append(screen)

    placed: list[tuple[float, int, str, str, str, list[ElementInfo]]] = []
    caused: set[str] = set()
    for source in snapshot.of_kind("command") + snapshot.of_kind("external"):
        events = links.keys(source.causes)
        caused.update(events)
        members = [source] if source.kind == "command" else []
        members += links.elements(events) + issuers.get(source.key, [])
        members += screens.get(source.key, [])
        placed.append((first(events), 0, source.key, source.name, "STATE_CHANGE", members))
    for view in snapshot.of_kind("view"):
        where = after_last(links.keys(view.fed_by))
        members = [view, *screens.get(view.key, [])]
        placed.append((where, 1, view.key, view.name, "STATE_VIEW", members))
    for screen in snapshot.of_kind("screen"):
        if screen.key in screens:  # issues nothing and shows nothing
            placed.append((end, 3, screen.key, screen.name, "STATE_VIEW", [screen]))
    for policy in lone:
        on = links.key(policy.on)
        trigger = links.by_key.get(on) if on else None
        # A policy reading a view (a to-do list) comes after the events feeding that view.
        read = links.keys(trigger.fed_by) if trigger and trigger.kind == "view" else [on]
        where = after_last([key for key in read if key])
        placed.append((where, 2, policy.key, policy.name, "AUTOMATION", [policy]))
    loose = [event for event in snapshot.events if event.key not in caused]
    if loose:
        where = first([e.key for e in loose])
        placed.append((where, 0, "uncaused", "Events without a cause", "STATE_CHANGE", loose))

    placed.sort(key=lambda entry: entry[:2])
    return [
        Slice(index, key, name, slice_type, tuple(members), tuple(scenarios.get(key, ())))
        for index, (_, _, key, name, slice_type, members) in enumerate(placed, start=1)
    ]

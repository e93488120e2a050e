"""The Event Modeling Specification export (SPEC §7 `eventmodel`).

`to_eventmodel` cuts the model into slices of the Event Modeling Specification
(dilgerma/event-modeling-spec, `eventmodeling.schema.json`) the way Event Modeling draws them:

- one STATE_CHANGE slice per command, holding the command and the events it causes, the
  actors issuing it, and the scenarios whose `when` is that command;
- one STATE_VIEW slice per view, holding the read model (linked to its source events by
  inbound dependencies) and the view scenarios of that view;
- one AUTOMATION slice per policy, holding a processor that listens to its event and issues
  its command;
- one STATE_CHANGE slice per external system with the events it causes (marked EXTERNAL),
  and a last one for events that nothing causes yet, so that every event appears somewhere.

An event caused by several commands appears in each of their slices under the same ID.
Slices follow the timeline: a command slice sits at its first event, a view or policy slice
right after the last event it reads. A scenario whose command or view was dropped has nothing
to specify and is left out. Field types are unknown to Storm, so every field is a `String`;
`name*` becomes `generated` and an explicit origin becomes `mapping`.
"""

from __future__ import annotations

from typing import Any

from bot.core.exports.links import Links, indented_json
from bot.core.model import ElementInfo, FieldSpec, Scenario, Snapshot

_ELEMENT_TYPES = {
    "command": "COMMAND",
    "event": "EVENT",
    "view": "READMODEL",
    "policy": "AUTOMATION",
}
_SPEC_TYPES = {"command": "SPEC_COMMAND", "event": "SPEC_EVENT", "view": "SPEC_READMODEL"}
_SLICE_ORDER = {"STATE_CHANGE": 0, "STATE_VIEW": 1, "AUTOMATION": 2}


def _em_field(links: Links, spec: FieldSpec) -> dict[str, Any]:
    field: dict[str, Any] = {"name": spec.name, "type": "String"}
    if spec.generated:
        field["generated"] = True
    origin = links.origin(spec)
    if origin:
        field["mapping"] = origin
    return field


class _EventModel:
    """Builds slices; `inbound`/`outbound` are the message flows between elements."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.links = links = Links(snapshot)
        self.position = {event.key: n for n, event in enumerate(snapshot.events, start=1)}
        self.inbound: dict[str, list[str]] = {}
        self.outbound: dict[str, list[str]] = {}
        for source in snapshot.of_kind("command") + snapshot.of_kind("external"):
            for event in links.keys(source.causes):
                self._flow(source.key, event)
        for view in snapshot.of_kind("view"):
            for event in links.keys(view.fed_by):
                self._flow(event, view.key)
        for policy in snapshot.of_kind("policy"):
            if on := links.key(policy.on):
                self._flow(on, policy.key)
            for command in links.keys(policy.issues):
                self._flow(policy.key, command)

    def _flow(self, source: str, target: str) -> None:
        self.outbound.setdefault(source, []).append(target)
        self.inbound.setdefault(target, []).append(source)

    def _dependencies(self, key: str) -> list[dict[str, str]]:
        found = []
        for direction, keys in (("INBOUND", self.inbound), ("OUTBOUND", self.outbound)):
            for other in self.links.elements(keys.get(key, [])):
                if other.kind in _ELEMENT_TYPES:  # actors and external systems are not elements
                    found.append(
                        {
                            "id": other.key,
                            "type": direction,
                            "title": other.name,
                            "elementType": _ELEMENT_TYPES[other.kind],
                        }
                    )
        return found

    def element(self, element: ElementInfo) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": element.key,
            "title": element.name,
            "type": _ELEMENT_TYPES[element.kind],
            "fields": [_em_field(self.links, spec) for spec in element.fields],
            "dependencies": self._dependencies(element.key),
        }
        if element.kind == "event":
            sources = self.links.elements(self.inbound.get(element.key, []))
            external = bool(sources) and all(s.kind == "external" for s in sources)
            out["context"] = "EXTERNAL" if external else "INTERNAL"
        aggregate = self.links.aggregate_of(element)
        if aggregate:
            out["aggregate"] = self.links.by_key[aggregate].name
        return out

    def _step(self, scenario: str, part: str, index: int, key: str) -> dict[str, Any]:
        element = self.links.by_key[key]
        return {
            "id": f"{scenario}-{part}-{index}",
            "title": element.name,
            "index": index,
            "type": _SPEC_TYPES.get(element.kind, "SPEC_EVENT"),
            "fields": [_em_field(self.links, spec) for spec in element.fields],
            "linkedId": key,
        }

    def specification(self, element: ElementInfo, subject: str) -> dict[str, Any]:
        scenario = element.scenario or Scenario()
        key, links = element.key, self.links
        command = links.key(scenario.when)
        given = [self._step(key, "given", i, k) for i, k in enumerate(links.keys(scenario.given))]
        when = [self._step(key, "when", 0, command)] if command else []
        if scenario.view:
            then = [self._step(key, "then", 0, subject)]
        elif scenario.error:
            then = [
                {"id": f"{key}-then-0", "title": scenario.error, "index": 0, "type": "SPEC_ERROR"}
            ]
        else:
            then = [self._step(key, "then", i, k) for i, k in enumerate(links.keys(scenario.then))]
        return {
            "id": key,
            "title": element.name,
            "given": given,
            "when": when,
            "then": then,
            "linkedId": subject,
        }

    def slice(
        self,
        key: str,
        title: str,
        slice_type: str,
        members: list[ElementInfo],
        specifications: list[dict[str, Any]],
    ) -> dict[str, Any]:
        by_kind = {
            kind: [self.element(m) for m in members if m.kind == kind] for kind in _ELEMENT_TYPES
        }
        aggregates = [self.links.aggregate_of(m) for m in members]
        return {
            "id": f"slice-{key}",
            "title": title,
            "status": "Created",
            "context": self.snapshot.title,
            "sliceType": slice_type,
            "commands": by_kind["command"],
            "events": by_kind["event"],
            "readmodels": by_kind["view"],
            "screens": [],
            "processors": by_kind["policy"],
            "tables": [],
            "specifications": specifications,
            "actors": [
                {"name": actor.name, "authRequired": False}
                for m in members
                if m.kind == "command"
                for actor in self.links.elements(self.links.actors_of(m))
            ],
            "aggregates": list(
                dict.fromkeys(self.links.by_key[a].name for a in aggregates if a is not None)
            ),
        }

    def slices(self) -> list[dict[str, Any]]:
        """Every slice, numbered, in timeline order."""
        s, links = self.snapshot, self.links
        end = len(self.position) + 1
        specs: dict[str, list[dict[str, Any]]] = {}
        for element in s.of_kind("scenario"):
            scenario = element.scenario or Scenario()
            subject = links.key(scenario.view) or links.key(scenario.when)
            if subject:
                specs.setdefault(subject, []).append(self.specification(element, subject))

        placed: list[tuple[float, int, dict[str, Any]]] = []

        def first(events: list[str]) -> float:
            return min((self.position[e] for e in events if e in self.position), default=end)

        def after_last(events: list[str]) -> float:
            return max((self.position[e] for e in events if e in self.position), default=end) + 0.5

        def place(where: float, key: str, title: str, slice_type: str, *parts: Any) -> None:
            built = self.slice(key, title, slice_type, *parts)
            placed.append((where, _SLICE_ORDER[slice_type], built))

        caused: set[str] = set()
        for source in s.of_kind("command") + s.of_kind("external"):
            events = links.keys(source.causes)
            caused.update(events)
            members = ([source] if source.kind == "command" else []) + links.elements(events)
            specifications = specs.get(source.key, [])
            place(first(events), source.key, source.name, "STATE_CHANGE", members, specifications)
        for view in s.of_kind("view"):
            where = after_last(links.keys(view.fed_by))
            place(where, view.key, view.name, "STATE_VIEW", [view], specs.get(view.key, []))
        for policy in s.of_kind("policy"):
            on = links.key(policy.on)
            place(
                after_last([on] if on else []), policy.key, policy.name, "AUTOMATION", [policy], []
            )
        loose = [event for event in s.events if event.key not in caused]
        if loose:
            title = "Events without a cause"
            place(first([e.key for e in loose]), "uncaused", title, "STATE_CHANGE", loose, [])

        placed.sort(key=lambda entry: entry[:2])
        for index, (_, _, built) in enumerate(placed, start=1):
            built["index"] = index
        return [built for _, _, built in placed]


def to_eventmodel(snapshot: Snapshot) -> str:
    """The model as Event Modeling slices (JSON text), for Event Modeling tools."""
    return indented_json(lambda: {"slices": _EventModel(snapshot).slices()})

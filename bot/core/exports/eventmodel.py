"""The Event Modeling Specification export (SPEC §7 `eventmodel`).

`to_eventmodel` writes the slices of `slicing.cut` in the Event Modeling Specification's JSON
(dilgerma/event-modeling-spec, `eventmodeling.schema.json`), following what the real tools
(Nebulit's) write where the schema leaves things open:

- a slice is titled `slice: <name>`; a command slice holds the command, its events, the actors
  issuing it and the processors (policies) that issue it; a view slice holds the read model,
  linked to its source events by inbound dependencies; external systems' events are EXTERNAL;
- an element shared by several slices (an event caused by two commands) keeps its id;
- a specification's `linkedId` is the id of its slice, its steps' `linkedId` the element;
- a rejection is a SPEC_ERROR step titled `Error-Case`, its message in the step's `examples`
  (`{"message": …}`) and in the specification's `comments`;
- a field's `name` is its identifier for code (`order id` → `orderId`), `name*` becomes
  `generated`, and an explicit origin becomes `mapping`, the source field's identifier.

Field types are unknown to Storm, so every field is a `String`. The document is built slice
by slice from `slicing.Slice`, which only points at the snapshot's elements.
"""

from __future__ import annotations

from typing import Any

from bot.core.exports.links import Links, indented_json
from bot.core.exports.slicing import Slice, cut
from bot.core.model import ElementInfo, FieldSpec, Scenario, Snapshot, code_identifier, normalise

_ELEMENT_TYPES = {
    "command": "COMMAND",
    "event": "EVENT",
    "view": "READMODEL",
    "policy": "AUTOMATION",
}
_SPEC_TYPES = {"command": "SPEC_COMMAND", "event": "SPEC_EVENT", "view": "SPEC_READMODEL"}
# What the real tools title a rejection step.
ERROR_CASE = "Error-Case"


def _em_field(links: Links, spec: FieldSpec) -> dict[str, Any]:
    """A field as Event Modeling tools write it: named by its code identifier (`orderId`),
    with its type and its cardinality (`List` for `Type[]`), which they always state."""
    field: dict[str, Any] = {
        "name": spec.code_name,
        "type": spec.type,
        "cardinality": "List" if spec.is_list else "Single",
    }
    if spec.generated:
        field["generated"] = True
    if spec.origin:
        field["mapping"] = _source_field(links, spec.origin)
    return field


def _source_field(links: Links, origin: str) -> str:
    """The field an origin (`E3.amount`) names, as the real tools' `mapping` names it: the
    source field's identifier, spelled as the source element spells it when it has one."""
    ref, _, name = origin.partition(".")
    source = links.by_key.get(ref)
    wanted = normalise(name)
    for spec in source.fields if source else ():
        if normalise(spec.name) == wanted:
            return spec.code_name
    return code_identifier(name or ref)


class _EventModel:
    """Builds slices; `inbound`/`outbound` are the message flows between elements."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.links = links = Links(snapshot)
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

    def specification(self, element: ElementInfo, slice_id: str) -> dict[str, Any]:
        scenario = element.scenario or Scenario()
        key, links = element.key, self.links
        command = links.key(scenario.when)
        given = [self._step(key, "given", i, k) for i, k in enumerate(links.keys(scenario.given))]
        when = [self._step(key, "when", 0, command)] if command else []
        spec: dict[str, Any] = {"id": key, "title": element.name, "given": given, "when": when}
        if view := links.key(scenario.view):
            spec["then"] = [self._step(key, "then", 0, view)]
        elif scenario.error:
            spec["then"] = [
                {
                    "id": f"{key}-then-0",
                    "title": ERROR_CASE,
                    "index": 0,
                    "type": "SPEC_ERROR",
                    "examples": [{"message": scenario.error}],
                }
            ]
            spec["comments"] = [{"description": scenario.error}]
        else:
            then = links.keys(scenario.then)
            spec["then"] = [self._step(key, "then", i, k) for i, k in enumerate(then)]
        spec["linkedId"] = slice_id
        return spec

    def slice(self, cut_slice: Slice) -> dict[str, Any]:
        members, links = cut_slice.members, self.links
        commands = cut_slice.of_kind("command")
        aggregates = (links.aggregate_of(m) for m in members)
        return {
            "id": cut_slice.id,
            "index": cut_slice.index,
            "title": f"slice: {cut_slice.name}",
            "status": "Created",
            "context": self.snapshot.title,
            "sliceType": cut_slice.slice_type,
            "commands": [self.element(m) for m in commands],
            "events": [self.element(m) for m in cut_slice.of_kind("event")],
            "readmodels": [self.element(m) for m in cut_slice.of_kind("view")],
            "screens": [],
            "processors": [self.element(m) for m in cut_slice.of_kind("policy")],
            "tables": [],
            "specifications": [
                self.specification(scenario, cut_slice.id) for scenario in cut_slice.scenarios
            ],
            "actors": [
                {"name": actor.name, "authRequired": False}
                for command in commands
                for actor in links.elements(links.actors_of(command))
            ],
            "aggregates": list(
                dict.fromkeys(links.by_key[a].name for a in aggregates if a is not None)
            ),
        }

    def slices(self) -> list[dict[str, Any]]:
        """Every slice, numbered, in timeline order."""
        return [self.slice(s) for s in cut(self.snapshot, self.links)]


def to_eventmodel(snapshot: Snapshot) -> str:
    """The model as Event Modeling slices (JSON text), for Event Modeling tools."""
    return indented_json(lambda: {"slices": _EventModel(snapshot).slices()})

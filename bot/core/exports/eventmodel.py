"""The Event Modeling Specification export (SPEC §7 `eventmodel`).

`to_eventmodel` writes the slices of `slicing.cut` in the Event Modeling Specification's JSON
(dilgerma/event-modeling-spec, `eventmodeling.schema.json`), following what the real tools
(Nebulit's) write where the schema leaves things open:

- a slice is titled `slice: <name>`; a command slice holds the command, its events, the actors
  issuing it, the processors (policies) and screens that issue it; a view slice holds the read
  model and the screens showing it; links are the elements' dependencies, written on both
  sides; external systems' events are EXTERNAL;
- an element shared by several slices (an event caused by two commands, a screen issuing one
  command and showing one view) keeps its id;
- a specification's `linkedId` is the id of its slice, its steps' `linkedId` the element;
- a rejection is a SPEC_ERROR step titled `Error-Case`, its message in the step's `examples`
  (`{"message": …}`) and, unless the specification has comments of its own, in its `comments`;
- a field's `name` is its identifier for code (`order id` → `orderId`), `name*` becomes
  `generated`, and an explicit origin becomes `mapping`, the source field's identifier; its
  type and cardinality (`List` for `Type[]`) are always written.

What an imported Event Modeling file said and Storm kept is written back as it was: element,
slice and specification ids (where no other element has that id), slice titles and
statuses, descriptions, `idAttribute`, example values, a `Custom` field's subfields, and
each specification step's own fields. A slice status outside the schema's three (Nebulit's `Informational`) is written as
`Created`, with the real one in a `status:<status>` tag of the slice's element, which Storm's
import reads back (`bot.core.imports.eventmodel`): the export stays valid against the schema
and loses nothing.
"""

from __future__ import annotations

from typing import Any

import orjson

from bot.core.exports.links import Links, indented_json
from bot.core.exports.slicing import Slice, cut
from bot.core.model import (
    ElementInfo,
    FieldSpec,
    Scenario,
    Snapshot,
    StepData,
    code_identifier,
    normalise,
    parse_element_key,
)

_ELEMENT_TYPES = {
    "command": "COMMAND",
    "event": "EVENT",
    "view": "READMODEL",
    "screen": "SCREEN",
    "policy": "AUTOMATION",
}
_SPEC_TYPES = {"command": "SPEC_COMMAND", "event": "SPEC_EVENT", "view": "SPEC_READMODEL"}
# What the real tools title a rejection step.
ERROR_CASE = "Error-Case"
# The slice statuses the schema allows; the first is what a slice is until someone says.
STATUSES = ("Created", "Done", "InProgress")
STATUS_TAG = "status:"


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
    if spec.mapping is not None:
        field["mapping"] = spec.mapping
    elif spec.origin:
        field["mapping"] = _source_field(links, spec.origin)
    if spec.id_attribute:
        field["idAttribute"] = True
    if spec.example is not None:
        field["example"] = orjson.loads(spec.example)
    if spec.subfields is not None:
        field["subfields"] = orjson.loads(spec.subfields)
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


def _ids(snapshot: Snapshot) -> dict[str, str]:
    """Each element's id in the document: the one an imported file gave it, unless another
    element has it already (as its own ID or an earlier import's); else its Storm ID."""
    taken = {element.key for element in snapshot.elements}
    ids: dict[str, str] = {}
    for element in snapshot.elements:
        imported = element.imported.external_id if element.imported else None
        if imported and imported not in taken and parse_element_key(imported) is None:
            taken.add(imported)
            ids[element.key] = imported
        else:
            ids[element.key] = element.key
    return ids


class _EventModel:
    """Builds slices; `inbound`/`outbound` are the message flows between elements."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.links = links = Links(snapshot)
        self.ids = _ids(snapshot)
        self.inbound: dict[str, list[str]] = {}
        self.outbound: dict[str, list[str]] = {}
        for source in snapshot.of_kind("command") + snapshot.of_kind("external"):
            for event in links.keys(source.causes):
                self._flow(source.key, event)
        for view in snapshot.of_kind("view"):
            for event in links.keys(view.fed_by):
                self._flow(event, view.key)
        for policy in snapshot.of_kind("policy"):
            for on in links.keys(policy.triggers or ((policy.on,) if policy.on else ())):
                self._flow(on, policy.key)
            for command in links.keys(policy.issues):
                self._flow(policy.key, command)
        for screen in snapshot.of_kind("screen"):
            for shown in links.keys(screen.shows):
                self._flow(shown, screen.key)
            for issued in links.keys(screen.issues):
                self._flow(screen.key, issued)

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
                            "id": self.ids[other.key],
                            "type": direction,
                            "title": other.name,
                            "elementType": _ELEMENT_TYPES[other.kind],
                        }
                    )
        return found

    def element(
        self, element: ElementInfo, tags: tuple[str, ...] = (), in_slice: str | None = None
    ) -> dict[str, Any]:
        """An element as one slice shows it. A screen's aggregate is the slice's (its
        command's or view's, `in_slice`), as the real tools write a screen shared by two
        slices; the screen's own when the slice has none."""
        out: dict[str, Any] = {
            "id": self.ids[element.key],
            "title": element.name,
            "type": _ELEMENT_TYPES[element.kind],
            "fields": [_em_field(self.links, spec) for spec in element.fields],
            "dependencies": self._dependencies(element.key),
        }
        imported = element.imported
        if element.kind == "event":
            sources = self.links.elements(self.inbound.get(element.key, []))
            external = bool(sources) and all(s.kind == "external" for s in sources)
            told = imported is not None and imported.external_context
            out["context"] = "EXTERNAL" if external or told else "INTERNAL"
        aggregate = self.links.aggregate_of(element)
        if element.kind == "screen" and in_slice is not None:
            aggregate = in_slice
        if aggregate:
            out["aggregate"] = self.links.by_key[aggregate].name
        if imported is not None and imported.description:
            out["description"] = imported.description
        if tags:
            out["tags"] = list(tags)
        return out

    def _step(self, scenario: ElementInfo, part: str, index: int, key: str) -> dict[str, Any]:
        element = self.links.by_key[key]
        data = _step_data(scenario, part, index)
        fields = data.fields if data is not None else element.fields
        return {
            "id": (data.step_id if data and data.step_id else None)
            or f"{scenario.key}-{part}-{index}",
            "title": element.name,
            "index": index,
            "type": _SPEC_TYPES.get(element.kind, "SPEC_EVENT"),
            "fields": [_em_field(self.links, spec) for spec in fields],
            "linkedId": self.ids[key],
        }

    def specification(self, element: ElementInfo, slice_id: str) -> dict[str, Any]:
        scenario = element.scenario or Scenario()
        links = self.links
        command = links.key(scenario.when)
        given = [
            self._step(element, "given", i, k) for i, k in enumerate(links.keys(scenario.given))
        ]
        when = [self._step(element, "when", 0, command)] if command else []
        spec: dict[str, Any] = {
            "id": self.ids[element.key],
            "title": element.name,
            "given": given,
            "when": when,
        }
        comments = list(scenario.comments)
        if view := links.key(scenario.view):
            spec["then"] = [self._step(element, "then", 0, view)]
        elif scenario.error:
            data = _step_data(element, "then", 0)
            spec["then"] = [
                {
                    "id": (data.step_id if data and data.step_id else None)
                    or f"{element.key}-then-0",
                    "title": ERROR_CASE,
                    "index": 0,
                    "type": "SPEC_ERROR",
                    "examples": [{"message": scenario.error}],
                }
            ]
            comments = comments or [scenario.error]
        else:
            then = links.keys(scenario.then)
            spec["then"] = [self._step(element, "then", i, k) for i, k in enumerate(then)]
        if comments:
            spec["comments"] = [{"description": comment} for comment in comments]
        spec["linkedId"] = slice_id
        return spec

    def slice(self, cut_slice: Slice, slice_id: str) -> dict[str, Any]:
        members, links = cut_slice.members, self.links
        commands = cut_slice.of_kind("command")
        holder = _holder(cut_slice, links)
        imported = holder.imported if holder is not None else None
        status = (imported.slice_status if imported else None) or STATUSES[0]
        tags: dict[str, tuple[str, ...]] = {}
        if status not in STATUSES and holder is not None:
            tags[holder.key] = (f"{STATUS_TAG}{status}",)
            status = STATUSES[0]

        namesake = links.by_key.get(cut_slice.key)
        in_slice = links.aggregate_of(namesake) if namesake is not None else None

        shown = [
            (member.kind, self.element(member, tags.get(member.key, ()), in_slice))
            for member in members
            if member.kind in _ELEMENT_TYPES
        ]
        written = {kind: [e for k, e in shown if k == kind] for kind in _ELEMENT_TYPES}
        return {
            "id": slice_id,
            "index": cut_slice.index,
            "title": (imported.slice_title if imported else None) or f"slice: {cut_slice.name}",
            "status": status,
            "context": self.snapshot.title,
            "sliceType": cut_slice.slice_type,
            "commands": written["command"],
            "events": written["event"],
            "readmodels": written["view"],
            "screens": written["screen"],
            "processors": written["policy"],
            "tables": [],
            "specifications": [
                self.specification(scenario, slice_id) for scenario in cut_slice.scenarios
            ],
            "actors": [
                {"name": actor.name, "authRequired": False}
                for command in commands
                for actor in links.elements(links.actors_of(command))
            ],
            "aggregates": list(
                imported.slice_aggregates
                if imported and imported.slice_aggregates is not None
                else dict.fromkeys(e["aggregate"] for _, e in shown if "aggregate" in e)
            ),
        }

    def slices(self) -> list[dict[str, Any]]:
        """Every slice, numbered, in timeline order, each with its own id: the one an
        imported file gave it (once), else `slice-<key>`."""
        slices = cut(self.snapshot, self.links)
        taken = {f"slice-{s.key}" for s in slices}
        written = []
        for cut_slice in slices:
            holder = _holder(cut_slice, self.links)
            kept = holder.imported.slice_id if holder and holder.imported else None
            slice_id = cut_slice.id
            if kept and kept not in taken:
                taken.add(kept)
                slice_id = kept
            written.append(self.slice(cut_slice, slice_id))
        return written


def _holder(cut_slice: Slice, links: Links) -> ElementInfo | None:
    """The element a slice is cut around, where an import keeps its id, title and status:
    the slice's namesake, or for the events nothing causes, the first that holds a slice."""
    element = links.by_key.get(cut_slice.key)
    if element is not None:
        return element
    return next((m for m in cut_slice.members if m.imported and m.imported.slice_title), None)


def _step_data(scenario: ElementInfo, part: str, index: int) -> StepData | None:
    """The data an imported specification gave one of its steps, if any."""
    steps = scenario.scenario.data if scenario.scenario else ()
    return next((s for s in steps if s.part == part and s.index == index), None)


def to_eventmodel(snapshot: Snapshot) -> str:
    """The model as Event Modeling slices (JSON text), for Event Modeling tools."""
    return indented_json(lambda: {"slices": _EventModel(snapshot).slices()})

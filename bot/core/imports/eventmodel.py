"""Reading an Event Modeling JSON file (the public schema, dilgerma/event-modeling-spec, as
Storm's `eventmodel` export and Nebulit's tools write it) into a plan.

The file is a list of slices, each holding elements (commands, events, read models, screens,
processors) and specifications. An element shared by several slices keeps its id in each, so
an id names one element of the model; the same id for two different elements is refused.
Links are the elements' `dependencies`: a command's OUTBOUND event is an event it causes, a
screen's OUTBOUND command one it issues, a read model's OUTBOUND screen one that shows it, a
processor's INBOUND read model or event a trigger, and so on; each link may be written on
either side or both. Keys real tools write beyond the schema (`flows`, `codeGen`,
`elementContext`, `screenLayouts`, `prototype`…) are ignored.

A slice's id, title and status are kept on the element the slice is cut around (its first
command; for a view slice its read model; for an automation its processor), since Storm cuts
slices from the model (`bot.core.exports.slicing`) and finds them there when it exports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from bot.core.imports.checks import (
    at,
    distinct_fields,
    field_type,
    flag,
    ident,
    items,
    name,
    obj,
    string,
)
from bot.core.imports.plan import (
    ImportProblem,
    Plan,
    PlanElement,
    PlanField,
    PlanScenario,
    PlanStep,
    SliceMeta,
)
from bot.core.model import code_identifier, normalise
from bot.core.text import MAX_ANSWER_LENGTH

SOURCE = "Event Modeling"
# A slice's lists and the element type each holds.
LISTS = {
    "commands": "COMMAND",
    "events": "EVENT",
    "readmodels": "READMODEL",
    "screens": "SCREEN",
    "processors": "AUTOMATION",
}
KINDS = {
    "COMMAND": "command",
    "EVENT": "event",
    "READMODEL": "view",
    "SCREEN": "screen",
    "AUTOMATION": "policy",
}
# (kind of the element written on, direction, kind of the other) → (relation, source side):
# the relation is held by the source, which is the element itself or the other one.
_LINKS: dict[tuple[str, str, str], tuple[str, bool]] = {
    ("command", "OUTBOUND", "event"): ("causes", True),
    ("event", "INBOUND", "command"): ("causes", False),
    ("event", "OUTBOUND", "view"): ("fed_by", False),
    ("view", "INBOUND", "event"): ("fed_by", True),
    ("screen", "OUTBOUND", "command"): ("issues", True),
    ("command", "INBOUND", "screen"): ("issues", False),
    ("view", "OUTBOUND", "screen"): ("shows", False),
    ("screen", "INBOUND", "view"): ("shows", True),
    ("policy", "OUTBOUND", "command"): ("issues", True),
    ("command", "INBOUND", "policy"): ("issues", False),
    ("policy", "INBOUND", "view"): ("on", True),
    ("view", "OUTBOUND", "policy"): ("on", False),
    ("policy", "INBOUND", "event"): ("on", True),
    ("event", "OUTBOUND", "policy"): ("on", False),
}
# Where a slice's id, title and status are kept: the first element of these lists.
_SLICE_HOLDERS = {
    "STATE_CHANGE": ("commands", "processors", "readmodels", "events", "screens"),
    "STATE_VIEW": ("readmodels", "commands", "processors", "screens", "events"),
    "AUTOMATION": ("processors", "commands", "readmodels", "events", "screens"),
}
# What the schema's slice statuses do not include is written back as a tag of this prefix on
# the slice's element (`bot.core.exports.eventmodel`), and read back from it here.
STATUS_TAG = "status:"
ERROR_CASE = "Error-Case"


@dataclass
class _Found:
    """One element of the file as first defined, with the links written on it anywhere."""

    where: str
    kind: str
    entry: dict[str, Any]
    relations: dict[str, list[str]] = field(default_factory=dict)
    slice: SliceMeta | None = None

    def relate(self, relation: str, ref: str) -> None:
        refs = self.relations.setdefault(relation, [])
        if ref not in refs:
            refs.append(ref)


def read(document: dict[str, Any], filename: str) -> Plan:
    slices = [obj(s, at("slices", n)) for n, s in enumerate(items(document["slices"], "slices"))]
    order = sorted(range(len(slices)), key=lambda n: _index(slices[n]))
    found: dict[str, _Found] = {}
    slice_ids: dict[str, str] = {}
    for n in order:
        _elements_of(slices[n], at("slices", n), found, slice_ids)
    for n in order:
        _dependencies_of(slices[n], at("slices", n), found)
    names = _NameSpace(found, slices)
    aggregates = _aggregates(document, slices, found, names)
    elements = [*aggregates.values()]
    upstream = _upstream(found)
    for ref, each in found.items():
        elements.append(_element(ref, each, upstream.get(ref, []), aggregates))
    elements += _actors(slices, found, names)
    for n in order:
        elements += _specifications(slices[n], at("slices", n), found, names)
    title = _title(document, slices)
    return Plan(title=title or "", source=SOURCE, elements=tuple(_events_first(elements)))


def _index(entry: dict[str, Any]) -> int:
    index = entry.get("index")
    return index if isinstance(index, int) and not isinstance(index, bool) else 0


def _title(document: dict[str, Any], slices: list[dict[str, Any]]) -> str | None:
    """The model's name: the file's `context` (Nebulit's), else its slices' `context`."""
    for where, value in [("context", document.get("context"))] + [
        (at(at("slices", n), "context"), s.get("context")) for n, s in enumerate(slices)
    ]:
        if isinstance(value, str) and value.strip():
            return name(value, where, "the model's name")
    return None


def _elements_of(
    entry: dict[str, Any], where: str, found: dict[str, _Found], slice_ids: dict[str, str]
) -> None:
    slice_id = ident(entry.get("id"), at(where, "id"))
    if slice_id in slice_ids:
        raise ImportProblem(
            f"{at(where, 'id')}: the slice id {slice_id} is used twice (also by "
            f"{slice_ids[slice_id]})"
        )
    slice_ids[slice_id] = where
    title = entry.get("title")
    here: dict[str, list[str]] = {}
    for list_name, element_type in LISTS.items():
        for n, element in enumerate(items(entry.get(list_name), at(where, list_name))):
            place = at(at(where, list_name), n)
            element = obj(element, place)
            ref = ident(element.get("id"), at(place, "id"))
            written = string(element.get("type") or element_type, at(place, "type"))
            if written not in KINDS:
                raise ImportProblem(
                    f"{at(place, 'type')}: “{str(written)[:40]}” is not an element type (one of "
                    f"{', '.join(KINDS)})"
                )
            kind = KINDS[written]
            title_here = name(element.get("title"), at(place, "title"))
            if ref in here.get(list_name, []):
                raise ImportProblem(f"{at(place, 'id')}: the id {ref} is used twice in this slice")
            here.setdefault(list_name, []).append(ref)
            first = found.get(ref)
            if first is None:
                found[ref] = _Found(place, kind, element)
            elif first.kind != kind or name(first.entry.get("title"), first.where) != title_here:
                raise ImportProblem(
                    f"{at(place, 'id')}: the id {ref} is used twice, for two different elements "
                    f"(also by {first.where})"
                )
    listed = entry.get("aggregates")
    meta = SliceMeta(
        slice_id=slice_id,
        title=None if title is None else name(title, at(where, "title"), "a slice's title"),
        status=_status(entry, where, found, here),
        aggregates=None
        if listed is None
        else tuple(
            name(a, at(at(where, "aggregates"), n), "an aggregate's name")
            for n, a in enumerate(items(listed, at(where, "aggregates")))
        ),
    )
    slice_type = entry.get("sliceType")
    for list_name in _SLICE_HOLDERS.get(str(slice_type), _SLICE_HOLDERS["STATE_CHANGE"]):
        holder = next((found[r] for r in here.get(list_name, []) if found[r].slice is None), None)
        if holder is not None:
            holder.slice = meta
            break


def _status(
    entry: dict[str, Any], where: str, found: dict[str, _Found], here: dict[str, list[str]]
) -> str | None:
    """The slice's status; one the schema has no word for comes back from a tag of its
    elements (as Storm's export writes it)."""
    for refs in here.values():
        for ref in refs:
            tags = found[ref].entry.get("tags")
            for tag in tags if isinstance(tags, list) else ():
                if isinstance(tag, str) and tag.startswith(STATUS_TAG):
                    return name(
                        tag.removeprefix(STATUS_TAG), f"{found[ref].where}.tags", "a status"
                    )
    status = entry.get("status")
    return None if status is None else name(status, at(where, "status"), "a status")


def _dependencies_of(entry: dict[str, Any], where: str, found: dict[str, _Found]) -> None:
    for list_name in LISTS:
        for n, element in enumerate(items(entry.get(list_name), at(where, list_name))):
            place = at(at(where, list_name), n)
            ref = str(ident(element.get("id"), at(place, "id")))
            this = found[ref]
            listed = items(element.get("dependencies"), at(place, "dependencies"))
            for d, dependency in enumerate(listed):
                spot = at(at(place, "dependencies"), d)
                dependency = obj(dependency, spot)
                other_ref = ident(dependency.get("id"), at(spot, "id"))
                other = found.get(other_ref)
                if other is None:
                    raise ImportProblem(
                        f"{spot}: refers to {other_ref}, which the file does not define"
                    )
                direction = string(dependency.get("type"), at(spot, "type"))
                link = _LINKS.get((this.kind, str(direction), other.kind))
                if link is None:
                    continue  # a flow Storm's model has no relation for (event → event…)
                relation, own = link
                source, target = (this, other_ref) if own else (other, ref)
                source.relate(relation, target)


class _NameSpace:
    """The refs of the plan's elements: the file's ids, each once (an element's, or a
    specification's), and made-up ones for what the file names without an id (aggregates,
    actors), none of which is an id of the file."""

    def __init__(self, found: dict[str, _Found], slices: list[dict[str, Any]]) -> None:
        self._n = 0
        self._where = {ref: each.where for ref, each in found.items()}
        self._taken = set(self._where)
        for entry in slices:
            for spec in entry.get("specifications") or ():
                if isinstance(spec, dict) and spec.get("id") is not None:
                    self._taken.add(str(spec["id"]))

    def ref(self, kind: str) -> str:
        while True:
            self._n += 1
            made = f"{kind}#{self._n}"
            if made not in self._taken:
                return made

    def claim(self, ref: str, where: str) -> None:
        """A specification's id, refused when an element or another specification has it."""
        if ref in self._where:
            raise ImportProblem(f"{where}: the id {ref} is used twice (also by {self._where[ref]})")
        self._where[ref] = where


def _aggregates(
    document: dict[str, Any],
    slices: list[dict[str, Any]],
    found: dict[str, _Found],
    names: _NameSpace,
) -> dict[str, PlanElement]:
    """The model's aggregates by normalised name: those listed (Nebulit's top-level
    `aggregates`, each slice's `aggregates`) and those elements name."""
    named: list[tuple[Any, str]] = []
    for n, aggregate in enumerate(items(document.get("aggregates"), "aggregates")):
        place = at("aggregates", n)
        title = aggregate.get("title") if isinstance(aggregate, dict) else aggregate
        named.append((title, at(place, "title") if isinstance(aggregate, dict) else place))
    for n, entry in enumerate(slices):
        where = at(at("slices", n), "aggregates")
        named += [(a, at(where, m)) for m, a in enumerate(items(entry.get("aggregates"), where))]
    for each in found.values():
        if each.entry.get("aggregate") is not None:
            named.append((each.entry["aggregate"], at(each.where, "aggregate")))
    aggregates: dict[str, PlanElement] = {}
    for value, where in named:
        title = name(value, where, "an aggregate's name")
        if normalise(title) not in aggregates:
            aggregates[normalise(title)] = PlanElement(
                ref=names.ref("aggregate"), kind="aggregate", name=title
            )
    return aggregates


def _element(
    ref: str, each: _Found, sources: list[_Found], aggregates: dict[str, PlanElement]
) -> PlanElement:
    entry, where = each.entry, each.where
    relations = {k: tuple(v) for k, v in each.relations.items()}
    aggregate = entry.get("aggregate")
    description = entry.get("description")
    fields = _fields(entry.get("fields"), at(where, "fields"), sources)
    return PlanElement(
        ref=ref,
        kind=each.kind,
        name=name(entry.get("title"), at(where, "title")),
        fields=fields,
        causes=relations.get("causes", ()),
        fed_by=relations.get("fed_by", ()),
        issues=relations.get("issues", ()),
        shows=relations.get("shows", ()),
        on=relations.get("on", ()),
        aggregate=aggregates[normalise(str(aggregate))].ref if aggregate is not None else None,
        external_id=ref,
        description=description if isinstance(description, str) and description else None,
        external_context=each.kind == "event" and entry.get("context") == "EXTERNAL",
        slice=each.slice,
    )


def _upstream(found: dict[str, _Found]) -> dict[str, list[_Found]]:
    """For each element, the elements data flows into it from, where a field's `mapping`
    finds its source field: a view's events, a processor's triggers, a command's screens and
    processors, an event's commands."""
    sources: dict[str, list[_Found]] = {}
    for ref, each in found.items():
        for relation in ("fed_by", "on"):
            sources.setdefault(ref, []).extend(found[r] for r in each.relations.get(relation, []))
        for relation in ("issues", "causes"):
            for target in each.relations.get(relation, []):
                sources.setdefault(target, []).append(each)
    return sources


def _fields(value: Any, where: str, sources: list[_Found]) -> tuple[PlanField, ...]:
    fields = []
    for n, entry in enumerate(items(value, where)):
        place = at(where, n)
        entry = obj(entry, place)
        written = name(entry.get("name"), at(place, "name"), "a field name")
        field_kind, is_list = field_type(entry.get("type"), at(place, "type"))
        cardinality = entry.get("cardinality")
        mapping = string(entry.get("mapping"), at(place, "mapping"), optional=True)
        origin = _origin(mapping, sources) if mapping else None
        example = entry.get("example")
        if example is not None and not isinstance(example, str | dict):
            raise ImportProblem(f"{at(place, 'example')}: expected text or an object")
        subfields = entry.get("subfields")
        fields.append(
            PlanField(
                name=written,
                type=field_kind,
                is_list=is_list or cardinality == "List",
                generated=flag(entry.get("generated"), at(place, "generated")),
                origin=origin,
                mapping=mapping if origin is None else None,
                identifier=None if code_identifier(written) == written else written,
                id_attribute=flag(entry.get("idAttribute"), at(place, "idAttribute")),
                example=None if example is None else orjson.dumps(example).decode(),
                subfields=subfields_json(subfields, at(place, "subfields")) if subfields else None,
            )
        )
    return distinct_fields(fields, where)


def subfields_json(value: Any, where: str) -> str:
    """A `Custom` field's fields, checked as fields are, as JSON text in Event Modeling's
    words (what the export writes back)."""
    return orjson.dumps([_written(f) for f in _fields(value, where, [])]).decode()


def _written(spec: PlanField) -> dict[str, Any]:
    """A subfield as Event Modeling writes a field (its mapping as the file gave it)."""
    written: dict[str, Any] = {
        "name": spec.identifier or spec.name,
        "type": spec.type,
        "cardinality": "List" if spec.is_list else "Single",
    }
    if spec.generated:
        written["generated"] = True
    if spec.mapping is not None:
        written["mapping"] = spec.mapping
    if spec.id_attribute:
        written["idAttribute"] = True
    if spec.example is not None:
        written["example"] = orjson.loads(spec.example)
    if spec.subfields is not None:
        written["subfields"] = orjson.loads(spec.subfields)
    return written


def _origin(mapping: str, sources: list[_Found]) -> tuple[str, str] | None:
    """(source element, its field) for a `mapping` naming a field of one of the sources."""
    wanted = normalise(mapping)
    for source in sources:
        for entry in source.entry.get("fields") or ():
            written = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(written, str) and normalise(written) == wanted and written == mapping:
                return str(source.entry["id"]), written
    return None


def _actors(
    slices: list[dict[str, Any]], found: dict[str, _Found], names: _NameSpace
) -> list[PlanElement]:
    """A slice's actors issue its commands."""
    actors: dict[str, tuple[str, str, list[str]]] = {}  # normalised → (ref, name, commands)
    for n, entry in enumerate(slices):
        where = at(at("slices", n), "actors")
        commands = [
            str(c.get("id")) for c in items(entry.get("commands"), "") if isinstance(c, dict)
        ]
        for m, actor in enumerate(items(entry.get("actors"), where)):
            place = at(where, m)
            actor = obj(actor, place)
            actor_name = name(actor.get("name"), at(place, "name"), "an actor's name")
            _, _, issues = actors.setdefault(
                normalise(actor_name), (names.ref("actor"), actor_name, [])
            )
            issues += [c for c in commands if c not in issues]
    return [
        PlanElement(ref=ref, kind="actor", name=actor_name, issues=tuple(issues))
        for ref, actor_name, issues in actors.values()
    ]


_STEP_KINDS = {"SPEC_EVENT": "event", "SPEC_COMMAND": "command", "SPEC_READMODEL": "view"}


def _specifications(
    entry: dict[str, Any], where: str, found: dict[str, _Found], names: _NameSpace
) -> list[PlanElement]:
    scenarios = []
    specifications = items(entry.get("specifications"), at(where, "specifications"))
    for n, spec in enumerate(specifications):
        place = at(at(where, "specifications"), n)
        spec = obj(spec, place)
        spec_id = spec.get("id")
        external_id = None if spec_id is None else ident(spec_id, at(place, "id"))
        if external_id is not None:
            names.claim(external_id, place)
        steps: dict[str, list[tuple[str, str]]] = {}
        data: list[PlanStep] = []
        error: str | None = None
        comments = [
            name(
                c.get("description") if isinstance(c, dict) else c,
                at(at(place, "comments"), m),
                "a comment",
                limit=MAX_ANSWER_LENGTH,
            )
            for m, c in enumerate(items(spec.get("comments"), at(place, "comments")))
        ]
        for part in ("given", "when", "then"):
            for m, step in enumerate(items(spec.get(part), at(place, part))):
                spot = at(at(place, part), m)
                step = obj(step, spot)
                step_type = string(step.get("type"), at(spot, "type"))
                step_id = step.get("id")
                data.append(
                    PlanStep(
                        part=part,
                        index=m,
                        fields=_fields(step.get("fields"), at(spot, "fields"), []),
                        step_id=None if step_id is None else ident(step_id, at(spot, "id")),
                    )
                )
                if step_type == "SPEC_ERROR" and part == "then":
                    error = _error(step, spot, comments)
                    continue
                if step_type not in _STEP_KINDS:
                    raise ImportProblem(
                        f"{at(spot, 'type')}: “{str(step_type)[:40]}” is not a step Storm reads "
                        f"here (one of {', '.join(_STEP_KINDS)}"
                        f"{', SPEC_ERROR' if part == 'then' else ''})"
                    )
                kind = _STEP_KINDS[step_type]
                steps.setdefault(part, []).append((_step_ref(step, spot, found, kind), kind))
        if error is not None and comments == [error]:
            comments = []  # the message written twice, as Storm's export writes it
        scenario = _scenario(place, steps, error, comments, data)
        scenarios.append(
            PlanElement(
                ref=external_id or names.ref("scenario"),
                kind="scenario",
                name=name(spec.get("title"), at(place, "title"), "a scenario's title"),
                scenario=scenario,
                external_id=external_id,
            )
        )
    return scenarios


def _step_ref(step: dict[str, Any], spot: str, found: dict[str, _Found], kind: str) -> str:
    """The element a step names: its `linkedId`, else the element of its kind and title."""
    linked = step.get("linkedId")
    if linked is not None:
        ref = ident(linked, at(spot, "linkedId"))
        target = found.get(ref)
        if target is None:
            raise ImportProblem(
                f"{at(spot, 'linkedId')}: refers to {ref}, which the file does not define"
            )
        if target.kind != kind:
            raise ImportProblem(
                f"{at(spot, 'linkedId')}: refers to {ref}, which is a {target.kind}, not a {kind}"
            )
        return ref
    title = name(step.get("title"), at(spot, "title"))
    for ref, each in found.items():
        if each.kind == kind and normalise(str(each.entry.get("title"))) == normalise(title):
            return ref
    raise ImportProblem(f"{at(spot, 'title')}: no {kind} of the file is called “{title}”")


def _error(step: dict[str, Any], spot: str, comments: list[str]) -> str:
    """A rejection's message: the step's `examples` message (Storm's and the tools' way),
    else the specification's first comment, else the step's title."""
    for example in items(step.get("examples"), at(spot, "examples")):
        if isinstance(example, dict) and isinstance(example.get("message"), str):
            return name(
                example["message"], at(spot, "examples"), "an error", limit=MAX_ANSWER_LENGTH
            )
    if comments:
        return comments[0]
    return name(step.get("title") or ERROR_CASE, at(spot, "title"), "an error")


def _scenario(
    place: str,
    steps: dict[str, list[tuple[str, str]]],
    error: str | None,
    comments: list[str],
    data: list[PlanStep],
) -> PlanScenario:
    given = steps.get("given", [])
    if any(kind != "event" for _, kind in given):
        raise ImportProblem(f"{at(place, 'given')}: a specification's given lists events")
    when = steps.get("when", [])
    if len(when) > 1 or any(kind != "command" for _, kind in when):
        raise ImportProblem(f"{at(place, 'when')}: a specification's when is one command")
    then = steps.get("then", [])
    views = [ref for ref, kind in then if kind == "view"]
    events = [ref for ref, kind in then if kind == "event"]
    if any(kind == "command" for _, kind in then):
        raise ImportProblem(
            f"{at(place, 'then')}: a specification's then lists events or a read model"
        )
    if views and (len(views) > 1 or events or when or error):
        raise ImportProblem(
            f"{at(place, 'then')}: a read model's specification has no when and one read model "
            "as its then"
        )
    return PlanScenario(
        given=tuple(ref for ref, _ in given),
        when=when[0][0] if when else None,
        then=tuple(dict.fromkeys(events)),
        error=error,
        view=views[0] if views else None,
        comments=tuple(comments),
        data=tuple(data),
    )


def _events_first(elements: list[PlanElement]) -> list[PlanElement]:
    """Aggregates, then events in the order the slices show them (the timeline), then the
    rest: the order their IDs are given in."""
    order = {"aggregate": 0, "event": 1}
    return sorted(elements, key=lambda e: order.get(e.kind, 2))

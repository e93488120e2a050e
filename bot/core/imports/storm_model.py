"""Reading a `storm-model/1` file (SPEC §7 `json`, what `bot.core.exports.storm_model` writes)
into a plan, so that export → import → export gives the same model.

Relations are read from both of their sides where the format writes both (an element's
`aggregate` and its aggregate's `members`, a command's `actors` and an actor's `issues`), as
the export reads them. Keys added since the first release are optional: a file written
before them reads as it always meant.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import orjson

from bot.core.imports.checks import (
    answer,
    at,
    check_references,
    count,
    distinct_fields,
    field_type,
    flag,
    ident,
    items,
    name,
    obj,
    string,
)
from bot.core.imports.eventmodel import subfields_json
from bot.core.imports.plan import (
    ImportProblem,
    Plan,
    PlanElement,
    PlanField,
    PlanScenario,
    PlanStep,
    SliceMeta,
)
from bot.core.model import code_identifier, element_key, parse_element_key
from bot.core.text import MAX_ANSWER_LENGTH, MAX_NAME_LENGTH

FORMAT = "storm-model/1"
_USER_ID = re.compile(r"[UW][A-Z0-9]{1,30}")
# The file's lists, in the order their elements are made, with the kind each holds.
LISTS: dict[str, str] = {
    "events": "event",
    "commands": "command",
    "views": "view",
    "aggregates": "aggregate",
    "policies": "policy",
    "actors": "actor",
    "externals": "external",
    "screens": "screen",
    "hotspots": "hotspot",
    "scenarios": "scenario",
}


def read(document: dict[str, Any], filename: str) -> Plan:
    workshop = obj(document.get("workshop") or {}, "workshop")
    title = workshop.get("title")
    title = name(title, "workshop.title", "the workshop title") if title is not None else None
    entries: list[tuple[str, str, dict[str, Any]]] = []  # (where, kind, entry)
    where_of: dict[str, str] = {}
    for list_name, kind in LISTS.items():
        listed = items(document.get(list_name), list_name)
        if list_name == "events":
            listed = _in_timeline_order(listed)
        for index, entry in enumerate(listed):
            where = at(list_name, index)
            entry = obj(entry, where)
            ref = ident(entry.get("id"), at(where, "id"))
            if ref in where_of:
                raise ImportProblem(
                    f"{at(where, 'id')}: the id {ref} is used twice (also by {where_of[ref]})"
                )
            where_of[ref] = where
            entries.append((where, kind, entry))
    # Memberships written on the other side of a relation.
    aggregate_of: dict[str, str] = {}
    actors_of: dict[str, list[str]] = {}
    for where, kind, entry in entries:
        ref = str(entry["id"])
        if kind == "aggregate":
            for n, member in enumerate(items(entry.get("members"), at(where, "members"))):
                aggregate_of.setdefault(ident(member, at(at(where, "members"), n)), ref)
        if kind == "command":
            for n, actor in enumerate(items(entry.get("actors"), at(where, "actors"))):
                actors_of.setdefault(ident(actor, at(at(where, "actors"), n)), []).append(ref)
    elements = tuple(_element(w, k, e, aggregate_of, actors_of) for w, k, e in entries)
    check_references(elements, where_of)
    # Kept only when every ref is a Storm ID as Storm writes it (`E3`, not `e3` or `E03`), so
    # that no two elements can end up with one number.
    keep = all(e.number is not None and e.ref == element_key(e.kind, e.number) for e in elements)
    team = workshop.get("team")
    return Plan(
        title=title or "",
        source=FORMAT,
        elements=elements if keep else tuple(_without_number(e) for e in elements),
        keep_numbers=keep,
        team=team if isinstance(team, str) else None,
    )


def _in_timeline_order(events: list[Any]) -> list[Any]:
    """Events by their `position` when every one has a number there, else as listed."""
    if all(isinstance(e, dict) and isinstance(e.get("position"), int) for e in events):
        return sorted(events, key=lambda e: e["position"])
    return events


def _element(
    where: str,
    kind: str,
    entry: dict[str, Any],
    aggregate_of: dict[str, str],
    actors_of: dict[str, list[str]],
) -> PlanElement:
    ref = str(entry["id"])
    parsed = parse_element_key(ref)
    refs = _Refs(where, entry)
    text_key = {"hotspot": "text", "scenario": "title"}.get(kind, "name")
    what = {"hotspot": "a hotspot's text", "scenario": "a scenario's title"}.get(kind, "a name")
    on: tuple[str, ...] = ()
    if kind == "policy":
        triggers = refs("triggers") or tuple(r for r in (refs.one("on"),) if r)
        on = triggers
    elif kind == "hotspot":
        on = tuple(r for r in (refs.one("on"),) if r)
    issues = refs("issues") if kind in ("actor", "screen") else ()
    if kind == "policy":
        issues = tuple(r for r in (refs.one("issues"),) if r)
    if kind == "actor":
        issues = tuple(dict.fromkeys(issues + tuple(actors_of.get(ref, ()))))
    aggregate = refs.one("aggregate") if kind != "aggregate" else None
    return PlanElement(
        ref=ref,
        kind=kind,
        # A hotspot raised about an element's message says so in its text ("Question about E3
        # …"), which may run past a name's 200 characters.
        name=name(
            entry.get(text_key),
            at(where, text_key),
            what,
            limit=MAX_ANSWER_LENGTH if kind == "hotspot" else MAX_NAME_LENGTH,
        ),
        number=parsed[1] if parsed and parsed[0] == kind else None,
        fields=_fields(entry.get("fields"), at(where, "fields")),
        causes=refs("causes") if kind in ("command", "external") else (),
        fed_by=refs("fed_by") if kind == "view" else (),
        issues=issues,
        shows=refs("shows") if kind == "screen" else (),
        on=on,
        aggregate=aggregate or aggregate_of.get(ref),
        votes=count(entry.get("votes"), at(where, "votes")),
        resolved=flag(entry.get("resolved"), at(where, "resolved")),
        answer=answer(entry.get("answer"), at(where, "answer")),
        scenario=_scenario(where, entry, refs) if kind == "scenario" else None,
        author=_author(entry.get("author")),
        **_imported(entry.get("imported"), at(where, "imported")),
    )


def _names(value: Any, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(
        name(each, at(where, n), "an aggregate's name")
        for n, each in enumerate(items(value, where))
    )


def _author(value: Any) -> str | None:
    """A Slack user id, or None for anything else (written in a mention, it must be one)."""
    return value if isinstance(value, str) and _USER_ID.fullmatch(value) else None


def _imported(value: Any, where: str) -> dict[str, Any]:
    """What an Event Modeling file said of the element, as the export writes it back."""
    if value is None:
        return {}
    said = obj(value, where)
    found: dict[str, Any] = {}
    if said.get("id") is not None:
        found["external_id"] = ident(said["id"], at(where, "id"))
    description = string(said.get("description"), at(where, "description"), optional=True)
    if description:
        found["description"] = description
    found["external_context"] = flag(said.get("external"), at(where, "external"))
    if said.get("slice") is not None:
        here = at(where, "slice")
        meta = obj(said["slice"], here)
        found["slice"] = SliceMeta(
            slice_id=None if meta.get("id") is None else ident(meta["id"], at(here, "id")),
            title=string(meta.get("title"), at(here, "title"), optional=True),
            status=string(meta.get("status"), at(here, "status"), optional=True),
            aggregates=_names(meta.get("aggregates"), at(here, "aggregates")),
        )
    return found


class _Refs:
    """Reads an entry's references: a list of ids, or one id (or null)."""

    def __init__(self, where: str, entry: dict[str, Any]) -> None:
        self._where, self._entry = where, entry

    def __call__(self, key: str) -> tuple[str, ...]:
        where = at(self._where, key)
        return tuple(
            ident(ref, at(where, n)) for n, ref in enumerate(items(self._entry.get(key), where))
        )

    def one(self, key: str) -> str | None:
        value = self._entry.get(key)
        return None if value is None else ident(value, at(self._where, key))


def _fields(value: Any, where: str) -> tuple[PlanField, ...]:
    fields = []
    for index, entry in enumerate(items(value, where)):
        here = at(where, index)
        entry = obj(entry, here)
        field_name = name(entry.get("name"), at(here, "name"), "a field name")
        written, is_list = field_type(entry.get("type"), at(here, "type"))
        origin_text = string(entry.get("origin"), at(here, "origin"), optional=True)
        origin = None
        if origin_text:
            source, dot, source_field = origin_text.partition(".")
            if not dot or not source.strip() or not source_field.strip():
                raise ImportProblem(
                    f"{at(here, 'origin')}: write an origin as <id>.<field>, like E3.amount"
                )
            origin = (source.strip(), source_field.strip())
        identifier = string(entry.get("identifier"), at(here, "identifier"), optional=True)
        example = entry.get("example")
        subfields = entry.get("subfields")
        fields.append(
            PlanField(
                name=field_name,
                type=written,
                is_list=is_list,
                generated=flag(entry.get("generated"), at(here, "generated")),
                origin=origin,
                mapping=string(entry.get("mapping"), at(here, "mapping"), optional=True),
                identifier=None if identifier == code_identifier(field_name) else identifier,
                id_attribute=flag(entry.get("id_attribute"), at(here, "id_attribute")),
                example=None if example is None else _example(example, at(here, "example")),
                subfields=subfields_json(subfields, at(here, "subfields")) if subfields else None,
            )
        )
    return distinct_fields(fields, where)


def _example(value: Any, where: str) -> str:
    """An example value, kept as JSON text: text or an object (Event Modeling's two kinds)."""
    if not isinstance(value, str | dict):
        raise ImportProblem(f"{where}: expected an example as text or an object")
    return orjson.dumps(value).decode()


def _scenario(where: str, entry: dict[str, Any], refs: _Refs) -> PlanScenario:
    comments = tuple(
        name(c, at(at(where, "comments"), n), "a comment", limit=MAX_ANSWER_LENGTH)
        for n, c in enumerate(items(entry.get("comments"), at(where, "comments")))
    )
    data = []
    for n, step in enumerate(items(entry.get("data"), at(where, "data"))):
        here = at(at(where, "data"), n)
        step = obj(step, here)
        part = string(step.get("part"), at(here, "part"))
        if part not in ("given", "when", "then"):
            raise ImportProblem(f"{at(here, 'part')}: expected given, when or then")
        index = step.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise ImportProblem(f"{at(here, 'index')}: expected the step's number, from 0")
        step_id = step.get("id")
        data.append(
            PlanStep(
                part=part,
                index=index,
                fields=_fields(step.get("fields"), at(here, "fields")),
                step_id=None if step_id is None else ident(step_id, at(here, "id")),
            )
        )
    error = entry.get("error")
    return PlanScenario(
        given=refs("given"),
        when=refs.one("when"),
        then=refs("then"),
        error=None
        if error is None
        else name(error, at(where, "error"), "an error", limit=MAX_ANSWER_LENGTH),
        view=refs.one("view"),
        comments=comments,
        data=tuple(data),
    )


def _without_number(element: PlanElement) -> PlanElement:
    return replace(element, number=None)

"""The `storm-model/1` JSON export (SPEC §7 `json`), built from a snapshot."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

from bot.core.completeness import check
from bot.core.exports.links import Links, indented_json, iso
from bot.core.model import ElementInfo, FieldSpec, Scenario, Snapshot
from bot.core.steps import STEPS

FORMAT = "storm-model/1"


def _fields(links: Links, fields: Iterable[FieldSpec]) -> list[dict[str, Any]]:
    return [_field(links, spec) for spec in fields]


def _field(links: Links, spec: FieldSpec) -> dict[str, Any]:
    """A FIELD; what an imported file said beyond Storm's own marks only when it said it."""
    written: dict[str, Any] = {
        "name": spec.name,
        "generated": spec.generated,
        "origin": links.origin(spec),
        "type": spec.written_type,
        "identifier": spec.code_name,
    }
    if spec.id_attribute:
        written["id_attribute"] = True
    if spec.example is not None:
        written["example"] = orjson.loads(spec.example)
    if spec.mapping is not None:
        written["mapping"] = spec.mapping
    if spec.subfields is not None:
        written["subfields"] = orjson.loads(spec.subfields)
    return written


def _with_imported(entry: dict[str, Any], element: ElementInfo) -> dict[str, Any]:
    """An element's entry, with what an imported Event Modeling file said of it (its id
    there, description, EXTERNAL context, slice), when it said anything."""
    imported = element.imported
    if imported is None:
        return entry
    said = {
        "id": imported.external_id,
        "description": imported.description,
        "external": imported.external_context or None,
        "slice": {
            "id": imported.slice_id,
            "title": imported.slice_title,
            "status": imported.slice_status,
            "aggregates": None
            if imported.slice_aggregates is None
            else list(imported.slice_aggregates),
        }
        if imported.slice_id or imported.slice_title or imported.slice_status
        else None,
    }
    entry["imported"] = {key: value for key, value in said.items() if value is not None}
    return entry


def _completeness(snapshot: Snapshot) -> dict[str, Any]:
    report = check(snapshot)
    return {
        "score": report.score,
        "passed": report.passed,
        "findings": [
            {
                "code": finding.code,
                "severity": finding.severity,
                "element": finding.element,
                "field": finding.field,
                "message": finding.message,
            }
            for finding in report.findings
        ],
    }


def to_json(snapshot: Snapshot) -> dict[str, Any]:
    """The model for tools: lists in ID order, events in timeline order, dropped ones absent.

    Keys added since the first release mean only what they add: `screens`, a view's
    `aggregate`, a policy's `fields`; a policy's `on` is an event's ID or, for a policy that
    reads a view as a to-do list, that view's. Keys that only say what an import brought are
    written only when they say something: a policy's `triggers` (all of them, `on` first) when
    it has several, a policy's or screen's `aggregate`, a FIELD's `id_attribute`, `example`,
    `mapping` and `subfields` (Event Modeling's fields of a `Custom` field), a scenario's `comments` and `data` (its steps' fields), and an element's
    `imported` (what an Event Modeling file said of it: its id, description, slice).
    """
    links = Links(snapshot)
    step = STEPS[snapshot.current_step - 1]

    def entry(element: ElementInfo, written: dict[str, Any]) -> dict[str, Any]:
        if element.kind in ("policy", "screen") and (aggregate := links.aggregate_of(element)):
            written["aggregate"] = aggregate
        return _with_imported(written, element)

    return {
        "format": FORMAT,
        "workshop": {
            "title": snapshot.title,
            "team": snapshot.team_id,
            "channel": snapshot.channel_id,
            "facilitators": list(snapshot.facilitators),
            "step": {"number": step.number, "name": step.name},
            "started_at": iso(snapshot.started_at),
            "finished_at": iso(snapshot.finished_at),
        },
        "events": [
            entry(
                event,
                {
                    "id": event.key,
                    "name": event.name,
                    "position": index,
                    "author": event.author,
                    "votes": event.votes,
                    "aggregate": links.aggregate_of(event),
                    "fields": _fields(links, event.fields),
                },
            )
            for index, event in enumerate(snapshot.events, start=1)
        ],
        "commands": [
            entry(
                command,
                {
                    "id": command.key,
                    "name": command.name,
                    "causes": links.keys(command.causes),
                    "actors": links.actors_of(command),
                    "aggregate": links.aggregate_of(command),
                    "votes": command.votes,
                    "fields": _fields(links, command.fields),
                },
            )
            for command in snapshot.of_kind("command")
        ],
        "views": [
            entry(
                view,
                {
                    "id": view.key,
                    "name": view.name,
                    "fed_by": links.keys(view.fed_by),
                    "votes": view.votes,
                    "fields": _fields(links, view.fields),
                    "aggregate": links.aggregate_of(view),
                },
            )
            for view in snapshot.of_kind("view")
        ],
        "aggregates": [
            {"id": aggregate.key, "name": aggregate.name, "members": links.keys(aggregate.members)}
            for aggregate in snapshot.of_kind("aggregate")
        ],
        "policies": [_policy(links, policy, entry) for policy in snapshot.of_kind("policy")],
        "actors": [
            {"id": actor.key, "name": actor.name, "issues": links.keys(actor.issues)}
            for actor in snapshot.of_kind("actor")
        ],
        "externals": [
            {"id": external.key, "name": external.name, "causes": links.keys(external.causes)}
            for external in snapshot.of_kind("external")
        ],
        "screens": [
            entry(
                screen,
                {
                    "id": screen.key,
                    "name": screen.name,
                    "issues": links.keys(screen.issues),
                    "shows": links.keys(screen.shows),
                    "fields": _fields(links, screen.fields),
                },
            )
            for screen in snapshot.of_kind("screen")
        ],
        "hotspots": [
            {
                "id": hotspot.key,
                "text": hotspot.name,
                "on": links.key(hotspot.on),
                "resolved": hotspot.resolved,
                "answer": hotspot.answer,
                "author": hotspot.author,
            }
            for hotspot in snapshot.of_kind("hotspot")
        ],
        "scenarios": [
            _with_imported(_scenario(links, scenario), scenario)
            for scenario in snapshot.of_kind("scenario")
        ],
        "completeness": _completeness(snapshot),
    }


def _policy(
    links: Links,
    policy: ElementInfo,
    entry: Callable[[ElementInfo, dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    written: dict[str, Any] = {
        "id": policy.key,
        "name": policy.name,
        "on": links.key(policy.on),
        "issues": next(iter(links.keys(policy.issues)), None),
        "fields": _fields(links, policy.fields),
    }
    triggers = links.keys(policy.triggers)
    if len(triggers) > 1:
        written["triggers"] = triggers
    return entry(policy, written)


def to_json_text(snapshot: Snapshot) -> str:
    """The JSON export as uploaded: indented, non-ASCII text kept as typed."""
    return indented_json(lambda: to_json(snapshot))


def _scenario(links: Links, element: ElementInfo) -> dict[str, Any]:
    """A scenario as written, its references resolved; a mismatch stays for the check to flag."""
    scenario = element.scenario or Scenario()
    written: dict[str, Any] = {
        "id": element.key,
        "title": element.name,
        "given": links.keys(scenario.given),
        "when": links.key(scenario.when),
        "then": links.keys(scenario.then),
        "error": scenario.error,
        "view": links.key(scenario.view),
    }
    if scenario.comments:
        written["comments"] = list(scenario.comments)
    if scenario.data:
        written["data"] = [
            {
                "part": step.part,
                "index": step.index,
                "id": step.step_id,
                "fields": _fields(links, step.fields),
            }
            for step in scenario.data
        ]
    return written

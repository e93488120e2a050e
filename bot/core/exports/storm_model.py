"""The `storm-model/1` JSON export (SPEC §7 `json`), built from a snapshot."""

from __future__ import annotations

from typing import Any

from bot.core.completeness import check
from bot.core.exports.links import Links, indented_json, iso
from bot.core.model import ElementInfo, Scenario, Snapshot
from bot.core.steps import STEPS

FORMAT = "storm-model/1"


def _fields(links: Links, element: ElementInfo) -> list[dict[str, Any]]:
    return [
        {
            "name": spec.name,
            "generated": spec.generated,
            "origin": links.origin(spec),
            "type": spec.written_type,
            "identifier": spec.code_name,
        }
        for spec in element.fields
    ]


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
    reads a view as a to-do list, that view's.
    """
    links = Links(snapshot)
    step = STEPS[snapshot.current_step - 1]
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
            {
                "id": event.key,
                "name": event.name,
                "position": index,
                "author": event.author,
                "votes": event.votes,
                "aggregate": links.aggregate_of(event),
                "fields": _fields(links, event),
            }
            for index, event in enumerate(snapshot.events, start=1)
        ],
        "commands": [
            {
                "id": command.key,
                "name": command.name,
                "causes": links.keys(command.causes),
                "actors": links.actors_of(command),
                "aggregate": links.aggregate_of(command),
                "votes": command.votes,
                "fields": _fields(links, command),
            }
            for command in snapshot.of_kind("command")
        ],
        "views": [
            {
                "id": view.key,
                "name": view.name,
                "fed_by": links.keys(view.fed_by),
                "votes": view.votes,
                "fields": _fields(links, view),
                "aggregate": links.aggregate_of(view),
            }
            for view in snapshot.of_kind("view")
        ],
        "aggregates": [
            {"id": aggregate.key, "name": aggregate.name, "members": links.keys(aggregate.members)}
            for aggregate in snapshot.of_kind("aggregate")
        ],
        "policies": [
            {
                "id": policy.key,
                "name": policy.name,
                "on": links.key(policy.on),
                "issues": next(iter(links.keys(policy.issues)), None),
                "fields": _fields(links, policy),
            }
            for policy in snapshot.of_kind("policy")
        ],
        "actors": [
            {"id": actor.key, "name": actor.name, "issues": links.keys(actor.issues)}
            for actor in snapshot.of_kind("actor")
        ],
        "externals": [
            {"id": external.key, "name": external.name, "causes": links.keys(external.causes)}
            for external in snapshot.of_kind("external")
        ],
        "screens": [
            {
                "id": screen.key,
                "name": screen.name,
                "issues": links.keys(screen.issues),
                "shows": links.keys(screen.shows),
                "fields": _fields(links, screen),
            }
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
        "scenarios": [_scenario(links, scenario) for scenario in snapshot.of_kind("scenario")],
        "completeness": _completeness(snapshot),
    }


def to_json_text(snapshot: Snapshot) -> str:
    """The JSON export as uploaded: indented, non-ASCII text kept as typed."""
    return indented_json(lambda: to_json(snapshot))


def _scenario(links: Links, element: ElementInfo) -> dict[str, Any]:
    """A scenario as written, its references resolved; a mismatch stays for the check to flag."""
    scenario = element.scenario or Scenario()
    return {
        "id": element.key,
        "title": element.name,
        "given": links.keys(scenario.given),
        "when": links.key(scenario.when),
        "then": links.keys(scenario.then),
        "error": scenario.error,
        "view": links.key(scenario.view),
    }

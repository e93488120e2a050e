"""The `storm-model/1` JSON export (SPEC §7), built from a snapshot.

Relations in a snapshot are stored as people wrote them, so they may name a merged ID (an
alias of its survivor) or an element that was dropped since. `Links` resolves them once, the
same way for every export format, so that the JSON, the Markdown, the diagram and the event
model never disagree about who causes what.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import orjson

from bot.core.completeness import check
from bot.core.model import ElementInfo, FieldSpec, Scenario, Snapshot
from bot.core.steps import STEPS

FORMAT = "storm-model/1"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


class Links:
    """A snapshot's relations resolved to live survivor IDs: aliases followed, dropped gone."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.by_key = snapshot.by_key()
        self._aggregate: dict[str, str] = {}
        for aggregate in snapshot.of_kind("aggregate"):
            for member in self.keys(aggregate.members):
                self._aggregate.setdefault(member, aggregate.key)
        self._actors: dict[str, list[str]] = {}
        for actor in snapshot.of_kind("actor"):
            for command in self.keys(actor.issues):
                self._actors.setdefault(command, []).append(actor.key)

    def key(self, ref: str | None) -> str | None:
        """The survivor's ID for `ref`, or None when it names nothing live."""
        element = self.by_key.get(ref) if ref else None
        return element.key if element else None

    def keys(self, refs: Iterable[str]) -> list[str]:
        """Live survivor IDs in the order written, each once (two merged IDs may coincide)."""
        by_key = self.by_key
        found = []
        for ref in refs:
            element = by_key.get(ref) if ref else None
            if element is not None:
                found.append(element.key)
        return list(dict.fromkeys(found)) if len(found) > 1 else found

    def elements(self, refs: Iterable[str]) -> list[ElementInfo]:
        return [self.by_key[key] for key in self.keys(refs)]

    def aggregate_of(self, element: ElementInfo) -> str | None:
        """The element's aggregate; membership counts too, in case only one side was stored."""
        return self.key(element.aggregate) or self._aggregate.get(element.key)

    def actors_of(self, command: ElementInfo) -> list[str]:
        """IDs of the actors that issue this command, in ID order."""
        return self._actors.get(command.key, [])

    def origin(self, spec: FieldSpec) -> str | None:
        """An explicit origin with its element resolved; kept as written if it names nothing."""
        if not spec.origin:
            return None
        ref, dot, name = spec.origin.partition(".")
        key = self.key(ref)
        return f"{key}{dot}{name}" if key else spec.origin

    def name(self, ref: str | None) -> str:
        """`E3 Order Placed` for a live reference, the reference itself otherwise."""
        element = self.by_key.get(ref) if ref else None
        return element.label if element else (ref or "")


def _fields(links: Links, element: ElementInfo) -> list[dict[str, Any]]:
    return [
        {"name": spec.name, "generated": spec.generated, "origin": links.origin(spec)}
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
    """The model for tools: lists in ID order, events in timeline order, dropped ones absent."""
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
            "started_at": _iso(snapshot.started_at),
            "finished_at": _iso(snapshot.finished_at),
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
        "hotspots": [
            {
                "id": hotspot.key,
                "text": hotspot.name,
                "on": links.key(hotspot.on),
                "resolved": hotspot.resolved,
                "author": hotspot.author,
            }
            for hotspot in snapshot.of_kind("hotspot")
        ],
        "scenarios": [_scenario(links, scenario) for scenario in snapshot.of_kind("scenario")],
        "completeness": _completeness(snapshot),
    }


def indented_json(build: Callable[[], Any]) -> str:
    """A JSON export's text as uploaded: indented by two spaces so that people can read it,
    non-ASCII text kept as typed (UTF-8, not `\\u` escapes).

    orjson writes it in compiled code; `json.dumps(indent=2)` runs a pure-Python encoder, and
    on the largest workshops the benchmark measures (bench/) that encoder took most of the
    export's time. Exports hold only dicts with string keys, lists, strings, ints, finite
    floats, booleans and None, which both write alike.

    It takes how to build the document rather than the document, so that the document is let
    go once encoded and is not held alongside both its encoded and its decoded text.
    """
    return orjson.dumps(build(), option=orjson.OPT_INDENT_2).decode()


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

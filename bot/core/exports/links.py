"""What every export shares: relations resolved once, and indented JSON text.

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

from bot.core.model import ElementInfo, FieldSpec, Snapshot


def iso(moment: datetime | None) -> str | None:
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

"""Resolving what people type (`E3`, `e3`, `order placed`) to one element, or saying why not."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from bot.core.model import normalise
from bot.core.text import escape


class UnknownReference(LookupError):
    """A reference that names no element or several; the message is ready to show (escaped)."""


@dataclass(frozen=True)
class Candidate:
    """An element that a reference could name."""

    key: str
    name: str
    kind: str


def resolve_by_name(ref: str, candidates: list[Candidate]) -> Candidate:
    """The one candidate whose name equals `ref` ignoring case and spaces."""
    wanted = normalise(ref)
    matches = [c for c in candidates if normalise(c.name) == wanted]
    if len(matches) == 1:
        return matches[0]
    if matches:
        listed = ", ".join(f"{c.key} {escape(c.name)}" for c in matches)
        raise UnknownReference(f"“{escape(ref)}” could be any of: {listed}. Use the ID.")
    by_name: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_name.setdefault(normalise(candidate.name), []).append(candidate)
    close = difflib.get_close_matches(wanted, list(by_name), n=3, cutoff=0.6)
    suggestions = [f"{c.key} {escape(c.name)}" for name in close for c in by_name[name]]
    hint = f" Did you mean {' or '.join(suggestions)}?" if suggestions else ""
    raise UnknownReference(f"Nothing is called “{escape(ref)}”.{hint}")

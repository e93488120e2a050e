"""What Storm tells people about an import: the question before adding to a workshop, what was
added, why a file was refused, and the line the channel sees. Text from the file is escaped
(`literal`), so that a name like `<!channel>` is shown, never sent as a mention."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.messages import Post, notice
from bot.core.model import KIND_LETTERS
from bot.core.text import literal, plural

# How many matching names a message lists before saying how many more there are.
SHOWN_MATCHES = 10
_KIND_WORDS = {
    "event": ("event", "events"),
    "command": ("command", "commands"),
    "view": ("view", "views"),
    "aggregate": ("aggregate", "aggregates"),
    "hotspot": ("hotspot", "hotspots"),
    "policy": ("policy", "policies"),
    "actor": ("actor", "actors"),
    "external": ("external system", "external systems"),
    "scenario": ("scenario", "scenarios"),
    "screen": ("screen", "screens"),
}


@dataclass(frozen=True)
class Match:
    """An element of the file whose name an element of the workshop already has."""

    kind: str
    name: str
    key: str  # the existing element's ID


def file_label(filename: str) -> str:
    """A file's name as messages show it: control characters gone, white space collapsed,
    at most 100 characters (the name comes from whoever shared the file)."""
    shown = " ".join("".join(c if c.isprintable() else " " for c in filename).split())
    return (shown[:99] + "…" if len(shown) > 100 else shown) or "the file"


def counts(by_kind: dict[str, int]) -> str:
    """`3 events, 2 commands and 1 view`, in the order of the model's kinds."""
    parts = [
        plural(by_kind[kind], *_KIND_WORDS[kind]) for kind in KIND_LETTERS if by_kind.get(kind)
    ]
    if not parts:
        return "nothing"
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _matches(matches: Iterable[Match]) -> str:
    listed = list(matches)
    shown = ", ".join(f"*{m.key}* {literal(m.name)}" for m in listed[:SHOWN_MATCHES])
    more = len(listed) - SHOWN_MATCHES
    return shown + (f" and {more} more" if more > 0 else "")


def confirm(
    filename: str, source: str, by_kind: dict[str, int], title: str, matches: list[Match]
) -> Post:
    """The question before adding to a workshop that has elements: nothing is stored yet."""
    lines = [
        f":inbox_tray: *{literal(file_label(filename))}* ({source}) holds {counts(by_kind)}. Add them to "
        f"the workshop *{literal(title)}*? Nothing is overwritten."
    ]
    if matches:
        one = len(matches) == 1
        lines.append(
            f"{plural(len(matches), 'name')} {'matches an element' if one else 'match elements'}"
            f" the workshop has already, which {'is' if one else 'are'} kept, not duplicated: "
            f"{_matches(matches)}."
        )
    return Post(text=f"Import {file_label(filename)} into {title}?", sections=tuple(lines))


def imported(
    filename: str, added: dict[str, int], title: str, matches: list[Match], started: bool
) -> Post:
    """What an import did, for the person who imported."""
    where = (
        f"the new workshop *{literal(title)}*; you are its facilitator"
        if started
        else f"the workshop *{literal(title)}*"
    )
    lines = [
        f":inbox_tray: Imported *{literal(file_label(filename))}* into {where}: added {counts(added)}."
    ]
    if matches:
        lines.append(f"Already there, so not added again: {_matches(matches)}.")
    return notice("\n".join(lines))


def refused(filename: str, problem: str) -> Post:
    """Why a file was not imported; nothing was stored."""
    return notice(
        f":no_entry_sign: I could not import *{literal(file_label(filename))}*: {literal(problem)}. "
        "Nothing was stored."
    )


def announcement(user_id: str, filename: str, added: dict[str, int]) -> Post:
    """The channel's line about an import: who imported what (a mention of the importer, a
    Slack user id, never text from the file). The notification's text names no one: a
    mention there would show as its raw `<@U…>` form."""
    what = f"{counts(added)} added to the workshop."
    label = file_label(filename)
    return Post(
        text=f"Imported {label}: {what}",
        sections=(f":inbox_tray: <@{user_id}> imported *{literal(label)}*: {what}",),
    )

"""The `/storm` command grammar: one line of text in, one command (or a clear error) out.

Parsing is pure and total: every line either becomes a command dataclass or raises
`GrammarError` carrying the problem and the usage to show, and nothing is stored from a line
that fails here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bot.core.durations import DurationError, parse_duration
from bot.core.steps import LAST_STEP
from bot.core.text import TextError, clean_name, from_slack, mentioned_users

EXPORT_FORMATS = ("json",)


@dataclass(frozen=True)
class Usage:
    """How one sub-command is written, what it does, and an example."""

    syntax: str
    summary: str
    example: str
    facilitator_only: bool = False


USAGES: dict[str, Usage] = {
    "start": Usage(
        "/storm start <title>", "start a workshop in this channel", "/storm start Checkout"
    ),
    "status": Usage(
        "/storm status", "current step, time left and who has not contributed", "/storm status"
    ),
    "next": Usage(
        "/storm next", "close this step (post its summary) and open the next", "/storm next", True
    ),
    "step": Usage(
        "/storm step <1-8>", "jump to a step, closing the current one", "/storm step 3", True
    ),
    "extend": Usage(
        "/storm extend <duration>", "add time to the current step", "/storm extend 2h", True
    ),
    "timebox": Usage(
        "/storm timebox <n|current|all> <duration>",
        "set timeboxes (24h per step by default)",
        "/storm timebox all 1d",
        True,
    ),
    "auto": Usage(
        "/storm auto on|off", "advance by itself when a timebox ends", "/storm auto on", True
    ),
    "facilitator": Usage(
        "/storm facilitator add|remove <@user>",
        "share or hand over facilitation",
        "/storm facilitator add @dana",
        True,
    ),
    "end": Usage("/storm end", "finish the workshop and post the final report", "/storm end", True),
    "event": Usage(
        "/storm event <name>[; <name>…]",
        "add domain events (past tense), several separated by `;` or new lines",
        "/storm event Order Placed; Payment Received",
    ),
    "vote": Usage("/storm vote <ref>", "vote for an element (ID or name)", "/storm vote E3"),
    "export": Usage(
        "/storm export json", "upload the model to the channel as a file", "/storm export json"
    ),
    "help": Usage(
        "/storm help [sub-command]",
        "this card, or one sub-command in detail",
        "/storm help timebox",
    ),
}


class GrammarError(ValueError):
    """A line that cannot be read: `problem` in words, `usage` of the sub-command if known."""

    def __init__(self, problem: str, usage: Usage | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.usage = usage


@dataclass(frozen=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True)
class Start:
    title: str


@dataclass(frozen=True)
class Status:
    pass


@dataclass(frozen=True)
class Next:
    pass


@dataclass(frozen=True)
class GoToStep:
    number: int


@dataclass(frozen=True)
class Extend:
    duration: timedelta


@dataclass(frozen=True)
class SetTimebox:
    target: int | Literal["current", "all"]
    duration: timedelta


@dataclass(frozen=True)
class SetAuto:
    on: bool


@dataclass(frozen=True)
class ChangeFacilitator:
    action: Literal["add", "remove"]
    user_id: str


@dataclass(frozen=True)
class End:
    pass


@dataclass(frozen=True)
class AddEvents:
    names: tuple[str, ...]


@dataclass(frozen=True)
class Vote:
    ref: str


@dataclass(frozen=True)
class Export:
    format: str


Command = (
    Help
    | Start
    | Status
    | Next
    | GoToStep
    | Extend
    | SetTimebox
    | SetAuto
    | ChangeFacilitator
    | End
    | AddEvents
    | Vote
    | Export
)

# `;` separates events, except the one that ends Slack's `&lt;`, `&gt;` and `&amp;`.
_EVENT_SEPARATOR = re.compile(r"(?<!&lt)(?<!&gt)(?<!&amp);|\n")
_Parser = Callable[[str], Command]


def parse(raw: str) -> Command:
    """Read one `/storm` line as Slack sends it (entity-escaped, mentions in `<…>`)."""
    head, _, rest = raw.strip().partition(" ")
    if not head and not rest:
        return Help()
    # A sub-command may be followed by a new line instead of a space (`/storm event\nA\nB`).
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = more + (" " + rest if rest else "")
    name = head.lower()
    rest = rest.strip()
    parser = _PARSERS.get(name)
    if parser is None:
        raise GrammarError(f"“{from_slack(head)}” is not a /storm sub-command")
    usage = USAGES[name]
    try:
        return parser(rest)
    except (TextError, DurationError, ValueError) as error:
        if isinstance(error, GrammarError):
            raise GrammarError(error.problem, usage) from error
        raise GrammarError(str(error), usage) from error


def _no_arguments(command: Command) -> _Parser:
    def parser(rest: str) -> Command:
        if rest:
            raise ValueError("this sub-command takes nothing after it")
        return command

    return parser


def _help(rest: str) -> Command:
    topic = rest.lower() or None
    if topic is not None and topic not in USAGES:
        raise ValueError(f"there is no sub-command “{from_slack(rest)}”")
    return Help(topic)


def _start(rest: str) -> Command:
    return Start(clean_name(from_slack(rest), what="the workshop title"))


def _step(rest: str) -> Command:
    if not rest.isdigit() or not 1 <= int(rest) <= LAST_STEP:
        raise ValueError(f"give a step number from 1 to {LAST_STEP}")
    return GoToStep(int(rest))


def _extend(rest: str) -> Command:
    if not rest:
        raise ValueError("say how much time to add")
    return Extend(parse_duration(rest))


def _timebox(rest: str) -> Command:
    target_text, _, duration_text = rest.partition(" ")
    target_text = target_text.lower()
    if not duration_text.strip():
        raise ValueError("give the step (a number, current or all) and a duration")
    target: int | Literal["current", "all"]
    if target_text in ("current", "all"):
        target = "current" if target_text == "current" else "all"
    elif target_text.isdigit() and 1 <= int(target_text) <= LAST_STEP:
        target = int(target_text)
    else:
        raise ValueError(f"the step must be a number from 1 to {LAST_STEP}, current or all")
    return SetTimebox(target, parse_duration(duration_text))


def _auto(rest: str) -> Command:
    if rest.lower() not in ("on", "off"):
        raise ValueError("say on or off")
    return SetAuto(rest.lower() == "on")


def _facilitator(rest: str) -> Command:
    action, _, who = rest.partition(" ")
    if action.lower() not in ("add", "remove"):
        raise ValueError("say add or remove, then mention the person")
    users = mentioned_users(who)
    if len(users) != 1 or _MENTION_ONLY.sub("", who).strip():
        raise ValueError("mention exactly one person, like @dana")
    return ChangeFacilitator("add" if action.lower() == "add" else "remove", users[0])


_MENTION_ONLY = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def _event(rest: str) -> Command:
    parts = [part for part in _EVENT_SEPARATOR.split(rest) if part.strip()]
    if not parts:
        raise ValueError("name at least one event, like “Order Placed”")
    return AddEvents(tuple(clean_name(from_slack(part), what="an event name") for part in parts))


def _vote(rest: str) -> Command:
    return Vote(clean_name(from_slack(rest), what="the element to vote for"))


def _export(rest: str) -> Command:
    fmt = rest.lower()
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"export one of: {', '.join(EXPORT_FORMATS)}")
    return Export(fmt)


_PARSERS = {
    "help": _help,
    "start": _start,
    "status": _no_arguments(Status()),
    "next": _no_arguments(Next()),
    "step": _step,
    "extend": _extend,
    "timebox": _timebox,
    "auto": _auto,
    "facilitator": _facilitator,
    "end": _no_arguments(End()),
    "event": _event,
    "vote": _vote,
    "export": _export,
}

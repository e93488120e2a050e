"""The `/storm` command grammar: one line of text in, one command (or a clear error) out.

Parsing is pure and total: every line either becomes a command dataclass or raises
`GrammarError` carrying the problem and the usage to show, and nothing is stored from a line
that fails here.

Slack sends the line entity-escaped (`&amp;`, `&lt;`, `&gt;`) with mentions, channels and links
wrapped in `<…>`. Separators (`->`, `<-`, `:`, `,`, `.`, key words) are looked for in that raw
text with every `<…>` token masked, so that a link or a mention can never split a line, and
each piece is then turned back into what the person typed (`from_slack`). Arrows are read
escaped (`-&gt;`, `&lt;-`), plain (`->`, `<-`, for callers that do not escape) or as `→`, `←`.

References (`<ref>`: an ID like `E3` or an element's name) are returned as typed, stripped
and with white space collapsed; resolving them to elements happens later. Where a name could
be confused with the line's separators (a name containing ` into `, ` and `, `.`…) the ID
always works.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bot.core.commands import (
    AddActor,
    AddCommand,
    AddEvents,
    AddExternal,
    AddHotspot,
    AddPolicy,
    AddScenario,
    AddScreen,
    AddView,
    Board,
    ChangeFacilitator,
    Check,
    Command,
    Digest,
    Drop,
    End,
    Export,
    Extend,
    FieldInput,
    GoToStep,
    Group,
    Help,
    Merge,
    Move,
    Next,
    OpenForm,
    Order,
    Rename,
    Report,
    Resolve,
    SetAuto,
    SetCanvas,
    SetFields,
    SetTimebox,
    Start,
    Status,
    Trace,
    Undo,
    Vote,
)
from bot.core.durations import DurationError, parse_duration
from bot.core.exports import ALIASES as EXPORT_ALIASES
from bot.core.exports import FORMATS
from bot.core.model import DEFAULT_FIELD_TYPE, FIELD_TYPES, normalise, parse_element_key
from bot.core.steps import LAST_STEP
from bot.core.text import (
    MAX_ANSWER_LENGTH,
    TextError,
    clean_name,
    from_slack,
    mentioned_users,
    with_article,
)


@dataclass(frozen=True)
class Usage:
    """How one sub-command is written, what it does, and an example."""

    syntax: str
    summary: str
    example: str
    facilitator_only: bool = False


USAGES: dict[str, Usage] = {
    # Facilitation.
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
    "digest": Usage(
        "/storm digest <HH:MM>|off|now",
        "daily digest time in your timezone (default 09:00); now posts one",
        "/storm digest 08:30",
        True,
    ),
    "canvas": Usage(
        "/storm canvas on|off",
        "keep the channel's canvas a live copy of the model; off stops following",
        "/storm canvas on",
        True,
    ),
    "end": Usage("/storm end", "finish the workshop and post the final report", "/storm end", True),
    # Modelling, in the order of SPEC §4.1.
    "event": Usage(
        "/storm event <name>[; <name>…]",
        "add domain events (past tense), several separated by `;` or new lines",
        "/storm event Order Placed; Payment Received",
    ),
    "hotspot": Usage(
        "/storm hotspot <text> [on <ref>]",
        "a question or risk, optionally on an element (its ID or its name)",
        "/storm hotspot Who pays the shipping? on E3",
    ),
    "resolve": Usage(
        "/storm resolve <hotspot ref> [<answer>]",
        "mark a hotspot resolved, optionally with its answer (after the hotspot's ID)",
        "/storm resolve H2 Finance approves refunds over 100 EUR",
    ),
    "rename": Usage(
        "/storm rename <ref> <new name>",
        "rename an element (by name: `<old name> -> <new name>`)",
        "/storm rename E3 Order Placed",
    ),
    "merge": Usage(
        "/storm merge <ref> into <ref>",
        "merge a duplicate into another element of the same kind",
        "/storm merge E7 into E3",
    ),
    "drop": Usage("/storm drop <ref>", "drop an element (undo brings it back)", "/storm drop E5"),
    "undo": Usage("/storm undo", "undo your own last change", "/storm undo"),
    "order": Usage(
        "/storm order <event ref> <event ref>…",
        "put events in this order (commas between names with spaces)",
        "/storm order E2 E1 E3",
    ),
    "move": Usage(
        "/storm move <event ref> after|before <event ref>",
        "move one event on the timeline",
        "/storm move E4 after E1",
    ),
    "vote": Usage("/storm vote <ref>", "vote for an element (ID or name)", "/storm vote E3"),
    "command": Usage(
        "/storm command <name> -> <event ref>[, <event ref>…]",
        "a command and the events it causes",
        "/storm command Place Order -> E1, E2",
    ),
    "view": Usage(
        "/storm view <name> <- <event ref>[, …]",
        "a view (read model) and the events that feed it",
        "/storm view Order Summary <- E1, E3",
    ),
    "policy": Usage(
        "/storm policy <name>: <event or view ref> -> <command ref>",
        "whenever that event (or: for each item of that view), then that command",
        "/storm policy Ship when paid: E2 -> C3",
    ),
    "actor": Usage(
        "/storm actor <name> -> <command ref>[, …]",
        "who issues those commands",
        "/storm actor Customer -> C1, C2",
    ),
    "external": Usage(
        "/storm external <name> -> <event ref>[, …]",
        "an external system that causes those events",
        "/storm external Payment Provider -> E2",
    ),
    "screen": Usage(
        "/storm screen <name> -> <command ref>[, …] [<- <view ref>[, …]]",
        "a screen, the commands it issues and the views it shows",
        "/storm screen Checkout -> C1, C2 <- V1",
    ),
    "aggregate": Usage(
        "/storm aggregate <name>: <ref> <ref>…",
        "group commands, events and views (commas between names with spaces)",
        "/storm aggregate Order: C1 E1 E2",
    ),
    "fields": Usage(
        "/storm fields <ref>: <field>[:Type][, <field>…]",
        "set the fields of a command, event, view, policy or screen (`:Decimal` type, `[]` list, `id*` "
        "generated, `<- E3.amount` origin)",
        "/storm fields C1: order_id:UUID*, customer, total:Decimal <- E3.amount",
    ),
    "scenario": Usage(
        "/storm scenario <title>: given <events|nothing> when <command> then <events>|error <text>",
        "a given/when/then specification; for a view: given <events> then <view>; "
        "`/storm scenario` alone opens a form",
        "/storm scenario Happy path: given E1 when C2 then E2, E3",
    ),
    "trace": Usage(
        "/storm trace <ref>.<field>",
        "where a field comes from and where it goes",
        "/storm trace C1.order_id",
    ),
    "check": Usage("/storm check", "run the completeness check now and post it", "/storm check"),
    "report": Usage(
        "/storm report", "post the full report of the workshop so far", "/storm report"
    ),
    "board": Usage("/storm board", "post the board as a picture", "/storm board"),
    "import": Usage(
        "/storm import",
        "open a form to import a model file (storm-model/1 or Event Modeling JSON) into this "
        "channel's workshop",
        "/storm import",
    ),
    "export": Usage(
        "/storm export " + "|".join(FORMATS),
        "upload the model to the channel as a file",
        "/storm export md",
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


# --- Finding separators in raw Slack text -------------------------------------------------

# Slack's own `<…>` tokens (mentions, channels, links); a typed `<` arrives as `&lt;`.
_SLACK_TOKEN = re.compile(r"<[@#!A-Za-z][^<>]*>")
# An emoji shortcode standing on its own (`:package:`), so that its colons are not separators.
_EMOJI = re.compile(r"(?<!\S):[a-z0-9_+'-]+:(?!\S)")
_RIGHT_ARROW = re.compile(r"-+(?:&gt;|>)|→")
_LEFT_ARROW = re.compile(r"(?:&lt;|<)-+|←")
_ANY_ARROW = re.compile(rf"{_RIGHT_ARROW.pattern}|{_LEFT_ARROW.pattern}")
_COMMA = re.compile(r",")
_COMMA_OR_AND = re.compile(r",|(?<!\S)and(?!\S)", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_DOT = re.compile(r"\.")
_COLON_THEN_SPACE = re.compile(r":(?=\s|$)")
_COLON = re.compile(r":")


def _masked(raw: str) -> str:
    """`raw` with Slack tokens and emoji blanked out, same length, for finding separators."""

    def blank(match: re.Match[str]) -> str:
        return "\0" * len(match.group())

    return _EMOJI.sub(blank, _SLACK_TOKEN.sub(blank, raw))


def _split(raw: str, separator: re.Pattern[str]) -> list[str]:
    """Pieces of `raw` between the separators found outside Slack tokens."""
    pieces, start = [], 0
    for match in separator.finditer(_masked(raw)):
        pieces.append(raw[start : match.start()])
        start = match.end()
    pieces.append(raw[start:])
    return pieces


def _partition(raw: str, separator: re.Pattern[str]) -> tuple[str, str] | None:
    """(`before`, `after`) the first separator outside Slack tokens; None when there is none."""
    match = separator.search(_masked(raw))
    if match is None:
        return None
    return raw[: match.start()], raw[match.end() :]


def _name_colon(raw: str) -> tuple[str, str] | None:
    """Split `<name>: <rest>` at the first `:` followed by a space (`09:00` stays whole)."""
    return _partition(raw, _COLON_THEN_SPACE) or _partition(raw, _COLON)


def _text(raw: str, what: str) -> str:
    return clean_name(from_slack(raw), what=what)


def _is_id(raw: str) -> bool:
    return parse_element_key(from_slack(raw)) is not None


def _refs(raw: str, what: str, *, spaces: bool = False, and_word: bool = False) -> tuple[str, ...]:
    """References separated by commas (and ` and ` if `and_word`), in the order typed.

    With `spaces`, a list without commas is separated by spaces (`E2 E1 E3`, or one-word
    names); names with spaces then need commas. Either way a piece made only of IDs
    (`E1 E2`) is read as those IDs. Empty pieces (`E1,, E2,`) are skipped.
    """
    pieces = _split(raw, _COMMA_OR_AND if and_word else _COMMA)
    if spaces and len(pieces) == 1:
        pieces = _split(raw, _SPACES)
    refs: list[str] = []
    for piece in pieces:
        words = [word for word in _split(piece.strip(), _SPACES) if word]
        if len(words) > 1 and all(_is_id(word) for word in words):
            refs.extend(_text(word, what) for word in words)
        elif words:
            refs.append(_text(piece, what))
    return tuple(refs)


def _keyword(word: str) -> re.Pattern[str]:
    """`word` standing on its own, in any case."""
    return re.compile(rf"(?<!\S){word}(?!\S)", re.IGNORECASE)


def _split_at_keyword(raw: str, keyword: re.Pattern[str]) -> tuple[str, str, str] | None:
    """(`left`, keyword as typed, `right`) around a key word that may also occur in names.

    With one occurrence, that one. With several, the one that has an ID on either side
    (`Paid Into Account into E4`); if that is not exactly one, the line is ambiguous.
    """
    masked = _masked(raw)
    splits = [
        (raw[: m.start()], m.group().lower(), raw[m.end() :])
        for m in keyword.finditer(masked)
        if raw[: m.start()].strip() and raw[m.end() :].strip()
    ]
    if len(splits) > 1:
        splits = [s for s in splits if _is_id(s[0].strip()) or _is_id(s[2].strip())]
        if len(splits) != 1:
            raise ValueError(f"“{from_slack(raw)}” can be read more than one way: use IDs, like E3")
    return splits[0] if splits else None


# --- One parser per sub-command -----------------------------------------------------------


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


def _canvas(rest: str) -> Command:
    if rest.lower() not in ("on", "off"):
        raise ValueError("say on or off")
    return SetCanvas(rest.lower() == "on")


def _facilitator(rest: str) -> Command:
    action, _, who = rest.partition(" ")
    if action.lower() not in ("add", "remove"):
        raise ValueError("say add or remove, then mention the person")
    users = mentioned_users(who)
    if len(users) != 1 or _MENTION_ONLY.sub("", who).strip():
        raise ValueError("mention exactly one person, like @dana")
    return ChangeFacilitator("add" if action.lower() == "add" else "remove", users[0])


_MENTION_ONLY = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


def _digest(rest: str) -> Command:
    """`HH:MM` (`9:05` becomes `09:05`), `off` or `now`."""
    setting = rest.lower()
    if setting in ("off", "now"):
        return Digest(setting)
    clock = _CLOCK.fullmatch(setting)
    if clock is None or int(clock.group(1)) > 23 or int(clock.group(2)) > 59:
        raise ValueError("give a time from 00:00 to 23:59 (like 09:00), off or now")
    return Digest(f"{int(clock.group(1)):02d}:{clock.group(2)}")


def _event(rest: str) -> Command:
    parts = [part for part in _split(rest, _EVENT_SEPARATOR) if part.strip()]
    if not parts:
        raise ValueError("name at least one event, like “Order Placed”")
    return AddEvents(tuple(clean_name(from_slack(part), what="an event name") for part in parts))


_HOTSPOT_TARGET = re.compile(
    r"(?<!\S)on\s+(?:([A-Za-z]\d+)|\"([^\"]*)\"|“([^”]*)”)\s*$", re.IGNORECASE
)


def _hotspot(rest: str) -> Command:
    """`<text> [on <ref>]`.

    Hotspots are free text, and ` on ` is common in questions (“What happens on a refund?”),
    so only a final `on` followed by an ID (`on E3`) or by a name in quotes
    (`on "Order Placed"`, straight or curly quotes) is read as the element here. Any other
    ` on ` stays in the text, where the service looks for an element's name after it
    (names are known only there).
    """
    match = _HOTSPOT_TARGET.search(_masked(rest))
    on: str | None = None
    if match is not None and (match.group(1) is None or _is_id(match.group(1))):
        start, end = next(match.span(g) for g in (1, 2, 3) if match.group(g) is not None)
        on = _text(rest[start:end], "the element the hotspot is on")
        rest = rest[: match.start()]
        if not rest.strip():
            raise ValueError("say what the hotspot is (a question, risk or disagreement) before on")
    return AddHotspot(_text(rest, "the hotspot text"), on)


def _resolve(rest: str) -> Command:
    """`<hotspot ref> [<answer>]`: an ID may be followed by the answer; a hotspot's text is
    free and may hold anything, so a hotspot named by its text takes no answer here."""
    first, answer = ([*_SPACES.split(rest.strip(), maxsplit=1), ""])[:2]
    if not _is_id(first):
        return Resolve(_text(rest, "the hotspot to resolve"))
    ref = _text(first, "the hotspot to resolve")
    if not answer.strip():
        return Resolve(ref)
    return Resolve(ref, clean_name(from_slack(answer), what="the answer", limit=MAX_ANSWER_LENGTH))


def _rename(rest: str) -> Command:
    """`<ID> <new name>`, or `<old name or ID> -> <new name>` (split at the first arrow).

    A name with spaces cannot be told apart from the new name without the arrow.
    """
    arrow = _partition(rest, _RIGHT_ARROW)
    if arrow is not None:
        old, new = arrow
        return Rename(_text(old, "the element to rename"), _text(new, "the new name"))
    first, new = ([*_SPACES.split(rest, maxsplit=1), ""])[:2]
    if not first:
        raise ValueError("say which element to rename and its new name")
    if not _is_id(first):
        raise ValueError(
            "name the element by its ID (rename E3 Order Placed), or write "
            "rename <old name> -> <new name>"
        )
    if not new.strip():
        raise ValueError(f"give the new name after {from_slack(first)}")
    return Rename(_text(first, "the element to rename"), _text(new, "the new name"))


_INTO = _keyword("into")


def _merge(rest: str) -> Command:
    split = _split_at_keyword(rest, _INTO)
    if split is None:
        raise ValueError("say which element to merge into which, like merge E7 into E3")
    source, _, target = split
    source_ref = _text(source, "the element to merge")
    target_ref = _text(target, "the element to merge into")
    if normalise(source_ref) == normalise(target_ref):
        raise ValueError("an element cannot be merged into itself")
    return Merge(source_ref, target_ref)


def _drop(rest: str) -> Command:
    return Drop(_text(rest, "the element to drop"))


def _order(rest: str) -> Command:
    refs = _refs(rest, "an event", spaces=True)
    if len(refs) < 2:
        raise ValueError("name at least two events, in their new order")
    seen: dict[str, str] = {}
    for ref in refs:
        if normalise(ref) in seen:
            raise ValueError(f"“{ref}” is named more than once")
        seen[normalise(ref)] = ref
    return Order(refs)


_AFTER_OR_BEFORE = _keyword("(?:after|before)")


def _move(rest: str) -> Command:
    split = _split_at_keyword(rest, _AFTER_OR_BEFORE)
    if split is None:
        raise ValueError("say which event goes after or before which, like move E4 after E1")
    ref, where, anchor = split
    event = _text(ref, "the event to move")
    other = _text(anchor, "the event to move it next to")
    if normalise(event) == normalise(other):
        raise ValueError("an event cannot move next to itself")
    return Move(event, "after" if where == "after" else "before", other)


def _vote(rest: str) -> Command:
    return Vote(clean_name(from_slack(rest), what="the element to vote for"))


def _named_links(
    make: Callable[[str, tuple[str, ...]], Command],
    arrow: re.Pattern[str],
    *,
    what: str,
    targets: str,
    example: str,
) -> _Parser:
    """A parser for `<name> <arrow> <ref>[, <ref>…]`, the arrow part optional, that passes
    (name, refs) to `make`.

    Without the arrow the element is only created (or left as it is); the wrong arrow is
    refused rather than read as part of the name.
    """

    def parser(rest: str) -> Command:
        split = _partition(rest, arrow)
        if split is None:
            if _partition(rest, _ANY_ARROW) is not None:
                raise ValueError(f"the arrow points the other way: {example}")
            return make(_text(rest, what), ())
        name, links = split
        refs = _refs(links, targets)
        if not refs:
            raise ValueError(f"name at least one {targets} after the arrow: {example}")
        return make(_text(name, what), refs)

    return parser


_command = _named_links(
    AddCommand,
    _RIGHT_ARROW,
    what="a command name",
    targets="event",
    example="command Place Order -> E1, E2",
)
_view = _named_links(
    AddView,
    _LEFT_ARROW,
    what="a view name",
    targets="event",
    example="view Order Summary <- E1, E3",
)
_actor = _named_links(
    AddActor,
    _RIGHT_ARROW,
    what="an actor name",
    targets="command",
    example="actor Customer -> C1, C2",
)
_external = _named_links(
    AddExternal,
    _RIGHT_ARROW,
    what="an external system name",
    targets="event",
    example="external Payment Provider -> E2",
)


def _screen(rest: str) -> Command:
    """`<name> [-> <command refs>] [<- <view refs>]`: the commands a screen issues and the
    views it shows, each arrow at most once and in either order."""
    example = "screen Checkout -> C1, C2 <- V1"
    arrows = list(_ANY_ARROW.finditer(_masked(rest)))
    right = [_RIGHT_ARROW.fullmatch(arrow.group()) is not None for arrow in arrows]
    if sum(right) > 1 or len(arrows) - sum(right) > 1:
        raise ValueError(
            f"write -> before the commands and <- before the views, once each: {example}"
        )
    name_end = arrows[0].start() if arrows else len(rest)
    issues: tuple[str, ...] = ()
    shows: tuple[str, ...] = ()
    for index, arrow in enumerate(arrows):
        end = arrows[index + 1].start() if index + 1 < len(arrows) else len(rest)
        piece = rest[arrow.end() : end]
        if right[index]:
            issues = _refs(piece, "command")
            if not issues:
                raise ValueError(f"name at least one command after ->: {example}")
        else:
            shows = _refs(piece, "view")
            if not shows:
                raise ValueError(f"name at least one view after <-: {example}")
    return AddScreen(_text(rest[:name_end], "a screen name"), issues, shows)


def _policy(rest: str) -> Command:
    split = _name_colon(rest)
    if split is None:
        raise ValueError("write the policy name, a colon, then <event or view> -> <command>")
    name, link = split
    arrow = _partition(link, _RIGHT_ARROW)
    if arrow is None:
        raise ValueError(
            "after the colon, write the event (or view), ->, then the command: E2 -> C3"
        )
    trigger, command = arrow
    if len(_split(trigger, _COMMA)) > 1 or len(_split(command, _COMMA)) > 1:
        raise ValueError("a policy links one event or view to one command")
    return AddPolicy(
        _text(name, "a policy name"),
        _text(trigger, "the event or view the policy reacts to"),
        _text(command, "the command the policy issues"),
    )


def _aggregate(rest: str) -> Command:
    split = _name_colon(rest)
    if split is None:
        raise ValueError("write the aggregate name, a colon, then its commands, events and views")
    name, members = split
    refs = _refs(members, "a member of the aggregate", spaces=True)
    if not refs:
        raise ValueError("name at least one command, event or view after the colon")
    return Group(_text(name, "an aggregate name"), refs)


def _fields(rest: str) -> Command:
    """`<ref>: <field>[, <field>…]`; nothing after the colon clears the element's fields.

    A field is `name`, `name*` (generated) or `name <- <ref>.<field>` (explicit origin, split
    at the first `.` so that the field part may itself contain dots), with a type after its
    name when it is not a String: `id:UUID*`, `total:Decimal <- E3.amount`, `items:String[]`
    (SPEC §3; the last `:` of the name part, so that a name never holds one). Names that are equal
    after normalisation (case, spaces, `_`, `-`) are refused as duplicates.
    """
    split = _name_colon(rest)
    if split is None:
        raise ValueError("write the element, a colon, then its fields: C1: order_id*, total")
    ref, listed = split
    fields: list[FieldInput] = []
    seen: dict[str, str] = {}
    for piece in _split(listed, _COMMA):
        if not piece.strip():
            continue
        field = _field(piece)
        key = normalise(field.name)
        if not key:
            raise ValueError(f"“{field.name}” is not a field name: use letters or digits")
        if key in seen and seen[key] == field.name:
            raise ValueError(f"the field “{field.name}” is listed twice")
        if key in seen:
            raise ValueError(
                f"“{seen[key]}” and “{field.name}” are the same field "
                "(case, spaces, _ and - do not count)"
            )
        seen[key] = field.name
        fields.append(field)
    return SetFields(_text(ref, "the element whose fields these are"), tuple(fields))


def _field(raw: str) -> FieldInput:
    """`name[:Type][*]` or `name[:Type] <- <ref>.<field>`; `*` is also taken before the type
    (`id*:UUID`), since both read the same."""
    origin = _partition(raw, _LEFT_ARROW)
    name_text = (raw if origin is None else origin[0]).strip()
    generated = name_text.endswith("*")
    name_text = name_text.rstrip("*").rstrip()
    typed = _last_colon(name_text)
    field_type, is_list = DEFAULT_FIELD_TYPE, False
    if typed is not None:
        name_text = typed[0].rstrip()
        generated = generated or name_text.endswith("*")
        name_text = name_text.rstrip("*")
        field_type, is_list = _field_type(typed[1], name_text.strip())
    name = _text(name_text, "a field name")
    if origin is None:
        return FieldInput(name, generated, type=field_type, is_list=is_list)
    if generated:
        raise ValueError(f"the field “{name}” is either generated (*) or has an origin (<-)")
    source = _partition(origin[1], _DOT)
    if source is None or not source[0].strip() or not source[1].strip():
        raise ValueError(f"write the origin of “{name}” as <ref>.<field>, like E3.amount")
    return FieldInput(
        name,
        origin_ref=_text(source[0], "the element a field comes from"),
        origin_field=_text(source[1], "the field it comes from"),
        type=field_type,
        is_list=is_list,
    )


def _last_colon(raw: str) -> tuple[str, str] | None:
    """(`name`, `type`) around the last `:` outside Slack tokens; None when there is none."""
    found = list(_COLON.finditer(_masked(raw)))
    if not found:
        return None
    return raw[: found[-1].start()], raw[found[-1].end() :]


_TYPES_BY_KEY = {name.casefold(): name for name in FIELD_TYPES}
_TYPE_LIST = ", ".join(FIELD_TYPES)


def _field_type(raw: str, name: str) -> tuple[str, bool]:
    """(canonical type, is a list) for `decimal`, `Decimal[]`…; an unknown type is refused
    with the list of types, and the closest one when it looks like a slip."""
    written = from_slack(raw).strip()
    is_list = written.endswith("[]")
    bare = written.removesuffix("[]").strip()
    if not bare:
        raise ValueError(
            f"write the type of “{name}” after the colon, one of {_TYPE_LIST} "
            "(add [] for a list: total:Decimal[])"
        )
    found = _TYPES_BY_KEY.get(bare.casefold())
    if found is None:
        close = difflib.get_close_matches(bare.casefold(), list(_TYPES_BY_KEY), n=1, cutoff=0.6)
        hint = f" (did you mean {_TYPES_BY_KEY[close[0]]}?)" if close else ""
        raise ValueError(
            f"“{bare}” is not a field type{hint}: use one of {_TYPE_LIST}, "
            "with [] for a list (total:Decimal[])"
        )
    return found, is_list


_TITLE_THEN_GIVEN = re.compile(r":\s*given(?!\S)", re.IGNORECASE)
_WHEN = _keyword("when")
_THEN = _keyword("then")
_ERROR = re.compile(r"error(?=[\s:]|$)\s*:?", re.IGNORECASE)
_NOTHING = "nothing"


def _scenario(rest: str) -> Command:
    """`<title>: given <events|nothing> [when <command>] then <events|nothing|error <text>|view>`.

    Key words are whole words in any case. `when` is the first one after `given`, and `then`
    the first one after that, so an error text may say anything; names containing `when`,
    `then` or ` and ` need their IDs. Refs are separated by commas or ` and `. With `when`
    it is a command scenario whose `then` lists events (`nothing` for none) or says
    `error <text>`; without `when` it is a view scenario whose `then` is one view.
    Nothing at all after `scenario` asks for the scenario form (`OpenForm`).
    """
    if not rest:
        return OpenForm("scenario")
    split = _partition(rest, _TITLE_THEN_GIVEN)
    if split is None:
        raise ValueError(
            "write the title, a colon, then given …: Happy path: given E1 when C1 then E2"
        )
    title_raw, body = split
    title = _text(title_raw, "the scenario title")
    masked = _masked(body)
    then = _THEN.search(masked)
    if then is None:
        raise ValueError("say what happens with then …")
    when = _WHEN.search(masked, 0, then.start())
    given = _event_list(body[: (when or then).start()], "given")
    outcome = body[then.end() :].strip()
    if not outcome:
        raise ValueError("say what happens after then")
    error = _ERROR.match(outcome)
    if when is None:
        if error is not None:
            raise ValueError("a rejection scenario needs when <command ref> before then error")
        if len(_split(outcome, _COMMA)) > 1 or from_slack(outcome).lower() == _NOTHING:
            raise ValueError("a view scenario names one view after then")
        view = _text(outcome, "the view after then")
        _of_kind((view,), "view", "the then of a view scenario names a view")
        return AddScenario(title, _events(given, "given"), view=view)
    command = body[when.end() : then.start()]
    if not command.strip():
        raise ValueError("name the command after when")
    if len(_split(command, _COMMA)) > 1:
        raise ValueError("when names one command")
    when_ref = _text(command, "the command after when")
    _of_kind((when_ref,), "command", "when names a command")
    given = _events(given, "given")
    if error is not None:
        return AddScenario(
            title, given, when_ref, error=_text(outcome[error.end() :], "the error text")
        )
    return AddScenario(title, given, when_ref, then=_events(_event_list(outcome, "then"), "then"))


def _of_kind(refs: tuple[str, ...], kind: str, rule: str) -> None:
    """Refuse an ID of another kind where a scenario needs `kind` (names are checked when
    they are resolved, by the service)."""
    for ref in refs:
        parsed = parse_element_key(ref)
        if parsed is not None and parsed[0] != kind:
            raise ValueError(f"{ref.upper()} is {with_article(parsed[0])}: {rule}")


def _events(refs: tuple[str, ...], keyword: str) -> tuple[str, ...]:
    """`refs` after `given` or `then` of a command scenario, once they are known to be events."""
    _of_kind(refs, "event", f"the {keyword} of a scenario lists events")
    return refs


def _event_list(raw: str, keyword: str) -> tuple[str, ...]:
    """Events after `given` or `then`: refs, or `nothing` for none."""
    if from_slack(raw).strip().lower() == _NOTHING:
        return ()
    refs = _refs(raw, f"an event after {keyword}", and_word=True)
    if not refs:
        raise ValueError(f"name the events after {keyword}, or write {keyword} nothing")
    return refs


def _trace(rest: str) -> Command:
    split = _partition(rest, _DOT)
    if split is None or not split[0].strip() or not split[1].strip():
        raise ValueError("write the element and the field as <ref>.<field>, like C1.order_id")
    return Trace(_text(split[0], "the element to trace"), _text(split[1], "the field to trace"))


def _export(rest: str) -> Command:
    fmt = rest.lower()
    fmt = EXPORT_ALIASES.get(fmt, fmt)
    if fmt not in FORMATS:
        raise ValueError(f"export one of: {', '.join(FORMATS)}")
    return Export(fmt)


_PARSERS: dict[str, _Parser] = {
    "help": _help,
    "start": _start,
    "status": _no_arguments(Status()),
    "next": _no_arguments(Next()),
    "step": _step,
    "extend": _extend,
    "timebox": _timebox,
    "auto": _auto,
    "facilitator": _facilitator,
    "digest": _digest,
    "canvas": _canvas,
    "end": _no_arguments(End()),
    "event": _event,
    "hotspot": _hotspot,
    "resolve": _resolve,
    "rename": _rename,
    "merge": _merge,
    "drop": _drop,
    "undo": _no_arguments(Undo()),
    "order": _order,
    "move": _move,
    "vote": _vote,
    "command": _command,
    "view": _view,
    "policy": _policy,
    "actor": _actor,
    "external": _external,
    "screen": _screen,
    "aggregate": _aggregate,
    "fields": _fields,
    "scenario": _scenario,
    "trace": _trace,
    "check": _no_arguments(Check()),
    "report": _no_arguments(Report()),
    "board": _no_arguments(Board()),
    "import": _no_arguments(OpenForm("import")),
    "export": _export,
}

"""The vocabulary of `/storm`: one small frozen dataclass per sub-command.

The grammar turns text into these (`bot.core.grammar`), buttons and forms build them too, and
the service layer registers one handler for each (`bot.service.handlers`). A new sub-command
is a class here, a parser in the grammar, and one registered handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bot.core.model import DEFAULT_FIELD_TYPE


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
    """Close the current step and open the next. A button says which `step` it was made for,
    so that one left on an old prompt does nothing once that step has closed."""

    step: int | None = None


@dataclass(frozen=True)
class GoToStep:
    number: int


@dataclass(frozen=True)
class Extend:
    """Add `duration` to the current step; `step` as for `Next`."""

    duration: timedelta
    step: int | None = None


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
class SetCanvas:
    """Keep the channel's canvas a live copy of the model (`on`), or stop following (`off`)."""

    on: bool


@dataclass(frozen=True)
class Digest:
    """`HH:MM` (two-digit hours), `off` or `now`."""

    setting: str


@dataclass(frozen=True)
class End:
    pass


@dataclass(frozen=True)
class AddEvents:
    names: tuple[str, ...]


@dataclass(frozen=True)
class AddHotspot:
    text: str
    on: str | None = None


@dataclass(frozen=True)
class AddFromMessage:
    """An element made from someone's message with the Add to Storm shortcut (SPEC §4.2):
    `name` as the form holds it, `author` the message's, `source_ts` the message it came
    from (a second capture of that message as the same kind adds nothing) and its
    `permalink`, when one could be made."""

    kind: Literal["event", "hotspot", "command", "view"]
    name: str
    author: str
    source_ts: str
    permalink: str | None = None


@dataclass(frozen=True)
class Resolve:
    """Mark hotspot `ref` resolved; `answer`, when given, is kept and shown with it (SPEC §3)."""

    ref: str
    answer: str | None = None


@dataclass(frozen=True)
class Rename:
    ref: str
    new_name: str


@dataclass(frozen=True)
class Merge:
    """Merge `source` (the duplicate, which goes) into `target` (which survives)."""

    source: str
    target: str


@dataclass(frozen=True)
class Drop:
    ref: str


@dataclass(frozen=True)
class Undo:
    pass


@dataclass(frozen=True)
class Order:
    refs: tuple[str, ...]


@dataclass(frozen=True)
class Move:
    ref: str
    where: Literal["after", "before"]
    anchor: str


@dataclass(frozen=True)
class Vote:
    """`/storm vote` adds a vote; the Vote button (`toggle`) takes it back when it is there."""

    ref: str
    toggle: bool = False


@dataclass(frozen=True)
class AddCommand:
    """A command and the events it causes; `causes` is empty when `-> …` was left out."""

    name: str
    causes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddView:
    """A view and the events that feed it; `fed_by` is empty when `<- …` was left out."""

    name: str
    fed_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddPolicy:
    """A policy: whenever event `on` (or for each item of view `on`), then command `issues`."""

    name: str
    on: str
    issues: str


@dataclass(frozen=True)
class AddActor:
    name: str
    issues: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddExternal:
    name: str
    causes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddScreen:
    """A screen (Event Modeling's UI), the commands it `issues` and the views it `shows`;
    either may be empty when its arrow was left out."""

    name: str
    issues: tuple[str, ...] = ()
    shows: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """`/storm aggregate`: put `members` (commands, events and views) in the aggregate `name`."""

    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class FieldInput:
    """One field as typed: `name`, `name*` (generated) or `name <- <ref>.<field>` (origin),
    each with an optional type (`name:Decimal`, `name:Decimal[]` for a list, SPEC §3).
    `identifier` is a code identifier kept from before (an imported one); None derives it."""

    name: str
    generated: bool = False
    origin_ref: str | None = None
    origin_field: str | None = None
    type: str = DEFAULT_FIELD_TYPE
    is_list: bool = False
    identifier: str | None = None


@dataclass(frozen=True)
class SetFields:
    """Replace the fields of a command, event, view, policy or screen; no fields clears them."""

    ref: str
    fields: tuple[FieldInput, ...]


@dataclass(frozen=True)
class AddField:
    """Add one field to a command, event or view and keep the others; a field of the same
    name (after normalisation) is rewritten where it stands. What a completeness report's
    Fix button does ("carry field X on event E", "mark it generated"): it has no typed line,
    `/storm fields` says the whole list."""

    ref: str
    field: FieldInput


@dataclass(frozen=True)
class AddScenario:
    """A command scenario (`when`, and `then` events or an `error`) or a view one (`view`)."""

    title: str
    given: tuple[str, ...] = ()
    when: str | None = None
    then: tuple[str, ...] = ()
    error: str | None = None
    view: str | None = None


@dataclass(frozen=True)
class Trace:
    ref: str
    field: str


@dataclass(frozen=True)
class Check:
    """Run the completeness check and post it; after a Fix, `refresh` is the report message
    (its `ts`) to rewrite in place instead, so the person sees the finding gone."""

    refresh: str | None = None


@dataclass(frozen=True)
class OpenForm:
    """A line that asks for a form rather than a change (`/storm scenario` alone, `/storm
    import`): the Slack adapter opens it with the command's `trigger_id`; nothing is stored
    until it is sent."""

    form: Literal["scenario", "import"]


@dataclass(frozen=True)
class Report:
    pass


@dataclass(frozen=True)
class Export:
    format: str


@dataclass(frozen=True)
class Board:
    """Post the board as a picture (SPEC §4.5)."""


@dataclass(frozen=True)
class Several:
    """Modelling commands carried out as one, all or none: what one form asks for (several
    names, each with its fields and links). No line is written this way; forms build it.
    Inside it a name first means the element made under that name by an earlier command."""

    commands: tuple[Command, ...]


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
    | SetCanvas
    | Digest
    | End
    | AddEvents
    | AddHotspot
    | AddFromMessage
    | Resolve
    | Rename
    | Merge
    | Drop
    | Undo
    | Order
    | Move
    | Vote
    | AddCommand
    | AddView
    | AddPolicy
    | AddActor
    | AddExternal
    | AddScreen
    | Group
    | SetFields
    | AddField
    | AddScenario
    | Trace
    | Check
    | Report
    | Export
    | Board
    | OpenForm
    | Several
)

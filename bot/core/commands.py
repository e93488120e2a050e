"""The vocabulary of `/storm`: one small frozen dataclass per sub-command.

The grammar turns text into these (`bot.core.grammar`), buttons and forms build them too, and
the service layer registers one handler for each (`bot.service.handlers`). A new sub-command
is a class here, a parser in the grammar, and one registered handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal


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
class Resolve:
    ref: str


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
    ref: str


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
class Group:
    """`/storm aggregate`: put `members` (commands and events) in the aggregate `name`."""

    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class FieldInput:
    """One field as typed: `name`, `name*` (generated) or `name <- <ref>.<field>` (origin)."""

    name: str
    generated: bool = False
    origin_ref: str | None = None
    origin_field: str | None = None


@dataclass(frozen=True)
class SetFields:
    """Replace the fields of a command, event or view; no fields clears them."""

    ref: str
    fields: tuple[FieldInput, ...]


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
    pass


@dataclass(frozen=True)
class Report:
    pass


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
    | Digest
    | End
    | AddEvents
    | AddHotspot
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
    | Group
    | SetFields
    | AddScenario
    | Trace
    | Check
    | Report
    | Export
)

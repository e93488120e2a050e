"""Every `/storm` command, registered once: its handler and the rules the dispatcher applies.

A registration says what the handler needs (`needs`), whether only facilitators may run it,
whether it still works on a channel's last workshop once it has ended, whether it changes the
model (then it is journaled, so its author can undo it), and the step it belongs to (for
"noted early", SPEC §2). `Workshops.run` reads this table and nothing else to dispatch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from bot.core import commands, messages
from bot.core.messages import Post
from bot.service import canvas, capture, facilitation, modelling, reading, undoing
from bot.service.context import Action, Refused

# What a handler is given: "nothing" (it answers from the command alone), "request" (the
# engine, for a transaction of its own), "channel" (a transaction, no workshop yet) or
# "workshop" (an `Action` on the channel's workshop, inside a transaction).
Needs = Literal["nothing", "request", "channel", "workshop"]


@dataclass(frozen=True)
class Registration:
    handler: Callable[[Any, Any], Post]
    needs: Needs = "workshop"
    facilitator_only: bool = False
    after_end: bool = False
    journaled: bool = False
    step: int | None = None


def _facilitation(handler: Callable[[Any, Any], Post]) -> Registration:
    return Registration(handler, facilitator_only=True)


def _modelling(handler: Callable[[Any, Any], Post], step: int | None = None) -> Registration:
    return Registration(handler, journaled=True, step=step)


def _reading(handler: Callable[[Any, Any], Post]) -> Registration:
    return Registration(handler, after_end=True)


HANDLERS: dict[type, Registration] = {
    commands.Help: Registration(reading.help_card, needs="nothing"),
    commands.Start: Registration(facilitation.start, needs="channel"),
    commands.Status: Registration(reading.status),
    commands.Next: _facilitation(facilitation.next_step),
    commands.GoToStep: _facilitation(facilitation.go_to_step),
    commands.Extend: _facilitation(facilitation.extend),
    commands.SetTimebox: _facilitation(facilitation.set_timebox),
    commands.SetAuto: _facilitation(facilitation.set_auto),
    commands.ChangeFacilitator: _facilitation(facilitation.change_facilitator),
    commands.Digest: _facilitation(facilitation.digest),
    commands.SetCanvas: _facilitation(canvas.set_canvas),
    commands.End: _facilitation(facilitation.end),
    commands.AddEvents: Registration(capture.add_events, needs="request", step=1),
    # Hotspots are welcome at any step: exploring is where questions come up.
    commands.AddHotspot: _modelling(modelling.add_hotspot),
    commands.AddFromMessage: _modelling(modelling.add_from_message),
    commands.Resolve: _modelling(modelling.resolve_hotspot),
    commands.Rename: _modelling(modelling.rename, step=2),
    commands.Merge: _modelling(modelling.merge, step=2),
    commands.Drop: _modelling(modelling.drop),
    commands.Order: _modelling(modelling.order, step=2),
    commands.Move: _modelling(modelling.move, step=2),
    commands.Vote: _modelling(modelling.vote),
    commands.Undo: Registration(undoing.undo),
    commands.AddCommand: _modelling(modelling.add_command, step=3),
    commands.AddView: _modelling(modelling.add_view, step=3),
    commands.AddPolicy: _modelling(modelling.add_policy, step=3),
    commands.AddActor: _modelling(modelling.add_actor, step=3),
    commands.AddExternal: _modelling(modelling.add_external, step=3),
    commands.AddScreen: _modelling(modelling.add_screen, step=3),
    commands.Group: _modelling(modelling.group, step=4),
    commands.SetFields: _modelling(modelling.set_fields, step=5),
    commands.AddField: _modelling(modelling.add_field, step=5),
    commands.AddScenario: _modelling(modelling.add_scenario, step=7),
    commands.Trace: _reading(reading.trace),
    commands.Check: _reading(reading.check),
    commands.Report: _reading(reading.report),
    commands.Export: _reading(reading.export),
    commands.Board: _reading(reading.board),
}


def several(action: Action, command: commands.Several) -> Post:
    """Modelling commands carried out as one (a form's): each checked as the dispatcher
    checks it, in this one transaction and one change for `/storm undo`; a refusal of any
    of them stores none. The answer is theirs, one after the other."""
    sections: list[str] = []
    for part in command.commands:
        registration = IN_ONE.get(type(part)) or HANDLERS[type(part)]
        if not registration.journaled or registration.needs != "workshop":
            raise ValueError(f"{type(part).__name__} cannot be carried out with others")
        if registration.facilitator_only and not action.is_facilitator:
            raise Refused("Only a facilitator of this workshop can do that.")
        sections.extend(
            registration.handler(replace(action, step=registration.step), part).sections
        )
    return messages.notice("\n".join(sections))


# Where a command runs differently among others: in their transaction.
IN_ONE: dict[type, Registration] = {
    commands.AddEvents: _modelling(modelling.add_events, step=1),
}
HANDLERS[commands.Several] = _modelling(several)

"""Clicks that change the model without a form: Vote, the menu's Drop, Next step and Extend.

Such a click is recorded in the inbox before the ack and carried out after it
(`bot.service.reactions.ReactionInbox`), as a :+1: on the message is: right after the ack in
a single process, by the background worker when web workers only acknowledge. So a burst of
clicks is acknowledged at the cost of one small write each, and a click acknowledged is not
lost to a crash. It is checked when it is carried out, exactly as a typed line is
(`Workshops.attempt`: the person's rights, the workshop and element as they are then, the
channel and workspace Slack named), and its answer reaches the person ephemerally.

What is kept is what Slack said about the click (who, where, which control, its value and the
option chosen), never the message it came from: that is Slack's copy, and large.
"""

from __future__ import annotations

from typing import Any

from bot.core import commands, controls
from bot.core.durations import DurationError, parse_duration
from bot.service.context import Actor
from bot.service.ports import SlackPort
from bot.service.workshops import Workshops
from bot.slack.blocks import action_id

# The inbox's name for a click kept to be carried out after the ack (`click_event`).
CLICK_EVENT = "storm_click"
DROP = "drop"  # the element menu's choice that changes the model at once


def actor_of(body: dict[str, Any]) -> Actor:
    """Who clicked, and where: the workspace and channel Slack says, never a button's value."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id", ""
    )
    team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
    return Actor(team, channel, body["user"]["id"])


def click_event(body: dict[str, Any]) -> dict[str, Any]:
    """A `block_actions` payload's first action as the inbox keeps it. Its id is the click's:
    Slack stamps each action (`action_ts`), so a payload seen twice is one click."""
    actor = actor_of(body)
    action = body["actions"][0]
    stamp = action.get("action_ts") or body.get("trigger_id", "")
    return {
        "event_id": f"click:{actor.team_id}:{actor.user_id}:{action.get('action_id')}:{stamp}",
        "team_id": actor.team_id,
        "event": {
            "type": CLICK_EVENT,
            "user": actor.user_id,
            "channel": actor.channel_id,
            "action_id": action.get("action_id", ""),
            "value": action.get("value", ""),
            "option": (action.get("selected_option") or {}).get("value", ""),
            "response_url": body.get("response_url"),
        },
    }


def is_drop(action: dict[str, Any]) -> bool:
    """The element menu's Drop, the one choice of it that opens no form."""
    value = (action.get("selected_option") or {}).get("value", "")
    return value.partition(" ")[0] == DROP


def command_of(event: dict[str, Any]) -> tuple[commands.Command, int] | None:
    """The command a kept click asks for, and the workshop its control was made for; None
    for a control's value that is not one of Storm's."""
    kind = event["action_id"]
    if kind == action_id(controls.VOTE):
        target = controls.parse_target(event["value"])
        if target is None or target[1] is None:
            return None
        return commands.Vote(target[1], toggle=True), target[0]
    if kind == action_id(controls.ELEMENT_MENU):
        choice, _, value = event["option"].partition(" ")
        target = controls.parse_target(value)
        if choice != DROP or target is None or target[1] is None:
            return None
        return commands.Drop(target[1]), target[0]
    if kind == action_id(controls.NEXT):
        step_target = controls.parse_step_target(event["value"])
        return (commands.Next(step_target[1]), step_target[0]) if step_target else None
    if kind == action_id(controls.EXTEND):
        how, _, value = event["option"].partition(" ")
        step_target = controls.parse_step_target(value)
        if step_target is None:
            return None
        try:
            return commands.Extend(parse_duration(how), step_target[1]), step_target[0]
        except DurationError:
            return None
    return None


class Clicks:
    """The inbox's applier for `CLICK_EVENT`: carries out a kept click, answers the person."""

    def __init__(self, workshops: Workshops, slack: SlackPort) -> None:
        self._workshops = workshops
        self._slack = slack

    def apply(self, body: dict[str, Any]) -> None:
        event = body["event"]
        asked = command_of(event)
        if asked is None:
            return
        command, made_for = asked
        actor = Actor(body.get("team_id", ""), event["channel"], event["user"])
        outcome = self._workshops.attempt(actor, command, made_for=made_for)
        if outcome.told or not event.get("response_url"):
            return
        # A channel Storm knows nothing of: the click's own answer is the only way to tell.
        self._slack.answer_click(event["response_url"], outcome.answer)

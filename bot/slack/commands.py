"""The `/storm` slash command: parse, run, and answer in the acknowledgement itself.

The answer rides on the ack (an ephemeral response body), so a command costs one HTTP round
trip and no Web API call; posts the command causes leave through the outbox after the ack.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.core import grammar, messages
from bot.service.workshops import Actor, Workshops
from bot.slack.blocks import build_single


def register(app: App, *, workshops: Workshops) -> None:
    def storm(ack: Ack, command: dict[str, Any]) -> None:
        actor = Actor(command["team_id"], command["channel_id"], command["user_id"])
        try:
            parsed = grammar.parse(command.get("text") or "")
        except grammar.GrammarError as error:
            answer = messages.usage_error(error.problem, error.usage)
        else:
            answer = workshops.run(actor, parsed)
        message = build_single(answer)
        ack(response_type="ephemeral", text=message.text, blocks=message.blocks)

    app.command("/storm")(storm)

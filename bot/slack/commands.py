"""The `/storm` slash command: parse, run, and answer in the acknowledgement itself.

The answer rides on the ack (an ephemeral response body), so a command costs one HTTP round
trip and no Web API call; posts the command causes leave through the outbox after the ack.
A line that asks for a form (`/storm scenario` alone, `/storm import`) opens it with the
command's `trigger_id` before the ack, which then says nothing: the form is the answer.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core import commands, grammar, messages
from bot.core.messages import Post
from bot.service import forms as readers
from bot.service.workshops import Actor, Refused, Workshops
from bot.slack import forms, imports
from bot.slack.blocks import build_single


def register(app: App, *, workshops: Workshops) -> None:
    def storm(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        actor = Actor(command["team_id"], command["channel_id"], command["user_id"])
        try:
            parsed = grammar.parse(command.get("text") or "")
        except grammar.GrammarError as error:
            answer: Post | None = messages.usage_error(error.problem, error.usage)
        else:
            if isinstance(parsed, commands.OpenForm) and parsed.form == "import":
                answer = _import_form(actor, command, client)
            elif isinstance(parsed, commands.OpenForm):
                answer = _scenario_form(workshops, actor, command, client)
            else:
                answer = workshops.run(actor, parsed)
        if answer is None:
            ack()
            return
        message = build_single(answer)
        ack(response_type="ephemeral", text=message.text, blocks=message.blocks)

    app.command("/storm")(storm)


def _scenario_form(
    workshops: Workshops, actor: Actor, command: dict[str, Any], client: WebClient
) -> Post | None:
    """Open the scenario form in the channel's workshop; None once it is open, else why not."""
    try:
        form = workshops.look(actor, None, readers.scenario_form(None))
    except Refused as refusal:
        return messages.notice(f":no_entry_sign: {refusal}")
    origin = forms.Origin(form.workshop_id, actor.channel_id)
    if not forms.open_form(
        client, command.get("trigger_id", ""), forms.scenario_form(form, origin)
    ):
        return messages.notice(
            "Slack did not open the form (it took too long): run `/storm scenario` again, or "
            "type it: `/storm scenario &lt;title&gt;: given … when … then …`."
        )
    return None


def _import_form(actor: Actor, command: dict[str, Any], client: WebClient) -> Post | None:
    """Open the import form; any channel, with or without a workshop (an import starts one)."""
    if forms.open_form(
        client, command.get("trigger_id", ""), imports.import_form(actor.channel_id)
    ):
        return None
    return messages.notice(
        "Slack did not open the form (it took too long): run `/storm import` again, or share "
        "the file in the channel and use *Import into Storm* on its message."
    )

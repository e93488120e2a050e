"""Message shortcuts (`message_action`): Add to Storm on any message, threads included, and
Import into Storm on a message that carries a model file.

Add to Storm opens a form before the ack (its `trigger_id` expires three seconds after the
click) with the message's text as plain text and a kind picker; the submission is read and
carried out like any form (`bot.slack.views`). In a channel without a workshop it says so at
once through the shortcut's `response_url`, the only way to answer there.

Import into Storm takes the message's file (of several, the first `.json`), records the import
in the inbox and acknowledges; the file is read and imported after the ack
(`bot.service.file_imports`). A message without a file to take is answered at once.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core.messages import Post, notice
from bot.service.context import Actor, Refused
from bot.service.reactions import ReactionInbox
from bot.service.workshops import Workshops
from bot.slack import forms, imports
from bot.slack.blocks import build_single

# The shortcuts' callback ids, as manifest.yml declares them.
ADD_TO_STORM = "storm.add_to_storm"
IMPORT_INTO_STORM = "storm.import_into_storm"

_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_CHANNEL = re.compile(r"[CDG][A-Z0-9]{1,30}")
_TS = re.compile(r"\d{1,12}\.\d{1,8}")


def permalink(domain: str, channel: str, ts: str, thread_ts: str | None) -> str | None:
    """The message's link, made as Slack makes it (`https://<domain>.slack.com/archives/
    <channel>/p<ts without its dot>`, a reply with its thread): no Web API call after the ack
    and no extra scope. None when a part does not look like Slack's."""
    if not (_DOMAIN.fullmatch(domain) and _CHANNEL.fullmatch(channel) and _TS.fullmatch(ts)):
        return None
    link = f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts and _TS.fullmatch(thread_ts):
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link


def register(app: App, *, workshops: Workshops, inbox: ReactionInbox) -> None:
    def add_to_storm(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        channel = (body.get("channel") or {}).get("id", "")
        team = body.get("team") or {}
        actor = Actor(
            team.get("id") or body["user"].get("team_id", ""), channel, body["user"]["id"]
        )
        message = body.get("message") or {}
        ts = body.get("message_ts") or message.get("ts", "")
        try:
            workshop_id = workshops.channel_workshop(actor)
        except Refused as refusal:
            ack()
            answer = build_single(notice(f":no_entry_sign: {refusal}"))
            respond(text=answer.text, blocks=answer.blocks, response_type="ephemeral")
            return
        # Storm's own messages (an element's) are the clicker's words, as with :question:.
        from_bot = bool(message.get("bot_id")) or message.get("subtype") == "bot_message"
        origin = forms.Origin(
            workshop_id,
            channel,
            source=forms.Source(
                ts=ts,
                author=actor.user_id if from_bot else message.get("user") or actor.user_id,
                permalink=permalink(team.get("domain", ""), channel, ts, message.get("thread_ts")),
            ),
        )
        view = forms.capture_form(message.get("text") or "", origin)
        forms.open_form(client, body["trigger_id"], view)
        ack()

    def record_import(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        event = imports.shortcut_event(body)
        if isinstance(event, Post):
            ack()
            answer = build_single(event)
            respond(text=answer.text, blocks=answer.blocks, response_type="ephemeral")
            return
        inbox.record(event)
        ack()

    def import_after_ack(body: dict[str, Any]) -> None:
        event = imports.shortcut_event(body)
        if not isinstance(event, Post):
            inbox.process_delivery(event["event_id"])

    app.shortcut(ADD_TO_STORM)(add_to_storm)
    if inbox.applies_after_ack:
        app.shortcut(IMPORT_INTO_STORM)(ack=record_import, lazy=[import_after_ack])
    else:
        app.shortcut(IMPORT_INTO_STORM)(record_import)

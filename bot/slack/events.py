"""Reaction events: recorded in the inbox before the ack, applied after it (SPEC §4.2).

The inbox itself is the service's (`bot.service.reactions`); this module only binds Slack's
events to it: as a Bolt lazy listener in a single process, or record-only in web workers, whose
recorded events the background worker applies (`bot/runtime/server.py`).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.service.reactions import ReactionInbox

SUBSCRIBED_EVENTS = ("reaction_added", "reaction_removed")


def register(app: App, *, inbox: ReactionInbox) -> None:
    def record(ack: Ack, body: dict[str, Any]) -> None:
        inbox.record(body)
        ack()

    def process(body: dict[str, Any]) -> None:
        inbox.process_delivery(body["event_id"])

    for event_type in SUBSCRIBED_EVENTS:
        if inbox.applies_after_ack:
            app.event(event_type)(ack=record, lazy=[process])
        else:
            app.event(event_type)(record)

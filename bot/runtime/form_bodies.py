"""Slash commands whose text holds the word "payload" reach their listener.

Bolt (`slack_bolt.request.internals.parse_body`) reads a form body as an interactivity
payload as soon as the text "payload" appears anywhere in it, and when the body has no
`payload` field it reads it as empty: `/storm event payload received`, a channel named
`#payload-team`, any command naming the word, was answered 404 "unhandled request" over
HTTP. Here a form body is read as its fields, and as the JSON of its `payload` field only
when it has one, which is what Slack sends for interactivity.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.request import request


def parse_body(body: str, content_type: str | None) -> dict[str, Any]:
    """A Slack request's body: JSON as it is, a form as its fields, interactivity as the JSON
    of its `payload` field."""
    if not body:
        return {}
    if content_type == "application/json" or body.startswith("{"):
        parsed: dict[str, Any] = json.loads(body)
        return parsed
    fields = dict(parse_qsl(body, keep_blank_values=True))
    payload = fields.get("payload")
    if payload is not None:
        interactivity: dict[str, Any] = json.loads(payload)
        return interactivity
    return fields


def mend_form_bodies() -> None:
    """Make Bolt's requests (`BoltRequest`, which Storm's HTTP adapters and the sandbox build)
    read their bodies with `parse_body`; idempotent."""
    request.parse_body = parse_body

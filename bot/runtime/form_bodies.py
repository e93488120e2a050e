"""Slash commands whose text holds the word "payload" reach their listener.

Bolt (`slack_bolt.request.internals.parse_body`) reads a form body as an interactivity
payload as soon as the text "payload" appears anywhere in it, and when the body has no
`payload` field it reads it as empty: `/storm event payload received`, a channel named
`#payload-team`, any command naming the word, was answered 404 "unhandled request" over
HTTP. Here a form body is read as its fields, and as the JSON of its `payload` field only
when it has one, which is what Slack sends for interactivity.

An interactivity body carries the whole message clicked, thousands of escapes long, and
`parse_qsl` decodes them one by one in Python: the largest share of a click's work after
Storm's own. A body that is the `payload` field alone, strictly escaped, is decoded by
`binascii.a2b_qp` in C instead: quoted-printable is percent-encoding with `=` for `%`.
"""

from __future__ import annotations

import binascii
import json
import re
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
    value = body[8:]
    if body.startswith("payload=") and _strictly_escaped(value):
        decoded = binascii.a2b_qp(value.replace("+", " ").replace("%", "=").encode())
        only: dict[str, Any] = json.loads(decoded.decode("utf-8", "replace"))
        return only
    fields = dict(parse_qsl(body, keep_blank_values=True))
    payload = fields.get("payload")
    if payload is not None:
        interactivity: dict[str, Any] = json.loads(payload)
        return interactivity
    return fields


def _strictly_escaped(value: str) -> bool:
    """Printable ASCII without "=", "&" (a second field) or spaces, and "%" only as an
    escape of two hex digits: what `a2b_qp` reads as percent-decoding would (it keeps an
    "=" that no two hex digits follow as it is)."""
    return (
        value.isascii()
        and value.isprintable()
        and not any(c in value for c in " =&")
        and _BAD_ESCAPE.search(value) is None
    )


_BAD_ESCAPE = re.compile("%(?![0-9A-Fa-f]{2})")


def mend_form_bodies() -> None:
    """Make Bolt's requests (`BoltRequest`, which Storm's HTTP adapters and the sandbox build)
    read their bodies with `parse_body`; idempotent."""
    request.parse_body = parse_body

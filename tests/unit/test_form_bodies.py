"""Slack's form bodies read as Slack meant them: interactivity payloads of any text, however
escaped, and slash commands that name the word "payload"."""

from __future__ import annotations

import json
import random
from urllib.parse import quote, quote_plus, urlencode

from bot.runtime.form_bodies import parse_body

FORM = "application/x-www-form-urlencoded"
AWKWARD = "Ünïcode 漢字 🎉, a+b=c & 100% _x_ ~!*'() <@U1>\nline\r\n\ttab  trailing  "


def test_a_click_payload_with_awkward_text_reads_back_exactly() -> None:
    payload = {"type": "block_actions", "message": {"text": AWKWARD}, "actions": [{"v": "="}]}
    for encode in (quote_plus, lambda text: quote(text, safe="!'()*~")):
        body = "payload=" + encode(json.dumps(payload, ensure_ascii=False))
        assert parse_body(body, FORM) == payload


def test_any_text_reads_back_as_it_was_sent() -> None:
    chosen = random.Random(7)
    for _ in range(2000):
        text = "".join(chr(chosen.randint(1, 0x2FFF)) for _ in range(chosen.randint(0, 40)))
        payload = {"text": text}
        body = urlencode({"payload": json.dumps(payload, ensure_ascii=chosen.random() < 0.5)})
        assert parse_body(body, FORM) == payload


def test_a_body_with_more_fields_or_loose_escapes_is_read_field_by_field() -> None:
    assert parse_body("payload=%7B%22a%22%3A1%7D&extra=1", FORM) == {"a": 1}
    assert parse_body("payload=%7B%22a%22%3A%22100%%22%7D", FORM) == {"a": "100%"}
    assert parse_body("payload=%7B%22a%22%3A%22b c%22%7D", FORM) == {"a": "b c"}


def test_a_slash_command_naming_payload_keeps_its_fields() -> None:
    body = urlencode({"command": "/storm", "text": "event payload received", "user_id": "U1"})
    assert parse_body(body, FORM)["text"] == "event payload received"

"""Block Kit from the core's `Post` documents: pure builders that respect Slack's limits.

A post becomes one or more messages: sections longer than Slack allows are split at line
breaks (never cut), and a post with too many blocks continues in further messages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.controls import Button, Control
from bot.core.messages import Post
from bot.core.text import escape

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FALLBACK_TEXT = 3000
MAX_MESSAGE_TEXT = 40_000


@dataclass(frozen=True)
class SlackMessage:
    """One chat message: fallback `text` (already escaped) and its blocks as dicts."""

    text: str
    blocks: list[dict[str, Any]]


def _split_text(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Split mrkdwn at line breaks (or, for one very long line, at spaces) to fit `limit`."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else _entity_safe(line, limit)
            pieces = (line[:cut], line[cut:].lstrip())
            if current:
                chunks.append(current)
                current = ""
            chunks.append(pieces[0])
            line = pieces[1]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return [chunk for chunk in chunks if chunk.strip()] or [" "]


def _entity_safe(text: str, cut: int) -> int:
    """Move a cut back so that it does not fall inside an escaped `&lt;`, `&gt;` or `&amp;`
    (in escaped text every `&` starts one)."""
    start = text.rfind("&", max(cut - 5, 0), cut)
    return start if start > 0 and ";" not in text[start:cut] else cut


# Block Kit as plain dicts, exactly what slack_sdk's models give: they validate every field on
# every `to_dict` (most of an acknowledgement's block building: 115 µs against 20 µs under
# cProfile), for limits this module already keeps (text lengths, blocks per message).
def _header(text: str) -> dict[str, Any]:
    plain = text if len(text) <= MAX_HEADER_TEXT else text[: MAX_HEADER_TEXT - 1] + "…"
    return {"type": "header", "text": {"type": "plain_text", "text": plain, "emoji": True}}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


# Every action Storm's controls carry starts with this, so Bolt routes them all by one pattern.
ACTION_PREFIX = "storm."
MAX_BUTTON_TEXT = 75
MAX_ACTIONS = 25  # elements in one actions block
MAX_OVERFLOW = 5  # choices in an overflow menu; a longer menu is a select


def action_id(action: str) -> str:
    """The `action_id` of a control that does `action` (`bot.core.controls`)."""
    return ACTION_PREFIX + action


def action_pattern(action: str) -> re.Pattern[str]:
    """What routes every control doing `action`, numbered ones included: Slack wants action
    ids unique within a block, so the second Fix button in a block is `storm.fix.1`."""
    return re.compile(rf"^{re.escape(action_id(action))}(\.\d+)?$")


def _plain(text: str, limit: int) -> dict[str, Any]:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return {"type": "plain_text", "text": shown, "emoji": True}


def control_element(control: Control) -> dict[str, Any]:
    """One button or overflow menu, as Block Kit."""
    if isinstance(control, Button):
        button: dict[str, Any] = {
            "type": "button",
            "action_id": action_id(control.action),
            "text": _plain(control.label, MAX_BUTTON_TEXT),
            "value": control.value,
        }
        if control.style:
            button["style"] = control.style
        return button
    options = [
        {"text": _plain(label, MAX_BUTTON_TEXT), "value": value} for label, value in control.choices
    ]
    if len(options) > MAX_OVERFLOW:  # Slack's overflow takes five; a select takes a hundred
        return {
            "type": "static_select",
            "action_id": action_id(control.action),
            "placeholder": _plain("More…", MAX_BUTTON_TEXT),
            "options": options,
        }
    return {"type": "overflow", "action_id": action_id(control.action), "options": options}


def controls_block(controls: tuple[Control, ...]) -> dict[str, Any]:
    """An actions block of `controls`, with a block id of its own: element messages that share
    one message each have theirs, and Slack wants block ids unique within a message. Controls
    doing the same action in one block (a report's Fix buttons) are numbered, as Slack wants
    action ids unique within a block (`action_pattern` routes them all)."""
    first = controls[0]
    anchor = first.value if isinstance(first, Button) else first.choices[0][1]
    elements = []
    seen: dict[str, int] = {}
    for control in controls:
        element = control_element(control)
        repeats = seen.get(element["action_id"], 0)
        seen[element["action_id"]] = repeats + 1
        if repeats:
            element["action_id"] += f".{repeats}"
        elements.append(element)
    return {"type": "actions", "block_id": f"controls {anchor}"[:255], "elements": elements}


def post_blocks(post: Post) -> list[dict[str, Any]]:
    """All the blocks of `post`, before they are split into messages."""
    blocks: list[dict[str, Any]] = []
    if post.heading:
        blocks.append(_header(post.heading))
    for section in post.sections:
        blocks.extend(_section(chunk) for chunk in _split_text(section))
    for start in range(0, len(post.controls), MAX_ACTIONS):
        blocks.append(controls_block(post.controls[start : start + MAX_ACTIONS]))
    if post.context:
        blocks.extend(_context(chunk) for chunk in _split_text(post.context))
    return blocks


def build_messages(post: Post) -> list[SlackMessage]:
    """The messages that carry `post`: the first has the heading, the rest continue it."""
    blocks = post_blocks(post)
    fallback = escape(post.text)
    if len(fallback) > MAX_FALLBACK_TEXT:
        fallback = fallback[: _entity_safe(fallback, MAX_FALLBACK_TEXT - 1)] + "…"
    pages = [blocks[i : i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)] or [[]]
    return [
        SlackMessage(text=fallback if n == 0 else f"{fallback} (continued)", blocks=page)
        for n, page in enumerate(pages)
    ]


def build_single(post: Post) -> SlackMessage:
    """For answers that cannot thread (ephemeral, acks): the first page, told it was long."""
    pages = build_messages(post)
    if len(pages) == 1:
        return pages[0]
    note = _context("…this answer is longer than one message; see the channel's report.")
    return SlackMessage(text=pages[0].text, blocks=[*pages[0].blocks[: MAX_BLOCKS - 1], note])


# Elements captured close together may share one message (SPEC §4.3). Each takes three blocks
# (its section, its controls, its context), so sixteen keep a message at 48 of Slack's 50 blocks
# whatever they later say.
MAX_SHARED = 16


def build_shared(posts: Sequence[Post]) -> SlackMessage:
    """One message that carries several element posts, each as its section, its own controls
    and its context, in order.

    It must stay inside Slack's limits through every later update, when its elements gain
    fields: each section and context is held to an equal share of the message's 40,000
    characters (and to Slack's 3,000 per text), cut at a line break or a comma and marked
    with an ellipsis. A post alone in its message is never cut: it continues in its thread.
    """
    share = min(MAX_SECTION_TEXT, (MAX_MESSAGE_TEXT - MAX_FALLBACK_TEXT) // (2 * len(posts)))
    blocks: list[dict[str, Any]] = []
    for post in posts:
        blocks.append(_section(_clip("\n".join(post.sections), share)))
        if post.controls:
            blocks.append(controls_block(post.controls))
        if post.context:
            blocks.append(_context(_clip(post.context, share)))
    fallback = _clip(" · ".join(escape(post.text) for post in posts), MAX_FALLBACK_TEXT)
    return SlackMessage(text=fallback, blocks=blocks)


def _clip(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters; else its start, cut at a line break or between
    two items of a list (never inside an escaped entity), and an ellipsis."""
    if len(text) <= limit:
        return text
    end = limit - 1
    cut = max(text.rfind("\n", 0, end), text.rfind(", ", 0, end))
    if cut < end // 2:
        cut = _entity_safe(text, end)
    return text[:cut] + "…"

"""Block Kit from the core's `Post` documents: pure builders that respect Slack's limits.

A post becomes one or more messages: sections longer than Slack allows are split at line
breaks (never cut), and a post with too many blocks continues in further messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.messages import Post
from bot.core.text import escape

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FALLBACK_TEXT = 3000


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


def build_messages(post: Post) -> list[SlackMessage]:
    """The messages that carry `post`: the first has the heading, the rest continue it."""
    blocks: list[dict[str, Any]] = []
    if post.heading:
        blocks.append(_header(post.heading))
    for section in post.sections:
        blocks.extend(_section(chunk) for chunk in _split_text(section))
    if post.context:
        blocks.extend(_context(chunk) for chunk in _split_text(post.context))
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

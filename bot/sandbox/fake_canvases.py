"""Slack's canvases, as the fake Slack serves them (`bot.sandbox.fake_slack`).

`conversations.canvases.create`, `canvases.create`, `canvases.edit`,
`canvases.sections.lookup` and `canvases.delete` with Slack's argument checks and error
codes (https://docs.slack.dev/reference/methods/canvases.edit and its siblings), the
documents kept as Markdown so that tests and the sandbox can read them, and what a workspace
may refuse, switched on with `refuse`:

- `"free"`: a free plan: no channel canvas from apps (`team_tier_cannot_create_channel_canvases`),
  no canvas outside a channel tab, one canvas tab per channel;
- `"disabled"`: canvases turned off (`canvas_disabled_user_team`);
- `"restricted"`: the app may not (`restricted_action`).

A channel canvas someone else made is seeded with `add_channel_canvas`. Slack's rate tiers
apply per method: Tier 2 (20 a minute) for the creations, Tier 3 (50 a minute) for edits and
look-ups; beyond them the method answers HTTP 429 `ratelimited` with `Retry-After`.

Stdlib only; the fake's lock is held around every call.
"""

from __future__ import annotations

import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_MARKDOWN = 1_048_576  # "The markdown content is limited to 1 MiB (1,048,576 characters)"
REFUSALS = ("free", "disabled", "restricted")
_OPERATIONS = frozenset(
    {"insert_after", "insert_before", "insert_at_start", "insert_at_end", "replace", "delete"}
)
_NEEDS_SECTION = frozenset({"insert_after", "insert_before", "delete"})
_SECTION_TYPES = frozenset({"h1", "h2", "h3", "any_header"})
_HEADING = re.compile(r"^(#{1,3}) ")
# Slack's rate tiers, in calls a minute per method and workspace.
PER_MINUTE: dict[str, int] = {
    "conversations.canvases.create": 20,
    "canvases.create": 20,
    "canvases.delete": 20,
    "canvases.edit": 50,
    "canvases.sections.lookup": 50,
}


class CanvasError(Exception):
    """Slack's `{"ok": false, "error": code}` for a canvas method."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class CanvasRateLimited(Exception):
    """The method's rate tier is used up: HTTP 429 with `Retry-After: seconds`."""

    def __init__(self, seconds: int) -> None:
        super().__init__("ratelimited")
        self.seconds = seconds


@dataclass
class Canvas:
    """A canvas as Slack keeps it; `channel` is the channel it is tabbed in (or the channel
    canvas of, when `channel_canvas`)."""

    id: str
    owner: str
    markdown: str
    title: str | None = None
    channel: str | None = None
    channel_canvas: bool = False
    edits: int = 0

    def blocks(self) -> list[str]:
        """The canvas's sections: each heading, and each run of text between blank lines or
        headings, as Slack splits a document into sections."""
        found: list[str] = []
        current: list[str] = []
        for line in self.markdown.splitlines():
            if _HEADING.match(line) or not line.strip():
                if current:
                    found.append("\n".join(current))
                    current = []
                if line.strip():
                    found.append(line)
            else:
                current.append(line)
        if current:
            found.append("\n".join(current))
        return found


@dataclass
class FakeCanvases:
    """Every canvas of the fake workspace, and the methods that make and change them."""

    bot_user_id: str
    channel_check: Callable[[Any], str]  # the channel's id, or Slack's error for it
    new_id: Callable[[str], str]
    refuse: str | None = None
    canvases: dict[str, Canvas] = field(default_factory=dict)
    _calls: dict[str, deque[float]] = field(default_factory=dict)

    # ---- for tests and the sandbox ------------------------------------------------------

    def add_channel_canvas(self, channel: str, owner: str, markdown: str = "") -> Canvas:
        """A channel canvas someone else made (Storm may not edit it)."""
        canvas = Canvas(self.new_id("F"), owner, markdown, channel=channel, channel_canvas=True)
        self.canvases[canvas.id] = canvas
        return canvas

    def in_channel(self, channel: str) -> list[Canvas]:
        """The channel's canvas and the canvases tabbed in it, oldest first."""
        return [c for c in self.canvases.values() if c.channel == channel]

    # ---- methods --------------------------------------------------------------------------

    def conversations_create(self, params: dict[str, Any]) -> dict[str, Any]:
        self._rate("conversations.canvases.create")
        if not params.get("channel_id"):
            raise CanvasError("invalid_arguments")
        channel = self.channel_check(params.get("channel_id"))
        markdown = _content(params.get("document_content"))
        self._refusal(channel_canvas=True)
        if any(c.channel_canvas for c in self.in_channel(channel)):
            raise CanvasError("channel_canvas_already_exists")
        canvas = Canvas(
            self.new_id("F"),
            self.bot_user_id,
            markdown,
            title=_title(params.get("title")),
            channel=channel,
            channel_canvas=True,
        )
        self.canvases[canvas.id] = canvas
        return {"ok": True, "canvas_id": canvas.id}

    def create(self, params: dict[str, Any]) -> dict[str, Any]:
        self._rate("canvases.create")
        channel = self.channel_check(params.get("channel_id")) if params.get("channel_id") else None
        markdown = _content(params.get("document_content"))
        self._refusal(channel_canvas=False)
        if self.refuse == "free":
            if channel is None:
                raise CanvasError("free_teams_cannot_create_non_tabbed_canvases")
            if self.in_channel(channel):
                raise CanvasError("free_team_canvas_tab_already_exists")
        canvas = Canvas(
            self.new_id("F"),
            self.bot_user_id,
            markdown,
            title=_title(params.get("title")),
            channel=channel,
        )
        self.canvases[canvas.id] = canvas
        return {"ok": True, "canvas_id": canvas.id}

    def edit(self, params: dict[str, Any]) -> dict[str, Any]:
        self._rate("canvases.edit")
        canvas = self._writable(params.get("canvas_id"))
        changes = params.get("changes")
        if not isinstance(changes, list) or len(changes) != 1 or not isinstance(changes[0], dict):
            raise CanvasError("invalid_arguments")  # one operation per call
        change = changes[0]
        operation = change.get("operation")
        if operation not in _OPERATIONS:
            raise CanvasError("invalid_arguments")
        section = change.get("section_id")
        if operation in _NEEDS_SECTION and not section:
            raise CanvasError("invalid_arguments")
        text = "" if operation == "delete" else _content(change.get("document_content"), True)
        blocks = canvas.blocks()
        if operation == "replace" and not section:
            blocks = [text]
        elif operation == "insert_at_start":
            blocks.insert(0, text)
        elif operation == "insert_at_end":
            blocks.append(text)
        else:
            index = _section_index(canvas, section)
            if operation == "replace":
                blocks[index] = text
            elif operation == "delete":
                del blocks[index]
            else:
                blocks.insert(index + (operation == "insert_after"), text)
        markdown = "\n\n".join(b for b in blocks if b) + "\n"
        if len(markdown) > MAX_MARKDOWN:
            raise CanvasError("canvas_editing_failed")
        canvas.markdown = markdown
        canvas.edits += 1
        return {"ok": True}

    def lookup(self, params: dict[str, Any]) -> dict[str, Any]:
        self._rate("canvases.sections.lookup")
        canvas = self._readable(params.get("canvas_id"))
        criteria = params.get("criteria")
        if not isinstance(criteria, dict):
            raise CanvasError("invalid_arguments")
        types = criteria.get("section_types")
        text = criteria.get("contains_text")
        if types is None and text is None:
            raise CanvasError("invalid_arguments")
        if types is not None and (
            not isinstance(types, list)
            or not 1 <= len(types) <= 3
            or not set(types) <= _SECTION_TYPES
        ):
            raise CanvasError("invalid_arguments")
        found = []
        for index, block in enumerate(canvas.blocks()):
            heading = _HEADING.match(block)
            level = f"h{len(heading.group(1))}" if heading else None
            if types is not None and not (level and (level in types or "any_header" in types)):
                continue
            if text is not None and str(text) not in block:
                continue
            found.append({"id": _section_id(canvas, index)})
        return {"ok": True, "sections": found}

    def delete(self, params: dict[str, Any]) -> dict[str, Any]:
        self._rate("canvases.delete")
        canvas = self._writable(params.get("canvas_id"))
        del self.canvases[canvas.id]
        return {"ok": True}

    # ---- helpers ----------------------------------------------------------------------------

    def _refusal(self, *, channel_canvas: bool) -> None:
        if self.refuse == "disabled":
            raise CanvasError("canvas_disabled_user_team")
        if self.refuse == "restricted":
            raise CanvasError("restricted_action")
        if self.refuse == "free" and channel_canvas:
            raise CanvasError("team_tier_cannot_create_channel_canvases")

    def _readable(self, canvas_id: Any) -> Canvas:
        if self.refuse == "disabled":
            raise CanvasError("canvas_disabled_user_team")
        canvas = self.canvases.get(canvas_id) if isinstance(canvas_id, str) else None
        if canvas is None:
            raise CanvasError("canvas_not_found")
        return canvas

    def _writable(self, canvas_id: Any) -> Canvas:
        canvas = self._readable(canvas_id)
        if self.refuse == "restricted" or canvas.owner != self.bot_user_id:
            raise CanvasError("restricted_action")
        if self.refuse == "free" and canvas.channel is None:
            raise CanvasError("free_teams_cannot_edit_standalone_canvases")
        return canvas

    def _rate(self, method: str) -> None:
        """Slack's rate tier for `method`: a minute's window of calls."""
        now = time.monotonic()
        calls = self._calls.setdefault(method, deque())
        while calls and now - calls[0] >= 60.0:
            calls.popleft()
        if len(calls) >= PER_MINUTE[method]:
            raise CanvasRateLimited(max(1, math.ceil(60.0 - (now - calls[0]))))
        calls.append(now)


def _content(value: Any, required: bool = False) -> str:
    """The Markdown of a `document_content` argument (`{"type": "markdown", "markdown": …}`)."""
    if value is None and not required:
        return ""
    if (
        not isinstance(value, dict)
        or value.get("type") != "markdown"
        or not isinstance(value.get("markdown"), str)
    ):
        raise CanvasError("invalid_arguments")
    markdown = str(value["markdown"])
    if len(markdown) > MAX_MARKDOWN:
        raise CanvasError("invalid_arguments")
    return markdown


def _title(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise CanvasError("invalid_arguments")
    return value


def _section_id(canvas: Canvas, index: int) -> str:
    return f"temp:C:{canvas.id}{index:06d}"


def _section_index(canvas: Canvas, section: Any) -> int:
    prefix = f"temp:C:{canvas.id}"
    if isinstance(section, str) and section.startswith(prefix) and section[len(prefix) :].isdigit():
        index = int(section[len(prefix) :])
        if index < len(canvas.blocks()):
            return index
    raise CanvasError("canvas_editing_failed")

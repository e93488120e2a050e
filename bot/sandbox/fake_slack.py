"""A fake Slack Web API served over real HTTP on loopback.

Why a real server rather than mocks: the bot talks to Slack through ``slack_sdk.WebClient``,
and the only way to prove the bot's requests are right (encoding, auth header, retries on 429,
the three-step ``files_upload_v2`` dance, ``respond()`` via ``response_url``) is to let the real
client send real requests.  Everything the fake answers follows Slack's documented request
parameters and response shapes, and it enforces Slack's message limits, so a test that passes
here fails for the same reasons it would fail against Slack.

It is used two ways:

* end-to-end tests: ``WebClient(token=..., base_url=fake.api_url)`` and then assert on
  :meth:`FakeSlack.messages`, :attr:`FakeSlack.calls`, :meth:`FakeSlack.wait_for`;
* the terminal sandbox, which reads the same state to print the channel.

Stdlib only.  All state sits behind one ``threading.RLock`` because the server answers each
request on its own thread while tests read state from theirs.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import math
import mimetypes
import secrets
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.sandbox.fake_canvases import CanvasError, CanvasRateLimited, FakeCanvases

__all__ = [
    "Call",
    "FakeSlack",
    "Message",
    "PostLimit",
    "UploadedFile",
    "validate_blocks",
    "validate_view",
]

# --- Slack's limits (https://docs.slack.dev/reference/block-kit/blocks and method pages) -------
MAX_BLOCKS = 50
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
ACTIONS_ELEMENTS_MAX = 25
BLOCK_ID_MAX = 255
ACTION_ID_MAX = 255
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
BUTTON_URL_MAX = 3000
IMAGE_ALT_TEXT_MAX = 2000
#: An uploaded file's alt text (`files.getUploadURLExternal`): ``alt_txt_too_large`` beyond.
FILE_ALT_TEXT_MAX = 1000
#: A file a person uploads into a form's ``file_input`` (Slack's documented limit).
FILE_INPUT_BYTES_MAX = 10 * 1024 * 1024
FILE_INPUT_FILES_MAX = 10
MARKDOWN_BLOCK_TEXT_MAX = 12_000
MESSAGE_TEXT_MAX = 40_000
MAX_ATTACHMENTS = 100
VIEW_MAX_BLOCKS = 100
VIEW_TITLE_MAX = 24
PRIVATE_METADATA_MAX = 3000
CALLBACK_ID_MAX = 255
EXTERNAL_ID_MAX = 255
INPUT_LABEL_MAX = 2000
PLACEHOLDER_MAX = 150
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
SELECT_OPTIONS_MAX = 100
OVERFLOW_OPTIONS_MIN = 2
OVERFLOW_OPTIONS_MAX = 5
CHOICE_OPTIONS_MAX = 10
TEXT_INPUT_MAX = 3000
#: Slack keeps at most three modals on a person's stack (the root and two pushed).
VIEW_STACK_MAX = 3
#: A trigger_id can be exchanged for a view within 3 seconds, once.
TRIGGER_TTL = 3.0
#: A response_url may be used this many times (Slack: "up to 5 times within 30 minutes").
RESPONSE_URL_MAX_USES = 5

_KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "call",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
#: The app id Slack gives Storm in messages, views and payloads.
APP_ID = "A0STORM"
_TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
_POLL_INTERVAL = 0.02
_JSON_FIELDS = (
    "blocks",
    "attachments",
    "files",
    "metadata",
    "view",
    "document_content",
    "changes",
    "criteria",
)


# --- public records ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    """One request the fake received, kept so tests can assert on what the bot sent.

    ``method`` is the Web API method name, or ``"upload_url"`` for the raw file upload POST,
    ``"response_url"`` for a POST to a response URL, or ``"file_download"`` for a GET of a
    file's private URL.  ``error`` is the Slack error code the fake answered with (``None``
    when the call succeeded), so rejected calls are visible too.  ``token`` is the token a
    Web API call carried (installed into many workspaces, each has its own).
    """

    method: str
    params: dict[str, Any]
    at: float
    error: str | None = None
    token: str | None = None


@dataclass
class Message:
    """A message as the fake stores it; :meth:`to_slack` renders Slack's JSON shape.

    ``thread_ts`` is the parent's ts for replies and ``None`` for top-level messages (Slack also
    reports a parent's own ts as its ``thread_ts`` once it has replies; :meth:`to_slack` does
    that).  ``ephemeral_to`` is set for ephemeral messages, which never show up in
    ``conversations.history`` / ``conversations.replies``, just as in Slack.
    """

    ts: str
    channel: str
    user: str
    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    ephemeral_to: str | None = None
    attachments: list[dict[str, Any]] | None = None
    bot_id: str | None = None
    subtype: str | None = None
    reply_broadcast: bool = False
    edited_ts: str | None = None
    metadata: dict[str, Any] | None = None

    @property
    def is_reply(self) -> bool:
        """True for a message inside a thread (not the thread's parent)."""
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def is_ephemeral(self) -> bool:
        return self.ephemeral_to is not None

    @property
    def is_bot(self) -> bool:
        return self.bot_id is not None

    def to_slack(self, team_id: str = "T0001") -> dict[str, Any]:
        """Render as Slack renders a message object in API responses (without thread stats)."""
        out: dict[str, Any] = {"type": "message", "ts": self.ts, "user": self.user}
        if self.subtype:
            out["subtype"] = self.subtype
        out["text"] = self.text
        out["team"] = team_id
        if self.bot_id:
            out["bot_id"] = self.bot_id
            out["app_id"] = APP_ID
        if self.blocks is not None:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments is not None:
            out["attachments"] = copy.deepcopy(self.attachments)
        if self.files:
            out["files"] = copy.deepcopy(self.files)
            out["upload"] = True
        if self.thread_ts is not None:
            out["thread_ts"] = self.thread_ts
        if self.edited_ts is not None:
            out["edited"] = {"user": self.user, "ts": self.edited_ts}
        if self.metadata is not None:
            out["metadata"] = copy.deepcopy(self.metadata)
        return out


@dataclass
class UploadedFile:
    """A file completed through ``files.completeUploadExternal``; ``content`` is the raw bytes."""

    id: str
    filename: str
    title: str
    content: bytes
    channel: str | None
    thread_ts: str | None
    initial_comment: str | None
    user: str = ""
    created: int = 0
    message_ts: str | None = None
    alt_txt: str | None = None  # what a screen reader says of an image

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def text(self) -> str:
        """The content decoded as UTF-8 (replacement on bad bytes), handy in assertions."""
        return self.content.decode("utf-8", errors="replace")


class PostLimit:
    """Slack's post limit: about one message per second per channel, short bursts allowed;
    beyond it ``chat.postMessage`` and ``chat.update`` answer HTTP 429 ``ratelimited`` with a
    ``Retry-After`` header (whole seconds, as Slack sends them).

    A bucket per channel that holds ``burst`` posts and refills ``per_second``. Off unless
    given (``FakeSlack(post_limit=PostLimit())``, or set ``fake.post_limit`` later).
    """

    def __init__(self, per_second: float = 1.0, burst: int = 4) -> None:
        self.per_second = per_second
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}  # channel: (posts left, when)

    def take(self, channel: str) -> int | None:
        """Let one post into ``channel``: None, or the seconds to wait before the next one."""
        now = time.monotonic()
        left, at = self._buckets.get(channel, (float(self.burst), now))
        left = min(float(self.burst), left + (now - at) * self.per_second)
        if left >= 1.0:
            self._buckets[channel] = (left - 1.0, now)
            return None
        self._buckets[channel] = (left, now)
        return max(1, math.ceil((1.0 - left) / self.per_second))


class _PostLimited(Exception):
    """Raised by a method handler that the channel's ``PostLimit`` refuses."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("ratelimited")
        self.retry_after = retry_after


# --- internals --------------------------------------------------------------------------------
@dataclass
class _Fault:
    error: str | None
    status: int
    retry_after: int | None
    body: str | None
    delay: float
    remaining: int
    # The call is carried out first and only its answer is the fault: a message that went out
    # though its sender was told otherwise (a 5xx after the post, a connection lost on the way
    # back).
    after_processing: bool = False

    @property
    def answers(self) -> bool:
        """False for a pure delay: the request is then processed normally."""
        return self.body is not None or self.status != 200 or self.error is not None


@dataclass
class _Channel:
    id: str
    messages: list[Message] = field(default_factory=list)
    members: list[str] | None = None
    archived: bool = False
    bot_absent: bool = False
    removed: bool = False


@dataclass
class _PendingUpload:
    file_id: str
    filename: str
    length: int
    alt_txt: str | None
    snippet_type: str | None
    content: bytes | None = None


@dataclass
class _ResponseUrl:
    channel: str
    user: str
    thread_ts: str | None
    message_ts: str | None
    uses: int = 0


@dataclass
class _Trigger:
    """A trigger_id Slack minted for an interaction; ``minted`` is ``time.monotonic()``."""

    user: str
    minted: float
    used: bool = False


@dataclass
class _View:
    """A modal or home tab as the app last sent it, plus what Slack adds (id, hash, state)."""

    id: str
    user: str
    payload: dict[str, Any]
    hash: str
    root_view_id: str | None = None
    previous_view_id: str | None = None
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    closed: bool = False

    @property
    def kind(self) -> str:
        return str(self.payload.get("type"))

    def to_slack(self, team_id: str, app_id: str, bot_id: str) -> dict[str, Any]:
        """Slack's view object as ``views.*`` return it and payloads carry it."""
        p = self.payload
        return {
            "id": self.id,
            "team_id": team_id,
            "type": self.kind,
            "blocks": copy.deepcopy(p.get("blocks") or []),
            "private_metadata": p.get("private_metadata") or "",
            "callback_id": p.get("callback_id") or "",
            "state": {"values": copy.deepcopy(self.values)},
            "hash": self.hash,
            "title": copy.deepcopy(p.get("title")),
            "clear_on_close": bool(p.get("clear_on_close", False)),
            "notify_on_close": bool(p.get("notify_on_close", False)),
            "close": copy.deepcopy(p.get("close")),
            "submit": copy.deepcopy(p.get("submit")),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": app_id,
            "external_id": p.get("external_id") or "",
            "app_installed_team_id": team_id,
            "bot_id": bot_id,
        }


@dataclass
class _Reply:
    """What the HTTP layer writes back."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: dict[str, Any], status: int = 200, **headers: str) -> _Reply:
        return cls(status, json.dumps(payload).encode("utf-8"), headers=dict(headers))

    @classmethod
    def text(cls, text: str, status: int = 200) -> _Reply:
        return cls(status, text.encode("utf-8"), "text/plain; charset=utf-8")


class _ApiError(Exception):
    """Raised inside a method handler to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def payload(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _ApiError("invalid_arguments") from None


def _ts_value(ts: Any, error: str) -> Decimal:
    try:
        value = Decimal(str(ts))
    except (InvalidOperation, ValueError):
        raise _ApiError(error) from None
    if not value.is_finite():
        raise _ApiError(error)
    return value


def _encode_cursor(kind: str, value: str) -> str:
    return base64.b64encode(f"{kind}:{value}".encode()).decode("ascii")


def _decode_cursor(cursor: Any, kind: str) -> str | None:
    if not cursor:
        return None
    try:
        decoded = base64.b64decode(str(cursor), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise _ApiError("invalid_cursor") from None
    prefix, _, value = decoded.partition(":")
    if prefix != kind or not value:
        raise _ApiError("invalid_cursor")
    return value


def _text_of(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def validate_blocks(
    blocks: Any, *, max_blocks: int = MAX_BLOCKS, pointer: str = "/blocks"
) -> list[str]:
    """Check Block Kit blocks against Slack's limits; return Slack-style error strings.

    An empty list means valid.  Messages read like Slack's ``errors`` entries for
    ``invalid_blocks``, e.g. ``"must be less than 3001 characters
    [json-pointer:/blocks/0/text/text]"``.  Public so unit tests of the bot's renderers can
    check blocks without a server.  Views reuse it with ``max_blocks=100`` and
    ``pointer="/view/blocks"`` (see :func:`validate_view`).  Interactive elements (buttons,
    menus, selects, inputs) are checked too, wherever they sit.
    """
    errors: list[str] = []
    if not isinstance(blocks, list):
        return [f"must provide an array [json-pointer:{pointer}]"]
    if len(blocks) > max_blocks:
        errors.append(f"no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    seen_block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        path = f"{pointer}/{i}"
        if not isinstance(block, dict):
            errors.append(f"must provide an object [json-pointer:{path}]")
            continue
        kind = block.get("type")
        if kind not in _KNOWN_BLOCK_TYPES:
            errors.append(f"unsupported type: {kind} [json-pointer:{path}/type]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > BLOCK_ID_MAX:
                errors.append(
                    f"must be less than {BLOCK_ID_MAX + 1} characters "
                    f"[json-pointer:{path}/block_id]"
                )
            elif block_id in seen_block_ids:
                errors.append(f"duplicate block_id: {block_id} [json-pointer:{path}/block_id]")
            else:
                seen_block_ids.add(block_id)
        checker = _BLOCK_CHECKERS.get(kind)
        if checker is not None:
            checker(block, path, errors)
    return errors


def validate_view(view: Any, *, kind: str | None = None) -> list[str]:
    """Check a view (``modal`` or ``home``) like ``views.*`` do; return Slack-style errors.

    ``kind`` pins the type the method accepts (``views.open``/``push`` take modals,
    ``views.publish`` a home tab).  Pointers start at ``/view`` as in Slack's
    ``response_metadata.messages``.
    """
    if not isinstance(view, dict):
        return ["must provide an object [json-pointer:/view]"]
    errors: list[str] = []
    view_type = view.get("type")
    if view_type not in ("modal", "home") or (kind is not None and view_type != kind):
        errors.append("must be a valid enum value [json-pointer:/view/type]")
        return errors
    blocks = view.get("blocks")
    if blocks is None:
        errors.append("must provide an array [json-pointer:/view/blocks]")
    else:
        errors.extend(validate_blocks(blocks, max_blocks=VIEW_MAX_BLOCKS, pointer="/view/blocks"))
    if view_type == "modal":
        _check_text_object(
            view.get("title"), "/view/title", errors, VIEW_TITLE_MAX, plain_only=True
        )
        for key in ("submit", "close"):
            if view.get(key) is not None:
                _check_text_object(
                    view.get(key), f"/view/{key}", errors, VIEW_TITLE_MAX, plain_only=True
                )
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            errors.append("must provide submit when blocks contain an input [json-pointer:/view]")
    for key, limit in (
        ("private_metadata", PRIVATE_METADATA_MAX),
        ("callback_id", CALLBACK_ID_MAX),
        ("external_id", EXTERNAL_ID_MAX),
    ):
        value = view.get(key)
        if value is not None and not isinstance(value, str):
            errors.append(f"must provide a string [json-pointer:/view/{key}]")
        elif isinstance(value, str) and len(value) > limit:
            errors.append(f"must be less than {limit + 1} characters [json-pointer:/view/{key}]")
    return errors


def _check_text_object(
    obj: Any, path: str, errors: list[str], max_len: int | None, *, plain_only: bool = False
) -> None:
    if not isinstance(obj, dict):
        errors.append(f"must provide an object [json-pointer:{path}]")
        return
    allowed = {"plain_text"} if plain_only else _TEXT_TYPES
    if obj.get("type") not in allowed:
        errors.append(f"must be a valid enum value [json-pointer:{path}/type]")
    text = obj.get("text")
    if not isinstance(text, str):
        errors.append(f"must provide a string [json-pointer:{path}/text]")
    elif len(text) == 0:
        errors.append(f"must be more than 0 characters [json-pointer:{path}/text]")
    elif max_len is not None and len(text) > max_len:
        errors.append(f"must be less than {max_len + 1} characters [json-pointer:{path}/text]")


def _check_string(
    value: Any, path: str, errors: list[str], max_len: int, *, required: bool = False
) -> None:
    if value is None:
        if required:
            errors.append(f"must provide a string [json-pointer:{path}]")
        return
    if not isinstance(value, str):
        errors.append(f"must provide a string [json-pointer:{path}]")
    elif len(value) > max_len:
        errors.append(f"must be less than {max_len + 1} characters [json-pointer:{path}]")


def _check_option(option: Any, path: str, errors: list[str], *, plain_only: bool) -> None:
    """An option object: text ≤ 75, value ≤ 150, description ≤ 75 (Block Kit's limits)."""
    if not isinstance(option, dict):
        errors.append(f"must provide an object [json-pointer:{path}]")
        return
    _check_text_object(
        option.get("text"), f"{path}/text", errors, OPTION_TEXT_MAX, plain_only=plain_only
    )
    _check_string(option.get("value"), f"{path}/value", errors, OPTION_VALUE_MAX, required=True)
    if option.get("description") is not None:
        _check_text_object(
            option.get("description"),
            f"{path}/description",
            errors,
            OPTION_TEXT_MAX,
            plain_only=plain_only,
        )
    _check_string(option.get("url"), f"{path}/url", errors, BUTTON_URL_MAX)


def _option_key(option: Any) -> tuple[str, str] | None:
    """What makes two option objects the same option: their value and visible text."""
    if not isinstance(option, dict):
        return None
    text = option.get("text")
    label = text.get("text") if isinstance(text, dict) else None
    return (str(option.get("value")), str(label))


def _check_options(
    options: Any, path: str, errors: list[str], low: int, high: int, *, plain_only: bool
) -> list[tuple[str, str] | None]:
    """Check a list of options (``low``..``high`` items); return their keys."""
    if not isinstance(options, list):
        errors.append(f"must provide an array [json-pointer:{path}]")
        return []
    if len(options) < low:
        errors.append(f"must provide at least {low} items [json-pointer:{path}]")
    if len(options) > high:
        errors.append(f"no more than {high} items allowed [json-pointer:{path}]")
    for j, option in enumerate(options):
        _check_option(option, f"{path}/{j}", errors, plain_only=plain_only)
    return [_option_key(o) for o in options]


def _check_initial_options(
    element: dict[str, Any], path: str, errors: list[str], keys: list[tuple[str, str] | None]
) -> None:
    """``initial_option(s)`` must be among the element's options, exactly as Slack insists."""
    initial_option = element.get("initial_option")
    if initial_option is not None and _option_key(initial_option) not in keys:
        errors.append(
            f"must match one of the provided options [json-pointer:{path}/initial_option]"
        )
    initial = element.get("initial_options")
    if initial is not None:
        if not isinstance(initial, list):
            errors.append(f"must provide an array [json-pointer:{path}/initial_options]")
            return
        for j, option in enumerate(initial):
            if _option_key(option) not in keys:
                errors.append(
                    "must match one of the provided options "
                    f"[json-pointer:{path}/initial_options/{j}]"
                )


def _check_confirm(confirm: Any, path: str, errors: list[str]) -> None:
    if not isinstance(confirm, dict):
        errors.append(f"must provide an object [json-pointer:{path}]")
        return
    _check_text_object(confirm.get("title"), f"{path}/title", errors, 100, plain_only=True)
    _check_text_object(confirm.get("text"), f"{path}/text", errors, 300)
    _check_text_object(confirm.get("confirm"), f"{path}/confirm", errors, 30, plain_only=True)
    _check_text_object(confirm.get("deny"), f"{path}/deny", errors, 30, plain_only=True)


def _check_button(element: dict[str, Any], path: str, errors: list[str]) -> None:
    _check_text_object(element.get("text"), f"{path}/text", errors, BUTTON_TEXT_MAX)
    _check_string(element.get("value"), f"{path}/value", errors, BUTTON_VALUE_MAX)
    _check_string(element.get("url"), f"{path}/url", errors, BUTTON_URL_MAX)
    style = element.get("style")
    if style is not None and style not in {"primary", "danger"}:
        errors.append(f"must be a valid enum value [json-pointer:{path}/style]")


def _check_overflow(element: dict[str, Any], path: str, errors: list[str]) -> None:
    _check_options(
        element.get("options"),
        f"{path}/options",
        errors,
        OVERFLOW_OPTIONS_MIN,
        OVERFLOW_OPTIONS_MAX,
        plain_only=True,
    )


def _check_static_select(element: dict[str, Any], path: str, errors: list[str]) -> None:
    options, groups = element.get("options"), element.get("option_groups")
    if (options is None) == (groups is None):
        errors.append(f"must provide exactly one of options or option_groups [json-pointer:{path}]")
        return
    keys: list[tuple[str, str] | None] = []
    if options is not None:
        keys = _check_options(
            options, f"{path}/options", errors, 0, SELECT_OPTIONS_MAX, plain_only=True
        )
    elif not isinstance(groups, list):
        errors.append(f"must provide an array [json-pointer:{path}/option_groups]")
    else:
        if len(groups) > SELECT_OPTIONS_MAX:
            errors.append(
                f"no more than {SELECT_OPTIONS_MAX} items allowed "
                f"[json-pointer:{path}/option_groups]"
            )
        for g, group in enumerate(groups):
            gpath = f"{path}/option_groups/{g}"
            if not isinstance(group, dict):
                errors.append(f"must provide an object [json-pointer:{gpath}]")
                continue
            _check_text_object(
                group.get("label"), f"{gpath}/label", errors, OPTION_TEXT_MAX, plain_only=True
            )
            keys += _check_options(
                group.get("options"),
                f"{gpath}/options",
                errors,
                0,
                SELECT_OPTIONS_MAX,
                plain_only=True,
            )
    _check_initial_options(element, path, errors, keys)


def _check_external_select(element: dict[str, Any], path: str, errors: list[str]) -> None:
    min_query = element.get("min_query_length")
    if min_query is not None and (
        not isinstance(min_query, int) or isinstance(min_query, bool) or min_query < 0
    ):
        errors.append(f"must be a non-negative integer [json-pointer:{path}/min_query_length]")
    if element.get("initial_option") is not None:
        _check_option(element["initial_option"], f"{path}/initial_option", errors, plain_only=True)
    for j, option in enumerate(element.get("initial_options") or []):
        _check_option(option, f"{path}/initial_options/{j}", errors, plain_only=True)


def _check_choice_list(element: dict[str, Any], path: str, errors: list[str]) -> None:
    """radio_buttons / checkboxes: up to 10 options, which may use mrkdwn."""
    keys = _check_options(
        element.get("options"), f"{path}/options", errors, 1, CHOICE_OPTIONS_MAX, plain_only=False
    )
    _check_initial_options(element, path, errors, keys)


def _check_plain_text_input(element: dict[str, Any], path: str, errors: list[str]) -> None:
    limits: dict[str, int] = {}
    for key, low in (("min_length", 0), ("max_length", 1)):
        value = element.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"must provide an integer [json-pointer:{path}/{key}]")
        elif not low <= value <= TEXT_INPUT_MAX:
            errors.append(f"must be between {low} and {TEXT_INPUT_MAX} [json-pointer:{path}/{key}]")
        else:
            limits[key] = value
    if limits.get("min_length", 0) > limits.get("max_length", TEXT_INPUT_MAX):
        errors.append(f"min_length must not exceed max_length [json-pointer:{path}/min_length]")
    initial = element.get("initial_value")
    _check_string(
        initial, f"{path}/initial_value", errors, limits.get("max_length", TEXT_INPUT_MAX)
    )
    multiline = element.get("multiline")
    if multiline is not None and not isinstance(multiline, bool):
        errors.append(f"must provide a boolean [json-pointer:{path}/multiline]")


def _check_multi_select(element: dict[str, Any], path: str, errors: list[str]) -> None:
    max_items = element.get("max_selected_items")
    if max_items is not None and (
        not isinstance(max_items, int) or isinstance(max_items, bool) or max_items < 1
    ):
        errors.append(f"must be at least 1 [json-pointer:{path}/max_selected_items]")


def _check_file_input(element: dict[str, Any], path: str, errors: list[str]) -> None:
    """``filetypes``: extensions as strings; ``max_files``: 1 to 10."""
    filetypes = element.get("filetypes")
    if filetypes is not None and (
        not isinstance(filetypes, list) or not all(isinstance(t, str) and t for t in filetypes)
    ):
        errors.append(f"must provide an array of strings [json-pointer:{path}/filetypes]")
    max_files = element.get("max_files")
    if max_files is not None and (
        not isinstance(max_files, int)
        or isinstance(max_files, bool)
        or not 1 <= max_files <= FILE_INPUT_FILES_MAX
    ):
        errors.append(
            f"must be between 1 and {FILE_INPUT_FILES_MAX} [json-pointer:{path}/max_files]"
        )


def _check_nothing(element: dict[str, Any], path: str, errors: list[str]) -> None:
    """Elements the fake only checks for the common fields (action_id, placeholder)."""


_ElementChecker = Callable[[dict[str, Any], str, list[str]], None]
_ELEMENT_CHECKERS: dict[str, list[_ElementChecker]] = {
    "button": [_check_button],
    "overflow": [_check_overflow],
    "static_select": [_check_static_select],
    "multi_static_select": [_check_static_select, _check_multi_select],
    "external_select": [_check_external_select],
    "multi_external_select": [_check_external_select, _check_multi_select],
    "users_select": [_check_nothing],
    "multi_users_select": [_check_multi_select],
    "conversations_select": [_check_nothing],
    "multi_conversations_select": [_check_multi_select],
    "channels_select": [_check_nothing],
    "multi_channels_select": [_check_multi_select],
    "radio_buttons": [_check_choice_list],
    "checkboxes": [_check_choice_list],
    "plain_text_input": [_check_plain_text_input],
    "email_text_input": [_check_nothing],
    "url_text_input": [_check_nothing],
    "number_input": [_check_nothing],
    "rich_text_input": [_check_nothing],
    "file_input": [_check_file_input],
    "datepicker": [_check_nothing],
    "timepicker": [_check_nothing],
    "datetimepicker": [_check_nothing],
    "workflow_button": [_check_nothing],
    "image": [],
}
_SELECTS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
#: Which elements each place accepts (Block Kit's "available in" tables).
_INPUT_ELEMENTS = _SELECTS | {
    "plain_text_input",
    "email_text_input",
    "url_text_input",
    "number_input",
    "rich_text_input",
    "file_input",
    "radio_buttons",
    "checkboxes",
    "datepicker",
    "timepicker",
    "datetimepicker",
}
_ACTIONS_ELEMENTS = _SELECTS | {
    "button",
    "overflow",
    "radio_buttons",
    "checkboxes",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "plain_text_input",
    "rich_text_input",
    "workflow_button",
}
_ACCESSORY_ELEMENTS = _SELECTS | {
    "button",
    "overflow",
    "radio_buttons",
    "checkboxes",
    "datepicker",
    "timepicker",
    "image",
    "workflow_button",
}


def _check_element(
    element: Any, path: str, errors: list[str], allowed: frozenset[str] | set[str]
) -> None:
    if not isinstance(element, dict):
        errors.append(f"must provide an object [json-pointer:{path}]")
        return
    kind = element.get("type")
    if kind not in allowed:
        errors.append(f"unsupported type: {kind} [json-pointer:{path}/type]")
        return
    if kind == "image":
        _check_image_element(element, path, errors)
        return
    _check_string(element.get("action_id"), f"{path}/action_id", errors, ACTION_ID_MAX)
    if element.get("placeholder") is not None:
        _check_text_object(
            element["placeholder"],
            f"{path}/placeholder",
            errors,
            PLACEHOLDER_MAX,
            plain_only=True,
        )
    if element.get("confirm") is not None:
        _check_confirm(element["confirm"], f"{path}/confirm", errors)
    for checker in _ELEMENT_CHECKERS[str(kind)]:
        checker(element, path, errors)


def _check_image_element(element: dict[str, Any], path: str, errors: list[str]) -> None:
    alt = element.get("alt_text")
    if not isinstance(alt, str) or not alt:
        errors.append(f"must provide a string [json-pointer:{path}/alt_text]")
    if not element.get("image_url") and not element.get("slack_file"):
        errors.append(f"must provide image_url or slack_file [json-pointer:{path}]")


def _check_section(block: dict[str, Any], path: str, errors: list[str]) -> None:
    text, fields = block.get("text"), block.get("fields")
    if text is None and fields is None:
        errors.append(f"must provide either text or fields [json-pointer:{path}]")
    if text is not None:
        _check_text_object(text, f"{path}/text", errors, SECTION_TEXT_MAX)
    if fields is not None:
        if not isinstance(fields, list):
            errors.append(f"must provide an array [json-pointer:{path}/fields]")
        else:
            if len(fields) > SECTION_FIELDS_MAX:
                errors.append(
                    f"no more than {SECTION_FIELDS_MAX} items allowed [json-pointer:{path}/fields]"
                )
            for j, item in enumerate(fields):
                _check_text_object(item, f"{path}/fields/{j}", errors, SECTION_FIELD_TEXT_MAX)
    accessory = block.get("accessory")
    if accessory is not None:
        _check_element(accessory, f"{path}/accessory", errors, _ACCESSORY_ELEMENTS)


def _check_header(block: dict[str, Any], path: str, errors: list[str]) -> None:
    _check_text_object(block.get("text"), f"{path}/text", errors, HEADER_TEXT_MAX, plain_only=True)


def _check_context(block: dict[str, Any], path: str, errors: list[str]) -> None:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        errors.append(f"must provide a non-empty array [json-pointer:{path}/elements]")
        return
    if len(elements) > CONTEXT_ELEMENTS_MAX:
        errors.append(
            f"no more than {CONTEXT_ELEMENTS_MAX} items allowed [json-pointer:{path}/elements]"
        )
    for j, element in enumerate(elements):
        epath = f"{path}/elements/{j}"
        if isinstance(element, dict) and element.get("type") == "image":
            continue
        _check_text_object(element, epath, errors, None)


def _check_actions(block: dict[str, Any], path: str, errors: list[str]) -> None:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        errors.append(f"must provide a non-empty array [json-pointer:{path}/elements]")
        return
    if len(elements) > ACTIONS_ELEMENTS_MAX:
        errors.append(
            f"no more than {ACTIONS_ELEMENTS_MAX} items allowed [json-pointer:{path}/elements]"
        )
    seen_action_ids: set[str] = set()
    for j, element in enumerate(elements):
        epath = f"{path}/elements/{j}"
        _check_element(element, epath, errors, _ACTIONS_ELEMENTS)
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if isinstance(action_id, str):
            if action_id in seen_action_ids:
                errors.append(f"duplicate action_id: {action_id} [json-pointer:{epath}/action_id]")
            seen_action_ids.add(action_id)


def _check_input(block: dict[str, Any], path: str, errors: list[str]) -> None:
    _check_text_object(
        block.get("label"), f"{path}/label", errors, INPUT_LABEL_MAX, plain_only=True
    )
    if block.get("hint") is not None:
        _check_text_object(
            block.get("hint"), f"{path}/hint", errors, INPUT_LABEL_MAX, plain_only=True
        )
    for key in ("optional", "dispatch_action"):
        if block.get(key) is not None and not isinstance(block.get(key), bool):
            errors.append(f"must provide a boolean [json-pointer:{path}/{key}]")
    element = block.get("element")
    if element is None:
        errors.append(f"must provide an object [json-pointer:{path}/element]")
    else:
        _check_element(element, f"{path}/element", errors, _INPUT_ELEMENTS)


def _check_image(block: dict[str, Any], path: str, errors: list[str]) -> None:
    alt = block.get("alt_text")
    if not isinstance(alt, str) or not alt:
        errors.append(f"must provide a string [json-pointer:{path}/alt_text]")
    elif len(alt) > IMAGE_ALT_TEXT_MAX:
        errors.append(
            f"must be less than {IMAGE_ALT_TEXT_MAX + 1} characters [json-pointer:{path}/alt_text]"
        )
    if not block.get("image_url") and not block.get("slack_file"):
        errors.append(f"must provide image_url or slack_file [json-pointer:{path}]")


def _check_markdown(block: dict[str, Any], path: str, errors: list[str]) -> None:
    text = block.get("text")
    if not isinstance(text, str) or not text:
        errors.append(f"must provide a string [json-pointer:{path}/text]")
    elif len(text) > MARKDOWN_BLOCK_TEXT_MAX:
        errors.append(
            f"must be less than {MARKDOWN_BLOCK_TEXT_MAX + 1} characters [json-pointer:{path}/text]"
        )


_BLOCK_CHECKERS: dict[str, Callable[[dict[str, Any], str, list[str]], None]] = {
    "section": _check_section,
    "header": _check_header,
    "context": _check_context,
    "actions": _check_actions,
    "image": _check_image,
    "markdown": _check_markdown,
    "input": _check_input,
}


def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    """Slack accepts ``blocks``/``attachments``/... as JSON strings in form bodies: decode them.

    A value that does not parse stays a string, so the method handler can answer
    ``invalid_blocks_format`` / ``invalid_arguments`` like Slack does.
    """
    for key in _JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            with suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    ctype = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return {}
    if ctype == "application/json":
        data = json.loads(body.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        return data
    if ctype == "multipart/form-data":
        parser = BytesParser(policy=HTTP)
        msg = parser.parsebytes(
            f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
        )
        out: dict[str, Any] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            decoded = part.get_payload(decode=True)
            payload = decoded if isinstance(decoded, bytes) else b""
            if part.get_filename():
                out[str(name)] = payload
            else:
                out[str(name)] = payload.decode("utf-8", errors="replace")
        return out
    # Slack treats anything else as a form body (that is what slack_sdk sends by default).
    pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    return dict(pairs)


# --- the fake ---------------------------------------------------------------------------------
class FakeSlack:
    """An in-process Slack Web API on ``127.0.0.1:<random port>`` with inspectable state.

    Typical test use::

        with FakeSlack() as fake:
            client = WebClient(token=fake.bot_token, base_url=fake.api_url)
            ...
            fake.wait_for(lambda f: len(f.messages("C1")) == 2)
    """

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        *,
        team_id: str = "T0001",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        team_name: str = "Storm Test",
        users: dict[str, dict[str, Any]] | None = None,
        response_url_max_uses: int | None = RESPONSE_URL_MAX_USES,
        post_limit: PostLimit | None = None,
    ) -> None:
        self.bot_token = bot_token
        self.post_limit = post_limit
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = APP_ID
        self.response_url_max_uses = response_url_max_uses
        self._lock = threading.RLock()
        self._calls: list[Call] = []
        self._listeners: list[Callable[[Call], None]] = []
        self._channels: dict[str, _Channel] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._deleted: list[Message] = []
        self._pending_uploads: dict[str, _PendingUpload] = {}
        self._files: list[UploadedFile] = []
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._last_ts_us = 0
        self._ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._app_token: str | None = None
        self._socket_mode_url: Callable[[], str] | None = None
        # OAuth (`enable_oauth`): the app's credentials, the codes handed out by installs not
        # yet exchanged (code: team id, team name, installer), and each bot token's workspace.
        self._oauth_app: tuple[str, str] | None = None
        self._install_codes: dict[str, tuple[str, str, str]] = {}
        self._workspace_tokens: dict[str, str] = {}
        self._token_at_hand: str | None = None  # the token of the call being answered
        self._triggers: dict[str, _Trigger] = {}
        self._views: dict[str, _View] = {}
        self._stacks: dict[str, list[str]] = {}
        self._homes: dict[str, str] = {}
        self._dms: dict[str, str] = {}
        # Canvases (`bot.sandbox.fake_canvases`): `fake.canvases.refuse = "free"` and so on.
        self.canvases = FakeCanvases(bot_user_id, lambda c: self._writable(c).id, self._new_id)
        self.add_user(bot_user_id, "storm", real_name="Storm", is_bot=True)
        for user_id, info in (users or {}).items():
            self.add_user(
                user_id,
                info.get("name", user_id.lower()),
                real_name=info.get("real_name"),
                tz=info.get("tz", "UTC"),
                is_bot=bool(info.get("is_bot", False)),
                display_name=info.get("display_name"),
            )

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        """Bind an OS-assigned loopback port and serve in a daemon thread (idempotent)."""
        if self._server is None:
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"FakeSlack:{self._server.server_address[1]}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started; call start() or use it as a context")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/``: root for upload and response URLs."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api_url(self) -> str:
        """What goes into ``WebClient(base_url=...)``; slack_sdk appends the method name."""
        return f"{self.base_url}api/"

    def enable_socket_mode(self, app_token: str, url: Callable[[], str]) -> None:
        """Accept `app_token` for ``apps.connections.open``, which answers with ``url()``: the
        WebSocket URL of a Socket Mode server (Slack hands out a new one on every call)."""
        with self._lock:
            self._app_token = app_token
            self._socket_mode_url = url

    # -- OAuth: many workspaces ---------------------------------------------------------------
    def enable_oauth(self, client_id: str, client_secret: str) -> None:
        """Be the Slack of an app distributed to many workspaces: ``oauth.v2.access`` takes
        these credentials and a code from `approve_install`, and hands out a bot token."""
        with self._lock:
            self._oauth_app = (client_id, client_secret)

    def approve_install(
        self, team_id: str, *, team_name: str | None = None, user: str = "U1"
    ) -> str:
        """A person in workspace `team_id` approved the install on Slack's page: the code
        Slack sends back to the app's redirect URL, good for one ``oauth.v2.access``."""
        code = f"{team_id}.{secrets.token_hex(8)}"
        with self._lock:
            self._install_codes[code] = (team_id, team_name or f"Workspace {team_id}", user)
        return code

    def workspace_token(self, team_id: str) -> str | None:
        """The bot token the workspace's install handed out, while it is valid."""
        with self._lock:
            return next((t for t, team in self._workspace_tokens.items() if team == team_id), None)

    def revoke_workspace(self, team_id: str) -> None:
        """Storm was uninstalled from the workspace: its bot token no longer works."""
        with self._lock:
            for token in [t for t, team in self._workspace_tokens.items() if team == team_id]:
                del self._workspace_tokens[token]

    def _api_oauth_v2_access(self, params: dict[str, Any]) -> dict[str, Any]:
        """Exchange an install's code for the workspace's bot token (Slack's response shape)."""
        if (
            self._oauth_app is None
            or (
                params.get("client_id"),
                params.get("client_secret"),
            )
            != self._oauth_app
        ):
            raise _ApiError("invalid_client_id")
        found = self._install_codes.pop(str(params.get("code", "")), None)
        if found is None:
            raise _ApiError("invalid_code")
        team_id, team_name, user = found
        token = self.workspace_token(team_id) or f"xoxb-{team_id}-{secrets.token_hex(12)}"
        self._workspace_tokens[token] = team_id
        return {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": user},
            "scope": "commands,chat:write",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": self.bot_user_id,
            "team": {"id": team_id, "name": team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    # -- recording --------------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if c.method == method]

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def subscribe(self, listener: Callable[[Call], None]) -> Callable[[], None]:
        """Call ``listener(call)`` after every recorded call (the sandbox uses this to redraw).

        Listeners run on the server's request thread, outside the lock.  Returns an
        unsubscribe function.
        """
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock, suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def wait_for(self, predicate: Callable[[FakeSlack], bool], timeout: float = 5.0) -> None:
        """Poll ``predicate(self)`` every 20 ms until true; on timeout raise ``AssertionError``.

        The bot works on other threads, so tests wait for an observable effect instead of
        sleeping.  A predicate that raises (e.g. ``IndexError`` on an empty list) counts as
        "not yet"; the last exception is reported on timeout with the recent calls.
        """
        deadline = time.monotonic() + timeout
        last_exc: BaseException | None = None
        while True:
            try:
                if predicate(self):
                    return
                last_exc = None
            except Exception as exc:
                last_exc = exc
            if time.monotonic() >= deadline:
                break
            time.sleep(_POLL_INTERVAL)
        detail = f"\nlast predicate error: {last_exc!r}" if last_exc else ""
        raise AssertionError(
            f"condition not met within {timeout:.2f}s{detail}\n{self.describe_calls()}"
        )

    def wait_for_calls(self, method: str, count: int, timeout: float = 5.0) -> list[Call]:
        """Wait until at least ``count`` calls to ``method`` were received; return them all."""
        self.wait_for(lambda fake: len(fake.calls_to(method)) >= count, timeout=timeout)
        return self.calls_to(method)

    def describe_calls(self, last: int = 20) -> str:
        """A readable dump of the most recent calls, for assertion messages."""
        with self._lock:
            recent = self._calls[-last:]
            total = len(self._calls)
        if not recent:
            return "no calls received"
        lines = [f"last {len(recent)} of {total} calls:"]
        for call in recent:
            params = json.dumps(call.params, default=repr, ensure_ascii=False)
            if len(params) > 300:
                params = params[:297] + "..."
            status = f"ERROR {call.error}" if call.error else "ok"
            lines.append(f"  {call.method} [{status}] {params}")
        return "\n".join(lines)

    # -- fault injection --------------------------------------------------------------------
    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        body: str | None = None,
        delay: float = 0.0,
        after_processing: bool = False,
    ) -> None:
        """Queue ``times`` faulty answers for ``method`` (``"*"`` matches every method).

        ``error`` answers ``{"ok": false, "error": error}``; ``status=429`` (implied by
        ``retry_after``) answers ``ratelimited`` with a ``Retry-After`` header; a 5xx answers
        ``internal_error`` unless ``error`` says otherwise; ``body`` answers that raw text;
        ``delay`` sleeps first, and alone only slows the call down (it is still processed).
        Method may also be ``"upload_url"``, ``"response_url"`` or ``"file_download"``.
        ``after_processing`` carries the call out before answering with the fault (Web API
        methods only): the post is in the channel, its sender does not know it.
        """
        if retry_after is not None and status == 200:
            status = 429
        if status == 429 and retry_after is None:
            retry_after = 1
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.setdefault(method, deque()).append(
                _Fault(error, status, retry_after, body, delay, times, after_processing)
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def archive_channel(self, channel: str) -> None:
        """Posting there now answers ``is_archived`` (reads still work, as in Slack)."""
        with self._lock:
            self._channel(channel).archived = True

    def remove_bot(self, channel: str, *, present: bool = False) -> None:
        """Posting there now answers ``not_in_channel`` (``present=True`` invites it back)."""
        with self._lock:
            self._channel(channel).bot_absent = not present

    def remove_channel(self, channel: str) -> None:
        """Every call naming this channel now answers ``channel_not_found``."""
        with self._lock:
            self._channel(channel).removed = True

    # -- seeding ----------------------------------------------------------------------------
    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        tz: str = "UTC",
        is_bot: bool = False,
        display_name: str | None = None,
    ) -> None:
        with self._lock:
            self._users[user_id] = {
                "id": user_id,
                "name": name,
                "real_name": real_name if real_name is not None else name,
                "display_name": display_name if display_name is not None else name,
                "tz": tz,
                "is_bot": is_bot,
            }

    def set_channel_members(self, channel: str, members: list[str]) -> None:
        with self._lock:
            self._channel(channel).members = list(members)

    def post_user_message(
        self, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> Message:
        """Store a human message, as if typed in Slack; returns a copy (with its new ts).

        It does not notify the bot: send the matching event with ``SlackRequests.event``.
        Unknown users are added on the fly (every Slack poster is a workspace user).
        """
        with self._lock:
            if user not in self._users:
                self.add_user(user, user.lower())
            ch = self._channel(channel)
            parent_ts = None
            if thread_ts is not None:
                parent = self._find(ch, thread_ts)
                if parent is None:
                    raise ValueError(f"no message {thread_ts} in {channel} to reply to")
                parent_ts = parent.thread_ts if parent.is_reply else parent.ts
            msg = Message(
                ts=self._next_ts(), channel=channel, user=user, text=text, thread_ts=parent_ts
            )
            ch.messages.append(msg)
            return copy.deepcopy(msg)

    def share_file(
        self,
        channel: str,
        user: str,
        filename: str,
        content: bytes,
        *,
        text: str = "",
        thread_ts: str | None = None,
    ) -> Message:
        """A person shares a file into ``channel``, as dragging it into Slack does: the file
        (theirs) and the message that carries it, with ``text`` as its comment.  Returns a
        copy of the message; Storm is not told (it subscribes to no file events)."""
        return self.share_files(
            channel, user, [(filename, content)], text=text, thread_ts=thread_ts
        )

    def share_files(
        self,
        channel: str,
        user: str,
        files: list[tuple[str, bytes]],
        *,
        text: str = "",
        thread_ts: str | None = None,
    ) -> Message:
        """Several files (name, content) shared in one message, as Slack allows.

        Slack refuses an empty file, as ``files.getUploadURLExternal`` does here.
        """
        if not files or any(not content for _, content in files):
            raise ValueError("Slack does not share an empty file")
        with self._lock:
            if user not in self._users:
                self.add_user(user, user.lower())
            ch = self._writable(channel)
            parent = self._thread_parent_ts(ch, thread_ts) if thread_ts else None
            msg = Message(ts=self._next_ts(), channel=ch.id, user=user, text=text, thread_ts=parent)
            for filename, content in files:
                shared = self._user_file(user, filename, content)
                shared.channel, shared.thread_ts, shared.message_ts = ch.id, parent, msg.ts
                msg.files.append(self._file_json(shared))
            ch.messages.append(msg)
            return copy.deepcopy(msg)

    def upload_to_form(self, user: str, filename: str, content: bytes) -> dict[str, Any]:
        """A file a person uploads into a form's ``file_input``: Slack keeps it, shared
        nowhere, and the ``view_submission`` carries it as this file object.  Slack takes
        files up to ``FILE_INPUT_BYTES_MAX`` there, and none empty."""
        if not content:
            raise ValueError("Slack does not upload an empty file")
        if len(content) > FILE_INPUT_BYTES_MAX:
            raise ValueError(f"Slack takes files up to {FILE_INPUT_BYTES_MAX} bytes in a form")
        with self._lock:
            return self._file_json(self._user_file(user, filename, content))

    def file_json(self, file_id: str) -> dict[str, Any] | None:
        """A file object as ``files.info`` answers it, or ``None``."""
        with self._lock:
            found = next((f for f in self._files if f.id == file_id), None)
            return self._file_json(found) if found is not None else None

    def _user_file(self, user: str, filename: str, content: bytes) -> UploadedFile:
        if not filename or "/" in filename:
            raise ValueError(f"{filename!r} is not a file name")
        uploaded = UploadedFile(
            id=self._new_id("F"),
            filename=filename,
            title=filename,
            content=bytes(content),
            channel=None,
            thread_ts=None,
            initial_comment=None,
            user=user,
            created=int(time.time()),
        )
        self._files.append(uploaded)
        return uploaded

    # -- readers ----------------------------------------------------------------------------
    def channels(self) -> list[str]:
        with self._lock:
            return [c.id for c in self._channels.values() if not c.removed]

    def messages(
        self, channel: str, include_ephemeral: bool = False, *, top_level_only: bool = False
    ) -> list[Message]:
        """Every message in the channel (thread replies included), oldest first (copies)."""
        with self._lock:
            ch = self._channels.get(channel)
            if ch is None:
                return []
            return [
                copy.deepcopy(m)
                for m in ch.messages
                if (include_ephemeral or not m.is_ephemeral)
                and not (top_level_only and m.is_reply and not m.reply_broadcast)
            ]

    def message(self, channel: str, ts: str) -> Message | None:
        with self._lock:
            ch = self._channels.get(channel)
            found = self._find(ch, ts, include_ephemeral=True) if ch else None
            return copy.deepcopy(found) if found else None

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        """The parent then its replies, oldest first; ``[]`` if there is no such message."""
        with self._lock:
            ch = self._channels.get(channel)
            if ch is None:
                return []
            msg = self._find(ch, thread_ts)
            if msg is None:
                return []
            parent_ts = msg.thread_ts if msg.is_reply else msg.ts
            return [
                copy.deepcopy(m)
                for m in ch.messages
                if not m.is_ephemeral and (m.ts == parent_ts or m.thread_ts == parent_ts)
            ]

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[Message]:
        with self._lock:
            return [
                copy.deepcopy(m)
                for ch in self._channels.values()
                for m in ch.messages
                if m.is_ephemeral
                and (channel is None or m.channel == channel)
                and (user is None or m.ephemeral_to == user)
            ]

    def deleted(self, channel: str | None = None) -> list[Message]:
        """Messages removed through ``chat.delete`` / ``delete_original``."""
        with self._lock:
            return [
                copy.deepcopy(m) for m in self._deleted if channel is None or m.channel == channel
            ]

    def files(self, channel: str | None = None) -> list[UploadedFile]:
        with self._lock:
            return [
                copy.deepcopy(f) for f in self._files if channel is None or f.channel == channel
            ]

    def users(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._users)

    # -- response URLs ----------------------------------------------------------------------
    def response_url(
        self,
        *,
        channel: str = "C1",
        user: str = "U1",
        thread_ts: str | None = None,
        message_ts: str | None = None,
        token: str | None = None,
    ) -> str:
        """Mint a response URL bound to ``channel``/``user`` (what Slack puts in payloads).

        ``message_ts`` is the "original" message for ``replace_original``/``delete_original``
        (interactive payloads have one, slash commands do not).  ``token`` picks the URL's
        last path segment instead of a generated one.
        """
        with self._lock:
            key = token or f"{self.team_id}-{next(self._ids):06d}"
            self._response_urls[key] = _ResponseUrl(channel, user, thread_ts, message_ts)
            return f"{self.base_url}response/{urllib.parse.quote(key, safe='')}"

    # -- triggers and views -----------------------------------------------------------------
    def new_trigger(self, user: str, *, age: float = 0.0) -> str:
        """Mint a trigger_id for an interaction by ``user`` (what Slack puts in payloads).

        ``views.open``/``views.push`` exchange it once, within :data:`TRIGGER_TTL` seconds of
        real (monotonic) time; ``age`` mints one that is already that many seconds old, so a
        test can prove the bot copes with an expired trigger without sleeping.
        """
        with self._lock:
            # A load test mints many: forget the long expired, oldest first (in minting order),
            # a few at each mint rather than all of them copied at every one.
            now = time.monotonic()
            while len(self._triggers) > 1000:
                oldest = next(iter(self._triggers))
                if now - self._triggers[oldest].minted < 10 * TRIGGER_TTL:
                    break
                del self._triggers[oldest]
            n = next(self._ids)
            trigger_id = f"{int(time.time())}.{n}.{secrets.token_hex(16)}"
            self._triggers[trigger_id] = _Trigger(user, time.monotonic() - age)
            return trigger_id

    def open_views(self, user: str | None = None) -> list[dict[str, Any]]:
        """The modals ``user`` has open, root first and the visible one last (Slack's JSON).

        Without ``user``: every open modal of everyone, each person's stack in order.
        """
        with self._lock:
            users = [user] if user is not None else list(self._stacks)
            return [self._view_json(self._views[v]) for u in users for v in self._stacks.get(u, [])]

    def view(self, view_id: str) -> dict[str, Any] | None:
        """A view by id as Slack last knew it (open, closed or a home tab), or ``None``."""
        with self._lock:
            found = self._views.get(view_id)
            return self._view_json(found) if found else None

    def home_view(self, user: str) -> dict[str, Any] | None:
        """The App Home tab published for ``user`` (``views.publish``), or ``None``."""
        with self._lock:
            view_id = self._homes.get(user)
            return self._view_json(self._views[view_id]) if view_id else None

    def set_view_values(self, view_id: str, values: dict[str, dict[str, Any]]) -> None:
        """Record what the person has typed or chosen: Slack's ``state.values`` shape
        (``{block_id: {action_id: {"type": ..., "value"/"selected_option"...: ...}}}``)."""
        with self._lock:
            self._views[view_id].values = copy.deepcopy(values)

    def close_view(self, view_id: str) -> list[dict[str, Any]]:
        """The person closes the visible modal ``view_id`` (Cancel or the close box): Slack pops it, or
        the whole stack when the view says ``clear_on_close``.  Returns the closed views.
        """
        with self._lock:
            view = self._views.get(view_id)
            if view is None or view.closed:
                raise ValueError(f"view {view_id} is not open")
            if view.payload.get("clear_on_close"):
                return self._pop_views(view.user, everything=True)
            return self._pop_views(view.user, above=view_id)

    def answer_submission(self, view_id: str, answer: dict[str, Any] | None) -> str:
        """Do what Slack does with the app's answer to a ``view_submission`` of ``view_id``.

        Empty answer: the submitted view closes.  ``response_action``: ``clear`` closes every
        modal; ``update`` replaces the view; ``push`` stacks a new one; ``errors`` keeps it
        open (Slack shows the errors under the fields).  Returns what happened: ``"closed"``,
        ``"cleared"``, ``"updated"``, ``"pushed"``, ``"errors"`` or ``"invalid"`` when the
        answer itself is wrong (recorded as a ``response_action`` call with the error, e.g.
        ``invalid_errors`` for an error about a block that is not one of the form's inputs).
        """
        with self._lock:
            view = self._views[view_id]
            action = (answer or {}).get("response_action")
            error: str | None = None
            outcome = "invalid"
            if action is None:
                self._pop_views(view.user, above=view_id)
                outcome = "closed"
            elif action == "clear":
                self._pop_views(view.user, everything=True)
                outcome = "cleared"
            elif action == "errors":
                # Slack shows each error under its input block; an error for a block the
                # form does not have (or not an input) leaves the person with a generic failure.
                errors = (answer or {}).get("errors")
                inputs = {
                    b.get("block_id")
                    for b in view.payload.get("blocks") or []
                    if isinstance(b, dict) and b.get("type") == "input"
                }
                if isinstance(errors, dict) and errors and set(errors) <= inputs:
                    outcome = "errors"
                else:
                    error = "invalid_errors"
            elif action in ("update", "push"):
                new = (answer or {}).get("view")
                problems = validate_view(new, kind="modal")
                stack = self._stacks.get(view.user, [])
                if problems:
                    error = "invalid_arguments"
                elif action == "push" and len(stack) >= VIEW_STACK_MAX:
                    error = "push_limit_reached"
                elif action == "update":
                    assert isinstance(new, dict)
                    self._replace_view(view, new)
                    outcome = "updated"
                else:
                    assert isinstance(new, dict)
                    self._push_view(view.user, new)
                    outcome = "pushed"
            else:
                error = "invalid_response_action"
            call = self._log_call("response_action", dict(answer or {}), error)
        self._notify(call)
        return outcome

    def dm_channel(self, user: str) -> str:
        """The id of the bot's direct-message channel with ``user`` (where App Home lives)."""
        with self._lock:
            if user not in self._dms:
                self._dms[user] = self._new_id("D")
            return self._dms[user]

    def message_json(self, channel: str, ts: str) -> dict[str, Any] | None:
        """A message as Slack renders it in payloads and API answers, or ``None``."""
        with self._lock:
            ch = self._channels.get(channel)
            found = self._find(ch, ts, include_ephemeral=True) if ch else None
            return self._render(ch, found) if ch and found else None

    # -- internals: state helpers -----------------------------------------------------------
    def _next_ts(self) -> str:
        """Slack-style ``"1700000000.000100"``: wall-clock based, strictly increasing."""
        now_us = time.time_ns() // 1000
        self._last_ts_us = max(self._last_ts_us + 1, now_us)
        seconds, micros = divmod(self._last_ts_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def _channel(self, channel: str) -> _Channel:
        ch = self._channels.get(channel)
        if ch is None:
            ch = self._channels[channel] = _Channel(channel)
        return ch

    def _readable(self, channel: Any) -> _Channel:
        if not channel or not isinstance(channel, str):
            raise _ApiError("channel_not_found")
        ch = self._channel(channel)
        if ch.removed:
            raise _ApiError("channel_not_found")
        return ch

    def _writable(self, channel: Any) -> _Channel:
        ch = self._readable(channel)
        if ch.archived:
            raise _ApiError("is_archived")
        if ch.bot_absent:
            raise _ApiError("not_in_channel")
        return ch

    @staticmethod
    def _find(ch: _Channel, ts: Any, *, include_ephemeral: bool = False) -> Message | None:
        for m in ch.messages:
            if m.ts == ts and (include_ephemeral or not m.is_ephemeral):
                return m
        return None

    def _thread_parent_ts(self, ch: _Channel, thread_ts: Any) -> str | None:
        """Normalise a reply's ts to its parent's, as Slack does for ``thread_ts``."""
        if thread_ts in (None, ""):
            return None
        target = self._find(ch, str(thread_ts))
        if target is not None and target.is_reply:
            return target.thread_ts
        return str(thread_ts)

    def _render(self, ch: _Channel, msg: Message) -> dict[str, Any]:
        """Slack's message JSON, with thread stats on parents and ``parent_user_id`` on replies."""
        out = msg.to_slack(self.team_id)
        if msg.is_reply:
            parent = self._find(ch, msg.thread_ts)
            if parent is not None:
                out["parent_user_id"] = parent.user
            if msg.reply_broadcast:
                out["subtype"] = "thread_broadcast"
        else:
            replies = [m for m in ch.messages if m.is_reply and m.thread_ts == msg.ts]
            replies = [m for m in replies if not m.is_ephemeral]
            if replies:
                reply_users = list(dict.fromkeys(m.user for m in replies))
                out["thread_ts"] = msg.ts
                out["reply_count"] = len(replies)
                out["reply_users_count"] = len(reply_users)
                out["reply_users"] = reply_users
                out["latest_reply"] = replies[-1].ts
        return out

    def _check_message_content(self, params: dict[str, Any], *, require: bool = True) -> None:
        blocks = params.get("blocks")
        attachments = params.get("attachments")
        text = params.get("text")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise _ApiError("invalid_blocks_format")
            errors = validate_blocks(blocks)
            if errors:
                raise _ApiError(
                    "invalid_blocks",
                    errors=errors,
                    response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
                )
        if attachments is not None:
            if not isinstance(attachments, list):
                raise _ApiError("invalid_attachments")
            if len(attachments) > MAX_ATTACHMENTS:
                raise _ApiError("too_many_attachments")
        if text is not None and len(_text_of(text)) > MESSAGE_TEXT_MAX:
            raise _ApiError("msg_too_long")
        if require and not _text_of(text) and not blocks and not attachments:
            raise _ApiError("no_text")

    def _file_json(self, f: UploadedFile) -> dict[str, Any]:
        mimetype = mimetypes.guess_type(f.filename)[0] or "text/plain"
        ext = f.filename.rsplit(".", 1)[-1].lower() if "." in f.filename else "text"
        url = f"{self.base_url}files/{f.id}/{urllib.parse.quote(f.filename)}"
        out: dict[str, Any] = {
            "id": f.id,
            "created": f.created,
            "timestamp": f.created,
            "name": f.filename,
            "title": f.title,
            "mimetype": mimetype,
            "filetype": ext,
            "pretty_type": ext.upper(),
            "user": f.user,
            "user_team": self.team_id,
            "editable": False,
            "size": f.size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": f.channel is not None,
            "url_private": url,
            "url_private_download": url + "?download=1",
            "permalink": f"{self.base_url}files/{f.id}",
            "channels": [f.channel] if f.channel else [],
            "groups": [],
            "ims": [],
            "shares": {},
        }
        if f.alt_txt is not None:
            out["alt_txt"] = f.alt_txt
        if f.channel and f.message_ts:
            share: dict[str, Any] = {
                "ts": f.message_ts,
                "channel_name": f.channel.lower(),
                "team_id": self.team_id,
                "share_user_id": f.user,
            }
            if f.thread_ts:
                share["thread_ts"] = f.thread_ts
            out["shares"] = {"public": {f.channel: [share]}}
        return out

    # -- internals: views --------------------------------------------------------------------
    def _view_json(self, view: _View) -> dict[str, Any]:
        return view.to_slack(self.team_id, self.app_id, self.bot_id)

    def _new_hash(self) -> str:
        return f"{time.time():.6f}.{secrets.token_hex(4)}"

    def _take_trigger(self, params: dict[str, Any]) -> str:
        """Check ``trigger_id`` as Slack does; return whose interaction it came from."""
        trigger_id = params.get("trigger_id") or params.get("interactivity_pointer")
        trigger = self._triggers.get(str(trigger_id or ""))
        if trigger is None:
            raise _ApiError("invalid_trigger_id")
        if trigger.used:
            raise _ApiError("exchanged_trigger_id")
        if time.monotonic() - trigger.minted > TRIGGER_TTL:
            raise _ApiError("expired_trigger_id")
        return trigger.user

    def _use_trigger(self, params: dict[str, Any]) -> None:
        trigger_id = params.get("trigger_id") or params.get("interactivity_pointer")
        self._triggers[str(trigger_id)].used = True

    def _checked_view(
        self, params: dict[str, Any], kind: str, *, replacing: _View | None = None
    ) -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict):
            raise _ApiError(
                "invalid_arguments",
                response_metadata={
                    "messages": ["[ERROR] must provide an object [json-pointer:/view]"]
                },
            )
        errors = validate_view(view, kind=kind)
        if errors:
            raise _ApiError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        external_id = view.get("external_id")
        if external_id and any(
            v.payload.get("external_id") == external_id and not v.closed and v is not replacing
            for v in self._views.values()
        ):
            raise _ApiError("duplicate_external_id")
        return copy.deepcopy(view)

    def _push_view(self, user: str, payload: dict[str, Any]) -> _View:
        stack = self._stacks.setdefault(user, [])
        view = _View(
            id=self._new_id("V"),
            user=user,
            payload=copy.deepcopy(payload),
            hash=self._new_hash(),
            root_view_id=stack[0] if stack else None,
            previous_view_id=stack[-1] if stack else None,
        )
        if view.root_view_id is None:
            view.root_view_id = view.id
        self._views[view.id] = view
        stack.append(view.id)
        return view

    def _pop_views(
        self, user: str, *, above: str | None = None, everything: bool = False
    ) -> list[dict[str, Any]]:
        """Close ``above`` and every view stacked on it (or the whole stack)."""
        stack = self._stacks.get(user, [])
        start = 0 if everything or above not in stack else stack.index(above)
        closed = stack[start:]
        del stack[start:]
        if not stack:
            self._stacks.pop(user, None)
        for view_id in closed:
            self._views[view_id].closed = True
        return [self._view_json(self._views[v]) for v in closed]

    def _replace_view(self, view: _View, payload: dict[str, Any]) -> None:
        """Slack keeps what was typed into an input whose block_id and action_id stay."""
        kept: dict[str, dict[str, Any]] = {}
        for block in payload.get("blocks") or []:
            if block.get("type") != "input" or block.get("block_id") not in view.values:
                continue
            action_id = (block.get("element") or {}).get("action_id")
            old = view.values[block["block_id"]]
            if action_id in old:
                kept[block["block_id"]] = {action_id: old[action_id]}
        view.payload = copy.deepcopy(payload)
        view.values = kept
        view.hash = self._new_hash()

    def _api_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._take_trigger(params)
        payload = self._checked_view(params, "modal")
        self._use_trigger(params)
        self._pop_views(user, everything=True)  # a new root replaces whatever was open
        return {"ok": True, "view": self._view_json(self._push_view(user, payload))}

    def _api_views_push(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._take_trigger(params)
        payload = self._checked_view(params, "modal")
        stack = self._stacks.get(user, [])
        if not stack:
            raise _ApiError("not_found")
        if len(stack) >= VIEW_STACK_MAX:
            raise _ApiError("push_limit_reached")
        self._use_trigger(params)
        return {"ok": True, "view": self._view_json(self._push_view(user, payload))}

    def _api_views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id, external_id = params.get("view_id"), params.get("external_id")
        if not view_id and not external_id:
            raise _ApiError("invalid_arguments")
        if view_id:
            view = self._views.get(str(view_id))
        else:
            view = next(
                (
                    v
                    for v in self._views.values()
                    if v.payload.get("external_id") == external_id and not v.closed
                ),
                None,
            )
        if view is None or view.closed:
            raise _ApiError("not_found")
        payload = self._checked_view(params, view.kind, replacing=view)
        if view.payload.get("external_id") and "external_id" not in payload:
            payload["external_id"] = view.payload["external_id"]
        if params.get("hash") and params["hash"] != view.hash:
            raise _ApiError("hash_conflict")
        self._replace_view(view, payload)
        return {"ok": True, "view": self._view_json(view)}

    def _api_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user = params.get("user_id")
        if not user or not isinstance(user, str):
            raise _ApiError("invalid_arguments")
        payload = self._checked_view(params, "home")
        current = self._views.get(self._homes.get(user, ""))
        if params.get("hash") and (current is None or params["hash"] != current.hash):
            raise _ApiError("hash_conflict")
        if current is None:
            current = _View(id=self._new_id("V"), user=user, payload=payload, hash="")
            self._views[current.id] = current
            self._homes[user] = current.id
        self._replace_view(current, payload)
        return {"ok": True, "view": self._view_json(current)}

    # -- internals: Web API methods ---------------------------------------------------------
    def _api_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        workspace = self._workspace_tokens.get(self._token_at_hand or "")
        if workspace is not None:  # an installed workspace's own token
            return {
                "ok": True,
                "url": f"https://{workspace.lower()}.slack.com/",
                "team": f"Workspace {workspace}",
                "user": self._users[self.bot_user_id]["name"],
                "team_id": workspace,
                "user_id": self.bot_user_id,
                "bot_id": self.bot_id,
                "is_enterprise_install": False,
            }
        return {
            "ok": True,
            "url": f"https://{self.team_name.lower().replace(' ', '-')}.slack.com/",
            "team": self.team_name,
            "user": self._users[self.bot_user_id]["name"],
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _api_chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._writable(params.get("channel"))
        self._check_message_content(params)
        thread_ts = self._thread_parent_ts(ch, params.get("thread_ts"))
        self._check_post_limit(ch.id)
        msg = Message(
            ts=self._next_ts(),
            channel=ch.id,
            user=self.bot_user_id,
            text=_text_of(params.get("text")),
            blocks=params.get("blocks") or None,
            thread_ts=thread_ts,
            attachments=params.get("attachments"),
            bot_id=self.bot_id,
            reply_broadcast=thread_ts is not None and _truthy(params.get("reply_broadcast")),
            metadata=params.get("metadata") if isinstance(params.get("metadata"), dict) else None,
        )
        ch.messages.append(msg)
        return {"ok": True, "channel": ch.id, "ts": msg.ts, "message": self._render(ch, msg)}

    def _api_chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._writable(params.get("channel"))
        user = params.get("user")
        if not user or not isinstance(user, str):
            raise _ApiError("user_not_found")
        if ch.members is not None and user not in ch.members:
            raise _ApiError("user_not_in_channel")
        self._check_message_content(params)
        msg = Message(
            ts=self._next_ts(),
            channel=ch.id,
            user=self.bot_user_id,
            text=_text_of(params.get("text")),
            blocks=params.get("blocks") or None,
            thread_ts=self._thread_parent_ts(ch, params.get("thread_ts")),
            attachments=params.get("attachments"),
            bot_id=self.bot_id,
            ephemeral_to=user,
        )
        ch.messages.append(msg)
        return {"ok": True, "message_ts": msg.ts}

    def _api_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._writable(params.get("channel"))
        msg = self._find(ch, params.get("ts"))
        if msg is None:
            raise _ApiError("message_not_found")
        if msg.user != self.bot_user_id:
            raise _ApiError("cant_update_message")
        self._check_message_content(params)
        self._check_post_limit(ch.id)
        self._apply_update(msg, params)
        return {
            "ok": True,
            "channel": ch.id,
            "ts": msg.ts,
            "text": msg.text,
            "message": self._render(ch, msg),
        }

    def _check_post_limit(self, channel: str) -> None:
        wait = self.post_limit.take(channel) if self.post_limit is not None else None
        if wait is not None:
            raise _PostLimited(wait)

    def _apply_update(self, msg: Message, params: dict[str, Any]) -> None:
        # chat.update keeps blocks/attachments that are not passed; [] removes them.
        if "text" in params:
            msg.text = _text_of(params.get("text"))
        if "blocks" in params:
            msg.blocks = params["blocks"] or None
        if "attachments" in params:
            msg.attachments = params["attachments"] or None
        if "metadata" in params:  # left out, it stays; an empty object removes it
            metadata = params["metadata"]
            msg.metadata = metadata if isinstance(metadata, dict) and metadata else None
        msg.edited_ts = self._next_ts()

    def _api_chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._readable(params.get("channel"))
        msg = self._find(ch, params.get("ts"))
        if msg is None:
            raise _ApiError("message_not_found")
        if msg.user != self.bot_user_id:
            raise _ApiError("cant_delete_message")
        self._delete(ch, msg)
        return {"ok": True, "channel": ch.id, "ts": msg.ts}

    def _delete(self, ch: _Channel, msg: Message) -> None:
        self._deleted.append(copy.deepcopy(msg))
        has_replies = not msg.is_reply and any(
            m.thread_ts == msg.ts and m.is_reply for m in ch.messages
        )
        if has_replies:
            # Slack keeps a tombstone so the thread survives its parent's deletion.
            msg.subtype = "tombstone"
            msg.text = "This message was deleted."
            msg.user = "USLACKBOT"
            msg.blocks = msg.attachments = None
            msg.files = []
            msg.bot_id = None
        else:
            ch.messages.remove(msg)

    def _api_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._readable(params.get("channel"))
        inclusive = _truthy(params.get("inclusive"))
        latest = params.get("latest") or None
        oldest = params.get("oldest") or "0"
        latest_v = _ts_value(latest, "invalid_ts_latest") if latest else None
        oldest_v = _ts_value(oldest, "invalid_ts_oldest")
        limit = _int(params.get("limit"), 100)
        limit = 100 if limit <= 0 else min(limit, 999)
        cursor = _decode_cursor(params.get("cursor"), "next_ts")
        cursor_v = _ts_value(cursor, "invalid_cursor") if cursor else None

        def keep(m: Message) -> bool:
            if m.is_ephemeral or (m.is_reply and not m.reply_broadcast):
                return False
            v = Decimal(m.ts)
            if latest_v is not None and not (v <= latest_v if inclusive else v < latest_v):
                return False
            if not (v >= oldest_v if inclusive else v > oldest_v):
                return False
            return cursor_v is None or v < cursor_v

        selected = sorted((m for m in ch.messages if keep(m)), key=lambda m: Decimal(m.ts))
        selected.reverse()  # newest first, as Slack returns history
        page = selected[:limit]
        has_more = len(selected) > limit
        return {
            "ok": True,
            "messages": [self._render(ch, m) for m in page],
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {
                "next_cursor": _encode_cursor("next_ts", page[-1].ts) if has_more else ""
            },
        }

    def _api_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._readable(params.get("channel"))
        ts = params.get("ts")
        target = self._find(ch, ts) if ts else None
        if target is None:
            raise _ApiError("thread_not_found")
        parent = self._find(ch, target.thread_ts) if target.is_reply else target
        if parent is None:
            raise _ApiError("thread_not_found")
        inclusive = _truthy(params.get("inclusive"))
        latest = params.get("latest") or None
        oldest = params.get("oldest") or "0"
        latest_v = _ts_value(latest, "invalid_ts_latest") if latest else None
        oldest_v = _ts_value(oldest, "invalid_ts_oldest")
        limit = _int(params.get("limit"), 1000)
        limit = 1000 if limit <= 0 else min(limit, 1000)
        cursor = _decode_cursor(params.get("cursor"), "next_ts")
        cursor_v = _ts_value(cursor, "invalid_cursor") if cursor else None

        def keep(m: Message) -> bool:
            if m.is_ephemeral or not m.is_reply or m.thread_ts != parent.ts:
                return False
            v = Decimal(m.ts)
            if latest_v is not None and not (v <= latest_v if inclusive else v < latest_v):
                return False
            if not (v >= oldest_v if inclusive else v > oldest_v):
                return False
            return cursor_v is None or v > cursor_v

        replies = sorted((m for m in ch.messages if keep(m)), key=lambda m: Decimal(m.ts))
        page = replies[:limit]
        has_more = len(replies) > limit
        # Slack always leads with the parent, then replies oldest first.
        return {
            "ok": True,
            "messages": [self._render(ch, parent)] + [self._render(ch, m) for m in page],
            "has_more": has_more,
            "response_metadata": {
                "next_cursor": _encode_cursor("next_ts", page[-1].ts) if has_more else ""
            },
        }

    def _api_conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        ch = self._readable(params.get("channel"))
        if ch.members is not None:
            members = list(ch.members)
        else:
            members = list(
                dict.fromkeys(
                    m.user
                    for m in ch.messages
                    if not m.is_bot
                    and not m.is_ephemeral
                    and m.subtype != "tombstone"
                    and not self._users.get(m.user, {}).get("is_bot", False)
                )
            )
        limit = _int(params.get("limit"), 100)
        limit = 100 if limit <= 0 else min(limit, 1000)
        offset_s = _decode_cursor(params.get("cursor"), "offset")
        offset = _int(offset_s, 0) if offset_s else 0
        page = members[offset : offset + limit]
        more = offset + limit < len(members)
        return {
            "ok": True,
            "members": page,
            "response_metadata": {
                "next_cursor": _encode_cursor("offset", str(offset + limit)) if more else ""
            },
        }

    def _api_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info = self._users.get(str(params.get("user") or ""))
        if info is None:
            raise _ApiError("user_not_found")
        try:
            zone = ZoneInfo(info["tz"])
            now = datetime.now(zone)
            utc_offset = now.utcoffset()
            offset = int(utc_offset.total_seconds()) if utc_offset else 0
            label = now.tzname() or info["tz"]
        except (ZoneInfoNotFoundError, ValueError):
            offset, label = 0, info["tz"]
        profile: dict[str, Any] = {
            "real_name": info["real_name"],
            "real_name_normalized": info["real_name"],
            "display_name": info["display_name"],
            "display_name_normalized": info["display_name"],
            "team": self.team_id,
        }
        if info["id"] == self.bot_user_id:
            profile["bot_id"] = self.bot_id
        return {
            "ok": True,
            "user": {
                "id": info["id"],
                "team_id": self.team_id,
                "name": info["name"],
                "deleted": False,
                "real_name": info["real_name"],
                "tz": info["tz"],
                "tz_label": label,
                "tz_offset": offset,
                "is_admin": False,
                "is_owner": False,
                "is_bot": info["is_bot"],
                "is_app_user": False,
                "updated": 0,
                "profile": profile,
            },
        }

    def _api_files_get_upload_url_external(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = params.get("filename")
        if not filename or not isinstance(filename, str):
            raise _ApiError("invalid_arguments")
        length = _int(params.get("length"), -1)
        if length < 0:
            raise _ApiError("invalid_arguments")
        if length == 0:
            raise _ApiError("missing_argument")  # what Slack answers for an empty file
        alt_txt = params.get("alt_txt")
        if alt_txt is not None and len(str(alt_txt)) > FILE_ALT_TEXT_MAX:
            raise _ApiError("alt_txt_too_large")
        file_id = self._new_id("F")
        self._pending_uploads[file_id] = _PendingUpload(
            file_id,
            filename,
            length,
            None if alt_txt is None else str(alt_txt),
            params.get("snippet_type"),
        )
        return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _api_files_complete_upload_external(self, params: dict[str, Any]) -> dict[str, Any]:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise _ApiError("invalid_arguments")
        channel = params.get("channel_id")
        if not channel and params.get("channels"):
            channel = str(params["channels"]).split(",")[0].strip()
        ch = self._writable(channel) if channel else None
        pending: list[tuple[_PendingUpload, str | None]] = []
        for entry in entries:
            if not isinstance(entry, dict) or "id" not in entry:
                raise _ApiError("invalid_arguments")
            upload = self._pending_uploads.get(str(entry["id"]))
            if upload is None or upload.content is None:
                raise _ApiError("file_not_found")
            pending.append((upload, entry.get("title")))
        thread_ts = self._thread_parent_ts(ch, params.get("thread_ts")) if ch else None
        comment = params.get("initial_comment")
        now = int(time.time())
        uploaded = []
        for upload, title in pending:
            del self._pending_uploads[upload.file_id]
            uploaded.append(
                UploadedFile(
                    id=upload.file_id,
                    filename=upload.filename,
                    title=_text_of(title) or upload.filename,
                    content=upload.content or b"",
                    channel=ch.id if ch else None,
                    thread_ts=thread_ts,
                    initial_comment=comment,
                    user=self.bot_user_id,
                    created=now,
                    alt_txt=upload.alt_txt,
                )
            )
        if ch is not None:
            # Slack shares the files in one message carrying them (and the comment, if any).
            msg = Message(
                ts=self._next_ts(),
                channel=ch.id,
                user=self.bot_user_id,
                text=_text_of(comment),
                thread_ts=thread_ts,
                bot_id=self.bot_id,
            )
            for f in uploaded:
                f.message_ts = msg.ts
            msg.files = [self._file_json(f) for f in uploaded]
            ch.messages.append(msg)
        self._files.extend(uploaded)
        return {"ok": True, "files": [self._file_json(f) for f in uploaded]}

    def _api_files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file")
        if not file_id or not isinstance(file_id, str):
            raise _ApiError("invalid_arguments")
        found = next((f for f in self._files if f.id == file_id), None)
        if found is None:
            raise _ApiError("file_not_found")
        return {
            "ok": True,
            "file": self._file_json(found),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def _api_conversations_canvases_create(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._canvas_call(self.canvases.conversations_create, params)

    def _api_canvases_create(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._canvas_call(self.canvases.create, params)

    def _api_canvases_edit(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._canvas_call(self.canvases.edit, params)

    def _api_canvases_sections_lookup(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._canvas_call(self.canvases.lookup, params)

    def _api_canvases_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._canvas_call(self.canvases.delete, params)

    @staticmethod
    def _canvas_call(
        method: Callable[[dict[str, Any]], dict[str, Any]], params: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            return method(params)
        except CanvasError as error:
            raise _ApiError(error.code) from error
        except CanvasRateLimited as limited:
            raise _PostLimited(limited.seconds) from limited

    def _api_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        assert self._socket_mode_url is not None  # the app token is only known with a URL
        return {"ok": True, "url": self._socket_mode_url()}

    _METHODS: ClassVar[dict[str, str]] = {
        "apps.connections.open": "_api_apps_connections_open",
        "auth.test": "_api_auth_test",
        "oauth.v2.access": "_api_oauth_v2_access",
        "chat.postMessage": "_api_chat_post_message",
        "chat.postEphemeral": "_api_chat_post_ephemeral",
        "chat.update": "_api_chat_update",
        "chat.delete": "_api_chat_delete",
        "conversations.history": "_api_conversations_history",
        "conversations.replies": "_api_conversations_replies",
        "conversations.members": "_api_conversations_members",
        "users.info": "_api_users_info",
        "files.getUploadURLExternal": "_api_files_get_upload_url_external",
        "files.completeUploadExternal": "_api_files_complete_upload_external",
        "files.info": "_api_files_info",
        "views.open": "_api_views_open",
        "views.push": "_api_views_push",
        "views.update": "_api_views_update",
        "views.publish": "_api_views_publish",
        "conversations.canvases.create": "_api_conversations_canvases_create",
        "canvases.create": "_api_canvases_create",
        "canvases.edit": "_api_canvases_edit",
        "canvases.sections.lookup": "_api_canvases_sections_lookup",
        "canvases.delete": "_api_canvases_delete",
    }

    _APP_TOKEN_METHODS: ClassVar[frozenset[str]] = frozenset({"apps.connections.open"})
    # Methods called with the app's client id and secret rather than a token.
    _CLIENT_METHODS: ClassVar[frozenset[str]] = frozenset({"oauth.v2.access"})

    # -- internals: HTTP dispatch -----------------------------------------------------------
    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            for key in (method, "*"):
                queue = self._faults.get(key)
                if queue:
                    fault = queue[0]
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        queue.popleft()
                    return fault
        return None

    def _log_call(
        self, method: str, params: dict[str, Any], error: str | None, token: str | None = None
    ) -> Call:
        """Append a Call; done under the same lock hold as the state change it reports, so a
        test that sees the call also sees its effect."""
        with self._lock:
            call = Call(method, copy.deepcopy(params), time.time(), error, token)
            self._calls.append(call)
            return call

    def _notify(self, call: Call) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            with suppress(Exception):
                listener(call)

    def _record(
        self, method: str, params: dict[str, Any], error: str | None, token: str | None = None
    ) -> None:
        self._notify(self._log_call(method, params, error, token))

    def _fault_reply(self, method: str, params: dict[str, Any], fault: _Fault) -> _Reply:
        """Answer as Slack would for the injected fault, and record the call as failed."""
        text_endpoint = method in ("upload_url", "response_url", "file_download")
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        if fault.body is not None:
            error = fault.error or f"http_{fault.status}"
            reply = _Reply(fault.status, fault.body.encode(), "text/html; charset=utf-8", headers)
        else:
            if fault.status == 429:
                error = fault.error or "ratelimited"
            elif fault.status >= 500:
                error = fault.error or "internal_error"
            else:
                error = fault.error or f"http_{fault.status}"
            if text_endpoint:
                status = fault.status if fault.status != 200 else 400
                reply = _Reply(status, error.encode(), "text/plain; charset=utf-8", headers)
            else:
                payload = json.dumps({"ok": False, "error": error}).encode()
                reply = _Reply(fault.status, payload, headers=headers)
        self._record(method, params, error)
        return reply

    def _handle(self, http_method: str, path: str, headers: dict[str, str], body: bytes) -> _Reply:
        parsed = urllib.parse.urlsplit(path)
        parts = [urllib.parse.unquote(p) for p in parsed.path.split("/") if p]
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        if len(parts) == 2 and parts[0] == "api":
            return self._handle_api(parts[1], query, headers, body)
        if http_method == "POST" and len(parts) == 2 and parts[0] == "upload":
            return self._handle_upload(parts[1], body)
        if http_method == "POST" and len(parts) == 2 and parts[0] == "response":
            return self._handle_response_url(parts[1], headers, body)
        if http_method == "GET" and len(parts) >= 2 and parts[0] == "files":
            return self._handle_file_download(parts[1], headers)
        return _Reply.text("Not Found", 404)

    def _handle_api(
        self, method: str, query: dict[str, Any], headers: dict[str, str], body: bytes
    ) -> _Reply:
        params: dict[str, Any] = dict(query)
        try:
            params.update(_parse_body(headers.get("content-type", ""), body))
        except (ValueError, UnicodeDecodeError):
            self._record(method, params, "invalid_form_data")
            return _Reply.json({"ok": False, "error": "invalid_form_data"})
        _decode_json_fields(params)
        token = params.pop("token", None)
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        elif auth.lower().startswith("basic ") and method in self._CLIENT_METHODS:
            with suppress(ValueError, UnicodeDecodeError):
                pair = base64.b64decode(auth[6:].strip()).decode()
                params["client_id"], _, params["client_secret"] = pair.partition(":")

        fault = self._take_fault(method)
        if fault is not None:
            if fault.delay > 0:
                time.sleep(fault.delay)
            if fault.answers and not fault.after_processing:
                return self._fault_reply(method, params, fault)

        # Slack's app-level methods take the app token (xapp-) only; every other one the bot's.
        refusal = self._refusal(method, token)
        if refusal is not None:
            payload: dict[str, Any] = {"ok": False, "error": refusal}
        elif method not in self._METHODS:
            payload = {"ok": False, "error": "unknown_method"}
        else:
            handler = getattr(self, self._METHODS[method])
            limited: _PostLimited | None = None
            with self._lock:
                self._token_at_hand = token
                try:
                    payload = handler(params)
                except _ApiError as exc:
                    payload = exc.payload()
                except _PostLimited as exc:
                    payload, limited = {"ok": False, "error": "ratelimited"}, exc
                finally:
                    self._token_at_hand = None
                call = self._log_call(method, params, self._error_of(payload), token)
            self._notify(call)
            if fault is not None and fault.after_processing and fault.answers:
                return self._fault_reply(method, params, fault)
            if limited is not None:
                return _Reply.json(payload, 429, **{"Retry-After": str(limited.retry_after)})
            return _Reply.json(payload)
        self._record(method, params, self._error_of(payload), token)
        return _Reply.json(payload)

    def _refusal(self, method: str, token: str | None) -> str | None:
        """Slack's error for a call its token does not allow, or None. Slack's app-level
        methods take the app token (xapp-) only; ``oauth.v2.access`` the app's client id and
        secret (checked by the method); every other one a bot token: the one this fake was
        made with, or one an install into a workspace handed out (`enable_oauth`)."""
        if method in self._CLIENT_METHODS:
            return None
        if not token:
            return "not_authed"
        if method in self._APP_TOKEN_METHODS:
            if token == self.bot_token:
                return "not_allowed_token_type"
            return None if token == self._app_token else "invalid_auth"
        if token == self._app_token:
            return "not_allowed_token_type"
        with self._lock:
            known = token == self.bot_token or token in self._workspace_tokens
        return None if known else "invalid_auth"

    @staticmethod
    def _error_of(payload: dict[str, Any]) -> str | None:
        return None if payload.get("ok") else str(payload.get("error"))

    def _handle_upload(self, file_id: str, body: bytes) -> _Reply:
        params = {"file_id": file_id, "length": len(body)}
        fault = self._take_fault("upload_url")
        if fault is not None:
            if fault.delay > 0:
                time.sleep(fault.delay)
            if fault.answers:
                return self._fault_reply("upload_url", params, fault)
        with self._lock:
            upload = self._pending_uploads.get(file_id)
            if upload is not None:
                upload.content = body
            call = self._log_call("upload_url", params, None if upload else "file_not_found")
        self._notify(call)
        if upload is None:
            return _Reply.text("Not Found", 404)
        return _Reply.text(f"OK - {len(body)}")

    def _handle_file_download(self, file_id: str, headers: dict[str, str]) -> _Reply:
        """A GET of a file's ``url_private(_download)``: only with the bot token as Bearer
        (recorded as a ``file_download`` call, its error ``not_authed`` or
        ``file_not_found``)."""
        params = {"file": file_id}
        fault = self._take_fault("file_download")
        if fault is not None:
            if fault.delay > 0:
                time.sleep(fault.delay)
            if fault.answers:
                return self._fault_reply("file_download", params, fault)
        auth = headers.get("authorization", "")
        with self._lock:
            found = next((f for f in self._files if f.id == file_id), None)
            bot_tokens = {self.bot_token, *self._workspace_tokens}
            error = (
                "not_authed"
                if auth.removeprefix("Bearer ") not in bot_tokens or not auth.startswith("Bearer ")
                else (None if found is not None else "file_not_found")
            )
            call = self._log_call("file_download", params, error)
        self._notify(call)
        if error == "not_authed":
            return _Reply.text("Unauthorized", 403)
        if found is None:
            return _Reply.text("Not Found", 404)
        ctype = mimetypes.guess_type(found.filename)[0] or "application/octet-stream"
        return _Reply(200, found.content, ctype)

    def _handle_response_url(self, key: str, headers: dict[str, str], body: bytes) -> _Reply:
        try:
            params = json.loads(body.decode("utf-8")) if body else {}
            if not isinstance(params, dict):
                raise ValueError("not an object")
        except (ValueError, UnicodeDecodeError):
            self._record(
                "response_url", {"raw": body.decode("utf-8", "replace")}, "invalid_payload"
            )
            return _Reply.text("invalid_payload", 400)
        fault = self._take_fault("response_url")
        if fault is not None:
            if fault.delay > 0:
                time.sleep(fault.delay)
            if fault.answers:
                return self._fault_reply("response_url", params, fault)
        with self._lock:
            error, status = self._respond(key, params)
            call = self._log_call("response_url", params, error)
        self._notify(call)
        if error is not None:
            return _Reply.text(error, status)
        return _Reply.text("ok")

    def _respond(self, key: str, params: dict[str, Any]) -> tuple[str | None, int]:
        """Apply a response_url POST; returns ``(error, http_status)`` like Slack's webhooks."""
        target = self._response_urls.get(key)
        if target is None:
            return "no_service", 404
        target.uses += 1
        if self.response_url_max_uses is not None and target.uses > self.response_url_max_uses:
            return "used_url", 404
        try:
            ch = self._writable(target.channel)
        except _ApiError as exc:
            return ("channel_is_archived" if exc.error == "is_archived" else exc.error), 404
        original = (
            self._find(ch, target.message_ts, include_ephemeral=True) if target.message_ts else None
        )
        if _truthy(params.get("delete_original")):
            if original is None:
                return "message_not_found", 404
            self._delete(ch, original)
            return None, 200
        try:
            self._check_message_content(params)
        except _ApiError as exc:
            return exc.error, 400
        if _truthy(params.get("replace_original")) and original is not None:
            self._apply_update(original, params)
            return None, 200
        in_channel = params.get("response_type") == "in_channel"
        msg = Message(
            ts=self._next_ts(),
            channel=ch.id,
            user=self.bot_user_id,
            text=_text_of(params.get("text")),
            blocks=params.get("blocks") or None,
            thread_ts=self._thread_parent_ts(ch, params.get("thread_ts") or target.thread_ts),
            attachments=params.get("attachments"),
            bot_id=self.bot_id,
            ephemeral_to=None if in_channel else target.user,
        )
        ch.messages.append(msg)
        return None, 200


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "FakeSlack/1.0"

    def do_POST(self) -> None:
        self._serve("POST")

    def do_GET(self) -> None:
        self._serve("GET")

    def _serve(self, http_method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            reply = self.server.fake._handle(http_method, self.path, headers, body)
        except Exception as exc:  # a bug in the fake must not hang the client
            reply = _Reply.json({"ok": False, "error": "fake_slack_crashed", "detail": repr(exc)})
        try:
            try:
                phrase = HTTPStatus(reply.status).phrase
            except ValueError:
                phrase = "Unknown"
            self.send_response(reply.status, phrase)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. a timeout test with an injected delay)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; the fake's ``calls`` is the log."""

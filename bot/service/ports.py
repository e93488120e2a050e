"""What the service needs from Slack, as a small port the Slack adapter implements.

The service never imports Slack's libraries: it is given an object with these methods
(`bot.slack.web.WebApi` when serving; a fake in tests if need be).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.core.home import HomeTab
from bot.core.messages import Post


class SlackFailure(Exception):
    """Slack answered with an error; `code` is Slack's word for it (`channel_not_found`…)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SlackPort(Protocol):
    def fetch_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """A message of the channel or of one of its threads, with its metadata."""
        ...

    def tell(self, channel: str, user: str, post: Post) -> None:
        """Show `post` to `user` only, in `channel`."""
        ...

    def replace_clicked(self, response_url: str, post: Post) -> None:
        """Put `post` in the place of the message a click came from (its `response_url`)."""
        ...

    def answer_click(self, response_url: str, post: Post) -> None:
        """Show `post` to the person who clicked only, through the click's `response_url`."""
        ...


@dataclass(frozen=True)
class SharedFile:
    """A file read from Slack: its name and its bytes."""

    name: str
    data: bytes


class FileRefused(Exception):
    """A file Storm did not read, and why: `too_large` (`size` bytes, more than asked for),
    `external` (a link to a file kept elsewhere), `untrusted` (Slack named a download address
    that is not Slack's) or `unavailable` (Slack's word for it in `code`: `file_not_found`,
    `HTTP 403`…). `name` is the file's name when Slack said it."""

    def __init__(
        self,
        reason: Literal["too_large", "external", "untrusted", "unavailable"],
        *,
        name: str | None = None,
        size: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.name = name
        self.size = size
        self.code = code


class FilePort(Protocol):
    def fetch_file(self, file_id: str, *, limit: int) -> SharedFile:
        """The file `file_id` from Slack, at most `limit` bytes (`FileRefused` otherwise)."""
        ...


class HomePort(Protocol):
    def publish_home(self, user_id: str, tab: HomeTab) -> None:
        """Show `tab` as the person's App Home (`views.publish`)."""
        ...

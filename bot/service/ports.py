"""What the service needs from Slack, as a small port the Slack adapter implements.

The service never imports Slack's libraries: it is given an object with these methods
(`bot.slack.web.WebApi` when serving; a fake in tests if need be).
"""

from __future__ import annotations

from typing import Any, Protocol

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


class HomePort(Protocol):
    def publish_home(self, user_id: str, tab: HomeTab) -> None:
        """Show `tab` as the person's App Home (`views.publish`)."""
        ...

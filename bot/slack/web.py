"""The Web API calls the service asks for through its port (`bot.service.ports.SlackPort`)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.messages import Post
from bot.service.ports import SlackFailure
from bot.slack.blocks import build_single


class WebApi:
    """`SlackPort` over slack_sdk's client; Slack's errors become `SlackFailure`."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def fetch_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The reacted-to message: a channel message, or else a reply in a thread."""
        try:
            history = self._client.conversations_history(
                channel=channel, latest=ts, inclusive=True, limit=1, include_all_metadata=True
            )
            found: list[dict[str, Any]] = history.get("messages", [])
            for message in found:
                if message.get("ts") == ts:
                    return dict(message)
            replies = self._client.conversations_replies(
                channel=channel, ts=ts, limit=1000, include_all_metadata=True
            )
        except SlackApiError as error:
            raise SlackFailure(str(error.response.get("error"))) from error
        thread: list[dict[str, Any]] = replies.get("messages", [])
        return next((dict(m) for m in thread if m.get("ts") == ts), None)

    def tell(self, channel: str, user: str, post: Post) -> None:
        message = build_single(post)
        try:
            self._client.chat_postEphemeral(
                channel=channel, user=user, text=message.text, blocks=message.blocks
            )
        except SlackApiError as error:
            raise SlackFailure(str(error.response.get("error"))) from error

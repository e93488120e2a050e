"""The Web API calls the service asks for through its port (`bot.service.ports.SlackPort`)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.webhook import WebhookClient

from bot.core.messages import Post
from bot.service.ports import SlackFailure
from bot.slack.blocks import build_single
from bot.slack.workspaces import WorkspaceClient


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

    def replace_clicked(self, response_url: str, post: Post) -> None:
        self._respond(response_url, post, replace_original=True)

    def answer_click(self, response_url: str, post: Post) -> None:
        self._respond(response_url, post, replace_original=False)

    @staticmethod
    def _respond(response_url: str, post: Post, *, replace_original: bool) -> None:
        """Through the click's `response_url`, as Bolt's `respond` does."""
        message = build_single(post)
        try:
            answer = WebhookClient(response_url, timeout=10).send(
                text=message.text,
                blocks=message.blocks,
                response_type="ephemeral",
                replace_original=replace_original,
            )
        except OSError as error:  # urllib's, HTTPError too: no answer from Slack
            raise SlackFailure(type(error).__name__) from error
        if answer.status_code != 200:
            raise SlackFailure(answer.body or f"HTTP {answer.status_code}")


def without_waiting(client: WebClient) -> WebClient:
    """`client` as it is, but for its wait on rate limits: Slack's 429 is raised at once.

    The retry handler sleeps out `Retry-After` on the calling thread, and gives up after a
    few tries. The canvas keeper instead gives the edit back and lets the thread go on with
    other workshops meanwhile (`bot.slack.canvas`), so that nothing waits behind one
    channel's limit and nothing is lost to it.
    """
    return _with_retries(
        client,
        [h for h in client.retry_handlers if not isinstance(h, RateLimitErrorRetryHandler)],
    )


def posting(client: WebClient, *, wait_on_rate_limits: bool = False) -> WebClient:
    """`client` without the retries that could post a message twice.

    slack_sdk retries a call after a dropped connection or a 5xx answer, but Slack may have
    posted the message before the answer was lost: a retried `chat.postMessage` then posts it
    twice. Posts go out through this client, which retries nothing but rate limits (429:
    nothing was posted), and only when `wait_on_rate_limits`; the outbox resolves a lost
    answer itself, by looking for the post in the channel before sending it again
    (`bot.slack.outbox`).
    """
    return _with_retries(
        client,
        [
            h
            for h in client.retry_handlers
            if wait_on_rate_limits and isinstance(h, RateLimitErrorRetryHandler)
        ],
    )


def _with_retries(client: WebClient, retry_handlers: list[RetryHandler]) -> WebClient:
    """A copy of `client` with only these retry handlers; installed into many workspaces it
    still carries each workspace's own token (`WorkspaceClient`)."""
    settings: dict[str, Any] = {
        "token": client.token,
        "base_url": client.base_url,
        "timeout": client.timeout,
        "ssl": client.ssl,
        "proxy": client.proxy,
        "headers": {k: v for k, v in client.headers.items() if k != "User-Agent"},
        "logger": client.logger,
        "retry_handlers": retry_handlers,
    }
    if isinstance(client, WorkspaceClient):
        return WorkspaceClient(client.installations, **settings)
    return WebClient(**settings)


def retry_after(error: SlackApiError) -> float:
    """The seconds Slack asks to wait in a 429's `Retry-After` (1 when it does not say)."""
    headers = error.response.headers or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(float(value), 0.0) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0

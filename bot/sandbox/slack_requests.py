"""Send the bot correctly signed requests, byte for byte as Slack sends them.

Why: Bolt verifies ``X-Slack-Signature`` over the raw body, parses slash commands from a
form body and events from a JSON envelope, and de-duplicates on ``X-Slack-Retry-Num``.  Tests
that hand-build dicts skip all of that; this client exercises it over real HTTP.  It ships
with the bot because the terminal sandbox drives Storm through it too: one client, so the
sandbox talks to Storm exactly as the end-to-end tests (and Slack) do.

Signing follows https://docs.slack.dev/authentication/verifying-requests-from-slack:
``v0=`` + hex HMAC-SHA256(signing_secret, ``"v0:{timestamp}:{raw body}"``).  Tests of the
bot's defences can forge (``signature=``), age (``timestamp=``) or drop (``sign=False``) it.

Stdlib only (``urllib.request``); non-2xx answers are returned, never raised.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.sandbox.fake_slack import FakeSlack

__all__ = ["Response", "SlackRequests", "compute_signature"]

#: Slack's own User-Agent on requests to apps.
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
_DUMMY_RESPONSE_URL = "http://127.0.0.1:9/response/unused"  # discard port: fails fast if used
_counter = itertools.count(1)


def compute_signature(signing_secret: str, timestamp: str | int, body: str | bytes) -> str:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256 over ``v0:{ts}:{body}``."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    base = b"v0:" + str(timestamp).encode("ascii") + b":" + raw
    digest = hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


@dataclass(frozen=True)
class Response:
    """What the bot answered; ``elapsed`` (seconds) lets tests check the 3 s ack budget."""

    status: int
    body: str
    elapsed: float
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class SlackRequests:
    """A stand-in for Slack's side of the Events API and slash commands.

    ``base_url`` is the bot's root (``http://127.0.0.1:PORT/``); requests go to
    ``base_url + "slack/events"``.  Give ``fake`` so slash commands carry a working
    ``response_url`` minted by the fake, and so ``reaction_added`` can fill ``item_user``.
    """

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        team_id: str = "T0001",
        fake: FakeSlack | None = None,
        api_app_id: str = "A0STORM",
        team_domain: str = "storm-test",
        verification_token: str = "legacy-verification-token",
        path: str = "slack/events",
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.fake = fake
        self.api_app_id = api_app_id
        self.team_domain = team_domain
        self.verification_token = verification_token
        self.path = path.lstrip("/")
        self.timeout = timeout

    @property
    def url(self) -> str:
        return self.base_url + self.path

    @property
    def bot_user_id(self) -> str:
        return self.fake.bot_user_id if self.fake is not None else "U0BOT"

    # -- low level ---------------------------------------------------------------------------
    def sign(self, body: str | bytes, timestamp: str | int) -> str:
        return compute_signature(self.signing_secret, timestamp, body)

    def post(
        self,
        body: str | bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        timestamp: str | int | None = None,
        signature: str | None = None,
        sign: bool = True,
    ) -> Response:
        """POST a raw body with Slack's headers.  ``timestamp``/``signature`` override the
        computed values; ``sign=False`` omits both signing headers."""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        ts = str(int(time.time()) if timestamp is None else timestamp)
        all_headers = {"Content-Type": content_type, "User-Agent": SLACK_USER_AGENT}
        if sign:
            all_headers["X-Slack-Request-Timestamp"] = ts
            all_headers["X-Slack-Signature"] = (
                signature if signature is not None else self.sign(raw, ts)
            )
        all_headers.update(headers or {})
        request = urllib.request.Request(self.url, data=raw, headers=all_headers, method="POST")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                status = resp.status
                text = resp.read().decode("utf-8", errors="replace")
                resp_headers = dict(resp.headers.items())
        except urllib.error.HTTPError as err:
            status = err.code
            text = err.read().decode("utf-8", errors="replace")
            resp_headers = dict(err.headers.items()) if err.headers else {}
        return Response(status, text, time.monotonic() - started, resp_headers)

    # -- slash commands ------------------------------------------------------------------------
    def command_payload(
        self,
        text: str,
        *,
        user: str = "U1",
        channel: str = "C1",
        user_name: str | None = None,
        team_id: str | None = None,
        command: str = "/storm",
        channel_name: str | None = None,
        response_url: str | None = None,
    ) -> dict[str, str]:
        """The form fields Slack posts for a slash command (before URL-encoding)."""
        if response_url is None:
            response_url = (
                self.fake.response_url(channel=channel, user=user)
                if self.fake is not None
                else _DUMMY_RESPONSE_URL
            )
        n = next(_counter)
        return {
            "token": self.verification_token,
            "team_id": team_id or self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel,
            "channel_name": channel_name or channel.lower(),
            "user_id": user,
            "user_name": user_name or user.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": f"{int(time.time())}.{n}.{secrets.token_hex(16)}",
        }

    def command(
        self,
        text: str,
        *,
        user: str = "U1",
        channel: str = "C1",
        user_name: str | None = None,
        team_id: str | None = None,
        command: str = "/storm",
        channel_name: str | None = None,
        timestamp: str | int | None = None,
        signature: str | None = None,
        sign: bool = True,
    ) -> Response:
        """Run ``/storm <text>`` as ``user`` in ``channel`` (form-encoded, as Slack does)."""
        fields = self.command_payload(
            text,
            user=user,
            channel=channel,
            user_name=user_name,
            team_id=team_id,
            command=command,
            channel_name=channel_name,
        )
        return self.post(
            urllib.parse.urlencode(fields),
            "application/x-www-form-urlencoded",
            timestamp=timestamp,
            signature=signature,
            sign=sign,
        )

    # -- Events API ----------------------------------------------------------------------------
    def envelope(
        self, event: dict[str, Any], *, event_id: str | None = None, team_id: str | None = None
    ) -> dict[str, Any]:
        """The ``event_callback`` envelope Slack wraps around an event."""
        team = team_id or self.team_id
        return {
            "token": self.verification_token,
            "team_id": team,
            "context_team_id": team,
            "context_enterprise_id": None,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or new_event_id(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_urlsafe(24)}",
        }

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        team_id: str | None = None,
        timestamp: str | int | None = None,
        signature: str | None = None,
        sign: bool = True,
    ) -> Response:
        """Deliver ``event`` in an ``event_callback`` envelope.

        ``retry_num`` adds ``X-Slack-Retry-Num``/``X-Slack-Retry-Reason`` as on Slack's
        redeliveries; pass the same ``event_id`` to replay a delivery.
        """
        body = json.dumps(self.envelope(event, event_id=event_id, team_id=team_id))
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        return self.post(
            body,
            "application/json",
            headers=headers,
            timestamp=timestamp,
            signature=signature,
            sign=sign,
        )

    def reaction_event(
        self,
        kind: str,
        reaction: str,
        *,
        user: str,
        channel: str,
        ts: str,
        item_user: str | None = None,
    ) -> dict[str, Any]:
        """A ``reaction_added``/``reaction_removed`` event body as Slack sends it."""
        if item_user is None and self.fake is not None:
            msg = self.fake.message(channel, ts)
            item_user = msg.user if msg is not None else None
        event: dict[str, Any] = {"type": kind, "user": user, "reaction": reaction}
        if item_user is not None:
            event["item_user"] = item_user
        event["item"] = {"type": "message", "channel": channel, "ts": ts}
        event["event_ts"] = new_event_ts()
        return event

    def reaction(
        self,
        kind: str,
        reaction: str,
        *,
        user: str,
        channel: str,
        ts: str,
        item_user: str | None = None,
        event_id: str | None = None,
        retry_num: int | None = None,
    ) -> Response:
        """Deliver a ``reaction_added`` or ``reaction_removed`` event (``kind``)."""
        event = self.reaction_event(
            kind, reaction, user=user, channel=channel, ts=ts, item_user=item_user
        )
        return self.event(event, event_id=event_id, retry_num=retry_num)

    reaction_added = functools.partialmethod(reaction, "reaction_added")
    reaction_removed = functools.partialmethod(reaction, "reaction_removed")

    def url_verification(
        self,
        challenge: str,
        *,
        timestamp: str | int | None = None,
        signature: str | None = None,
        sign: bool = True,
    ) -> Response:
        """Slack's one-off handshake when the Request URL is saved; expect the challenge back."""
        body = json.dumps(
            {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        )
        return self.post(
            body, "application/json", timestamp=timestamp, signature=signature, sign=sign
        )


def new_event_id() -> str:
    """A Slack-looking event id (``Ev`` + upper-case alphanumerics), unique in this process."""
    return f"Ev{next(_counter):04d}{secrets.token_hex(3).upper()}"


def new_event_ts() -> str:
    """A Slack-style event timestamp (``seconds.micros``), unique within the process."""
    now_us = time.time_ns() // 1000 + next(_counter)
    seconds, micros = divmod(now_us, 1_000_000)
    return f"{seconds}.{micros:06d}"

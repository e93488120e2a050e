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

import copy
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.sandbox.blockkit import (
    Field,
    action_payload,
    find_choice,
    find_field,
    find_option,
    form_fields,
    options_of,
    state_values,
)

if TYPE_CHECKING:
    from bot.sandbox.fake_slack import FakeSlack

__all__ = ["Response", "SlackRequests", "Submission", "compute_signature"]

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


@dataclass(frozen=True)
class Submission:
    """What came of submitting a form: the app's HTTP answer and what Slack then did.

    ``outcome`` is ``"closed"``, ``"cleared"``, ``"updated"``, ``"pushed"``, ``"errors"``
    (the form stays open; ``errors`` maps block_id to the message under that field),
    ``"invalid"`` (the app's answer was wrong) or ``"failed"`` (a non-2xx answer).
    """

    response: Response
    outcome: str
    errors: dict[str, str]
    view_id: str


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
            "trigger_id": self.trigger_id(user),
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

    # -- interactivity (buttons, menus, forms, shortcuts) --------------------------------------
    def interaction(
        self,
        payload: dict[str, Any],
        *,
        timestamp: str | int | None = None,
        signature: str | None = None,
        sign: bool = True,
    ) -> Response:
        """POST an interactivity payload as Slack does: form body ``payload=<json>``, signed."""
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.post(
            body,
            "application/x-www-form-urlencoded",
            timestamp=timestamp,
            signature=signature,
            sign=sign,
        )

    def user_json(self, user: str, *, team_id: str | None = None) -> dict[str, Any]:
        """The ``user`` object of interactivity payloads."""
        name = user.lower()
        if self.fake is not None:
            name = self.fake.users().get(user, {}).get("name", name)
        return {"id": user, "username": name, "name": name, "team_id": team_id or self.team_id}

    def team_json(self, team_id: str | None = None) -> dict[str, Any]:
        return {"id": team_id or self.team_id, "domain": self.team_domain}

    def trigger_id(self, user: str) -> str:
        """A trigger id minted by the fake (so ``views.open`` accepts it), or a dummy one."""
        if self.fake is not None:
            return self.fake.new_trigger(user)
        return f"{int(time.time())}.{next(_counter)}.{secrets.token_hex(16)}"

    def _interaction_base(self, kind: str, user: str, team_id: str | None) -> dict[str, Any]:
        return {
            "type": kind,
            "user": self.user_json(user, team_id=team_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "team": self.team_json(team_id),
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def block_actions_payload(
        self,
        actions: list[dict[str, Any]],
        *,
        user: str,
        channel: str | None = None,
        message_ts: str | None = None,
        view: dict[str, Any] | None = None,
        team_id: str | None = None,
        trigger_id: str | None = None,
        response_url: str | None = None,
    ) -> dict[str, Any]:
        """A ``block_actions`` payload: a click in a message (``channel`` + ``message_ts``)
        or in a view (``view``: a modal or the App Home tab, as the fake returns it).

        For a message the payload carries the message as the fake stores it (none for an
        ephemeral message, as in Slack), ``channel`` and a ``response_url`` bound to it.
        """
        payload = self._interaction_base("block_actions", user, team_id)
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view["id"]}
        elif channel is not None and message_ts is not None:
            message = self.fake.message(channel, message_ts) if self.fake is not None else None
            # A message the fake never stored rode on an acknowledgement: only one person saw it.
            container: dict[str, Any] = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": message is None or message.is_ephemeral,
            }
            thread_ts = message.thread_ts if message is not None else None
            if thread_ts is not None:
                container["thread_ts"] = thread_ts
            payload["container"] = container
        else:
            raise ValueError("a click happens in a message (channel, message_ts) or a view")
        payload["trigger_id"] = trigger_id or self.trigger_id(user)
        if view is not None:
            payload["view"] = view
            payload["state"] = {"values": view.get("state", {}).get("values", {})}
        else:
            assert channel is not None and message_ts is not None
            payload["channel"] = {"id": channel, "name": channel.lower()}
            json_message = (
                self.fake.message_json(channel, message_ts) if self.fake is not None else None
            )
            if json_message is not None and not payload["container"]["is_ephemeral"]:
                payload["message"] = json_message
            payload["state"] = {"values": {}}
            if response_url is None:
                response_url = (
                    self.fake.response_url(
                        channel=channel,
                        user=user,
                        message_ts=message_ts,
                        thread_ts=payload["container"].get("thread_ts"),
                    )
                    if self.fake is not None
                    else _DUMMY_RESPONSE_URL
                )
            payload["response_url"] = response_url
        payload["actions"] = actions
        return payload

    def view_submission_payload(
        self,
        view: dict[str, Any],
        *,
        user: str,
        values: Mapping[str, Mapping[str, Any]] | None = None,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        """A ``view_submission`` of ``view`` (as opened) with ``state.values`` built from
        ``{block_id: {action_id: entered}}`` (see :func:`bot.sandbox.blockkit.state_entry`)."""
        payload = self._interaction_base("view_submission", user, team_id)
        submitted = copy.deepcopy(view)
        submitted["state"] = {"values": state_values(view, values)}
        payload["trigger_id"] = self.trigger_id(user)
        payload["view"] = submitted
        payload["response_urls"] = []
        return payload

    def view_closed_payload(
        self,
        view: dict[str, Any],
        *,
        user: str,
        is_cleared: bool = False,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        """A ``view_closed`` (sent only for views with ``notify_on_close``)."""
        payload = self._interaction_base("view_closed", user, team_id)
        payload["view"] = copy.deepcopy(view)
        payload["is_cleared"] = is_cleared
        return payload

    def message_action_payload(
        self,
        callback_id: str,
        *,
        user: str,
        channel: str,
        message_ts: str,
        message: dict[str, Any] | None = None,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        """A ``message_action``: the message shortcut ``callback_id`` used on a message
        (a thread reply's message carries its ``thread_ts``)."""
        if message is None and self.fake is not None:
            message = self.fake.message_json(channel, message_ts)
        if message is None:
            raise LookupError(f"no message {message_ts} in {channel}")
        thread_ts = message.get("thread_ts")
        response_url = (
            self.fake.response_url(
                channel=channel,
                user=user,
                thread_ts=thread_ts if thread_ts != message_ts else None,
            )
            if self.fake is not None
            else _DUMMY_RESPONSE_URL
        )
        payload = self._interaction_base("message_action", user, team_id)
        payload.update(
            {
                "action_ts": new_event_ts(),
                "channel": {"id": channel, "name": channel.lower()},
                "callback_id": callback_id,
                "trigger_id": self.trigger_id(user),
                "response_url": response_url,
                "message_ts": message_ts,
                "message": message,
            }
        )
        return payload

    def block_suggestion_payload(
        self,
        view: dict[str, Any],
        *,
        user: str,
        action_id: str,
        block_id: str,
        value: str,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        """A ``block_suggestion``: ``value`` typed into an ``external_select`` of ``view``."""
        payload = self._interaction_base("block_suggestion", user, team_id)
        payload.update(
            {
                "container": {"type": "view", "view_id": view["id"]},
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "view": view,
            }
        )
        return payload

    def app_home_opened_event(self, user: str) -> dict[str, Any]:
        """The ``app_home_opened`` event (Home tab), with the view published so far, if any."""
        channel = self.fake.dm_channel(user) if self.fake is not None else "D0" + user[1:]
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": channel,
            "tab": "home",
            "event_ts": new_event_ts(),
        }
        home = self.fake.home_view(user) if self.fake is not None else None
        if home is not None:
            event["view"] = home
        return event

    # -- interactivity, as a person does it (needs ``fake``) ----------------------------------
    def _fake(self) -> FakeSlack:
        if self.fake is None:
            raise RuntimeError("this needs SlackRequests(..., fake=FakeSlack)")
        return self.fake

    def click(
        self,
        channel: str,
        ts: str,
        label: str,
        *,
        user: str,
        which: int | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> Response:
        """Click what is labelled ``label`` in message ``ts``: a button ("Vote" also finds
        "Vote 2") or an option of an overflow menu or select ("Rename…").  ``which``
        (1-based) picks among several matches.  Raises ``LookupError`` if there is none.

        ``blocks`` clicks in a message Slack never stored: an answer that rode on a slash
        command's acknowledgement, which only its author saw (sent as an ephemeral one).
        """
        if blocks is None:
            message = self._fake().message(channel, ts)
            if message is None:
                raise LookupError(f"no message {ts} in {channel}")
            blocks = message.blocks or []
        choice = find_choice(blocks, label, which=which)
        action = action_payload(choice, new_event_ts())
        return self.interaction(
            self.block_actions_payload([action], user=user, channel=channel, message_ts=ts)
        )

    def click_in_view(
        self, user: str, label: str, *, view_id: str | None = None, which: int | None = None
    ) -> Response:
        """Click ``label`` inside ``user``'s visible modal (or the view ``view_id``)."""
        view = self._view(user, view_id)
        choice = find_choice(view.get("blocks") or [], label, which=which)
        action = action_payload(choice, new_event_ts())
        return self.interaction(self.block_actions_payload([action], user=user, view=view))

    def click_home(self, user: str, label: str, *, which: int | None = None) -> Response:
        """Click ``label`` on ``user``'s App Home tab."""
        home = self._fake().home_view(user)
        if home is None:
            raise LookupError(f"no home tab published for {user}")
        return self.click_in_view(user, label, view_id=home["id"], which=which)

    def _view(self, user: str, view_id: str | None) -> dict[str, Any]:
        fake = self._fake()
        if view_id is not None:
            view = fake.view(view_id)
            if view is None:
                raise LookupError(f"no view {view_id}")
            return view
        stack = fake.open_views(user)
        if not stack:
            raise LookupError(f"{user} has no form open")
        return stack[-1]

    def form_values(
        self, view: dict[str, Any], entries: Mapping[str, Any], *, user: str
    ) -> dict[str, dict[str, Any]]:
        """Turn ``{label or block_id: entered}`` into ``{block_id: {action_id: entered}}``.

        Selects take an option label (or value); multi-selects and checkboxes a list of
        them; an ``external_select`` the text to search for (its options are asked of the
        app with ``block_suggestion``, and the one labelled so is chosen); a file input
        the ids of files the fake holds (``FakeSlack.upload_to_form``), or file objects.
        """
        out: dict[str, dict[str, Any]] = {}
        fields = form_fields(view)
        for key, entered_value in entries.items():
            found = find_field(fields, key)
            value = entered_value
            if found.kind in ("external_select", "multi_external_select"):
                wanted = value if isinstance(value, list) else [value]
                value = [self._suggested(user, view, found, str(w)) for w in wanted if w]
                if found.kind == "external_select":
                    value = value[0] if value else None
            elif found.kind in ("static_select", "radio_buttons") and value:
                value = find_option(found.element, str(value))
            elif found.kind == "file_input":
                wanted = value if isinstance(value, list) else [value]
                value = [self._file(w) for w in wanted if w]
            elif found.multiple and isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            out.setdefault(found.block_id, {})[found.action_id] = value
        return out

    def _file(self, wanted: Any) -> dict[str, Any]:
        """A file object as a form's submission carries it, from its id."""
        if isinstance(wanted, dict):
            return wanted
        found = self._fake().file_json(str(wanted))
        if found is None:
            raise LookupError(f"no file {wanted!r}: upload it first")
        return found

    def _suggested(
        self, user: str, view: dict[str, Any], found: Field, wanted: str
    ) -> dict[str, Any]:
        options = self.suggest(
            user, found.action_id, wanted, block_id=found.block_id, view_id=view["id"]
        )
        return find_option({"options": options}, wanted)

    def suggest(
        self,
        user: str,
        action_id: str,
        query: str,
        *,
        block_id: str | None = None,
        view_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Type ``query`` into an ``external_select``: the options the app answers (groups
        flattened).  ``block_id`` defaults to the input block holding ``action_id``."""
        view = self._view(user, view_id)
        if block_id is None:
            block_id = next(f.block_id for f in form_fields(view) if f.action_id == action_id)
        response = self.interaction(
            self.block_suggestion_payload(
                view, user=user, action_id=action_id, block_id=block_id, value=query
            )
        )
        if not response.ok:
            raise RuntimeError(f"block_suggestion answered {response.status}: {response.body}")
        return options_of(response.json() if response.body else {})

    def submit(
        self,
        user: str,
        entries: Mapping[str, Any] | None = None,
        *,
        view_id: str | None = None,
    ) -> Submission:
        """Fill in ``user``'s visible form by label or block_id and press its submit button.

        Fields not named keep what the form showed.  The app's answer is applied as Slack
        would (closed, updated, pushed, or kept open with per-field errors) and returned.
        """
        view = self._view(user, view_id)
        values = self.form_values(view, entries or {}, user=user)
        payload = self.view_submission_payload(view, user=user, values=values)
        fake = self._fake()
        fake.set_view_values(view["id"], payload["view"]["state"]["values"])
        response = self.interaction(payload)
        answer: dict[str, Any] | None = None
        if response.ok and response.body.strip():
            parsed = response.json()
            answer = parsed if isinstance(parsed, dict) else None
        outcome = fake.answer_submission(view["id"], answer) if response.ok else "failed"
        errors = (answer or {}).get("errors") if outcome == "errors" else None
        return Submission(response, outcome, dict(errors or {}), view["id"])

    def cancel(self, user: str, *, view_id: str | None = None) -> Response | None:
        """Close ``user``'s visible form (Cancel).  Slack tells the app only when the view
        asked (``notify_on_close``): then the ``view_closed`` answer is returned."""
        view = self._view(user, view_id)
        closed = self._fake().close_view(view["id"])
        if not view.get("notify_on_close"):
            return None
        payload = self.view_closed_payload(view, user=user, is_cleared=len(closed) > 1)
        return self.interaction(payload)

    def shortcut(self, channel: str, ts: str, callback_id: str, *, user: str) -> Response:
        """Use the message shortcut ``callback_id`` on message ``ts`` (threads included)."""
        return self.interaction(
            self.message_action_payload(callback_id, user=user, channel=channel, message_ts=ts)
        )

    def open_home(self, user: str) -> Response:
        """``user`` opens Storm's App Home tab (an ``app_home_opened`` event)."""
        return self.event(self.app_home_opened_event(user))


def new_event_id() -> str:
    """A Slack-looking event id (``Ev`` + upper-case alphanumerics), unique in this process."""
    return f"Ev{next(_counter):04d}{secrets.token_hex(3).upper()}"


def new_event_ts() -> str:
    """A Slack-style event timestamp (``seconds.micros``), unique within the process."""
    now_us = time.time_ns() // 1000 + next(_counter)
    seconds, micros = divmod(now_us, 1_000_000)
    return f"{seconds}.{micros:06d}"

"""SlackRequests sends what Slack sends, signed so that slack_sdk's verifier accepts it."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.slack_requests import SlackRequests, compute_signature

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body)


class Recorder(ThreadingHTTPServer):
    """A tiny app stand-in: records requests and answers 200 if the signature verifies."""

    daemon_threads = True

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.verifier = SignatureVerifier(SECRET)
        super().__init__(("127.0.0.1", 0), _RecorderHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class _RecorderHandler(BaseHTTPRequestHandler):
    server: Recorder

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append(Recorded(self.path, dict(self.headers.items()), body))
        valid = self.server.verifier.is_valid_request(body, dict(self.headers.items()))
        reply = b'{"ok": true}' if valid else b"invalid signature"
        self.send_response(200 if valid else 401)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def app() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def slack(app: Recorder) -> SlackRequests:
    return SlackRequests(app.url, SECRET)


# --- signing ----------------------------------------------------------------------------------
def test_signature_matches_slack_sdk_and_rejects_tampering() -> None:
    verifier = SignatureVerifier(SECRET)
    ts = str(int(time.time()))
    body = "token=x&text=%2Fstorm+help"
    signature = compute_signature(SECRET, ts, body)
    assert signature.startswith("v0=") and len(signature) == 3 + 64
    assert signature == verifier.generate_signature(timestamp=ts, body=body)
    assert verifier.is_valid(body, ts, signature)
    assert not verifier.is_valid(body + "&x=1", ts, signature)
    assert not verifier.is_valid(body, str(int(ts) + 1), signature)
    assert not verifier.is_valid(body, ts, compute_signature("other-secret", ts, body))


def test_documented_example_signature() -> None:
    # The worked example from Slack's "Verifying requests from Slack" guide.
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        "channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        "command=%2Fwebhook-collect&text=&"
        "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F"
        "96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    assert (
        compute_signature(SECRET, 1531420618, body)
        == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


# --- slash commands ---------------------------------------------------------------------------
def test_command_is_signed_form_with_slack_fields(app: Recorder, slack: SlackRequests) -> None:
    resp = slack.command("add OrderPlaced", user="U7", channel="C7", user_name="ada")
    assert resp.status == 200 and resp.json() == {"ok": True} and resp.elapsed > 0
    [req] = app.requests
    assert req.path == "/slack/events"
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = req.form()
    assert form["command"] == "/storm" and form["text"] == "add OrderPlaced"
    assert (form["user_id"], form["channel_id"], form["user_name"]) == ("U7", "C7", "ada")
    assert form["is_enterprise_install"] == "false"
    assert form["team_id"] == "T0001"
    expected = {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    }
    assert expected <= set(form)


def test_command_response_url_comes_from_the_fake(app: Recorder) -> None:
    with FakeSlack() as fake:
        slack = SlackRequests(app.url, SECRET, fake=fake)
        slack.command("help", user="U3", channel="C3")
        url = app.requests[0].form()["response_url"]
        assert url.startswith(fake.base_url + "response/")
        req = urllib.request.Request(
            url,
            data=json.dumps({"text": "hi"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.status == 200
        [eph] = fake.ephemerals("C3", user="U3")
        assert eph.text == "hi"


@pytest.mark.parametrize(
    "overrides",
    [
        {"signature": "v0=" + "0" * 64},
        {"timestamp": int(time.time()) - 600},
        {"sign": False},
    ],
    ids=["forged", "stale", "unsigned"],
)
def test_bad_signatures_come_back_as_non_2xx_without_raising(
    app: Recorder, slack: SlackRequests, overrides: dict
) -> None:
    resp = slack.command("help", **overrides)
    assert resp.status == 401 and resp.body == "invalid signature"
    headers = app.requests[0].headers
    if overrides.get("sign") is False:
        assert "X-Slack-Signature" not in headers and "X-Slack-Request-Timestamp" not in headers


def test_stale_timestamp_is_still_correctly_signed(app: Recorder, slack: SlackRequests) -> None:
    # So a test of the bot's replay protection fails on age, not on the HMAC.
    old = int(time.time()) - 600
    slack.command("help", timestamp=old)
    req = app.requests[0]
    assert req.headers["X-Slack-Request-Timestamp"] == str(old)
    assert req.headers["X-Slack-Signature"] == compute_signature(SECRET, old, req.body)


# --- events -----------------------------------------------------------------------------------
def test_event_envelope_and_retry_headers(app: Recorder, slack: SlackRequests) -> None:
    message = {"type": "message", "channel": "C1", "user": "U1", "text": "hi", "ts": "1.000001"}
    assert slack.event(message).status == 200
    assert slack.event(message, event_id="Ev42", retry_num=1, retry_reason="http_error").ok
    first, retry = (r.json() for r in app.requests)
    assert first["type"] == "event_callback" and first["event"] == message
    assert first["team_id"] == "T0001" and first["api_app_id"]
    assert first["event_id"].startswith("Ev") and first["event_id"] != retry["event_id"]
    assert retry["event_id"] == "Ev42"
    assert isinstance(first["event_time"], int)
    assert first["authorizations"][0]["user_id"] == "U0BOT"
    assert first["authorizations"][0]["is_bot"] is True
    assert "X-Slack-Retry-Num" not in app.requests[0].headers
    assert app.requests[1].headers["X-Slack-Retry-Num"] == "1"
    assert app.requests[1].headers["X-Slack-Retry-Reason"] == "http_error"
    assert app.requests[0].headers["Content-Type"] == "application/json"


def test_reaction_events(app: Recorder) -> None:
    with FakeSlack() as fake:
        msg = fake.post_user_message("C1", "U9", "OrderPlaced")
        slack = SlackRequests(app.url, SECRET, fake=fake)
        slack.reaction_added("thumbsup", user="U1", channel="C1", ts=msg.ts)
        slack.reaction_removed("thumbsup", user="U1", channel="C1", ts=msg.ts, item_user="U5")
    added, removed = (r.json()["event"] for r in app.requests)
    assert added["type"] == "reaction_added"
    assert added["reaction"] == "thumbsup" and added["user"] == "U1"
    assert added["item"] == {"type": "message", "channel": "C1", "ts": msg.ts}
    assert added["item_user"] == "U9"  # looked up in the fake
    assert "event_ts" in added
    assert removed["type"] == "reaction_removed" and removed["item_user"] == "U5"


def test_url_verification(app: Recorder, slack: SlackRequests) -> None:
    slack.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    payload = app.requests[0].json()
    assert payload["type"] == "url_verification"
    assert payload["challenge"] == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    assert "token" in payload

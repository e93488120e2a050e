"""Many workspaces (SPEC §8): installed by Slack's OAuth flow, each workspace's workshops run
with that workspace's own bot token, and an uninstall removes its token and nothing else.

Real HTTP throughout: Storm serves `/slack/install` and `/slack/oauth_redirect` on loopback, a
browser's part is played with urllib (the state cookie carried by hand), and the fake Slack
hands out one bot token per workspace through `oauth.v2.access` and records which token each
Web API call carried.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message as Headers
from pathlib import Path

import pytest

from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.slack_requests import SlackRequests
from tests.support.peek import rows
from tests.support.running import (
    SIGNING_SECRET,
    InProcess,
    serve_process,
    start_in_process,
    text_of,
)

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret-0123"
STATE_COOKIE = "slack-app-oauth-state"
HALF = "Half time"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the test looks at Storm's answer itself, not where it points


def _get(url: str, cookie: str | None = None) -> tuple[int, Headers, str]:
    """A browser's GET: status, headers and page."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=10) as reply:
            return reply.status, reply.headers, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


@pytest.fixture
def installable(fake_slack: FakeSlack, database_url: str) -> Iterator[InProcess]:
    """Storm with a client id and secret and no bot token: installed nowhere yet."""
    fake_slack.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    fake_slack.set_channel_members("C2", ["U1", "U2", fake_slack.bot_user_id])
    running = start_in_process(
        fake_slack,
        database_url,
        slack_bot_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
    )
    try:
        yield running
    finally:
        running.stop()


def _start_install(storm: InProcess | str) -> tuple[str, str]:
    """Open the install page: the state in Slack's authorize link, and the browser's cookie."""
    status, headers, page = _get(_base(storm) + "slack/install")
    assert status == 200, page
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert link is not None, page
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [CLIENT_ID]
    assert "chat:write" in query["scope"][0].split(",")
    (state,) = query["state"]
    cookies = [c.split(";", 1)[0] for c in headers.get_all("Set-Cookie") or []]
    assert f"{STATE_COOKIE}={state}" in cookies
    return state, f"{STATE_COOKIE}={state}"


def _redirect(storm: InProcess | str, code: str, state: str, cookie: str | None) -> int:
    """Slack sends the browser back to Storm with the code and the state."""
    query = urllib.parse.urlencode({"code": code, "state": state})
    status, _, _ = _get(f"{_base(storm)}slack/oauth_redirect?{query}", cookie)
    return status


def _install(storm: InProcess | str, team_id: str, fake: FakeSlack | None = None) -> str:
    """The whole install into `team_id`; its bot token."""
    if fake is None:
        assert not isinstance(storm, str), "a `stormbot serve` is installed through its fake"
        fake = storm.fake
    state, cookie = _start_install(storm)
    assert _redirect(storm, fake.approve_install(team_id), state, cookie) == 200
    token = fake.workspace_token(team_id)
    assert token is not None
    return token


def _base(storm: InProcess | str) -> str:
    """Where Storm serves HTTP: in this process, or a `stormbot serve`'s base URL."""
    return storm if isinstance(storm, str) else storm.slack.base_url


def _stored_bots(storm: InProcess) -> list[tuple[str, str]]:
    """(team id, bot token) of every installation Storm keeps, read from its database."""
    found = rows(storm.database_url, "SELECT team_id, bot_token FROM slack_bots ORDER BY team_id")
    return [(str(team), str(token)) for team, token in found]


def _element_names(storm: InProcess) -> list[str]:
    """Every element of every workshop in Storm's database, oldest first."""
    return [
        str(name) for (name,) in rows(storm.database_url, "SELECT name FROM element ORDER BY id")
    ]


def _tokens_used(storm: InProcess, channel: str) -> set[str | None]:
    """The tokens of every Web API call Storm made about `channel`."""
    return {call.token for call in storm.fake.calls if call.params.get("channel") == channel}


def test_an_install_stores_the_workspaces_token_once_its_state_comes_back(
    installable: InProcess,
) -> None:
    storm = installable
    state, cookie = _start_install(storm)
    code = storm.fake.approve_install("T1")

    assert _redirect(storm, code, state, cookie) == 200

    token = storm.fake.workspace_token("T1")
    assert token is not None and token.startswith("xoxb-T1-")
    assert _stored_bots(storm) == [("T1", token)]
    (exchange,) = storm.fake.calls_to("oauth.v2.access")
    assert exchange.error is None
    # The state was consumed: the same redirect again, even with a fresh code, is refused.
    again = storm.fake.approve_install("T2")
    assert _redirect(storm, again, state, cookie) != 200
    assert _stored_bots(storm) == [("T1", token)]
    assert len(storm.fake.calls_to("oauth.v2.access")) == 1  # the code was never exchanged


def test_a_forged_or_foreign_state_installs_nothing(installable: InProcess) -> None:
    storm = installable
    state, cookie = _start_install(storm)
    code = storm.fake.approve_install("T1")

    # A state Storm never issued, even with a cookie that matches it.
    assert _redirect(storm, code, "forged-state", f"{STATE_COOKIE}=forged-state") != 200
    # Storm's state, but from a browser that did not start this install.
    assert _redirect(storm, code, state, None) != 200
    assert _redirect(storm, code, state, f"{STATE_COOKIE}=someone-elses") != 200

    assert _stored_bots(storm) == []
    assert storm.fake.calls_to("oauth.v2.access") == []
    # The right browser can still finish its install.
    assert _redirect(storm, code, state, cookie) == 200
    assert [team for team, _ in _stored_bots(storm)] == ["T1"]


def test_two_workspaces_run_workshops_at_once_each_with_its_own_token(
    installable: InProcess,
) -> None:
    storm = installable
    first, second = _install(storm, "T1"), _install(storm, "T2")
    assert first != second

    assert "Checkout" in storm.run("start Checkout", team="T1", channel="C1")
    assert "Billing" in storm.run("start Billing", team="T2", channel="C2")
    storm.run("timebox current 20m", team="T1", channel="C1")
    storm.run("timebox current 20m", team="T2", channel="C2")
    storm.run("event Order Placed", team="T1", channel="C1", user="U2")
    storm.run("event Invoice Sent", team="T2", channel="C2", user="U2")
    storm.wait_until_sent()
    # A reaction, applied after the ack: Storm reads the message with its workspace's token.
    person = storm.fake.post_user_message("C2", "U2", "Payment Failed")
    reacted = storm.slack.event(
        storm.slack.reaction_event("reaction_added", "zap", user="U2", channel="C2", ts=person.ts),
        team_id="T2",
    )
    assert reacted.status == 200
    storm.fake.wait_for(lambda f: any("Payment Failed" in text_of(m) for m in storm.posts("C2")))
    # Scheduled posts, sent by the background sender on the clock: half time in both.
    storm.clock.advance(timedelta(minutes=10, seconds=1))
    storm.fake.wait_for(
        lambda f: all(any(HALF in text_of(m) for m in storm.posts(c)) for c in ("C1", "C2"))
    )
    storm.wait_until_sent()

    assert any("Order Placed" in text_of(m) for m in storm.posts("C1"))
    assert not any("Invoice Sent" in text_of(m) for m in storm.posts("C1"))
    assert _tokens_used(storm, "C1") == {first}
    assert _tokens_used(storm, "C2") == {second}
    assert not [c for c in storm.fake.calls if c.error in ("not_authed", "invalid_auth")]
    # Requests are authorized with what the install stored: `auth.test` once per install only.
    assert [c.token for c in storm.fake.calls_to("auth.test")] == [first, second]


def test_an_uninstalled_workspace_loses_its_token_and_the_other_goes_on(
    installable: InProcess,
) -> None:
    storm = installable
    _install(storm, "T1")
    second = _install(storm, "T2")
    storm.run("start Checkout", team="T1", channel="C1")
    storm.run("timebox current 20m", team="T1", channel="C1")
    storm.run("start Billing", team="T2", channel="C2")
    storm.run("timebox current 20m", team="T2", channel="C2")
    storm.wait_until_sent()

    storm.fake.revoke_workspace("T1")  # Slack revokes the token and tells the app
    told = storm.slack.event({"type": "app_uninstalled"}, team_id="T1")
    assert told.status == 200
    assert [team for team, _ in _stored_bots(storm)] == ["T2"]

    calls_before = len(storm.fake.calls)
    storm.run("event Invoice Sent", team="T2", channel="C2", user="U2")
    storm.clock.advance(timedelta(minutes=10, seconds=1))
    storm.fake.wait_for(lambda f: any(HALF in text_of(m) for m in storm.posts("C2")))
    storm.wait_until_sent()

    later = storm.fake.calls[calls_before:]
    # T1's half-time post was due too: it was not sent, not even tried with a dead token.
    assert not [c for c in later if c.params.get("channel") == "C1"]
    assert {c.token for c in later if c.params.get("channel") == "C2"} == {second}
    assert any("Invoice Sent" in text_of(m) for m in storm.posts("C2"))
    # A command that still reached Storm from T1 changes nothing there.
    late = storm.slack.command("event Refund Issued", user="U2", channel="C1", team_id="T1")
    assert late.status == 200
    assert _element_names(storm) == ["Invoice Sent"]
    # T1's workshop is kept, as it was: reinstalled, Storm knows it again.
    _install(storm, "T1")
    assert "Checkout" in storm.run("status", team="T1", channel="C1")
    storm.run("event Refund Issued", user="U2", channel="C1", team="T1")
    assert _element_names(storm) == ["Invoice Sent", "Refund Issued"]


def test_a_revoked_bot_token_is_forgotten_for_its_workspace_only(installable: InProcess) -> None:
    storm = installable
    _install(storm, "T1")
    second = _install(storm, "T2")

    storm.fake.revoke_workspace("T1")
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [storm.fake.bot_user_id]}}
    assert storm.slack.event(revoked, team_id="T1").status == 200

    assert _stored_bots(storm) == [("T2", second)]
    assert "Billing" in storm.run("start Billing", team="T2", channel="C2")


def test_stormbot_serve_installed_into_workspaces_logs_no_token_at_debug(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """Each workspace's token comes back from `oauth.v2.access` and goes into the database,
    both of which slack_sdk and SQLAlchemy log in full at DEBUG: none of it reaches the log."""
    fake_slack.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    served = serve_process(fake_slack, f"sqlite:///{tmp_path / 'storm.db'}", tmp_path / "log")
    del served.env["SLACK_BOT_TOKEN"]
    served.env.update(
        SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET, LOG_LEVEL="DEBUG"
    )
    served.start()
    try:
        token = _install(served.base_url, "T1", fake_slack)
        slack = SlackRequests(served.base_url, SIGNING_SECRET, fake=fake_slack, team_id="T1")
        assert slack.command("start Checkout").status == 200
        fake_slack.wait_for(lambda f: any(c.token == token for c in f.calls_to("chat.postMessage")))
    finally:
        served.stop()
    logged = served.log_path.read_text(errors="replace")
    assert "DEBUG" in logged and "oauth.v2.access" in logged  # it did log the exchange
    assert token not in logged and token.split("-", 2)[2] not in logged
    assert CLIENT_SECRET not in logged

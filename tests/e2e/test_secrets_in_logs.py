"""No token or signing secret ever appears in logs or error messages, even at DEBUG.

Admins paste logs into tickets and chat; a bot token in a log is a leaked workspace. The
libraries Storm runs on log a great deal at DEBUG (slack_sdk logs every request it sends,
SQLAlchemy every statement, Bolt every request it refuses), so this captures everything every
logger says at DEBUG through a whole session and through every kind of failure, and looks for
the secrets in it. The same for `python -m bot serve` at `LOG_LEVEL=DEBUG` and for start-up
with a bad setting.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from bot.core.clock import ManualClock
from bot.runtime.app import Storm, build_app
from bot.runtime.settings import Settings
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.slack_requests import SlackRequests
from storage import repository as repo
from storage.unit_of_work import unit_of_work
from tests.support.running import free_port, serve_process

TOKEN = "xoxb-SECRET-TOKEN-123"
SIGNING_SECRET = "SIGNING-SECRET-456"
APP_TOKEN = "xapp-SECRET-APP-TOKEN-789"
# Any recognisable piece of a secret counts as a leak, not only the whole of it.
LEAKS = ("SECRET-TOKEN-123", "SIGNING-SECRET-456", "SECRET-APP-TOKEN-789")
LOGGERS = (
    "",
    "slack_bolt",
    "slack_sdk",
    "storm",
    "bot",
    "storage",
    "apscheduler",
    "sqlalchemy",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "urllib3",
    "uvicorn",
    "uvicorn.error",
)
REPO = Path(__file__).resolve().parents[2]


class _Capture(logging.Handler):
    """Every record, formatted as an admin would see it, traceback included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        with self._guard:
            self.lines.append(text)

    @property
    def text(self) -> str:
        with self._guard:
            return "\n".join(self.lines)


@pytest.fixture
def debug_logs() -> Iterator[_Capture]:
    """Every logger at DEBUG, captured on the root logger; restored afterwards."""
    capture = _Capture()
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    logging.getLogger().addHandler(capture)
    try:
        yield capture
    finally:
        logging.getLogger().removeHandler(capture)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Access lines carry no secret; keep the output for assertions."""


def _serve(storm: Storm) -> tuple[WSGIServer, str]:
    server = make_server("127.0.0.1", 0, storm.wsgi(), server_class=_Server, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


def _assert_no_secret(text: str, where: str) -> None:
    lines = [line for line in text.splitlines() if any(leak in line for leak in LEAKS)]
    assert lines == [], f"{where} shows a secret:\n" + "\n".join(lines)[:3000]


def test_nothing_logged_at_debug_shows_the_token_or_the_signing_secret(
    debug_logs: _Capture, database_url: str
) -> None:
    fake = FakeSlack(TOKEN, users={"U1": {"name": "alice"}, "U2": {"name": "bob"}}).start()
    fake.set_channel_members("C1", ["U1", "U2", fake.bot_user_id])
    settings = Settings(
        slack_bot_token=TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.api_url,
        database_url=database_url,
        log_level="DEBUG",
    )
    clock = ManualClock()
    storm = build_app(settings, clock=clock)
    storm.start()
    server, base_url = _serve(storm)
    slack = SlackRequests(base_url, SIGNING_SECRET, fake=fake)
    answers: list[str] = []

    def run(text: str, user: str = "U1") -> str:
        response = slack.command(text, user=user)
        answers.append(response.body)
        assert response.status == 200, response.body
        return response.body

    def bot_posts(needle: str) -> int:
        return sum(needle in (m.text + json.dumps(m.blocks)) for m in fake.messages("C1"))

    try:
        # A normal session: commands, reactions, posts, an upload.
        run("start Checkout")
        run("event Order Placed; Payment Received", user="U2")
        fake.wait_for(lambda _: bot_posts("*E2*") == 1, timeout=10)
        said = fake.post_user_message("C1", "U2", "Order Shipped")
        assert slack.reaction_added("zap", user="U1", channel="C1", ts=said.ts).status == 200
        fake.wait_for(lambda f: len(f.ephemerals("C1", "U1")) == 1, timeout=10)
        run("vote E1", user="U2")
        run("export json")
        fake.wait_for(lambda f: len(f.files("C1")) == 1, timeout=10)

        # Forged, stale and unsigned requests.
        refused = [
            slack.command("status", signature="v0=" + "0" * 64),
            slack.command("status", timestamp=int(time.time()) - 600),
            slack.command("status", sign=False),
            slack.url_verification("hello", signature="v0=" + "9" * 64),
        ]
        assert [r.status for r in refused] == [401] * 4
        answers.extend(r.body for r in refused)

        # Slack refuses: a revoked token, then a rate limit (retried after Retry-After).
        _settle(storm, clock)
        fake.fail("chat.postMessage", error="invalid_auth")
        run("check")
        fake.wait_for(lambda f: any(c.error == "invalid_auth" for c in f.calls), timeout=10)
        _settle(storm, clock)
        sent = len([c for c in fake.calls_to("chat.postMessage") if c.error is None])
        fake.fail("chat.postMessage", status=429, retry_after=1)
        run("report")
        fake.wait_for(
            lambda f: [c.error for c in f.calls_to("chat.postMessage")].count(None) > sent,
            timeout=15,
        )
        assert any(c.error == "ratelimited" for c in fake.calls_to("chat.postMessage"))

        # Internal failures: Slack answers something that is not what it documents.
        _settle(storm, clock)
        fake.fail("chat.postMessage", body="[1]")  # JSON, but no object: slack_sdk raises
        run("check")
        fake.fail("conversations.history", body="<html>Bad gateway</html>", status=502, times=3)
        other = fake.post_user_message("C1", "U2", "Order Cancelled")
        slack.reaction_added("zap", user="U1", channel="C1", ts=other.ts)
        fake.wait_for(lambda f: len(f.calls_to("conversations.history")) >= 2, timeout=15)

        # And a bug inside a command handler, reported to the person in words.
        real_run = storm.workshops.run

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("boom")

        storm.workshops.run = broken  # type: ignore[method-assign]
        assert "went wrong" in run("status")
        storm.workshops.run = real_run  # type: ignore[method-assign]
        # Wait until each failure has been logged (they are handled on other threads).
        for needle in ("AttributeError", "Bad gateway", "unexpected error"):
            _wait_until(lambda needle=needle: needle in debug_logs.text, needle)
    finally:
        server.shutdown()
        server.server_close()
        storm.stop()
        fake.stop()

    logged = debug_logs.text
    # The capture really was at DEBUG and really saw the failures, or the test proves nothing.
    for expected in ("DEBUG slack_sdk", "DEBUG sqlalchemy", "invalid_auth", "Traceback"):
        assert expected in logged, f"{expected!r} was not logged"
    _assert_no_secret(logged, "the DEBUG log")
    _assert_no_secret("\n".join(answers), "an answer to a person")
    everything_posted = [m.text + json.dumps(m.blocks) for m in fake.messages("C1", True)]
    _assert_no_secret("\n".join(everything_posted), "a message in Slack")


def _settle(storm: Storm, clock: ManualClock, timeout: float = 15.0) -> None:
    """Wait until the outbox has sent everything due, so the next fault meets the next post."""

    def settled() -> bool:
        with unit_of_work(storm.engine) as session:
            due = repo.due_posts(session, now=clock.now())
        return not due and storm.outbox.idle()

    _wait_until(settled, "the outbox to be idle", timeout)


def _wait_until(condition: Any, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never logged: {what}"
        time.sleep(0.05)


def _environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    """A clean environment for `python -m bot`: no inherited Slack settings, no `.env`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STORM_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'storm.db'}",
        PYTHONPATH=str(REPO),
        HOST="127.0.0.1",
        PORT=str(free_port()),
        LOG_LEVEL="DEBUG",
    )
    env.update(settings)
    return env


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"SLACK_BOT_TOKEN": "xoxp-SECRET-TOKEN-123"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "SECRET-APP-TOKEN-789"}, "SLACK_APP_TOKEN"),
        ({"PORT": "SECRET-TOKEN-123"}, "PORT"),
        ({"WEB_CONCURRENCY": "many"}, "WEB_CONCURRENCY"),
        ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET"),
    ],
    ids=["bad-bot-token", "bad-app-token", "bad-port", "bad-workers", "no-signing-secret"],
)
def test_a_bad_setting_stops_start_up_without_showing_a_secret(
    tmp_path: Path, settings: dict[str, str], named: str
) -> None:
    env = _environment(tmp_path, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET)
    env.update(settings)
    if env["SLACK_SIGNING_SECRET"] == "":
        del env["SLACK_SIGNING_SECRET"]
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert named in done.stderr
    _assert_no_secret(done.stdout + done.stderr, "start-up output")


def test_socket_mode_refused_by_slack_does_not_show_the_app_token(tmp_path: Path) -> None:
    """Slack refusing the app token ends start-up with one line that does not quote it."""
    with FakeSlack(TOKEN) as fake:
        env = _environment(
            tmp_path, SLACK_BOT_TOKEN=TOKEN, SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=fake.api_url
        )
        done = subprocess.run(
            [sys.executable, "-m", "bot", "serve"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SLACK_APP_TOKEN" in done.stderr
    assert "DEBUG" in done.stderr  # it did log at DEBUG, so the check below means something
    _assert_no_secret(done.stdout + done.stderr, "Socket Mode start-up output")


def test_stormbot_serve_at_debug_logs_no_secret(tmp_path: Path) -> None:
    with FakeSlack(TOKEN, users={"U1": {"name": "alice"}}) as fake:
        fake.set_channel_members("C1", ["U1", fake.bot_user_id])
        served = serve_process(fake, f"sqlite:///{tmp_path / 'storm.db'}", tmp_path / "log")
        served.env.update(
            SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, LOG_LEVEL="DEBUG"
        )
        served.start()
        try:
            slack = SlackRequests(served.base_url, SIGNING_SECRET, fake=fake)
            assert slack.command("start Checkout").status == 200
            assert slack.command("event Order Placed").status == 200
            said = fake.post_user_message("C1", "U1", "Payment Received")
            assert slack.reaction_added("zap", user="U1", channel="C1", ts=said.ts).status == 200
            fake.wait_for(lambda f: len(f.ephemerals("C1", "U1")) == 1, timeout=15)
            assert slack.command("export md").status == 200
            fake.wait_for(lambda f: len(f.files("C1")) == 1, timeout=15)
            assert slack.command("status", signature="v0=" + "0" * 64).status == 401
            fake.fail("chat.postMessage", error="invalid_auth")
            assert slack.command("check").status == 200
            fake.wait_for(lambda f: any(c.error == "invalid_auth" for c in f.calls), timeout=15)
        finally:
            served.stop()
    logged = served.log_path.read_text(errors="replace")
    assert "DEBUG" in logged and "invalid_auth" in logged
    _assert_no_secret(logged, "`stormbot serve` at DEBUG")

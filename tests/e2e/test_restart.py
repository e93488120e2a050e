"""`stormbot serve` as an admin runs it: restarts lose nothing and missed posts come late, once."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.slack_requests import SlackRequests
from tests.support.running import SIGNING_SECRET, ServeProcess, json_exports, serve_process, text_of


@pytest.fixture
def served(fake_slack: FakeSlack, database_url: str, tmp_path: Path) -> Iterator[ServeProcess]:
    process = serve_process(fake_slack, database_url, tmp_path / "stormbot.log")
    try:
        yield process
    finally:
        process.stop()


def _run(process: ServeProcess, fake: FakeSlack, text: str, user: str = "U1") -> str:
    client = SlackRequests(process.base_url, SIGNING_SECRET, fake=fake)
    response = client.command(text, user=user, channel="C1")
    assert response.status == 200, response.body
    return response.json()["text"]


def _bot_posts(fake: FakeSlack, needle: str) -> list[str]:
    return [
        text_of(m)
        for m in fake.messages("C1")
        if m.user == fake.bot_user_id and needle in text_of(m)
    ]


def _export(process: ServeProcess, fake: FakeSlack) -> dict:
    before = len(json_exports(fake))
    _run(process, fake, "export json")
    fake.wait_for(lambda f: len(json_exports(f)) > before, timeout=10)
    return json.loads(json_exports(fake)[-1].text)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL])
def test_a_restart_between_two_commands_loses_nothing(
    served: ServeProcess, fake_slack: FakeSlack, stop_signal: int
) -> None:
    served.start()
    assert "started" in _run(served, fake_slack, "start Checkout")
    _run(served, fake_slack, "event Order Placed; Payment Received", user="U2")
    _run(served, fake_slack, "vote E1", user="U3")
    # Posts are sent at most once: one claimed at the instant of a SIGKILL would be lost, so
    # let the kickoff and the prompt go out before killing; the model itself is never at risk.
    fake_slack.wait_for(lambda f: len(_bot_posts(f, "Step 1 of 8")) == 1, timeout=10)
    served.stop(stop_signal)

    served.start()
    assert "Added 1 event" in _run(served, fake_slack, "event Order Shipped")
    model = _export(served, fake_slack)
    assert [(e["id"], e["name"], e["votes"]) for e in model["events"]] == [
        ("E1", "Order Placed", 1),
        ("E2", "Payment Received", 0),
        ("E3", "Order Shipped", 0),
    ]
    assert model["workshop"]["title"] == "Checkout"
    fake_slack.wait_for(lambda f: len(_bot_posts(f, "Step 1 of 8")) >= 1, timeout=10)
    assert len(_bot_posts(fake_slack, "Workshop: Checkout")) == 1
    assert len(_bot_posts(fake_slack, "Step 1 of 8: Collect")) == 1


def test_a_deadline_missed_while_stopped_is_posted_once_after_start_marked_late(
    served: ServeProcess, fake_slack: FakeSlack
) -> None:
    served.start()
    _run(served, fake_slack, "start Checkout")
    _run(served, fake_slack, "timebox current 90s")
    fake_slack.wait_for(lambda f: len(_bot_posts(f, "Step 1 of 8")) == 1, timeout=10)
    served.stop()
    time.sleep(1)

    # Move time: the 90 s timebox ran out more than a minute ago while the bot was down.
    _backdate_step(served, seconds=200)
    served.start()
    fake_slack.wait_for(lambda f: len(_bot_posts(f, "Time's up")) == 1, timeout=15)
    (up,) = _bot_posts(fake_slack, "Time's up")
    assert "Late: this was due" in up
    served.stop()
    served.start()
    time.sleep(1.5)
    assert len(_bot_posts(fake_slack, "Time's up")) == 1
    assert _bot_posts(fake_slack, "Half time") == []  # moot: its deadline had passed too


def _backdate_step(process: ServeProcess, *, seconds: int) -> None:
    """Shift the workshop's schedule into the past, as if the process had been down that long."""
    from sqlmodel import select

    from storage.db import make_engine
    from storage.tables import ScheduledPost, StepRun, Workshop
    from storage.unit_of_work import unit_of_work

    engine = make_engine(process.env["DATABASE_URL"])
    shift = timedelta(seconds=seconds)
    with unit_of_work(engine) as session:
        for table in (Workshop, StepRun, ScheduledPost):
            for row in session.exec(select(table)):
                for column in ("started_at", "opened_at", "deadline_at", "due_at"):
                    if getattr(row, column, None) is not None:
                        setattr(row, column, getattr(row, column) - shift)
                session.add(row)
    engine.dispose()


def test_an_app_token_selects_socket_mode_through_slack_api_url(
    served: ServeProcess, fake_slack: FakeSlack
) -> None:
    env = {**served.env, "SLACK_APP_TOKEN": "xapp-1-not-known-to-slack"}
    env.pop("SLACK_SIGNING_SECRET")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    methods = {call.method for call in fake_slack.calls}
    assert "apps.connections.open" in methods and methods <= {"apps.connections.open", "auth.test"}
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "stormbot: Slack refused the Socket Mode connection (invalid_auth): check SLACK_APP_TOKEN"
    )


def test_a_digest_missed_while_stopped_is_late_within_the_hour_else_waits_a_day(
    served: ServeProcess, fake_slack: FakeSlack
) -> None:
    # A digest time six hours away, so that "the next one" is in the future whatever the
    # time of day the test runs at (09:00 would itself be late between 09:00 and 10:00).
    at = datetime.now(UTC) + timedelta(hours=6)
    served.start()
    _run(served, fake_slack, "start Checkout")
    fake_slack.wait_for(lambda f: len(_bot_posts(f, "Step 1 of 8")) == 1, timeout=10)
    _run(served, fake_slack, f"digest {at:%H:%M}")
    fake_slack.wait_for(lambda _: _pending_digest(served) is not None, timeout=10)
    served.stop()

    _move_pending_digest(served, minutes_ago=30)  # down through digest time, back 30 min later
    served.start()
    fake_slack.wait_for(lambda f: len(_bot_posts(f, "Daily digest")) == 1, timeout=15)
    assert "Late: this was due" in _bot_posts(fake_slack, "Daily digest")[0]
    fake_slack.wait_for(lambda _: _pending_digest(served) is not None, timeout=10)
    served.stop()

    _move_pending_digest(served, minutes_ago=120)  # more than an hour late: moot
    served.start()
    fake_slack.wait_for(lambda _: _pending_digest(served) is not None, timeout=10)
    time.sleep(1)
    assert len(_bot_posts(fake_slack, "Daily digest")) == 1
    following = _pending_digest(served)  # the next digest time (the facilitator is in UTC)
    assert following is not None and following > datetime.now(UTC)
    assert (following.hour, following.minute) == (at.hour, at.minute)
    assert following - datetime.now(UTC) <= timedelta(days=1)


def _pending_digest(process: ServeProcess) -> datetime | None:
    from sqlmodel import select

    from storage.db import make_engine
    from storage.tables import ScheduledPost
    from storage.unit_of_work import unit_of_work

    engine = make_engine(process.env["DATABASE_URL"])
    with unit_of_work(engine) as session:
        post = session.exec(
            select(ScheduledPost).where(
                ScheduledPost.kind == "digest", ScheduledPost.status == "pending"
            )
        ).first()
        due = post.due_at if post else None
    engine.dispose()
    return due


def _move_pending_digest(process: ServeProcess, *, minutes_ago: int) -> None:
    from sqlmodel import select

    from storage.db import make_engine
    from storage.tables import ScheduledPost
    from storage.unit_of_work import unit_of_work

    engine = make_engine(process.env["DATABASE_URL"])
    with unit_of_work(engine) as session:
        post = session.exec(
            select(ScheduledPost).where(
                ScheduledPost.kind == "digest", ScheduledPost.status == "pending"
            )
        ).one()
        post.due_at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
        session.add(post)
    engine.dispose()


def _background_worker(process: ServeProcess, timeout: float = 15.0) -> int:
    """The serving process's child that runs niced: the background worker (it lowers its
    priority once it has started)."""
    assert process.process is not None
    master = process.process.pid
    deadline = time.monotonic() + timeout
    while True:
        children = [  # a restarted worker is the child of the thread that watches it
            pid
            for task in Path(f"/proc/{master}/task").iterdir()
            for pid in (task / "children").read_text().split()
        ]
        niced = [
            int(pid)
            for pid in children
            if int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16]) > 0
        ]
        if len(niced) == 1 or time.monotonic() > deadline:
            assert len(niced) == 1, f"expected one background worker among {children}"
            return niced[0]
        time.sleep(0.1)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads Linux's /proc")
def test_a_dead_background_worker_is_replaced_and_what_it_left_is_sent(
    served: ServeProcess, fake_slack: FakeSlack
) -> None:
    served.start()
    _run(served, fake_slack, "start Checkout")
    fake_slack.wait_for(lambda f: len(_bot_posts(f, "Step 1 of 8")) == 1, timeout=15)
    first = _background_worker(served)
    subprocess.run(["kill", "-KILL", str(first)], check=True)
    # The web workers keep acknowledging while it is down; its replacement posts the element.
    assert "Added 1 event" in _run(served, fake_slack, "event Order Placed")
    # The element's own message (the step prompt's examples may name an "Order Placed" too).
    fake_slack.wait_for(lambda f: len(_bot_posts(f, "*E1* Order Placed")) == 1, timeout=30)
    assert _background_worker(served) != first


def test_served_http_refuses_a_non_numeric_timestamp_and_reports_health(
    served: ServeProcess, fake_slack: FakeSlack
) -> None:
    served.start()
    client = SlackRequests(served.base_url, SIGNING_SECRET, fake=fake_slack)
    refused = client.command("start Checkout", channel="C1", timestamp="soon")
    assert refused.status == 401
    with urllib.request.urlopen(served.base_url + "healthz", timeout=5) as reply:
        assert reply.status == 200
    assert fake_slack.messages("C1") == []  # nothing was started by the refused request


def test_a_client_sending_its_request_slowly_holds_up_nobody(
    served: ServeProcess, fake_slack: FakeSlack
) -> None:
    """Requests take turns in a web worker, but only once their body is in: a client that
    stalls half-way through its request must not keep the worker from answering others."""
    served.env["WEB_CONCURRENCY"] = "1"  # both requests land in the same worker
    served.start()
    client = SlackRequests(served.base_url, SIGNING_SECRET, fake=fake_slack)
    body = urllib.parse.urlencode(client.command_payload("start Slowly", channel="C2")).encode()
    stalled = socket.create_connection(("127.0.0.1", served.port), timeout=5)
    try:
        head = (
            f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        stalled.sendall(head + body[: len(body) // 2])  # and nothing more for now
        time.sleep(0.5)
        started = client.command("start Checkout", channel="C1")
        assert started.status == 200
        assert "Checkout" in started.json()["text"]
    finally:
        stalled.close()

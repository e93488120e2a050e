"""`stormbot serve` in Socket Mode against a fake Socket Mode server speaking Slack's protocol:
commands are acknowledged through refreshes and drops, `/healthz` answers, SIGTERM stops it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.sandbox.blockkit import action_payload, find_choice
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.slack_requests import SlackRequests
from tests.support import peek
from tests.support.running import SIGNING_SECRET, ServeProcess, answer_text, serve_process
from tests.support.socket_mode import APP_TOKEN, Ack, FakeSocketMode, Link


@pytest.fixture
def serve(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path, socket_mode: FakeSocketMode
) -> Iterator[Callable[[int], ServeProcess]]:
    """Starts `stormbot serve` in Socket Mode with that many connections, once they are up."""
    processes: list[ServeProcess] = []

    def start(connections: int) -> ServeProcess:
        process = serve_process(fake_slack, database_url, tmp_path / "stormbot.log")
        process.env.pop("SLACK_SIGNING_SECRET")  # Socket Mode needs none
        process.env["SLACK_APP_TOKEN"] = APP_TOKEN
        process.env["SOCKET_MODE_CONNECTIONS"] = str(connections)
        processes.append(process)
        process.start()  # returns once GET /healthz answers 200
        socket_mode.wait_for_live(connections)
        return process

    try:
        yield start
    finally:
        for process in processes:
            process.stop()


def _command(
    socket_mode: FakeSocketMode, fake: FakeSlack, text: str, *, link: Link | None = None
) -> Ack:
    """`/storm <text>` as Slack sends it over Socket Mode; returns its acknowledgement."""
    payload = SlackRequests("http://127.0.0.1:1/", SIGNING_SECRET, fake=fake).command_payload(text)
    return socket_mode.command(payload, link=link)


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far (Linux's /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_commands_are_acknowledged_with_the_answer_and_healthz_answers(
    serve: Callable[[int], ServeProcess], socket_mode: FakeSocketMode, fake_slack: FakeSlack
) -> None:
    process = serve(2)
    assert "Checkout" in answer_text(_command(socket_mode, fake_slack, "start Checkout").payload)
    added = _command(socket_mode, fake_slack, "event Order Placed; Payment Received")
    assert "Added 2 events" in answer_text(added.payload)
    with urllib.request.urlopen(process.base_url + "healthz", timeout=5) as reply:
        assert reply.status == 200
        assert json.loads(reply.read())["database"] == "ok"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(process.base_url + "slack/events", timeout=5)
    assert missing.value.code == 404
    opened = fake_slack.calls_to("apps.connections.open")  # with the app token, via SLACK_API_URL
    assert opened and all(call.error is None for call in opened)
    assert len(socket_mode.live()) == 2


def test_after_a_refresh_the_next_command_is_acknowledged_at_once(
    serve: Callable[[int], ServeProcess], socket_mode: FakeSocketMode, fake_slack: FakeSlack
) -> None:
    serve(1)
    _command(socket_mode, fake_slack, "start Checkout")
    for n in range(3):  # Slack refreshes every few hours; each time alike
        (old,) = socket_mode.live()
        asked = time.monotonic()
        socket_mode.refresh(old)
        new = socket_mode.wait_for_new(asked)
        ack = _command(socket_mode, fake_slack, f"event Refreshed {n}", link=new)
        print(
            f"refresh {n + 1}: new connection after {(new.opened_at - asked) * 1000:.0f} ms, "
            f"first command acknowledged in {ack.seconds * 1000:.1f} ms"
        )
        assert "Added 1 event" in answer_text(ack.payload)
        assert ack.seconds <= 1.0
        socket_mode.wait_closed(old)
        assert old.close_code == 1000  # the client closed the old connection properly


@pytest.mark.parametrize("failure", ["drop", "stall"])
def test_a_broken_connection_is_replaced_within_15_seconds_without_spinning(
    serve: Callable[[int], ServeProcess],
    socket_mode: FakeSocketMode,
    fake_slack: FakeSlack,
    failure: str,
) -> None:
    """`drop`: the TCP connection ends without a close frame; `stall`: it stays open but
    nothing comes back, not even a pong."""
    process = serve(1)
    assert process.process is not None
    _command(socket_mode, fake_slack, "start Checkout")
    (old,) = socket_mode.live()
    broken, cpu_before = time.monotonic(), _cpu_seconds(process.process.pid)
    getattr(socket_mode, failure)(old)
    new = socket_mode.wait_for_new(broken, timeout=20)
    cpu = _cpu_seconds(process.process.pid) - cpu_before
    down = new.opened_at - broken
    print(f"{failure}: reconnected after {down:.2f} s, using {cpu:.2f} s of CPU meanwhile")
    assert down <= 15.0
    assert cpu <= 0.2 * down + 0.3  # idle while waiting, not a core spinning
    ack = _command(socket_mode, fake_slack, "event After The Break", link=new)
    assert "Added 1 event" in answer_text(ack.payload)


def test_with_two_connections_a_refresh_or_a_drop_leaves_no_gap(
    serve: Callable[[int], ServeProcess], socket_mode: FakeSocketMode, fake_slack: FakeSlack
) -> None:
    serve(2)
    _command(socket_mode, fake_slack, "start Checkout")
    first, second = socket_mode.live()
    asked = time.monotonic()
    socket_mode.refresh(first)
    # Slack sends the next command over the other connection straight away.
    ack = _command(socket_mode, fake_slack, "event During Refresh")
    assert ack.link == second.id and "Added 1 event" in answer_text(ack.payload)
    assert ack.seconds <= 1.0

    replacement = socket_mode.wait_for_new(asked)
    socket_mode.drop(second)
    ack = _command(socket_mode, fake_slack, "event During Drop")
    assert ack.link == replacement.id and "Added 1 event" in answer_text(ack.payload)
    assert ack.seconds <= 1.0
    socket_mode.wait_for_live(2)


def test_sigterm_closes_the_connections_then_stops_storm_and_exits_0(
    serve: Callable[[int], ServeProcess],
    socket_mode: FakeSocketMode,
    fake_slack: FakeSlack,
    tmp_path: Path,
    database: str,
    database_url: str,
) -> None:
    process = serve(2)
    assert process.process is not None
    _command(socket_mode, fake_slack, "start Checkout")
    links = socket_mode.live()
    asked = time.monotonic()
    process.process.send_signal(signal.SIGTERM)
    assert process.process.wait(timeout=10) == 0
    print(f"SIGTERM: exited after {time.monotonic() - asked:.2f} s")
    assert time.monotonic() - asked <= 5.0
    assert [link.close_code for link in links] == [1000, 1000]  # close frames, not just gone
    assert socket_mode.links(open_only=True) == []
    assert peek.rows(database_url, "SELECT title FROM workshop") == [("Checkout",)]
    if database == "sqlite":  # its engine was disposed: SQLite folded its log back into the file
        path = tmp_path / "storm.db"
        assert not Path(f"{path}-wal").exists()
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert "Storm stopped" in (tmp_path / "stormbot.log").read_text()


def test_a_click_opens_a_form_whose_submission_is_checked_over_socket_mode(
    serve: Callable[[int], ServeProcess], socket_mode: FakeSocketMode, fake_slack: FakeSlack
) -> None:
    """The manifest's default mode carries clicks and forms too: Rename… on an element's
    message opens the form within the click's 3 s, a wrong name is answered beside the field
    in the envelope's acknowledgement, and a good one renames the element."""
    serve(1)
    _command(socket_mode, fake_slack, "start Checkout")
    _command(socket_mode, fake_slack, "event Order Placed")
    fake_slack.wait_for(
        lambda f: any("*E1*" in m.text or "E1 " in m.text for m in f.messages("C1"))
    )
    (message,) = [m for m in fake_slack.messages("C1") if m.text.startswith("E1 ")]
    requests = SlackRequests("http://127.0.0.1:1/", SIGNING_SECRET, fake=fake_slack)
    menu = find_choice(message.blocks or [], "Rename…")
    click = requests.block_actions_payload(
        [action_payload(menu, "1.0")], user="U1", channel="C1", message_ts=message.ts
    )
    socket_mode.ack(socket_mode.send(click, kind="interactive"))
    fake_slack.wait_for(lambda f: len(f.open_views("U1")) == 1)
    form = fake_slack.open_views("U1")[0]

    def submit(name: str) -> Ack:
        values = requests.form_values(form, {"New name": name}, user="U1")
        payload = requests.view_submission_payload(form, user="U1", values=values)
        return socket_mode.ack(socket_mode.send(payload, kind="interactive"))

    refused = submit("  ")
    assert refused.payload == {
        "response_action": "errors",
        "errors": {"name": "The new name cannot be empty"},
    }
    assert submit("Order Submitted").payload in ({}, None)
    fake_slack.wait_for(
        lambda f: any(m.text.startswith("E1 Order Submitted") for m in f.messages("C1"))
    )

"""Concurrent requests against `stormbot serve` (two uvicorn web workers and the background
worker on one SQLite file)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.slack_requests import SlackRequests
from tests.support.running import SIGNING_SECRET, ServeProcess, serve_process


@pytest.fixture
def served(fake_slack: FakeSlack, database_url: str, tmp_path: Path) -> Iterator[ServeProcess]:
    process = serve_process(fake_slack, database_url, tmp_path / "stormbot.log").start()
    try:
        yield process
    finally:
        process.stop()


def test_concurrent_commands_and_reactions_are_all_kept(
    served: ServeProcess, fake_slack: FakeSlack
) -> None:
    slack = SlackRequests(served.base_url, SIGNING_SECRET, fake=fake_slack)
    assert slack.command("start Checkout").status == 200
    messages = [fake_slack.post_user_message("C1", "U2", f"Reacted Event {n}") for n in range(20)]

    def command(n: int) -> int:
        return slack.command(f"event Typed Event {n}", user=f"U{n % 3 + 1}").status

    def reaction(n: int) -> int:
        return slack.reaction_added("zap", user="U3", channel="C1", ts=messages[n].ts).status

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(command, range(40))) + list(pool.map(reaction, range(20)))
    assert statuses == [200] * 60

    # Reactions are applied after their ack; each is confirmed to the reactor when it is.
    fake_slack.wait_for(lambda f: len(f.ephemerals("C1", "U3")) == 20, timeout=20)
    slack.command("export json")
    fake_slack.wait_for(lambda f: len(f.files()) == 1, timeout=15)
    events = json.loads(fake_slack.files()[0].text)["events"]
    names = sorted(e["name"] for e in events)
    assert names == sorted(
        [f"Typed Event {n}" for n in range(40)] + [f"Reacted Event {n}" for n in range(20)]
    )
    assert sorted(int(e["id"][1:]) for e in events) == list(range(1, 61))
    assert "database is locked" not in served.log_path.read_text()

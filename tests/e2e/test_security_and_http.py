"""Signature checks (SPEC §9), the health check, and what is served where."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from tests.support.running import InProcess


def _workshop_exists(storm: InProcess) -> bool:
    return "no workshop" not in storm.run("status").lower()


@pytest.mark.parametrize(
    "forgery",
    [
        {"signature": "v0=" + "0" * 64},
        {"sign": False},
        {"timestamp": -6 * 60},
        {"timestamp": +6 * 60},
        {"signature": "not-a-signature"},
    ],
    ids=["forged", "missing", "stale", "from-the-future", "malformed"],
)
def test_a_badly_signed_command_is_refused_and_changes_nothing(
    storm: InProcess, forgery: dict
) -> None:
    if "timestamp" in forgery:  # an offset from now, taken when the request is sent
        forgery = {"timestamp": int(time.time()) + forgery["timestamp"]}
    response = storm.slack.command("start Hijacked", **forgery)
    assert response.status == 401
    assert not _workshop_exists(storm)
    assert storm.fake.calls_to("chat.postMessage") == []


def test_a_badly_signed_event_is_refused_and_changes_nothing(storm: InProcess) -> None:
    storm.run("start Checkout")
    said = storm.fake.post_user_message("C1", "U2", "Order Placed")
    event = storm.slack.reaction_event("reaction_added", "zap", user="U2", channel="C1", ts=said.ts)
    assert storm.slack.event(event, signature="v0=" + "1" * 64).status == 401
    time.sleep(0.5)
    assert storm.fake.calls_to("conversations.history") == []
    assert "0 events" not in storm.run("status") and "nothing yet" in storm.run("status")


def test_url_verification_is_answered(storm: InProcess) -> None:
    response = storm.slack.url_verification("challenge-123")
    assert response.status == 200
    assert "challenge-123" in response.body


def test_healthz_reports_the_database_and_the_backlogs(storm: InProcess) -> None:
    url = storm.slack.base_url + "healthz"
    with urllib.request.urlopen(url, timeout=5) as reply:
        assert reply.status == 200
        assert json.loads(reply.read()) == {
            "database": "ok",
            "outbox": {"backlog": 0, "oldest_due_seconds": 0.0},
            "inbox": {"backlog": 0},
        }
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(storm.slack.base_url + "elsewhere", timeout=5)
    assert missing.value.code == 404

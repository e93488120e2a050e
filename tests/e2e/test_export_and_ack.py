"""The JSON export, and acknowledgements that never wait for the Slack Web API."""

from __future__ import annotations

import json
from datetime import datetime

from tests.support.running import InProcess


def test_export_json_uploads_the_model_so_far(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("event Order Placed; Payment Received", user="U2")
    storm.run("vote E2", user="U1")
    storm.run("vote E2", user="U3")
    answer = storm.run("export json", user="U3")
    assert "file will appear" in answer
    storm.fake.wait_for(lambda f: len(f.files("C1")) == 1)
    (upload,) = storm.fake.files("C1")
    assert upload.filename.startswith("storm-") and upload.filename.endswith(".json")
    model = json.loads(upload.text)
    assert model["format"] == "storm-model/1"
    workshop = model["workshop"]
    assert (workshop["title"], workshop["team"], workshop["channel"]) == ("Checkout", "T0001", "C1")
    assert workshop["facilitators"] == ["U1"]
    assert workshop["step"] == {"number": 1, "name": "Collect Domain Events"}
    assert workshop["started_at"].endswith("Z") and workshop["finished_at"] is None
    datetime.fromisoformat(workshop["started_at"])
    assert model["events"] == [
        {
            "id": "E1",
            "name": "Order Placed",
            "position": 1,
            "author": "U2",
            "votes": 0,
            "aggregate": None,
            "fields": [],
        },
        {
            "id": "E2",
            "name": "Payment Received",
            "position": 2,
            "author": "U2",
            "votes": 2,
            "aggregate": None,
            "fields": [],
        },
    ]
    for key in (
        "commands",
        "views",
        "aggregates",
        "policies",
        "actors",
        "externals",
        "screens",
        "hotspots",
        "scenarios",
    ):
        assert model[key] == []


def test_commands_are_acknowledged_while_slack_is_slow(storm: InProcess) -> None:
    storm.fake.fail("chat.postMessage", delay=3.5, times=3)
    response = storm.slack.command("start Checkout")
    assert response.status == 200
    assert response.elapsed < 1.0
    response = storm.slack.command("event Order Placed")
    assert response.elapsed < 1.0
    storm.wait_for_post("Step 1 of 8", timeout=15)


def test_reactions_are_acknowledged_while_slack_is_slow(storm: InProcess) -> None:
    storm.run("start Checkout")
    said = storm.fake.post_user_message("C1", "U2", "Order Placed")
    storm.fake.fail("conversations.history", delay=3.5)
    response = storm.slack.reaction_added("zap", user="U2", channel="C1", ts=said.ts)
    assert response.status == 200
    assert response.elapsed < 1.0
    storm.wait_for_post("*E1* Order Placed", timeout=15)

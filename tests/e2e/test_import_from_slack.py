"""Importing a model from Slack (SPEC §7.1) over signed HTTP: `/storm import`'s form with a
file input, the Import into Storm message shortcut, the confirmation before adding to a
workshop that has elements, and every kind of bad file answered in words with nothing stored.
The file is read from the fake Slack as from Slack (`files.info`, then its private URL with
the bot token), after the acknowledgement."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.sandbox.fake_slack import FakeSlack, Message
from bot.sandbox.slack_requests import SlackRequests
from bot.slack.shortcuts import IMPORT_INTO_STORM
from tests.e2e.test_manifest import MANIFEST
from tests.support.running import (
    CHANNEL,
    SIGNING_SECRET,
    InProcess,
    ServeProcess,
    serve_process,
    text_of,
)
from tests.support.shared import schema

OTHER = "C2"  # a channel without a workshop
MB = 1024 * 1024


@pytest.fixture
def storm_with_model(storm: InProcess) -> tuple[InProcess, dict[str, Any]]:
    """Storm, a workshop in C1 with events, a command, fields and a scenario, and its export
    (storm-model/1) as Storm itself wrote it; C2 has the same people and no workshop."""
    storm.fake.set_channel_members(OTHER, ["U1", "U2", "U3", storm.fake.bot_user_id])
    storm.run("start Checkout")
    storm.run("event Order Placed; Payment Received")
    storm.run("command Place Order -> E1")
    storm.run("fields C1: order id:UUID*, total:Decimal")
    storm.run("view Orders <- E1, E2")
    storm.run("scenario Happy path: given nothing when C1 then E1")
    return storm, storm.export_json()


def told(storm: InProcess, user: str, needle: str, channel: str = OTHER) -> Message:
    """The ephemeral message shown to `user` in `channel` that says `needle`."""

    def seen(_: object) -> bool:
        return any(needle in text_of(m) for m in storm.fake.ephemerals(channel, user))

    try:
        storm.fake.wait_for(seen, timeout=15)
    except AssertionError:
        shown = [text_of(m) for m in storm.fake.ephemerals(channel, user)]
        raise AssertionError(f"{user} was told {shown!r}") from None
    return next(m for m in storm.fake.ephemerals(channel, user) if needle in text_of(m))


def posted(storm: InProcess, needle: str, channel: str = OTHER) -> Message:
    """Storm's post in `channel` that says `needle`."""
    storm.fake.wait_for(lambda _: any(needle in text_of(m) for m in storm.posts(channel)))
    return next(m for m in storm.posts(channel) if needle in text_of(m))


def the_model(model: dict[str, Any]) -> dict[str, Any]:
    """What an import keeps of an export: the elements and their links (not who made the
    workshop, when, nor its score)."""
    kept = {k: v for k, v in model.items() if k not in ("workshop", "completeness")}
    for events in kept["events"]:
        events.pop("author", None)
    for hotspot in kept.get("hotspots", []):
        hotspot.pop("author", None)
    return kept


def shortcut(storm: InProcess, message: Message, user: str = "U2") -> None:
    response = storm.slack.shortcut(message.channel, message.ts, IMPORT_INTO_STORM, user=user)
    assert response.status == 200, response.body


def nothing_stored(storm: InProcess, channel: str = OTHER) -> None:
    """No workshop was started, and Storm posted nothing in the channel."""
    assert "There is no workshop in this channel" in storm.run("status", channel=channel)
    assert storm.posts(channel) == []


def test_the_shortcut_is_declared_and_its_scope_asked_for() -> None:
    jsonschema.validate(MANIFEST, schema("slack-manifest.schema.json"))
    declared = {s["callback_id"]: s for s in MANIFEST["features"]["shortcuts"]}
    assert (declared[IMPORT_INTO_STORM]["name"], declared[IMPORT_INTO_STORM]["type"]) == (
        "Import into Storm",
        "message",
    )
    # files.info and the file input both need it (Slack's file input reference).
    assert "files:read" in MANIFEST["oauth_config"]["scopes"]["bot"]


def test_the_form_imports_what_storm_exported_into_a_new_workshop_after_the_ack(
    storm_with_model: tuple[InProcess, dict[str, Any]],
) -> None:
    storm, model = storm_with_model
    response = storm.slack.command("import", user="U2", channel=OTHER)
    assert response.status == 200 and response.body == ""  # the form is the answer
    (form,) = storm.fake.open_views("U2")
    assert form["title"]["text"] == "Import a model"
    (field,) = [b for b in form["blocks"] if b["type"] == "input"]
    assert field["element"] == {
        "type": "file_input",
        "action_id": "value",
        "filetypes": ["json"],
        "max_files": 1,
    }
    uploaded = storm.fake.upload_to_form("U2", "checkout.json", json.dumps(model).encode())
    # Slack is slow to answer: the form closes at once all the same.
    storm.fake.fail("files.info", delay=1.5)
    started = time.monotonic()
    submitted = storm.slack.submit("U2", {"Model file": uploaded["id"]})
    assert time.monotonic() - started < 1.0
    assert submitted.outcome == "closed", submitted.errors

    answer = told(storm, "U2", "Imported *checkout.json* into the new workshop *Checkout*")
    assert "you are its facilitator" in text_of(answer)
    posted(storm, "<@U2> imported *checkout.json*")
    assert the_model(storm.export_json(channel=OTHER)) == the_model(model)
    # The bot token went to the fake's own address, and nowhere else.
    (download,) = storm.fake.calls_to("file_download")
    assert (download.params, download.error) == ({"file": uploaded["id"]}, None)


def test_a_form_without_a_file_is_sent_back(storm: InProcess) -> None:
    storm.slack.command("import", user="U2", channel=OTHER)
    submitted = storm.slack.submit("U2", {})
    assert submitted.outcome == "errors"
    assert submitted.errors == {"file": "Choose the model file (.json) to import."}
    assert storm.fake.calls_to("files.info") == []


def test_the_shortcut_imports_the_file_a_message_carries(
    storm_with_model: tuple[InProcess, dict[str, Any]],
) -> None:
    storm, model = storm_with_model
    shared = storm.fake.share_file(
        OTHER, "U3", "checkout.json", json.dumps(model).encode(), text="our model"
    )
    shortcut(storm, shared, user="U2")  # anyone in the channel, not only who shared it
    told(storm, "U2", "Imported *checkout.json* into the new workshop *Checkout*")
    assert the_model(storm.export_json(channel=OTHER)) == the_model(model)


def test_of_several_files_the_shortcut_takes_the_first_json_and_says_so(
    storm_with_model: tuple[InProcess, dict[str, Any]],
) -> None:
    storm, model = storm_with_model
    shared = storm.fake.share_files(
        OTHER,
        "U2",
        [("notes.txt", b"read me"), ("checkout.json", json.dumps(model).encode())],
    )
    shortcut(storm, shared)
    answer = text_of(told(storm, "U2", "Imported *checkout.json*"))
    assert "That message carries 2 files: Storm read the first `.json`, *checkout.json*." in answer


@pytest.mark.parametrize(
    ("files", "said"),
    [
        ([], "That message carries no file."),
        ([("a.txt", b"a"), ("b.png", b"b")], "That message carries 2 files and none is a `.json`"),
    ],
)
def test_a_message_without_a_file_to_take_is_answered_at_once(
    storm: InProcess, files: list[tuple[str, bytes]], said: str
) -> None:
    message = (
        storm.fake.share_files(OTHER, "U2", files)
        if files
        else storm.fake.post_user_message(OTHER, "U2", "here is our model")
    )
    shortcut(storm, message)
    assert said in text_of(told(storm, "U2", said))
    assert storm.fake.calls_to("files.info") == []
    nothing_stored(storm)


def _changed(model: dict[str, Any], change: str) -> bytes:
    broken = copy.deepcopy(model)
    if change == "undefined":
        broken["commands"][0]["causes"] = ["E9"]
    elif change == "duplicate":
        broken["events"][1]["id"] = "E1"
    return json.dumps(broken).encode()


def _big(count: int) -> bytes:
    events = [{"id": f"E{n}", "name": f"Event {n}", "position": n} for n in range(1, count + 1)]
    return json.dumps({"format": "storm-model/1", "workshop": {"title": "Big"}, "events": events})


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("not json", "the file is not JSON"),
        ("another shape", 'this JSON is an object with keys "hello", not a model Storm reads'),
        ("undefined", "commands[0]: causes refers to E9, which the file does not define"),
        ("duplicate", "events[1].id: the id E1 is used twice (also by events[0])"),
        ("20,000 elements", "the file holds 20,000 elements; Storm imports at most 10,000"),
    ],
)
def test_a_bad_file_is_refused_naming_its_first_problem_and_nothing_is_stored(
    storm_with_model: tuple[InProcess, dict[str, Any]], kind: str, said: str
) -> None:
    storm, model = storm_with_model
    data = {
        "not json": b"format: storm-model/1\nevents: [",
        "another shape": b'{"hello": "world"}',
        "undefined": _changed(model, "undefined"),
        "duplicate": _changed(model, "duplicate"),
        "20,000 elements": _big(20_000).encode(),
    }[kind]
    shortcut(storm, storm.fake.share_file(OTHER, "U2", "model.json", data))
    answer = text_of(told(storm, "U2", "I could not import *model.json*"))
    assert said in answer and answer.endswith("Nothing was stored.")
    nothing_stored(storm)


def test_a_file_over_5_mb_is_refused_before_it_is_downloaded(storm: InProcess) -> None:
    storm.slack.command("import", user="U2", channel=OTHER)
    uploaded = storm.fake.upload_to_form("U2", "huge.json", b" " * (6 * MB))
    assert storm.slack.submit("U2", {"Model file": uploaded["id"]}).outcome == "closed"
    answer = text_of(told(storm, "U2", "Storm imports model files up to 5 MB"))
    assert "*huge.json* is 6.0 MB" in answer and "Nothing was imported." in answer
    assert storm.fake.calls_to("file_download") == []
    nothing_stored(storm)


def test_a_file_just_over_5_mb_does_not_read_as_5_mb(storm: InProcess) -> None:
    shared = storm.fake.share_file(OTHER, "U2", "model.json", b" " * (5 * MB + 1))
    shortcut(storm, shared)
    assert "*model.json* is 5.1 MB" in text_of(told(storm, "U2", "up to 5 MB"))


def test_a_file_slack_no_longer_has_is_explained(storm: InProcess) -> None:
    shared = storm.fake.share_file(OTHER, "U2", "model.json", b"{}")
    storm.fake.fail("files.info", error="file_deleted")
    shortcut(storm, shared)
    answer = text_of(told(storm, "U2", "Storm could not read the file from Slack"))
    assert "(file_deleted)" in answer and "Nothing was imported." in answer
    nothing_stored(storm)


def test_hostile_names_are_shown_as_text_never_as_mentions(
    storm_with_model: tuple[InProcess, dict[str, Any]],
) -> None:
    storm, model = storm_with_model
    hostile = copy.deepcopy(model)
    hostile["workshop"]["title"] = "<!here> Checkout"
    hostile["events"][0]["name"] = "<!channel> *Order* <@U3> placed"
    data = json.dumps(hostile).encode()
    shortcut(storm, storm.fake.share_file(OTHER, "U2", "<!everyone>\u0007 model.json", data))

    answer = text_of(told(storm, "U2", "Imported"))
    assert "*&lt;!everyone&gt; model.json*" in answer
    assert "&lt;!here&gt; Checkout" in answer
    posted(storm, "imported *&lt;!everyone&gt; model.json*")
    # Slack reads mentions in mrkdwn and in a message's text (plain text shows them as is).
    everything = json.dumps(
        [
            [m.text, *_mrkdwn(m.blocks or [])]
            for m in storm.fake.messages(OTHER, include_ephemeral=True)
        ]
    )
    for mention in ("<!everyone>", "<!here>", "<!channel>", "<@U3>", "\\u0007"):
        assert mention not in everything
    assert storm.export_json(channel=OTHER)["events"][0]["name"] == hostile["events"][0]["name"]


def _mrkdwn(found: Any) -> list[str]:
    """Every mrkdwn text in blocks."""
    if isinstance(found, list):
        return [text for item in found for text in _mrkdwn(item)]
    if not isinstance(found, dict):
        return []
    own = [found["text"]] if found.get("type") == "mrkdwn" else []
    return own + [text for value in found.values() for text in _mrkdwn(value)]


def test_a_long_title_is_refused_naming_where(
    storm_with_model: tuple[InProcess, dict[str, Any]],
) -> None:
    storm, model = storm_with_model
    long = copy.deepcopy(model)
    long["workshop"]["title"] = "x" * 10_000
    shortcut(storm, storm.fake.share_file(OTHER, "U2", "model.json", json.dumps(long).encode()))
    answer = text_of(told(storm, "U2", "I could not import"))
    assert "workshop.title: the workshop title can be at most 200 characters" in answer
    nothing_stored(storm)


def _confirmation(storm: InProcess, model: dict[str, Any]) -> tuple[Message, dict[str, Any]]:
    """An import into C1, whose workshop has elements: the question, and C1's model before."""
    before = storm.export_json()
    other = copy.deepcopy(model)
    other["events"].append({**other["events"][0], "id": "E9", "name": "Order Shipped"})
    shared = storm.fake.share_file(CHANNEL, "U2", "more.json", json.dumps(other).encode())
    shortcut(storm, shared)
    question = told(storm, "U2", "Add them to the workshop *Checkout*?", channel=CHANNEL)
    assert "Nothing is overwritten" in text_of(question)
    assert "match elements the workshop has already" in text_of(question)
    return question, before


def test_a_refused_confirmation_changes_nothing(
    storm_with_model: tuple[InProcess, dict[str, Any]],
) -> None:
    storm, model = storm_with_model
    question, before = _confirmation(storm, model)
    assert storm.export_json() == before  # asking stored nothing

    response = storm.slack.click(CHANNEL, question.ts, "Cancel", user="U2", blocks=question.blocks)

    assert response.status == 200
    storm.fake.wait_for(
        lambda f: "Import cancelled" in text_of(f.message(CHANNEL, question.ts) or question)
    )
    replaced = storm.fake.message(CHANNEL, question.ts)
    assert replaced is not None
    assert text_of(replaced) == "Import cancelled: nothing was changed."
    assert not any(b["type"] == "actions" for b in replaced.blocks or [])  # no more buttons
    assert storm.export_json() == before
    assert len(storm.fake.calls_to("file_download")) == 1  # the question's only


def test_an_accepted_confirmation_adds_what_is_new_in_place_of_the_question(
    storm_with_model: tuple[InProcess, dict[str, Any]],
) -> None:
    storm, model = storm_with_model
    question, before = _confirmation(storm, model)

    for _ in range(2):  # a second click on the same question imports nothing more
        response = storm.slack.click(
            CHANNEL, question.ts, "Import", user="U2", blocks=question.blocks
        )
        assert response.status == 200

    storm.fake.wait_for(
        lambda f: "Imported" in text_of(f.message(CHANNEL, question.ts) or question)
    )
    answer = text_of(storm.fake.message(CHANNEL, question.ts) or question)
    assert "Imported *more.json* into the workshop *Checkout*: added 1 event" in answer
    assert "Already there, so not added again" in answer
    posted(storm, "<@U2> imported *more.json*", channel=CHANNEL)
    names = [e["name"] for e in storm.export_json()["events"]]
    assert names == [e["name"] for e in before["events"]] + ["Order Shipped"]
    assert len(storm.fake.calls_to("file_download")) == 2  # asked, then read again once


@pytest.fixture
def served(fake_slack: FakeSlack, database_url: str, tmp_path: Path) -> Iterator[ServeProcess]:
    process = serve_process(fake_slack, database_url, tmp_path / "stormbot.log")
    try:
        yield process.start()
    finally:
        process.stop()


def test_web_workers_record_imports_and_the_background_worker_carries_them_out(
    served: ServeProcess, fake_slack: FakeSlack
) -> None:
    slack = SlackRequests(served.base_url, SIGNING_SECRET, fake=fake_slack)
    model = {
        "format": "storm-model/1",
        "workshop": {"title": "Checkout"},
        "events": [{"id": "E1", "name": "Order Placed", "position": 1}],
    }
    shared = fake_slack.share_file(CHANNEL, "U2", "model.json", json.dumps(model).encode())
    response = slack.shortcut(CHANNEL, shared.ts, IMPORT_INTO_STORM, user="U2")
    assert response.status == 200 and response.elapsed < 1.0
    fake_slack.wait_for(
        lambda f: any("Imported *model.json*" in text_of(m) for m in f.ephemerals(CHANNEL, "U2")),
        timeout=20,
    )
    # Again, through the form: the workshop has an element now, so it asks first.
    assert slack.command("import", user="U2", channel=CHANNEL).status == 200
    uploaded = fake_slack.upload_to_form("U2", "model.json", json.dumps(model).encode())
    assert slack.submit("U2", {"Model file": uploaded["id"]}).outcome == "closed"
    fake_slack.wait_for(
        lambda f: any(
            "Add them to the workshop" in text_of(m) for m in f.ephemerals(CHANNEL, "U2")
        ),
        timeout=20,
    )

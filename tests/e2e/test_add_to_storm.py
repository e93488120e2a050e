"""The Add to Storm message shortcut (SPEC §4.2) over signed HTTP: on any message, threads
included, a form with the message's text as people read it and a kind picker; the element
keeps its author, its message and a link back; a channel without a workshop is told why."""

from __future__ import annotations

import json

import jsonschema

from bot.slack.shortcuts import ADD_TO_STORM
from tests.e2e.test_manifest import MANIFEST
from tests.e2e.test_step_buttons import told
from tests.support.running import CHANNEL, InProcess, text_of
from tests.support.shared import schema


def test_the_shortcut_is_declared_and_the_code_handles_it(storm: InProcess) -> None:
    jsonschema.validate(MANIFEST, schema("slack-manifest.schema.json"))
    (shortcut,) = [s for s in MANIFEST["features"]["shortcuts"] if s["name"] == "Add to Storm"]
    assert shortcut["type"] == "message"
    assert shortcut["callback_id"] == ADD_TO_STORM
    storm.run("start Checkout")
    said = storm.fake.post_user_message(CHANNEL, "U2", "Order Placed")
    assert storm.slack.shortcut(CHANNEL, said.ts, shortcut["callback_id"], user="U2").ok
    (form,) = storm.fake.open_views("U2")
    assert form["title"]["text"] == "Add to Storm"


def test_a_thread_reply_becomes_a_command_by_its_author_with_a_link_back(
    storm: InProcess,
) -> None:
    storm.run("start Checkout")
    said = storm.fake.post_user_message(CHANNEL, "U2", "How do refunds work?")
    reply = storm.fake.post_user_message(
        CHANNEL, "U3", "<@U2|bob> we *Issue Refund* &amp; credit &lt;notes&gt;", thread_ts=said.ts
    )
    assert storm.slack.shortcut(CHANNEL, reply.ts, ADD_TO_STORM, user="U1").ok
    (form,) = storm.fake.open_views("U1")
    name = next(b for b in form["blocks"] if b.get("block_id") == "name")
    # Prefilled as people read it: the mention by name, entities as characters.
    assert name["element"]["initial_value"] == "@bob we *Issue Refund* & credit <notes>"

    submitted = storm.slack.submit("U1", {"kind": "Command", "name": "Issue Refund & Credit"})

    assert submitted.outcome == "closed", submitted.errors
    answer = told(storm, "U1", "Added command *C1* Issue Refund &amp; Credit from that message")
    assert "Noted early" in answer  # commands belong to step 3
    (posted,) = storm.wait_for_post("*C1* Issue Refund &amp; Credit")
    shown = text_of(posted) + " " + json.dumps(posted.blocks)
    assert "by carol · added by alice" in shown
    link = f"https://storm-test.slack.com/archives/{CHANNEL}/p{reply.ts.replace('.', '')}"
    assert f"<{link}?thread_ts={said.ts}&cid={CHANNEL}|from this message>" in shown
    (command,) = storm.export_json()["commands"]
    assert (command["name"], command["votes"]) == ("Issue Refund & Credit", 0)
    # The same message as the same kind again adds nothing, and says what it is.
    assert storm.slack.shortcut(CHANNEL, reply.ts, ADD_TO_STORM, user="U2").ok
    assert storm.slack.submit("U2", {"kind": "Command"}).outcome == "closed"
    told(storm, "U2", "That message is already command *C1*")
    assert len(storm.export_json()["commands"]) == 1


def test_a_question_on_an_elements_message_becomes_a_hotspot_on_it(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("event Order Placed", user="U2")
    (message,) = storm.wait_for_post("*E1* Order Placed")
    assert storm.slack.shortcut(CHANNEL, message.ts, ADD_TO_STORM, user="U3").ok
    submitted = storm.slack.submit("U3", {"kind": "Hotspot", "name": "Placed by whom?"})
    assert submitted.outcome == "closed", submitted.errors
    told(storm, "U3", "Added hotspot *H1* Placed by whom? on *E1* Order Placed")
    (hotspot,) = storm.export_json()["hotspots"]
    # Storm's own message has no human author: the question is the asker's.
    assert (hotspot["on"], hotspot["author"]) == ("E1", "U3")


def test_an_empty_name_is_refused_beside_it_and_nothing_is_stored(storm: InProcess) -> None:
    storm.run("start Checkout")
    said = storm.fake.post_user_message(CHANNEL, "U2", "   ")
    assert storm.slack.shortcut(CHANNEL, said.ts, ADD_TO_STORM, user="U2").ok
    submitted = storm.slack.submit("U2", {"kind": "Domain event"})
    assert submitted.outcome == "errors"
    assert "cannot be empty" in submitted.errors["name"]
    assert storm.export_json()["events"] == []


def test_in_a_channel_without_a_workshop_the_shortcut_explains(storm: InProcess) -> None:
    storm.run("start Checkout")  # elsewhere: C1 has one, C9 does not
    said = storm.fake.post_user_message("C9", "U2", "Order Placed")

    assert storm.slack.shortcut("C9", said.ts, ADD_TO_STORM, user="U2").ok

    storm.fake.wait_for(lambda f: len(f.ephemerals("C9", "U2")) == 1)
    (answer,) = storm.fake.ephemerals("C9", "U2")
    assert "There is no workshop in this channel" in text_of(answer)
    assert storm.fake.open_views("U2") == []

"""The interactivity requests and the fake's views, round-tripped through a real Bolt app.

Why a tiny Bolt app and not Storm: these tests pin the test infrastructure itself (the
payloads :class:`SlackRequests` sends are parsed by Bolt exactly as Slack's are, and what
Bolt answers is applied by the fake as Slack applies it), independently of which buttons
Storm has.  Storm's own buttons and forms are tested against Storm.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.blockkit import action_payload, find_choice
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.slack_requests import SlackRequests

SECRET = "plumbing-signing-secret"
TOKEN = "xoxb-plumbing"


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log in test output."""


@dataclass
class Seen:
    """What the tiny app received, as Bolt handed it over."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


def _rename_form(name: str, metadata: str) -> dict[str, Any]:
    kinds = [
        {"text": {"type": "plain_text", "text": label}, "value": label.lower()}
        for label in ("Event", "Command", "View")
    ]
    return {
        "type": "modal",
        "callback_id": "rename",
        "notify_on_close": True,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Rename"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "name",
                "label": {"type": "plain_text", "text": "New name"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "initial_value": name,
                },
            },
            {
                "type": "input",
                "block_id": "kind",
                "label": {"type": "plain_text", "text": "Kind"},
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": kinds,
                    "initial_option": kinds[0],
                },
            },
            {
                "type": "input",
                "block_id": "into",
                "optional": True,
                "label": {"type": "plain_text", "text": "Merge into"},
                "element": {"type": "external_select", "action_id": "pick"},
            },
        ],
    }


def _app(fake: FakeSlack, seen: Seen) -> App:
    app = App(
        client=WebClient(token=TOKEN, base_url=fake.api_url),
        signing_secret=SECRET,
        token_verification_enabled=False,
        process_before_response=True,
    )

    @app.action("vote")
    def vote(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        seen.bodies.append(body)
        channel, ts = body["channel"]["id"], body["container"]["message_ts"]
        client.chat_update(channel=channel, ts=ts, text="voted", blocks=[])

    @app.action("menu")
    def menu(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        seen.bodies.append(body)
        text = body["message"]["text"]
        try:
            client.views_open(trigger_id=body["trigger_id"], view=_rename_form(text, "E1"))
        except SlackApiError as exc:
            seen.refusals.append(str(exc.response["error"]))

    @app.action("refresh")
    def refresh(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        seen.bodies.append(body)

    @app.view("rename")
    def rename(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        seen.bodies.append(body)
        name = view["state"]["values"]["name"]["value"]["value"]
        if not name:
            ack(response_action="errors", errors={"name": "Give it a name"})
        else:
            ack()

    @app.view_closed("rename")
    def closed(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        seen.bodies.append(body)

    @app.options("pick")
    def pick(ack: Ack, body: dict[str, Any]) -> None:
        seen.bodies.append(body)
        names = ["Order placed", "Order shipped", "Payment taken"]
        query = body["value"].lower()
        ack(
            options=[
                {"text": {"type": "plain_text", "text": n}, "value": f"E{i}"}
                for i, n in enumerate(names, 1)
                if query in n.lower()
            ]
        )

    @app.shortcut("add_to_storm")
    def add(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        seen.bodies.append(body)
        form = _rename_form(body["message"]["text"], body["message"].get("thread_ts", ""))
        client.views_open(trigger_id=body["trigger_id"], view=form)

    @app.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient) -> None:
        seen.bodies.append(event)
        blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"Hello <@{event['user']}>"}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "refresh",
                        "text": {"type": "plain_text", "text": "Refresh"},
                    }
                ],
            },
        ]
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": blocks})

    @app.error
    def failed(error: Exception) -> None:
        seen.errors.append(repr(error))

    return app


@dataclass
class Rig:
    fake: FakeSlack
    slack: SlackRequests
    seen: Seen


@pytest.fixture
def rig() -> Iterator[Rig]:
    with FakeSlack(TOKEN, users={"U1": {"name": "ada"}}) as fake:
        seen = Seen()
        handler = SlackRequestHandler(_app(fake, seen))
        server = make_server("127.0.0.1", 0, handler, WSGIServer, _Quiet)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/"
            yield Rig(fake, SlackRequests(url, SECRET, fake=fake), seen)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        assert seen.errors == []


def _element_message(fake: FakeSlack, *, thread_ts: str | None = None) -> str:
    vote = {"type": "button", "action_id": "vote", "value": "E1"}
    vote["text"] = {"type": "plain_text", "text": "Vote 2"}
    menu = {
        "type": "overflow",
        "action_id": "menu",
        "options": [
            {"text": {"type": "plain_text", "text": label}, "value": label}
            for label in ("Rename…", "Drop")
        ],
    }
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "E1 Order placed"}},
        {"type": "actions", "block_id": "element-E1", "elements": [vote, menu]},
    ]
    client = WebClient(token=TOKEN, base_url=fake.api_url)
    return str(
        client.chat_postMessage(
            channel="C1", text="Order placed", blocks=blocks, thread_ts=thread_ts
        )["ts"]
    )


def test_a_click_on_a_message_button_reaches_bolt_like_slacks(rig: Rig) -> None:
    ts = _element_message(rig.fake)
    assert rig.slack.click("C1", ts, "Vote", user="U1").status == 200
    [body] = rig.seen.bodies
    assert body["type"] == "block_actions"
    assert body["user"] == {"id": "U1", "username": "ada", "name": "ada", "team_id": "T0001"}
    assert body["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": "C1",
        "is_ephemeral": False,
    }
    assert body["message"]["ts"] == ts and body["message"]["blocks"][1]["block_id"] == "element-E1"
    [action] = body["actions"]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "vote",
        "element-E1",
        "E1",
    )
    assert body["response_url"].startswith(rig.fake.base_url)
    # The app's chat.update landed on the clicked message.
    assert rig.fake.message("C1", ts).text == "voted"


def test_a_menu_option_opens_a_form_which_refuses_then_accepts(rig: Rig) -> None:
    ts = _element_message(rig.fake)
    rig.slack.click("C1", ts, "Rename", user="U1")
    assert rig.seen.bodies[0]["actions"][0]["selected_option"]["value"] == "Rename…"
    [form] = rig.fake.open_views("U1")
    assert form["title"]["text"] == "Rename" and form["private_metadata"] == "E1"

    refused = rig.slack.submit("U1", {"New name": ""})
    assert refused.outcome == "errors" and refused.errors == {"name": "Give it a name"}
    assert [v["id"] for v in rig.fake.open_views("U1")] == [form["id"]]  # still open
    submitted = rig.seen.bodies[-1]["view"]["state"]["values"]
    assert submitted["name"]["value"] == {"type": "plain_text_input", "value": None}
    assert submitted["kind"]["value"]["selected_option"]["value"] == "event"  # as shown

    accepted = rig.slack.submit("U1", {"new name": "Order was placed", "Kind": "Command"})
    assert accepted.outcome == "closed" and rig.fake.open_views("U1") == []
    values = rig.seen.bodies[-1]["view"]["state"]["values"]
    assert values["name"]["value"]["value"] == "Order was placed"
    assert values["kind"]["value"]["selected_option"]["value"] == "command"
    assert values["into"]["pick"] == {"type": "external_select", "selected_option": None}


def test_an_external_select_is_filled_by_asking_the_app(rig: Rig) -> None:
    ts = _element_message(rig.fake)
    rig.slack.click("C1", ts, "Rename…", user="U1")
    options = rig.slack.suggest("U1", "pick", "order")
    assert [o["value"] for o in options] == ["E1", "E2"]
    assert rig.seen.bodies[-1]["type"] == "block_suggestion"
    result = rig.slack.submit("U1", {"Merge into": "Order shipped"})
    assert result.outcome == "closed"
    chosen = rig.seen.bodies[-1]["view"]["state"]["values"]["into"]["pick"]["selected_option"]
    assert chosen["value"] == "E2"


def test_cancel_tells_the_app_when_the_form_asked(rig: Rig) -> None:
    ts = _element_message(rig.fake)
    rig.slack.click("C1", ts, "Rename…", user="U1")
    response = rig.slack.cancel("U1")
    assert response is not None and response.status == 200
    assert rig.seen.bodies[-1]["type"] == "view_closed" and rig.fake.open_views("U1") == []


def test_an_old_click_cannot_open_a_form(rig: Rig) -> None:
    ts = _element_message(rig.fake)
    message = rig.fake.message("C1", ts)
    assert message is not None and message.blocks is not None
    action = action_payload(find_choice(message.blocks, "Drop"), "1700000000.000001")
    late = rig.fake.new_trigger("U1", age=3.2)  # the app took too long after the click
    payload = rig.slack.block_actions_payload(
        [action], user="U1", channel="C1", message_ts=ts, trigger_id=late
    )
    assert rig.slack.interaction(payload).status == 200
    assert rig.seen.refusals == ["expired_trigger_id"] and rig.fake.open_views("U1") == []


def test_the_shortcut_on_a_thread_reply_carries_its_thread(rig: Rig) -> None:
    parent = rig.fake.post_user_message("C1", "U1", "We take payments first")
    reply = rig.fake.post_user_message("C1", "U2", "Payment taken", thread_ts=parent.ts)
    assert rig.slack.shortcut("C1", reply.ts, "add_to_storm", user="U1").status == 200
    body = rig.seen.bodies[-1]
    assert body["type"] == "message_action" and body["callback_id"] == "add_to_storm"
    assert body["message"]["thread_ts"] == parent.ts and body["message_ts"] == reply.ts
    assert body["channel"]["id"] == "C1" and body["trigger_id"]
    [form] = rig.fake.open_views("U1")
    assert form["private_metadata"] == parent.ts


def test_the_home_tab_is_published_on_opening_and_clickable(rig: Rig) -> None:
    assert rig.slack.open_home("U1").status == 200
    rig.fake.wait_for(lambda f: f.home_view("U1") is not None)
    event = rig.seen.bodies[-1]
    assert event["type"] == "app_home_opened" and event["tab"] == "home"
    assert event["channel"].startswith("D") and "view" not in event
    rig.slack.click_home("U1", "Refresh")
    body = rig.seen.bodies[-1]
    assert body["container"] == {"type": "view", "view_id": rig.fake.home_view("U1")["id"]}
    assert body["view"]["type"] == "home"
    rig.slack.open_home("U1")
    rig.fake.wait_for(lambda f: len(f.calls_to("views.publish")) == 2)
    assert rig.seen.bodies[-1]["view"]["id"] == rig.fake.home_view("U1")["id"]


def test_a_label_nobody_can_see_is_refused_with_what_there_is(rig: Rig) -> None:
    ts = _element_message(rig.fake)
    with pytest.raises(LookupError, match="'Vote 2', 'Rename…', 'Drop'"):
        rig.slack.click("C1", ts, "Merge", user="U1")
    assert rig.seen.bodies == []

"""The sandbox's click, form, shortcut and home lines, in process, on surfaces Storm does not
offer (yet): a message shortcut declared in a manifest of the test's own, a select menu, an
ephemeral message with a button, the App Home tab.  Tiny Bolt listeners added to the running
Storm answer them; Storm's own buttons are driven through the terminal in test_sandbox.py.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.runtime.settings import Settings
from bot.sandbox.console import SandboxConsole
from bot.sandbox.session import Sandbox, manifest_shortcuts

MANIFEST = """\
features:
  app_home:
    home_tab_enabled: true
  shortcuts:
    - name: Add to Storm
      type: message
      callback_id: test.add_to_storm  # ours, so no listener of Storm's answers it
      description: Add this message to the workshop
    - name: Search Storm
      type: global
      callback_id: test.search
      description: not offered on messages
  slash_commands:
    - command: /storm
"""


def _listen(app: App) -> None:
    """What these tests click reaches these listeners."""

    def shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        kinds = [
            {"text": {"type": "plain_text", "text": k}, "value": k.lower()}
            for k in ("Event", "Hotspot")
        ]
        text = body["message"]["text"]
        blocks = [
            {
                "type": "input",
                "block_id": "text",
                "label": {"type": "plain_text", "text": "Text"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "v",
                    "initial_value": text,
                    "multiline": True,
                },
            },
            {
                "type": "input",
                "block_id": "kind",
                "label": {"type": "plain_text", "text": "Kind"},
                "element": {"type": "static_select", "action_id": "v", "options": kinds},
            },
        ]
        view = {
            "type": "modal",
            "callback_id": "test.add",
            "title": {"type": "plain_text", "text": "Add to Storm"},
            "submit": {"type": "plain_text", "text": "Add"},
            "private_metadata": body["channel"]["id"],
            "blocks": blocks,
        }
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def add(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        if values["kind"]["v"]["selected_option"] is None:
            ack(response_action="errors", errors={"kind": "Pick a kind"})
            return
        ack()
        kind = values["kind"]["v"]["selected_option"]["text"]["text"]
        lines = values["text"]["v"]["value"].splitlines()
        client.chat_postMessage(
            channel=view["private_metadata"], text=f"Added {kind}: {' / '.join(lines)}"
        )

    def picked(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        chosen = action["selected_option"]["text"]["text"]
        undo = {
            "type": "button",
            "action_id": "test.undo",
            "text": {"type": "plain_text", "text": "Undo"},
        }
        client.chat_postEphemeral(
            channel=body["channel"]["id"],
            user=body["user"]["id"],
            text=f"You picked {chosen}",
            blocks=[
                {"type": "section", "text": {"type": "mrkdwn", "text": f"You picked {chosen}"}},
                {"type": "actions", "elements": [undo]},
            ],
        )

    def undo(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        assert body["container"]["is_ephemeral"] is True
        client.chat_postMessage(channel=body["channel"]["id"], text="Undone, as asked")

    def home(event: dict[str, Any], client: WebClient) -> None:
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Your workshops*"}}]
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": blocks})

    app.shortcut("test.add_to_storm")(shortcut)
    app.view("test.add")(add)
    app.action("test.pick")(picked)
    app.action("test.undo")(undo)
    app.event("app_home_opened")(home)


@dataclass
class Rig:
    sandbox: Sandbox
    console: SandboxConsole
    printed: io.StringIO

    def type(self, line: str) -> str:
        """What the console printed in answer to `line`."""
        start = len(self.printed.getvalue())
        self.console.handle(line)
        return self.printed.getvalue()[start:]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    manifest = tmp_path / "manifest.yml"
    manifest.write_text(MANIFEST)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'sandbox.db'}")
    with Sandbox(settings, manifest=manifest) as sandbox:
        _listen(sandbox.storm.bolt)
        printed = io.StringIO()
        out = Console(file=printed, width=200, color_system=None, highlight=False, emoji=False)
        console = SandboxConsole(sandbox, files=tmp_path / "files", out=out, strict=False)
        yield Rig(sandbox, console, printed)


def test_the_manifest_names_the_message_shortcuts_only(tmp_path: Path) -> None:
    path = tmp_path / "manifest.yml"
    path.write_text(MANIFEST)
    assert manifest_shortcuts(path) == {"Add to Storm": "test.add_to_storm"}
    assert manifest_shortcuts(tmp_path / "missing.yml") == {}


def test_a_shortcut_opens_a_form_that_is_refused_then_filled(rig: Rig) -> None:
    rig.type(":say Payment taken")
    reply = rig.type(":shortcut 1 Add to Storm")
    assert "alice used “Add to Storm” on [1]" in reply
    assert "┌ Add to Storm" in reply and "Text = Payment taken" in reply
    assert "Kind = —   (one of: Event, Hotspot)" in reply and "[Add] [Cancel]" in reply

    refused = rig.type(r":form Text=Payment taken\nby card")
    assert "Storm sent the form back" in refused and "✗ Pick a kind" in refused
    assert re.search(r"Text = Payment taken\n +by card", refused)  # what was typed stays

    sent = rig.type(":form kind=hotspot")
    assert "Form sent." in sent and "Added Hotspot: Payment taken / by card" in sent
    assert "no form is open" in rig.type(":cancel")
    assert "has no message shortcut “Search Storm”" in rig.type(":shortcut 1 Search Storm")


def test_a_select_in_a_message_and_a_button_only_one_person_sees(rig: Rig) -> None:
    options = [
        {"text": {"type": "plain_text", "text": label}, "value": label.lower()}
        for label in ("Checkout", "Payments")
    ]
    select = {
        "type": "static_select",
        "action_id": "test.pick",
        "placeholder": {"type": "plain_text", "text": "Workshop"},
        "options": options,
    }
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Which one?"}, "accessory": select}
    ]
    channel = rig.sandbox.channel("general")
    client = WebClient(token=rig.sandbox.fake.bot_token, base_url=rig.sandbox.fake.api_url)
    client.chat_postMessage(channel=channel, text="Which one?", blocks=blocks)
    rig.console.flush()
    assert "[1] Storm" in rig.printed.getvalue()
    assert "[▾ Workshop: Checkout | Payments]" in rig.printed.getvalue()

    picked = rig.type(":click 1 Payments")
    assert "You picked Payments" in picked and "(only you, alice)" in picked
    assert "[2] Storm" in picked and "[Undo]" in picked  # numbered: it has a button
    assert "Undone, as asked" in rig.type(":click 2 Undo")
    rig.type(":as bob")
    assert "only the person it was for sees that message" in rig.type(":click 2 Undo")


def test_home_prints_the_tab_storm_publishes(rig: Rig) -> None:
    shown = rig.type(":home")
    home = rig.sandbox.fake.home_view(rig.sandbox.person("alice"))
    assert home is not None and "┌ App Home" in shown
    # Storm's own tab: alice has no workshop yet, so it tells her how to start one, as text
    # a person reads (marks and escapes rendered)
    assert "You are in no workshop yet" in shown
    assert "type /storm start <title> there" in shown

"""manifest.yml declares exactly the command, scopes and events the code uses."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from bot.slack import events, home
from bot.slack.shortcuts import IMPORT_INTO_STORM
from bot.slack.workspaces import BOT_SCOPES
from tests.support.running import InProcess
from tests.support.shared import schema

MANIFEST = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text())

# The bot scope each Web API method needs (public channels; private ones need the groups:
# twin, listed beside it).
SCOPES_BY_METHOD = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.delete": {"chat:write"},
    "chat.update": {"chat:write"},
    "conversations.history": {"channels:history", "groups:history"},
    "conversations.replies": {"channels:history", "groups:history"},
    "conversations.members": {"channels:read", "groups:read"},
    "users.info": {"users:read"},
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
    "files.info": {"files:read"},
    "file_download": {"files:read"},  # a file's private URL, read with the bot token
    "upload_url": set(),
    "views.publish": set(),
    "conversations.canvases.create": {"canvases:write"},
    "canvases.create": {"canvases:write"},
    "canvases.edit": {"canvases:write"},
}


def test_the_manifest_declares_the_slash_command_and_the_events() -> None:
    (command,) = MANIFEST["features"]["slash_commands"]
    assert command["command"] == "/storm"
    assert command["should_escape"] is True  # mentions arrive as <@U…> for `facilitator`
    subscribed = events.SUBSCRIBED_EVENTS + home.SUBSCRIBED_EVENTS
    assert tuple(MANIFEST["settings"]["event_subscriptions"]["bot_events"]) == subscribed
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    # Element messages carry buttons and menus that open forms: Slack must send the clicks.
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True


def test_an_install_into_a_workspace_asks_for_the_manifests_scopes() -> None:
    assert tuple(MANIFEST["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES


def test_the_manifest_follows_slacks_schema() -> None:
    jsonschema.validate(MANIFEST, schema("slack-manifest.schema.json"))


def test_the_scopes_are_exactly_what_a_workshop_uses(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("canvas on")
    storm.run("event Order Placed")
    said = storm.fake.post_user_message("C1", "U2", "Payment Received")
    reply = storm.fake.post_user_message("C1", "U3", "Refund Issued", thread_ts=said.ts)
    storm.slack.reaction_added("zap", user="U2", channel="C1", ts=reply.ts)
    storm.wait_for_post("*E2* Refund Issued")
    storm.run("rename E1 Order Submitted")  # its message is updated in place
    storm.slack.reaction_removed("zap", user="U2", channel="C1", ts=reply.ts)
    storm.run("export json")
    storm.fake.wait_for(lambda f: len(f.files()) == 1 and len(f.deleted()) == 1)
    exported = storm.fake.files()[0]
    shared = storm.fake.share_file("C2", "U2", "model.json", exported.content)
    storm.slack.shortcut("C2", shared.ts, IMPORT_INTO_STORM, user="U2")
    storm.fake.wait_for(lambda f: bool(f.ephemerals("C2", "U2")))
    storm.fake.wait_for(lambda f: len(f.canvases.in_channel("C1")) == 1)
    used = {call.method for call in storm.fake.calls}
    assert used <= set(SCOPES_BY_METHOD), used - set(SCOPES_BY_METHOD)
    needed = {"commands", "reactions:read"}.union(*(SCOPES_BY_METHOD[m] for m in used))
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed
    assert json.dumps(MANIFEST).count("/storm") >= 1

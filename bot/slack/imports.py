"""Import's Slack surfaces (SPEC §7.1): the form with a file input, and what the listeners of
each surface record for an import.

`/storm import` opens the form (`bot.slack.commands`); its submission (`bot.slack.views`),
the Import into Storm message shortcut (`bot.slack.shortcuts`) and a confirmation's Import
button (`bot.slack.actions`) each become an import event for the inbox, read here from the
signed payload: the workspace, channel and person are Slack's, the file is the one the
person chose. The work is `bot.service.file_imports`'s, after the ack.
"""

from __future__ import annotations

import json
from typing import Any

from bot.core.messages import Post, notice
from bot.core.text import plural
from bot.service.file_imports import import_event
from bot.slack import forms

IMPORT_FORM = "storm.import"  # the form's callback id
FILE_BLOCK = "file"  # the form's file input


def import_form(channel_id: str) -> dict[str, Any]:
    """The form `/storm import` opens: one JSON file, for this channel's workshop."""
    blocks = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    "Import a model into this channel's workshop (a new one if there is "
                    "none): a `storm-model/1` file from `/storm export json`, or an Event "
                    "Modeling JSON. Storm asks before it adds to a workshop that has elements, "
                    "and never overwrites them."
                ),
            },
        },
        {
            "type": "input",
            "block_id": FILE_BLOCK,
            "label": {"type": "plain_text", "text": "Model file", "emoji": True},
            "element": {
                "type": "file_input",
                "action_id": forms.VALUE,
                "filetypes": ["json"],
                "max_files": 1,
            },
            "hint": {"type": "plain_text", "text": "A .json file of at most 5 MB."},
        },
    ]
    return {
        "type": "modal",
        "callback_id": IMPORT_FORM,
        "title": {"type": "plain_text", "text": "Import a model", "emoji": True},
        "submit": {"type": "plain_text", "text": "Import", "emoji": True},
        "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
        "private_metadata": json.dumps({"c": channel_id}),
        "blocks": blocks,
    }


def _form_channel(view: dict[str, Any]) -> str | None:
    try:
        channel = json.loads(view.get("private_metadata") or "{}").get("c")
    except (ValueError, AttributeError):
        return None
    return channel if isinstance(channel, str) and channel else None


def _form_files(view: dict[str, Any]) -> list[dict[str, Any]]:
    entry = (((view.get("state") or {}).get("values") or {}).get(FILE_BLOCK) or {}).get(
        forms.VALUE
    ) or {}
    return [f for f in entry.get("files") or [] if isinstance(f, dict) and f.get("id")]


def form_errors(view: dict[str, Any]) -> dict[str, str]:
    """What is wrong with a submitted import form, beside its field (Slack asks for a file
    already; this holds for a form that reaches Storm without one)."""
    if _form_channel(view) is None:
        return {FILE_BLOCK: "This form is broken: close it and run /storm import again."}
    if not _form_files(view):
        return {FILE_BLOCK: "Choose the model file (.json) to import."}
    return {}


def _ids(body: dict[str, Any]) -> tuple[str, str]:
    user = body.get("user") or {}
    team = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    return team, str(user.get("id", ""))


def form_event(body: dict[str, Any]) -> dict[str, Any]:
    """A submitted import form (without `form_errors`) as an import event: one per form."""
    view = body["view"]
    team, user = _ids(body)
    channel = _form_channel(view) or ""
    return import_event(
        event_id=f"import:{team}:{user}:{view.get('id', '')}",
        team_id=team,
        channel_id=channel,
        user_id=user,
        file_id=str(_form_files(view)[0]["id"]),
    )


def chosen_file(files: list[dict[str, Any]]) -> dict[str, Any] | Post:
    """The file of a message to import: its only one, or of several the first `.json`; or
    why there is none to take."""
    files = [f for f in files if isinstance(f, dict) and f.get("id")]
    if len(files) == 1:
        return files[0]
    if not files:
        return notice(
            ":no_entry_sign: That message carries no file. Share the model file (`.json`) in "
            "the channel and use *Import into Storm* on its message, or use `/storm import`."
        )
    for file in files:
        name = str(file.get("name") or "")
        if name.lower().endswith(".json") or file.get("filetype") == "json":
            return file
    return notice(
        f":no_entry_sign: That message carries {plural(len(files), 'file')} and none is a "
        "`.json`. Share the model file on its own, or use `/storm import`."
    )


def shortcut_event(body: dict[str, Any]) -> dict[str, Any] | Post:
    """Import into Storm used on a message: the import of its file, or why there is none."""
    message = body.get("message") or {}
    files = message.get("files") or []
    chosen = chosen_file(files)
    if isinstance(chosen, Post):
        return chosen
    team, user = _ids(body)
    stamp = body.get("action_ts") or body.get("trigger_id") or ""
    return import_event(
        event_id=f"import:{team}:{user}:{stamp}",
        team_id=team,
        channel_id=(body.get("channel") or {}).get("id", ""),
        user_id=user,
        file_id=str(chosen["id"]),
        files_on_message=len(files),
    )


def confirmed_event(body: dict[str, Any], file_id: str) -> dict[str, Any]:
    """A confirmation's Import button: the import again, confirmed. One per confirmation, so
    a second click on the same one adds nothing; its answer replaces the confirmation."""
    team, user = _ids(body)
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
    return import_event(
        event_id=f"import:{team}:{user}:{container.get('message_ts', '')}:confirmed",
        team_id=team,
        channel_id=channel,
        user_id=user,
        file_id=file_id,
        confirmed=True,
        response_url=body.get("response_url"),
    )

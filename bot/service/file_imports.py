"""Model files shared in Slack, imported after the acknowledgement (SPEC §7.1).

`/storm import`'s form, the Import into Storm message shortcut and a confirmation's Import
button each record what they ask for in the inbox before the ack, as reactions are
(`bot.service.reactions.ReactionInbox`): the file is read from Slack and imported right after
the ack in a single process, by the background worker when web workers only acknowledge. So
importing never holds up the acknowledgement, and an import asked for is not lost to a
restart. The person is told the outcome ephemerally; a confirmation's answer takes the place
of its buttons, so that they cannot be clicked twice.

An import applied and then caught by a crash before the inbox marks it done is applied again
at the next start: an unconfirmed one then finds the workshop has elements and asks, a
confirmed one finds every name there already and adds nothing.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from typing import Any

from bot.core.controls import IMPORT, IMPORT_CANCEL, Button
from bot.core.imports.report import file_label
from bot.core.messages import Post, notice
from bot.core.text import literal, plural
from bot.service.importing import MAX_IMPORT_BYTES, Importing, ImportRequest
from bot.service.ports import FilePort, FileRefused, SlackFailure, SlackPort

log = logging.getLogger(__name__)

# The inbox's name for an import asked for in Slack (`import_event`).
IMPORT_EVENT = "storm_import"
MEGABYTE = 1024 * 1024


def import_event(
    *,
    event_id: str,
    team_id: str,
    channel_id: str,
    user_id: str,
    file_id: str,
    confirmed: bool = False,
    files_on_message: int = 1,
    response_url: str | None = None,
) -> dict[str, Any]:
    """An import as the inbox keeps it: who asked, in which channel, for which Slack file.

    `files_on_message`: how many files the message it came from carried (the shortcut takes
    the first `.json` of several, and says so); `response_url`: the confirmation clicked,
    whose place the answer takes."""
    event: dict[str, Any] = {
        "type": IMPORT_EVENT,
        "user": user_id,
        "channel": channel_id,
        "file": file_id,
        "confirmed": confirmed,
        "files_on_message": files_on_message,
    }
    if response_url is not None:
        event["response_url"] = response_url
    return {"event_id": event_id, "team_id": team_id, "event": event}


def shown_name(name: str) -> str:
    """A file's name as mrkdwn, as the import's own messages show it: nothing in it formats
    or mentions anyone."""
    return literal(file_label(name))


def refusal(refused: FileRefused) -> Post:
    """What a person is told of a file Storm did not read."""
    name = f"*{shown_name(refused.name)}*" if refused.name else "the file"
    starting = name if refused.name else "The file"
    if refused.reason == "too_large":
        limit = f"{MAX_IMPORT_BYTES // MEGABYTE} MB"
        # Rounded up: a file just over the limit must not read as the limit itself.
        size = f"{math.ceil(refused.size * 10 / MEGABYTE) / 10} MB" if refused.size else None
        why = f"{starting} is {size or 'larger than ' + limit}: Storm imports model files up to {limit}."
    elif refused.reason == "external":
        why = f"{starting} is a link to a file kept outside Slack: Storm reads files uploaded to Slack."
    elif refused.reason == "untrusted":
        why = f"Slack named an address for {name} that is not Slack's, so Storm did not read it."
    else:
        why = (
            f"Storm could not read {name} from Slack ({literal(refused.code or 'no answer')}). "
            "Share the file again and retry."
        )
    return notice(f":no_entry_sign: {why} Nothing was imported.")


def with_confirmation(post: Post, file_id: str) -> Post:
    """A confirmation's question with its buttons: Import (again reads the file) or Cancel."""
    return replace(
        post,
        controls=(
            *post.controls,
            Button("Import", IMPORT, file_id, style="primary"),
            Button("Cancel", IMPORT_CANCEL, file_id),
        ),
    )


def cancelled() -> Post:
    return notice("Import cancelled: nothing was changed.")


class FileImports:
    """Reads a recorded import's file from Slack, imports it, and tells the person."""

    def __init__(self, importing: Importing, files: FilePort, slack: SlackPort) -> None:
        self._importing = importing
        self._files = files
        self._slack = slack

    def apply(self, body: dict[str, Any]) -> None:
        """The inbox's applier for `IMPORT_EVENT`. Whatever fails, the person is told: the
        import is one transaction, so a failure stores nothing."""
        event = body["event"]
        channel, user, file_id = event["channel"], event["user"], event["file"]
        try:
            post = self._outcome(body.get("team_id", ""), event)
        except Exception:
            log.exception("importing file %s failed", file_id)
            post = notice(
                ":warning: Sorry, something went wrong on Storm's side and nothing was "
                "imported. Please try again; if it keeps happening, tell your Slack admin."
            )
        self._answer(channel, user, event.get("response_url"), post)

    def _outcome(self, team_id: str, event: dict[str, Any]) -> Post:
        file_id = event["file"]
        try:
            shared = self._files.fetch_file(file_id, limit=MAX_IMPORT_BYTES)
        except FileRefused as refused:
            return refusal(refused)
        outcome = self._importing.run(
            ImportRequest(
                team_id=team_id,
                channel_id=event["channel"],
                user_id=event["user"],
                data=shared.data,
                filename=shared.name,
                confirmed=bool(event.get("confirmed")),
            )
        )
        post = outcome.post
        if outcome.status == "confirm":
            post = with_confirmation(post, file_id)
        several = int(event.get("files_on_message") or 1)
        if several > 1:
            note = (
                f"That message carries {plural(several, 'file')}: Storm read the first "
                f"`.json`, *{shown_name(shared.name)}*."
            )
            post = replace(post, sections=(note, *post.sections))
        return post

    def _answer(self, channel: str, user: str, response_url: str | None, post: Post) -> None:
        """In the place of the confirmation clicked, if any (else, or if that fails, as a
        new ephemeral message)."""
        if response_url:
            try:
                self._slack.replace_clicked(response_url, post)
                return
            except SlackFailure as failure:
                log.warning("could not answer in place of the confirmation: %s", failure.code)
        try:
            self._slack.tell(channel, user, post)
        except SlackFailure as failure:
            log.error("could not tell %s how the import went: %s", user, failure.code)

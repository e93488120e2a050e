"""Files the outbox uploads (SPEC §4.5, §7): exports, and the board as pictures.

Apart from the outbox because drawing is a world of its own: the core's text formats are
written as they are, the drawn ones (`ExportFormat.drawn`) are painted by `bot.pictures`,
which the core cannot import. Everything goes through `files_upload_v2`
(`files.getUploadURLExternal`, a POST of the bytes, `files.completeUploadExternal`), each
picture with its alt text.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError

from bot.core.exports import FORMATS
from bot.core.model import Snapshot
from bot.core.steps import STEPS
from bot.pictures import PICTURES_PER_MESSAGE, Picture, pictures, zipped

log = logging.getLogger(__name__)

# Slack refuses a file's alt text longer than this.
ALT_TEXT_LIMIT = 1000
# The POST of a file's bytes goes around the client's retry handlers: a failed one is tried
# again this many times, after these pauses (seconds), like any other call to Slack.
_UPLOAD_PAUSES = (0.5, 1.0)
# What the board comes after, when no one asked for it: what its comment says.
_AFTER = {
    "final_report": "The board at the end of the workshop.",
    "digest": "The board as it is today.",
}


def upload_export(client: WebClient, channel: str, snapshot: Snapshot, fmt: str, user: str) -> None:
    """The model as a format's files; a drawn format's pictures as they are, or all in one
    zip when there are more than a message shows."""
    export = FORMATS[fmt]
    files: list[dict[str, Any]]
    if export.files is not None:
        files = [
            {"filename": name, "content": text, "title": f"{snapshot.title}: {name}"}
            for name, text in export.files(snapshot)
        ]
    else:
        found = pictures(snapshot, fmt)
        if len(found) > PICTURES_PER_MESSAGE:
            found = [zipped(found, f"board-{fmt}.zip")]
        files = [_file(snapshot, picture) for picture in found]
    _upload(
        client,
        channel=channel,
        file_uploads=files,
        initial_comment=f"Model export ({fmt}) requested by <@{user}>.",
    )


def upload_board(
    client: WebClient, channel: str, snapshot: Snapshot, payload: dict[str, Any], step: int | None
) -> None:
    """The board as PNG pictures, as many as one message shows, with what it comes after
    (`payload["after"]`, the step closed) or who asked for it (`payload["user"]`)."""
    found = pictures(snapshot, "png", limit=PICTURES_PER_MESSAGE)
    if "user" in payload:
        comment = f"Board requested by <@{payload['user']}>."
    elif payload.get("after") == "summary" and step is not None:
        comment = f"The board after step {step}, {STEPS[step - 1].name}."
    else:
        comment = _AFTER.get(str(payload.get("after")), "The board.")
    parts = found[0].parts if found else 0
    if parts > len(found):
        comment += (
            f" The board has {parts} parts; here are the first {len(found)}. "
            "`/storm export png` has them all."
        )
    _upload(
        client,
        channel=channel,
        file_uploads=[_file(snapshot, picture) for picture in found],
        initial_comment=comment,
    )


def _file(snapshot: Snapshot, picture: Picture) -> dict[str, Any]:
    return {
        "filename": picture.name,
        "content": picture.content,
        "title": f"{snapshot.title}: {picture.name}",
        "alt_txt": _shortened(picture.alt),
    }


def _shortened(alt: str) -> str:
    return alt if len(alt) <= ALT_TEXT_LIMIT else alt[: ALT_TEXT_LIMIT - 1] + "…"


def _upload(client: WebClient, **params: Any) -> None:
    """`files_upload_v2`, tried again when the POST of the bytes fails (an answer other
    than 200, or none): nothing was shared then, so trying again sends nothing twice.
    What Slack's Web API refuses raises `SlackApiError`, as for any post."""
    for pause in (*_UPLOAD_PAUSES, None):
        try:
            client.files_upload_v2(**params)
            return
        except (SlackRequestError, OSError) as error:  # OSError: urllib's, HTTPError too
            if pause is None:
                raise
            log.warning("uploading to Slack failed, trying again: %s", error)
            time.sleep(pause)

"""The board painted (SPEC §4.5, §7 `png` and `svg`): the core's layout as pictures.

A layer of its own between the core (which lays the board out, knowing nothing of drawing) and
the Slack adapter (which uploads what this paints). Each page of the board is one picture.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.board import FONT_SIZE, Page, describe, lay_out
from bot.core.model import Snapshot
from bot.pictures import png, svg
from bot.pictures.fonts import measure

PAINTERS: dict[str, Callable[[Page], bytes]] = {"png": png.paint, "svg": svg.paint}
# Slack shows a handful of pictures in one message; a board with more parts is uploaded as
# one zip of them all (an export) or as its first parts with a word about the rest.
PICTURES_PER_MESSAGE = 10


@dataclass(frozen=True)
class Picture:
    name: str
    content: bytes
    alt: str  # what it shows, with counts
    parts: int = 1  # how many pictures the whole board takes (a `limit` may leave some out)


def pictures(snapshot: Snapshot, kind: str = "png", limit: int | None = None) -> list[Picture]:
    """The board as pictures of `kind` ("png" or "svg"), one per page, painted one at a time
    (a large board never holds more than one page's pixels); `limit` stops after so many."""
    board = lay_out(snapshot, measure(FONT_SIZE))
    paint = PAINTERS[kind]
    pages = board.pages[:limit] if limit else board.pages
    several = len(board.pages) > 1
    return [
        Picture(
            name=f"board-{page.number}-of-{page.of}.{kind}" if several else f"board.{kind}",
            content=paint(page),
            alt=describe(board, page),
            parts=len(board.pages),
        )
        for page in pages
    ]


def zipped(found: list[Picture], name: str) -> Picture:
    """Several pictures as one zip, for an export of a board with many parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for picture in found:
            archive.writestr(picture.name, picture.content)
    return Picture(name=name, content=out.getvalue(), alt=f"{len(found)} pictures of the board")

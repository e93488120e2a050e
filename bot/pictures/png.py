"""One page of the board as a PNG, the picture Slack previews (images must be PNG, JPEG or GIF)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from bot.core.board import (
    FONT_SIZE,
    GAP,
    LABEL_WIDTH,
    LINE_HEIGHT,
    PADDING,
    SMALL_FONT_SIZE,
    Arrow,
    Box,
    Lane,
    Page,
)
from bot.pictures import palette
from bot.pictures.fonts import font, legible

TITLE_SIZE = 18
ARROW_HEAD = 9


def paint(page: Page) -> bytes:
    image = Image.new("RGB", (page.width, page.height), palette.BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((GAP, 12), legible(page.title), font=font(TITLE_SIZE, bold=True), fill=palette.INK)
    for lane in page.lanes:
        _lane(draw, lane, page.width)
    for arrow in page.arrows:
        _arrow(draw, arrow)
    for box in page.boxes:
        _box(draw, box)
    _continues(draw, page)
    out = io.BytesIO()
    # Fast compression: a board is flat colour and compresses well at any level.
    image.save(out, format="PNG", compress_level=3)
    return out.getvalue()


def _lane(draw: ImageDraw.ImageDraw, lane: Lane, width: int) -> None:
    bottom = lane.y + lane.height
    draw.rectangle((0, lane.y, width, bottom), fill=palette.LANE[lane.role])
    title = palette.AGGREGATE if lane.role == "aggregate" else palette.LANE_TITLE
    draw.rectangle((0, lane.y, LABEL_WIDTH - PADDING, bottom), fill=title)
    draw.line((0, lane.y, width, lane.y), fill=palette.FAINT)
    for index, line in enumerate(lane.lines):
        draw.text(
            (PADDING, lane.y + 12 + index * LINE_HEIGHT),
            legible(line),
            font=font(FONT_SIZE, bold=True),
            fill=palette.INK,
        )


def _box(draw: ImageDraw.ImageDraw, box: Box) -> None:
    fill = palette.NOTE[box.kind]
    if box.kind == "hotspot" and box.resolved:
        fill = palette.RESOLVED_HOTSPOT
    draw.rounded_rectangle(
        (box.x, box.y, box.right, box.bottom), radius=4, fill=fill, outline=palette.OUTLINE
    )
    draw.text(
        (box.x + PADDING, box.y + PADDING),
        box.key + (f" on {box.about}" if box.about else ""),
        font=font(SMALL_FONT_SIZE),
        fill=palette.OUTLINE,
    )
    for index, line in enumerate(box.lines, start=1):
        draw.text(
            (box.x + PADDING, box.y + PADDING + index * LINE_HEIGHT),
            legible(line),
            font=font(FONT_SIZE),
            fill=palette.INK,
        )


def _arrow(draw: ImageDraw.ImageDraw, arrow: Arrow) -> None:
    colour = palette.FAINT if arrow.leaves or arrow.arrives else palette.INK
    draw.line(arrow.points, fill=colour, width=2)
    (x1, y1), (x2, y2) = arrow.points[-2], arrow.points[-1]
    draw.polygon(head(x1, y1, x2, y2), fill=colour)
    if arrow.leaves:
        draw.text((x2 - 44, y2 - 18), f"→ {arrow.target}", font=font(SMALL_FONT_SIZE), fill=colour)
    if arrow.arrives:
        x, y = arrow.points[0]
        draw.text((x + 4, y - 18), f"{arrow.source} →", font=font(SMALL_FONT_SIZE), fill=colour)


def head(x1: float, y1: float, x2: float, y2: float) -> list[tuple[float, float]]:
    """The arrowhead's triangle, its point at (x2, y2), along the line from (x1, y1)."""
    dx, dy = x2 - x1, y2 - y1
    length = max((dx * dx + dy * dy) ** 0.5, 1.0)
    ux, uy = dx / length, dy / length
    back_x, back_y = x2 - ux * ARROW_HEAD, y2 - uy * ARROW_HEAD
    half = ARROW_HEAD / 2
    return [
        (x2, y2),
        (back_x - uy * half, back_y + ux * half),
        (back_x + uy * half, back_y - ux * half),
    ]


def _continues(draw: ImageDraw.ImageDraw, page: Page) -> None:
    small = font(SMALL_FONT_SIZE, bold=True)
    if page.continues_after:
        text = f"continues in part {page.number + 1} →"
        width = small.getlength(text)
        draw.text((page.width - width - GAP, 16), text, font=small, fill=palette.FAINT)
    if page.continues_before:
        text = f"← continued from part {page.number - 1}"
        width = small.getlength(text)
        shift = small.getlength(f"continues in part {page.number + 1} →") + 2 * GAP
        right = page.width - (shift if page.continues_after else 0)
        draw.text((right - width - GAP, 16), text, font=small, fill=palette.FAINT)

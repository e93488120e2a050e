"""One page of the board as SVG, for documents and browsers: the same layout as the PNG.

Text is kept as typed (a browser has fonts for any script and for emoji), less the control
characters XML cannot hold; ElementTree escapes markup, so a name never becomes SVG.
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET

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
from bot.pictures.fonts import FAMILY
from bot.pictures.png import TITLE_SIZE, head

NS = "http://www.w3.org/2000/svg"


def paint(page: Page) -> bytes:
    svg = ET.Element(
        "svg",
        {
            "xmlns": NS,
            "width": str(page.width),
            "height": str(page.height),
            "viewBox": f"0 0 {page.width} {page.height}",
            "font-family": f"{FAMILY}, Verdana, sans-serif",
            "font-size": str(FONT_SIZE),
        },
    )
    ET.SubElement(svg, "title").text = xml_text(page.title)
    ET.SubElement(svg, "rect", {"width": "100%", "height": "100%", "fill": palette.BACKGROUND})
    _text(svg, GAP, 12 + TITLE_SIZE, [page.title], size=TITLE_SIZE, bold=True, role="title")
    for lane in page.lanes:
        _lane(svg, lane, page.width)
    for arrow in page.arrows:
        _arrow(svg, arrow)
    for box in page.boxes:
        _box(svg, box)
    marks = []
    if page.continues_before:
        marks.append(f"← continued from part {page.number - 1}")
    if page.continues_after:
        marks.append(f"continues in part {page.number + 1} →")
    if marks:
        text = _text(svg, page.width - GAP, 28, ["   ".join(marks)], size=SMALL_FONT_SIZE)
        text.set("text-anchor", "end")
        text.set("fill", palette.FAINT)
    return ET.tostring(svg, encoding="utf-8", xml_declaration=True)


def xml_text(text: str) -> str:
    """`text` without what XML 1.0 cannot carry (control characters, lone surrogates)."""
    return "".join(
        char for char in text if char in "\t\n" or unicodedata.category(char) not in ("Cc", "Cs")
    )


def _text(
    parent: ET.Element,
    x: float,
    y: float,
    lines: list[str] | tuple[str, ...],
    *,
    size: int = FONT_SIZE,
    bold: bool = False,
    role: str | None = None,
) -> ET.Element:
    """One <text> for a name however many lines it wraps to: a reader finds it whole."""
    attributes = {"x": str(x), "y": str(y), "font-size": str(size), "fill": palette.INK}
    if bold:
        attributes["font-weight"] = "bold"
    if role:
        attributes["class"] = role
    text = ET.SubElement(parent, "text", attributes)
    for index, line in enumerate(lines):
        span = ET.SubElement(
            text, "tspan", {"x": str(x), "dy": "0" if index == 0 else str(LINE_HEIGHT)}
        )
        span.text = xml_text(line)
    return text


def _lane(svg: ET.Element, lane: Lane, width: int) -> None:
    group = ET.SubElement(svg, "g", {"class": f"lane {lane.role}"})
    ET.SubElement(
        group,
        "rect",
        {
            "x": "0",
            "y": str(lane.y),
            "width": str(width),
            "height": str(lane.height),
            "fill": palette.LANE[lane.role],
        },
    )
    title = palette.AGGREGATE if lane.role == "aggregate" else palette.LANE_TITLE
    ET.SubElement(
        group,
        "rect",
        {
            "x": "0",
            "y": str(lane.y),
            "width": str(LABEL_WIDTH - PADDING),
            "height": str(lane.height),
            "fill": title,
        },
    )
    ET.SubElement(
        group,
        "line",
        {
            "x1": "0",
            "y1": str(lane.y),
            "x2": str(width),
            "y2": str(lane.y),
            "stroke": palette.FAINT,
        },
    )
    _text(group, PADDING, lane.y + 12 + FONT_SIZE, lane.lines, bold=True, role="lane-title")


def _box(svg: ET.Element, box: Box) -> None:
    fill = palette.NOTE[box.kind]
    if box.kind == "hotspot" and box.resolved:
        fill = palette.RESOLVED_HOTSPOT
    group = ET.SubElement(svg, "g", {"class": f"element {box.kind}", "id": box.key})
    ET.SubElement(
        group,
        "rect",
        {
            "x": str(box.x),
            "y": str(box.y),
            "width": str(box.width),
            "height": str(box.height),
            "rx": "4",
            "fill": fill,
            "stroke": palette.OUTLINE,
        },
    )
    key = _text(
        group,
        box.x + PADDING,
        box.y + PADDING + SMALL_FONT_SIZE,
        [box.key + (f" on {box.about}" if box.about else "")],
        size=SMALL_FONT_SIZE,
        role="key",
    )
    key.set("fill", palette.OUTLINE)
    _text(group, box.x + PADDING, box.y + PADDING + LINE_HEIGHT + FONT_SIZE, box.lines, role="name")


def _arrow(svg: ET.Element, arrow: Arrow) -> None:
    colour = palette.FAINT if arrow.leaves or arrow.arrives else palette.INK
    group = ET.SubElement(
        svg, "g", {"class": "link", "data-source": arrow.source, "data-target": arrow.target}
    )
    ET.SubElement(
        group,
        "polyline",
        {
            "points": " ".join(f"{x},{y}" for x, y in arrow.points),
            "fill": "none",
            "stroke": colour,
            "stroke-width": "2",
        },
    )
    (x1, y1), (x2, y2) = arrow.points[-2], arrow.points[-1]
    ET.SubElement(
        group,
        "polygon",
        {"points": " ".join(f"{x:.1f},{y:.1f}" for x, y in head(x1, y1, x2, y2)), "fill": colour},
    )
    if arrow.leaves:
        mark = _text(group, x2 - 4, y2 - 6, [f"→ {arrow.target}"], size=SMALL_FONT_SIZE)
        mark.set("text-anchor", "end")
        mark.set("fill", colour)
    if arrow.arrives:
        x, y = arrow.points[0]
        mark = _text(group, x + 4, y - 6, [f"{arrow.source} →"], size=SMALL_FONT_SIZE)
        mark.set("fill", colour)

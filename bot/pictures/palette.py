"""The board's colours: Event Storming's sticky notes (SPEC §3), and the lanes behind them."""

from __future__ import annotations

NOTE: dict[str, str] = {
    "event": "#FFA94D",  # orange
    "command": "#74C0FC",  # blue
    "view": "#8CE99A",  # green
    "policy": "#D0BFFF",  # lilac
    "actor": "#FFEC99",  # (small) yellow
    "external": "#FCC2D7",  # pink (wide)
    "hotspot": "#F783AC",  # pink
    "screen": "#FFFFFF",  # white
}
RESOLVED_HOTSPOT = "#FCE4EC"  # a hotspot that has its answer: faded pink
AGGREGATE = "#FFE066"  # yellow: the title of an aggregate's lane
LANE: dict[str, str] = {
    "people": "#F8F9FA",
    "actions": "#F1F3F5",
    "aggregate": "#FFF9DB",
    "events": "#FFF4E6",
    "hotspots": "#FFF0F6",
}
LANE_TITLE = "#E9ECEF"
BACKGROUND = "#FFFFFF"
INK = "#212529"  # text and arrows
FAINT = "#868E96"  # IDs, lines between lanes, "continues" marks
OUTLINE = "#495057"

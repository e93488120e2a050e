"""The board painted (SPEC §4.5): PNGs decoded and SVGs parsed, checked against the layout."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from PIL import Image, ImageColor

from bench.model import plan
from bench.model import snapshot as generated
from bot.core.board import FONT_SIZE, LABEL_WIDTH, PADDING, Page, lay_out
from bot.core.model import Snapshot
from bot.pictures import palette, pictures, png, svg
from bot.pictures.fonts import legible, measure
from tests.unit.test_exports import el, model, parts

SVG = "{http://www.w3.org/2000/svg}"


def painted(snapshot: Snapshot) -> tuple[list[Page], list[Image.Image]]:
    pages = list(lay_out(snapshot, measure(FONT_SIZE)).pages)
    return pages, [Image.open(io.BytesIO(png.paint(page))).convert("RGB") for page in pages]


def rgb(colour: str) -> tuple[int, int, int]:
    red, green, blue = ImageColor.getrgb(colour)[:3]
    return red, green, blue


def test_the_png_is_the_layouts_size_with_each_lane_and_note_in_its_colour() -> None:
    (page,), (image,) = painted(model())
    assert image.size == (page.width, page.height)
    for lane in page.lanes:
        # Just right of the lane's title, left of the first column: the lane's own colour.
        assert image.getpixel((LABEL_WIDTH - 2, lane.y + lane.height - 3)) == rgb(
            palette.LANE[lane.role]
        ), lane.title
        title = palette.AGGREGATE if lane.role == "aggregate" else palette.LANE_TITLE
        assert image.getpixel((2, lane.y + lane.height - 3)) == rgb(title), lane.title
    for box in page.boxes:
        colour = palette.NOTE[box.kind]
        if box.kind == "hotspot" and box.resolved:
            colour = palette.RESOLVED_HOTSPOT
        # Inside the note's left margin, halfway down: no text there, only the note.
        assert image.getpixel((box.x + PADDING // 2, box.y + box.height // 2)) == rgb(colour), box
    kinds = {box.kind for box in page.boxes}
    assert {"event", "command", "view", "policy", "actor", "external", "hotspot"} <= kinds


def test_text_is_drawn_in_each_note() -> None:
    (page,), (image,) = painted(model())
    for box in page.boxes:
        inside = image.crop((box.x + PADDING, box.y + PADDING, box.right - PADDING, box.bottom))
        inks = {
            pixel
            for _, pixel in inside.getcolors(1 << 20) or []
            if pixel != rgb(palette.NOTE[box.kind])
        }
        assert len(inks) > 5, f"{box.key} has no text"


def test_a_wide_board_is_several_pictures_of_full_size() -> None:
    found = pictures(generated(plan(1000, seed=5)), "png")
    assert len(found) > 1
    sizes = [Image.open(io.BytesIO(p.content)).size for p in found]
    assert len({width for width, _ in sizes[:-1]}) == 1  # not shrunk to fit
    assert [p.name for p in found[:2]] == [
        f"board-1-of-{len(found)}.png",
        f"board-2-of-{len(found)}.png",
    ]
    assert f"part 1 of {len(found)}" in found[0].alt


def test_the_svg_has_one_text_per_element_name_and_the_same_boxes() -> None:
    snapshot = model()
    (page,) = lay_out(snapshot, measure(FONT_SIZE)).pages
    root = ET.fromstring(svg.paint(page))
    assert root.tag == f"{SVG}svg" and root.get("width") == str(page.width)
    groups = {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("id")}
    assert set(groups) == {box.key for box in page.boxes}
    for box in page.boxes:
        (name,) = [t for t in groups[box.key].iter(f"{SVG}text") if t.get("class") == "name"]
        words = " ".join(span.text or "" for span in name.iter(f"{SVG}tspan"))
        assert words == " ".join(box.lines)
        (rect,) = groups[box.key].iter(f"{SVG}rect")
        assert (rect.get("x"), rect.get("y")) == (str(box.x), str(box.y))
    names = {e.name for e in snapshot.elements if e.key in groups and e.kind != "hotspot"}
    texts = {
        " ".join(s.text or "" for s in t.iter(f"{SVG}tspan"))
        for t in root.iter(f"{SVG}text")
        if t.get("class") == "name"
    }
    assert names <= texts
    arrows = {(g.get("data-source"), g.get("data-target")) for g in root.iter(f"{SVG}g")}
    assert ("C1", "E1") in arrows and ("P1", "C2") in arrows


HOSTILE = {
    "E1": "Order " * 40 + "Placed",  # 200+ characters
    "E2": "Payment 🚀 Requested 🎉👍🏽",
    "E3": "הזמנה שולמה",  # Hebrew, right to left
    "E4": "تم رفض الدفع",  # Arabic
    "E5": '<b>Shipped</b> & "sent" <!channel> *bold*',
    "E6": "Cancelled\x00\x07\x1b[31m with controls",
    "C1": "x" * 10_000,
    "C2": "中文名称 Request",
}


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_hostile_names_render_without_crashing(kind: str) -> None:
    elements = parts()
    for key, name in HOSTILE.items():
        elements[key] = replace(elements[key], name=name)
    found = pictures(model(elements), kind)
    assert found and all(p.content for p in found)
    if kind == "png":
        Image.open(io.BytesIO(found[0].content)).verify()
    else:
        root = ET.fromstring(found[0].content)  # controls stripped: still well-formed XML
        text = "".join(root.itertext())
        assert "<b>Shipped</b>" in text and "<!channel>" in text  # as text, not markup
        assert "\x00" not in text and "\x1b" not in text


def test_what_the_font_lacks_becomes_words_or_goes() -> None:
    assert legible("Paid 🚀") == "Paid :rocket:"
    assert legible("הזמנה") == "הזמנה"  # the font has Hebrew: kept as typed
    assert legible("a\x00b\x07c") == "abc"
    assert legible("中") == "\ufffd"


def test_empty_and_huge_workshops_draw() -> None:
    empty = replace(model(), elements=())
    (picture,) = pictures(empty, "png")
    assert "no elements yet" in picture.alt
    assert Image.open(io.BytesIO(picture.content)).size[0] > LABEL_WIDTH
    big = generated(plan(2000, seed=9))
    events = len(big.events)
    found = pictures(big, "svg", limit=2)
    assert len(found) == 2
    assert int(found[0].name.removesuffix(".svg").split("-of-")[1]) >= events // 30
    ET.fromstring(found[1].content)


def test_a_loose_event_gets_the_no_aggregate_lane_painted() -> None:
    elements = parts()
    elements["E8"] = el("E8", "Invoice Sent", position=7)
    (page,), (image,) = painted(model(elements))
    lane = next(lane for lane in page.lanes if lane.title == "Events in no aggregate")
    assert image.getpixel((LABEL_WIDTH - 2, lane.y + 3)) == rgb(palette.LANE["events"])

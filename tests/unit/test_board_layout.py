"""The board's layout (SPEC §4.5): what goes where, before any pixel is painted."""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

from bench.model import plan
from bench.model import snapshot as generated
from bot.core import board as layout
from bot.core.board import Board, Box, lay_out, wrap
from tests.unit.test_exports import el, model, parts

DRAWN = {"event", "command", "view", "policy", "actor", "external", "hotspot"}


def boxes(board: Board) -> list[Box]:
    return [box for page in board.pages for box in page.boxes]


def by_key(board: Board) -> dict[str, Box]:
    return {box.key: box for box in boxes(board)}


def lane_of(board: Board, key: str) -> str:
    for page in board.pages:
        for box in page.boxes:
            if box.key == key:
                return next(
                    lane.title for lane in page.lanes if lane.y <= box.y < lane.y + lane.height
                )
    raise KeyError(key)


def test_every_live_element_is_drawn_once_and_dropped_ones_are_not() -> None:
    snapshot = model()
    drawn = [box.key for box in boxes(lay_out(snapshot))]
    expected = {e.key for e in snapshot.elements if e.kind in DRAWN}
    assert sorted(drawn) == sorted(expected)
    assert "E9" not in drawn and "E7" not in drawn  # dropped; merged into E1


def test_no_two_boxes_overlap_and_every_box_is_inside_its_page() -> None:
    for snapshot in (model(), generated(plan(300, seed=3))):
        for page in lay_out(snapshot).pages:
            for one, other in combinations(page.boxes, 2):
                assert not one.overlaps(other), (one.key, other.key)
            for box in page.boxes:
                assert box.x > 0 and box.right <= page.width
                assert box.y > 0 and box.bottom <= page.height


def test_time_runs_left_to_right_in_timeline_order() -> None:
    snapshot = model()
    found = by_key(lay_out(snapshot))
    xs = [found[event.key].x for event in snapshot.events]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    # E6 sits before E5 on the timeline (positions 5 and 6), so it is drawn left of it.
    assert found["E6"].x < found["E5"].x


def test_commands_views_policies_and_actors_take_the_column_of_what_they_join() -> None:
    found = by_key(lay_out(model()))
    assert found["C1"].x == found["E1"].x  # the event it causes
    assert found["V1"].x == found["E1"].x  # the first event that feeds it (E7 is E1)
    assert found["P1"].x == found["E1"].x  # its trigger
    assert found["R1"].x == found["C1"].x  # its first command
    assert found["X1"].x == found["E3"].x  # the first event it causes


def test_lanes_top_to_bottom_people_actions_then_events_by_aggregate() -> None:
    board = lay_out(model())
    titles = [lane.title for lane in board.pages[0].lanes]
    assert titles == [
        "Actors and external systems",
        "Commands, views and policies",
        "A1 Order",
        "A2 Payment",
        "Hotspots about nothing in particular",
    ]
    assert lane_of(board, "R2") == lane_of(board, "X1") == "Actors and external systems"
    assert {lane_of(board, k) for k in ("C1", "V2", "P1")} == {"Commands, views and policies"}
    assert lane_of(board, "E1") == lane_of(board, "E6") == "A1 Order"
    assert lane_of(board, "E2") == lane_of(board, "E4") == "A2 Payment"


def test_events_in_no_aggregate_have_a_lane_of_their_own() -> None:
    elements = parts()
    elements["E8"] = el("E8", "Invoice Sent", position=7)
    titles = [lane.title for lane in lay_out(model(elements)).pages[0].lanes]
    assert "Events in no aggregate" in titles
    board = lay_out(model(elements))
    assert lane_of(board, "E8") == "Events in no aggregate"


def test_a_hotspot_is_a_note_right_under_its_element() -> None:
    found = by_key(lay_out(model()))
    note, element = found["H1"], found["C3"]
    assert note.kind == "hotspot" and note.about == "C3"
    assert note.x == element.x and note.y > element.bottom
    assert note.y - element.bottom == layout.GAP


def test_arrows_join_linked_boxes_edge_to_edge() -> None:
    board = lay_out(model())
    page = board.pages[0]
    found = {box.key: box for box in page.boxes}
    pairs = {(a.source, a.target) for a in page.arrows}
    assert {
        ("R1", "C1"),
        ("C1", "E1"),
        ("X1", "E3"),
        ("E1", "V1"),
        ("E1", "P1"),
        ("P1", "C2"),
    } <= pairs
    for arrow in page.arrows:
        (x1, y1), (x2, y2) = arrow.points[0], arrow.points[-1]
        source, target = found[arrow.source], found[arrow.target]
        assert source.x <= x1 <= source.right and source.y <= y1 <= source.bottom
        assert target.x <= x2 <= target.right and target.y <= y2 <= target.bottom
    # A link to a dropped element (V2 fed by E9) draws no arrow.
    assert not any("E9" in pair for pair in pairs)


def test_long_names_wrap_inside_their_box_and_end_in_an_ellipsis() -> None:
    elements = parts()
    elements["E1"] = replace(elements["E1"], name="Order " * 40 + "Placed")
    box = by_key(lay_out(model(elements)))["E1"]
    assert len(box.lines) == layout.NAME_LINES
    assert box.lines[-1].endswith("…")
    assert all(layout.rough_measure(line) <= box.width - 2 * layout.PADDING for line in box.lines)


def test_a_word_wider_than_a_box_is_cut_not_spilled() -> None:
    lines = wrap("x" * 60, 100, layout.rough_measure)
    assert all(layout.rough_measure(line) <= 100 for line in lines)
    assert "".join(lines).rstrip("…").startswith("x" * 20)


def test_a_wide_board_is_split_by_time_with_continues_marks_never_shrunk() -> None:
    snapshot = generated(plan(1000, seed=5))
    board = lay_out(snapshot)
    events = len(snapshot.events)
    assert len(board.pages) >= events // layout.COLUMNS_PER_PAGE
    assert all(len(page.columns) <= layout.COLUMNS_PER_PAGE for page in board.pages)
    widths = {page.width for page in board.pages[:-1]}
    assert len(widths) == 1  # every full page as wide as the first: nothing scaled down
    first, second = board.pages[0], board.pages[1]
    assert first.continues_after and not first.continues_before
    assert second.continues_before
    assert any(arrow.leaves for arrow in first.arrows) or any(a.arrives for a in second.arrows)
    # Time keeps running across pages: the last event of one page comes before the next's first.
    position = {e.key: i for i, e in enumerate(snapshot.events)}
    last = max(position[b.key] for b in first.boxes if b.kind == "event")
    assert last < min(position[b.key] for b in second.boxes if b.kind == "event")
    assert sorted(b.key for b in boxes(board)) == sorted(
        e.key for e in snapshot.elements if e.kind in DRAWN
    )


def test_an_empty_workshop_is_one_page_of_empty_lanes() -> None:
    snapshot = replace(model(), elements=())
    board = lay_out(snapshot)
    assert len(board.pages) == 1 and board.pages[0].boxes == ()
    assert [lane.title for lane in board.pages[0].lanes][-1] == "Events"


def test_alt_text_says_what_the_picture_shows_with_counts() -> None:
    board = lay_out(model())
    text = layout.describe(board, board.pages[0])
    assert "6 events" in text and "3 commands" in text and "2 views" in text
    assert "1 policy" in text and "2 hotspots" in text and "A2 Payment" in text


def test_screens_sit_in_the_top_lane_with_arrows_to_commands_and_from_views() -> None:
    grouped = parts()
    with_screen = {
        **grouped,
        "V1": replace(grouped["V1"], aggregate="A1"),
        "U1": el("U1", "Checkout", issues=("C1",), shows=("V1",)),
        "P2": el("P2", "Chase each", on="V2", issues=("C2",)),
    }
    board = lay_out(model(with_screen))
    assert lane_of(board, "U1") == "Screens, actors and external systems"
    # Views of an aggregate stay in the views' lane.
    assert lane_of(board, "V1") == "Commands, views and policies"
    found = by_key(board)
    assert found["U1"].column == found["C1"].column  # placed at its first command
    arrows = {(a.source, a.target) for page in board.pages for a in page.arrows}
    assert {("U1", "C1"), ("V1", "U1"), ("V2", "P2"), ("P2", "C2")} <= arrows
    # Without screens the lane keeps its name.
    assert lane_of(lay_out(model()), "R1") == "Actors and external systems"

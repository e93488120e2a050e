"""The board as Event Modeling draws it (SPEC §4.5): boxes, lanes and arrows placed on a grid.

This is geometry only, in pixels at full size; `bot.pictures` paints it as PNG and SVG, so both
show exactly the same board. Time runs left to right: each live event has a column of its own in
timeline order, and every other box takes the column of the event it belongs to in time (a
command or an external system: the first event it causes; a view: the first event that feeds
it; a policy: its trigger; an actor: its first command; a screen: its first command or view).
Lanes run top to bottom: screens (Event Modeling's UI lane), actors and external systems;
commands, views and policies; events, one lane per aggregate in aggregate order and one for
events in none. Commands and views of an aggregate stay in their own lane, as Event Modeling
draws them: an aggregate's lane holds its events. Boxes that share a lane and a column are stacked, so none
overlap. Hotspots are notes stacked right under the element they are about; hotspots about
nothing have a lane of their own at the bottom. Aggregates are lanes, not boxes, and scenarios
are not drawn (they are slices' specifications; the title counts them).

Wide boards are split by time into pages of at most `COLUMNS_PER_PAGE` columns, each with all
its lanes, never shrunk: a picture stays readable at full size. An arrow whose other end is on
another page runs to the page's edge, where a "continues" mark says where it goes.

Text is wrapped with the width function the painter gives (its font's own measure), so the
layout is pure and yet every line fits its box.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from bot.core.exports.links import Links
from bot.core.model import ElementInfo, Snapshot

# Sizes in pixels at full size. Text is at least 12 px (SPEC §4.5).
FONT_SIZE = 14
SMALL_FONT_SIZE = 12
LINE_HEIGHT = 18
BOX_WIDTH = 170
NOTE_WIDTH = BOX_WIDTH
PADDING = 8
GAP = 16  # between stacked boxes and between columns
COLUMN_WIDTH = BOX_WIDTH + 2 * GAP
LABEL_WIDTH = 190  # the lanes' titles, left of the first column
TITLE_HEIGHT = 44
LANE_PADDING = 14
MIN_LANE_HEIGHT = 70
NAME_LINES = 4  # a longer name ends in an ellipsis
COLUMNS_PER_PAGE = 30

Measure = Callable[[str], float]


def rough_measure(text: str) -> float:
    """A width estimate for when no font is at hand (tests of the geometry alone)."""
    return 0.6 * FONT_SIZE * len(text)


@dataclass(frozen=True, slots=True)
class Box:
    """One element on the board: a sticky note of its kind's colour (SPEC §3)."""

    key: str
    kind: str
    lines: tuple[str, ...]  # the name, wrapped to fit
    column: int
    x: int
    y: int
    width: int
    height: int
    about: str | None = None  # a hotspot's element
    resolved: bool = False

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    def overlaps(self, other: Box) -> bool:
        return not (
            self.right <= other.x
            or other.right <= self.x
            or self.bottom <= other.y
            or other.bottom <= self.y
        )


@dataclass(frozen=True, slots=True)
class Lane:
    title: str
    role: str  # "people" | "actions" | "aggregate" | "events" | "hotspots": its colours
    lines: tuple[str, ...]  # the title, wrapped to fit left of the first column
    y: int
    height: int


@dataclass(frozen=True, slots=True)
class Arrow:
    """A link, drawn from `source` to `target`. `points` run from the source's edge to the
    target's; an end on another page is the page's edge (`leaves` / `arrives`)."""

    source: str
    target: str
    points: tuple[tuple[int, int], ...]
    leaves: bool = False  # the target is on a later page
    arrives: bool = False  # the source is on an earlier page


@dataclass(frozen=True)
class Page:
    number: int  # from 1
    of: int
    title: str
    columns: range
    width: int
    height: int
    lanes: tuple[Lane, ...]
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]

    @property
    def continues_before(self) -> bool:
        return self.number > 1

    @property
    def continues_after(self) -> bool:
        return self.number < self.of


@dataclass(frozen=True)
class Board:
    title: str
    pages: tuple[Page, ...]
    counts: dict[str, int] = field(default_factory=dict)  # boxes drawn, by kind


def wrap(text: str, width: float, measure: Measure, max_lines: int = NAME_LINES) -> list[str]:
    """`text` in lines no wider than `width`: broken between words, inside a word only when
    the word alone is too wide; past `max_lines` the last line ends in an ellipsis."""
    words = text.split()
    lines: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if measure(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        while measure(word) > width:  # a word wider than the box: cut it
            cut = _fitting(word, width, measure)
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = [
            *lines[: max_lines - 1],
            _ellipsis(" ".join(lines[max_lines - 1 :]), width, measure),
        ]
    return lines or [""]


def _fitting(word: str, width: float, measure: Measure) -> int:
    """How many leading characters of `word` fit in `width` (at least one)."""
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(word[:middle]) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def _ellipsis(text: str, width: float, measure: Measure) -> str:
    if measure(text) <= width:
        return text
    return text[: _fitting(text, width - measure("…"), measure)].rstrip() + "…"


def lay_out(snapshot: Snapshot, measure: Measure = rough_measure) -> Board:
    """The whole board, split into pages by time."""
    return _Layout(snapshot, measure).board()


def describe(board: Board, page: Page) -> str:
    """Alt text for one picture: what it shows, with counts (SPEC §4.5)."""
    on_page: dict[str, int] = {}
    for box in page.boxes:
        on_page[box.kind] = on_page.get(box.kind, 0) + 1
    shown = ", ".join(f"{count} {_plural(kind, count)}" for kind, count in sorted(on_page.items()))
    events = [box.key for box in page.boxes if box.kind == "event"]
    lanes = ", ".join(lane.title for lane in page.lanes)
    where = f"part {page.number} of {page.of}, " if page.of > 1 else ""
    span = f" from {events[0]} to {events[-1]}" if len(events) > 1 else ""
    return (
        f"Event Modeling board of {board.title} ({where}timeline{span}): "
        f"{shown or 'no elements yet'}. Lanes: {lanes}."
    )


def _plural(kind: str, count: int) -> str:
    name = {"external": "external system", "policy": "policies"}.get(kind, kind)
    if count == 1:
        return "policy" if kind == "policy" else name
    return name if name.endswith("ies") else f"{name}s"


@dataclass
class _Cell:
    """Boxes placed in one lane and column, top to bottom, before lanes have their heights."""

    entries: list[tuple[ElementInfo, list[str]]] = field(default_factory=list)


class _Layout:
    def __init__(self, snapshot: Snapshot, measure: Measure) -> None:
        self.snapshot = snapshot
        self.measure = measure
        self.links = Links(snapshot)
        self.column: dict[str, int] = {}
        self.lane_of: dict[str, int] = {}

    def board(self) -> Board:
        lanes = self._lanes()
        self._place_in_time()
        hotspots_by_element = self._hotspots()
        cells: dict[tuple[int, int], _Cell] = {}
        for element in self._drawn():
            lane = self.lane_of[element.key]
            cell = cells.setdefault((lane, self.column[element.key]), _Cell())
            cell.entries.append((element, self._lines(element)))
            for hotspot in hotspots_by_element.get(element.key, ()):
                cell.entries.append((hotspot, self._lines(hotspot)))
        columns = max((column for _, column in cells), default=0) + 1
        page_ranges = [
            range(start, min(start + COLUMNS_PER_PAGE, columns))
            for start in range(0, columns, COLUMNS_PER_PAGE)
        ]
        title = self._title()
        pages = tuple(
            self._page(number, len(page_ranges), span, lanes, cells, title)
            for number, span in enumerate(page_ranges, start=1)
        )
        counts: dict[str, int] = {}
        for page in pages:
            for box in page.boxes:
                counts[box.kind] = counts.get(box.kind, 0) + 1
        return Board(title=self.snapshot.title, pages=pages, counts=counts)

    # -- where each element goes -----------------------------------------------------------------

    def _lanes(self) -> list[tuple[str, str]]:
        """(title, role) top to bottom; fills `lane_of` for every drawn element."""
        people = "Actors and external systems"
        if self.snapshot.of_kind("screen"):
            people = "Screens, actors and external systems"
        lanes = [(people, "people"), ("Commands, views and policies", "actions")]
        for element in self.snapshot.elements:
            if element.kind in ("screen", "actor", "external"):
                self.lane_of[element.key] = 0
            elif element.kind in ("command", "view", "policy"):
                self.lane_of[element.key] = 1
        ungrouped = []
        for aggregate in self.snapshot.of_kind("aggregate"):
            lanes.append((aggregate.label, "aggregate"))
        aggregate_lane = {
            element.key: index
            for index, element in enumerate(self.snapshot.of_kind("aggregate"), start=2)
        }
        for event in self.snapshot.events:
            group = self.links.aggregate_of(event)
            if group is not None and group in aggregate_lane:
                self.lane_of[event.key] = aggregate_lane[group]
            else:
                ungrouped.append(event)
        if ungrouped or not aggregate_lane:
            lanes.append(("Events" if not aggregate_lane else "Events in no aggregate", "events"))
            for event in ungrouped:
                self.lane_of[event.key] = len(lanes) - 1
        loose = [h for h in self.snapshot.of_kind("hotspot") if not self._about(h)]
        if loose:
            lanes.append(("Hotspots about nothing in particular", "hotspots"))
            for hotspot in loose:
                self.lane_of[hotspot.key] = len(lanes) - 1
        return lanes

    def _place_in_time(self) -> None:
        """Fills `column`: events in timeline order, then each other box where what it joins
        is; a box joined to nothing in time goes after the timeline, one column each, and
        hotspots about nothing spread along their own lane from the start."""
        for index, event in enumerate(self.snapshot.events):
            self.column[event.key] = index
        links = self.links
        after = len(self.snapshot.events)

        def place(element: ElementInfo, joined: Iterable[str]) -> None:
            nonlocal after
            found = [self.column[key] for key in joined if key in self.column]
            if found:
                self.column[element.key] = min(found)
            else:
                self.column[element.key] = after
                after += 1

        for command in self.snapshot.of_kind("command"):
            place(command, links.keys(command.causes))
        for external in self.snapshot.of_kind("external"):
            place(external, links.keys(external.causes))
        for view in self.snapshot.of_kind("view"):
            place(view, links.keys(view.fed_by))
        for policy in self.snapshot.of_kind("policy"):
            place(
                policy, [key for key in (links.key(policy.on), *links.keys(policy.issues)) if key]
            )
        for actor in self.snapshot.of_kind("actor"):
            place(actor, links.keys(actor.issues))
        for screen in self.snapshot.of_kind("screen"):
            place(screen, [*links.keys(screen.issues), *links.keys(screen.shows)])
        loose = [h for h in self.snapshot.of_kind("hotspot") if not self._about(h)]
        for index, hotspot in enumerate(loose):
            self.column[hotspot.key] = index % after if after else index

    def _about(self, hotspot: ElementInfo) -> str | None:
        """The drawn element a hotspot is about, if any."""
        key = self.links.key(hotspot.on)
        if key is None or key not in self.links.by_key:
            return None
        return (
            key if self.links.by_key[key].kind not in ("hotspot", "aggregate", "scenario") else None
        )

    def _hotspots(self) -> dict[str, list[ElementInfo]]:
        found: dict[str, list[ElementInfo]] = {}
        for hotspot in self.snapshot.of_kind("hotspot"):
            about = self._about(hotspot)
            if about:
                found.setdefault(about, []).append(hotspot)
        return found

    def _drawn(self) -> Iterator[ElementInfo]:
        """Every element that is a box of its own, in ID order within its kind."""
        for kind in ("screen", "actor", "external", "command", "view", "policy"):
            yield from self.snapshot.of_kind(kind)
        yield from self.snapshot.events
        for hotspot in self.snapshot.of_kind("hotspot"):
            if not self._about(hotspot):
                yield hotspot

    def _lines(self, element: ElementInfo) -> list[str]:
        text = element.name
        if element.kind == "hotspot" and element.resolved:
            text = f"{text} ✓ {element.answer}" if element.answer else f"{text} ✓"
        return wrap(text, BOX_WIDTH - 2 * PADDING, self.measure)

    def _title(self) -> str:
        scenarios = len(self.snapshot.of_kind("scenario"))
        step = self.snapshot.current.step
        done = " (finished)" if self.snapshot.finished_at else ""
        counted = f" · {scenarios} scenario{'s' if scenarios != 1 else ''}" if scenarios else ""
        return f"{self.snapshot.title} · step {step.number} of 8: {step.name}{done}{counted}"

    # -- one page ----------------------------------------------------------------------------------

    def _page(
        self,
        number: int,
        of: int,
        span: range,
        lanes: list[tuple[str, str]],
        cells: dict[tuple[int, int], _Cell],
        title: str,
    ) -> Page:
        heights = [0] * len(lanes)
        for (lane, column), cell in cells.items():
            if column in span:
                heights[lane] = max(heights[lane], _stack_height(cell))
        boxes: list[Box] = []
        placed_lanes: list[Lane] = []
        y = TITLE_HEIGHT
        for index, (lane_title, role) in enumerate(lanes):
            if of > 1 and heights[index] == 0:
                # A part of a board split by time shows only the lanes with something in its
                # time: a large model's many aggregates each hold events in a few parts only.
                continue
            title_lines = tuple(wrap(lane_title, LABEL_WIDTH - 3 * PADDING, self.measure, 3))
            height = max(
                MIN_LANE_HEIGHT,
                heights[index] + 2 * LANE_PADDING - GAP,
                LINE_HEIGHT * len(title_lines) + 2 * LANE_PADDING,
            )
            placed_lanes.append(Lane(lane_title, role, title_lines, y, height))
            for column in span:
                found = cells.get((index, column))
                if found is None:
                    continue
                top = y + LANE_PADDING
                x = LABEL_WIDTH + (column - span.start) * COLUMN_WIDTH + GAP
                for element, lines in found.entries:
                    box = Box(
                        key=element.key,
                        kind=element.kind,
                        lines=tuple(lines),
                        column=column,
                        x=x,
                        y=top,
                        width=BOX_WIDTH,
                        height=_box_height(lines),
                        about=self._about(element) if element.kind == "hotspot" else None,
                        resolved=element.resolved,
                    )
                    boxes.append(box)
                    top = box.bottom + GAP
            y += height
        # Room after the last column for arrows round it and the "continues" marks.
        width = LABEL_WIDTH + max(1, len(span)) * COLUMN_WIDTH + 2 * GAP
        page_boxes = {box.key: box for box in boxes}
        return Page(
            number=number,
            of=of,
            title=title if of == 1 else f"{title} · part {number} of {of}",
            columns=span,
            width=width,
            height=y + GAP,
            lanes=tuple(placed_lanes),
            boxes=tuple(boxes),
            arrows=tuple(self._arrows(page_boxes, span, width)),
        )

    def _arrows(self, boxes: dict[str, Box], span: range, width: int) -> Iterator[Arrow]:
        """Every link with at least one end on this page."""
        runs: dict[int, int] = {}  # arrows already down each gap
        for source, target in self._links():
            here, there = boxes.get(source), boxes.get(target)
            if here and there:
                gap = _gap(here, there)
                # Side by side down a shared gap, so each arrow can be followed on its own.
                shift = _SHIFTS[runs.get(gap, 0) % len(_SHIFTS)]
                runs[gap] = runs.get(gap, 0) + 1
                yield Arrow(source, target, _join(here, there, gap + shift))
            elif here and self.column.get(target, -1) >= span.stop:
                start = (here.right, here.y + here.height // 2)
                yield Arrow(source, target, (start, (width - GAP, start[1])), leaves=True)
            elif there and self.column.get(source, span.stop) < span.start:
                end = (there.x, there.y + there.height // 2)
                yield Arrow(source, target, ((LABEL_WIDTH, end[1]), end), arrives=True)

    def _links(self) -> Iterator[tuple[str, str]]:
        """(source, target) in the direction things happen, each once."""
        links = self.links
        seen: set[tuple[str, str]] = set()

        def once(pairs: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
            for pair in pairs:
                if pair not in seen and pair[0] != pair[1]:
                    seen.add(pair)
                    yield pair

        for source in self.snapshot.of_kind("actor") + self.snapshot.of_kind("screen"):
            yield from once((source.key, command) for command in links.keys(source.issues))
        for screen in self.snapshot.of_kind("screen"):
            yield from once((view, screen.key) for view in links.keys(screen.shows))
        for kind in ("command", "external"):
            for element in self.snapshot.of_kind(kind):
                yield from once((element.key, event) for event in links.keys(element.causes))
        for view in self.snapshot.of_kind("view"):
            yield from once((event, view.key) for event in links.keys(view.fed_by))
        for policy in self.snapshot.of_kind("policy"):
            trigger = links.key(policy.on)
            if trigger:
                yield from once([(trigger, policy.key)])
            yield from once((policy.key, command) for command in links.keys(policy.issues))


_SHIFTS = (0, -6, 6, -12, 12, -3, 3, -9, 9)


def _box_height(lines: list[str]) -> int:
    # The ID on a line of its own, then the name.
    return 2 * PADDING + LINE_HEIGHT * (1 + len(lines))


def _stack_height(cell: _Cell) -> int:
    return sum(_box_height(lines) + GAP for _, lines in cell.entries)


def _gap(source: Box, target: Box) -> int:
    """The x of the gap between columns that the arrow from `source` to `target` runs down."""
    if target.x > source.x:  # later in time: the gap before the target
        return target.x - GAP
    if target.x == source.x:  # the same column: the gap after it
        return source.right + GAP
    return source.x - GAP  # earlier in time: the gap before the source


def _join(source: Box, target: Box, gap: int) -> tuple[tuple[int, int], ...]:
    """Out of `source`'s side, down the gap at `gap`, into `target`'s side: vertical runs stay
    in the gaps, so an arrow never passes behind a box stacked in a column."""
    sy = source.y + source.height // 2
    ty = target.y + target.height // 2
    start = source.x if gap < source.x else source.right
    end = target.x if gap < target.x else target.right
    return ((start, sy), (gap, sy), (gap, ty), (end, ty))

"""The App Home tab as composed by the core and built into a home view: what each workshop
card says, escaping, Slack's limits (100 blocks, 3,000 characters a text), the empty tab and
pages (SPEC §4.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.completeness import check
from bot.core.home import (
    MAX_LINES,
    PAGE_SIZE,
    Finished,
    HomeTab,
    Involvement,
    home_tab,
    page_count,
    page_range,
)
from bot.core.model import KINDS_BY_LETTER, ElementInfo, Snapshot, StepState
from bot.core.steps import STEPS
from bot.sandbox.fake_slack import validate_view
from bot.slack.blocks import MAX_SECTION_TEXT
from bot.slack.home import MAX_HOME_BLOCKS, NEWER, OLDER, build_home

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
HOSTILE = "<!channel> *pay* & <@U9> `now` _x_ ~y~"


def el(key: str, name: str, *, author: str = "U1", **values: Any) -> ElementInfo:
    return ElementInfo(
        key=key,
        kind=KINDS_BY_LETTER[key[0]],
        name=name,
        author=author,
        votes=0,
        step_number=values.pop("step_number", 3),
        **values,
    )


def workshop(
    *elements: ElementInfo,
    title: str = "Checkout",
    channel: str = "C1",
    step: int = 3,
    deadline: datetime | None = NOW + timedelta(hours=5, minutes=30),
) -> Snapshot:
    steps = tuple(
        StepState(
            s.number,
            timedelta(hours=24),
            NOW - timedelta(hours=1) if s.number == step else None,
            deadline if s.number == step else None,
            None,
        )
        for s in STEPS
    )
    return Snapshot(
        team_id="T1",
        title=title,
        channel_id=channel,
        facilitators=("U1",),
        current_step=step,
        steps=steps,
        auto_advance=False,
        started_at=NOW - timedelta(days=1),
        finished_at=None,
        elements=elements,
    )


def texts(view: dict[str, Any]) -> list[str]:
    """Every text of a home view, as Slack would check them."""
    found: list[str] = []
    for block in view["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found.extend(e["text"]["text"] for e in block.get("elements", []) if "text" in e)
    return found


def test_a_card_says_where_the_workshop_stands_and_what_the_person_added() -> None:
    snapshot = workshop(
        el("E1", "Order Placed", step_number=1),
        el("E2", "Payment Taken", step_number=1, author="U2"),
        el("C1", "Place Order"),
        el("C2", "Take Payment", author="U2"),
        el("H1", "Who refunds?", on="E2"),
        el("H2", "Settled question", resolved=True),
    )
    tab = home_tab([Involvement(snapshot, yours=("C1",))], [], now=NOW)
    (card,) = tab.cards
    assert card.title == "*Checkout* in <#C1>"
    where, added, hotspots = card.sections
    assert "*Step 3 of 8: Track Causes*" in where
    assert "5h 30m left (until <!date^" in where
    assert "|2026-11-27 14:30 UTC>" in where  # the UTC fallback of the deadline
    assert f"*Completeness {round(check(snapshot).score * 100)}%*" in where
    assert "2 events, 2 commands, 2 hotspots" in where
    assert added == "*You added in this step (1)*\n:large_blue_square: *C1* Place Order"
    assert "*Open hotspots (1)*" in hotspots
    assert "*H1* Who refunds? (on *E2*)" in hotspots
    assert "H2" not in hotspots
    assert "1 workshop in progress" in tab.intro


def test_nothing_added_and_time_up_are_said_in_words() -> None:
    snapshot = workshop(el("E1", "Order Placed"), deadline=NOW - timedelta(minutes=5))
    (card,) = home_tab([Involvement(snapshot, yours=())], [], now=NOW).cards
    where, added, hotspots = card.sections
    assert "time is up (since <!date^" in where
    assert added == "You have added nothing in this step yet."
    assert hotspots == "No open hotspots."


def test_user_text_is_escaped_everywhere() -> None:
    snapshot = workshop(el("E1", HOSTILE), el("H1", HOSTILE), title=HOSTILE)
    finished = [Finished(HOSTILE, "C2", NOW - timedelta(days=3))]
    view = build_home(home_tab([Involvement(snapshot, yours=("E1",))], finished, now=NOW))
    shown = "\n".join(texts(view))
    assert shown.count("&lt;!channel&gt;") == 4  # title, E1, H1 and the finished workshop
    for raw in ("<!channel>", "<@U9>", "*pay*", "`now`", " _x_", "~y~"):
        assert raw not in shown


def test_the_longest_page_stays_within_slacks_limits() -> None:
    """A full page of workshops, each with more and longer hotspots and additions than fit,
    and many finished workshops: ≤ 100 blocks, every text ≤ 3,000 characters, nothing cut
    without saying how many more there are."""
    worst = "* " * 100  # each `*` becomes a 27-character token when escaped for mrkdwn
    elements = [el(f"E{n}", worst + str(n)) for n in range(1, 41)]
    elements += [el(f"H{n}", worst + str(n)) for n in range(1, 41)]
    page = [
        Involvement(workshop(*elements, title=worst), yours=tuple(f"E{n}" for n in range(1, 41)))
        for _ in range(PAGE_SIZE)
    ]
    finished = [Finished(worst, f"C{n}", NOW - timedelta(days=n)) for n in range(30)]
    tab = home_tab(page, finished, now=NOW, page=1, in_progress=3 * PAGE_SIZE)
    view = build_home(tab)
    assert validate_view(view, kind="home") == []  # as `views.publish` checks it
    assert len(view["blocks"]) <= MAX_HOME_BLOCKS
    assert all(len(text) <= MAX_SECTION_TEXT for text in texts(view))
    _, added, hotspots = tab.cards[0].sections
    shown = added.count("\n:large_orange_square:") + added.startswith(":large_orange_square:")
    assert 0 < shown <= MAX_LINES
    assert added.endswith(f"…and {40 - shown} more")
    assert "*Open hotspots (40)*" in hotspots and "more" in hotspots
    assert tab.finished is not None and "*Finished workshops (30)*" in tab.finished


def test_someone_in_no_workshop_is_told_how_to_start_one() -> None:
    tab = home_tab([], [], now=NOW)
    view = build_home(tab)
    shown = "\n".join(texts(view))
    assert tab.heading == "Welcome to Storm"
    assert validate_view(view, kind="home") == []
    assert "`/storm start &lt;title&gt;`" in shown
    assert "/invite @Storm" in shown
    assert not [b for b in view["blocks"] if b["type"] == "actions"]


def test_only_finished_workshops_are_listed_with_how_to_start_another() -> None:
    tab = home_tab([], [Finished("Returns", "C7", NOW - timedelta(days=2))], now=NOW)
    assert "No workshop is in progress" in tab.intro and "/storm start" in tab.intro
    assert tab.finished is not None
    assert tab.finished.startswith("*Finished workshops (1)*\n:checkered_flag: *Returns* in <#C7>")
    assert "|2026-11-25 09:00 UTC>" in tab.finished


@pytest.mark.parametrize(
    ("workshops", "asked", "shown", "first", "last"),
    [
        (0, 0, 0, 0, 0),
        (PAGE_SIZE, 0, 0, 0, PAGE_SIZE),
        (25, 0, 0, 0, 10),
        (25, 2, 2, 20, 25),
        (25, 9, 2, 20, 25),  # a page that no longer exists shows the last one
        (25, -1, 0, 0, 10),
    ],
)
def test_pages_hold_page_size_workshops(
    workshops: int, asked: int, shown: int, first: int, last: int
) -> None:
    page, window = page_range(workshops, asked)
    assert page == shown
    assert list(range(workshops))[window] == list(range(first, last))


def _buttons(tab: HomeTab) -> dict[str, str]:
    view = build_home(tab)
    actions = [b for b in view["blocks"] if b["type"] == "actions"]
    return {e["action_id"]: e["value"] for block in actions for e in block["elements"]}


def test_page_buttons_lead_to_the_newer_and_older_pages() -> None:
    assert page_count(25) == 3
    cards = [Involvement(workshop(title=f"W{n}"), yours=()) for n in range(PAGE_SIZE)]
    assert _buttons(home_tab(cards, [], now=NOW, page=0, in_progress=25)) == {OLDER: "1"}
    middle = home_tab(cards, [], now=NOW, page=1, in_progress=25)
    assert "(page 2 of 3)" in middle.intro and "25 workshops in progress" in middle.intro
    assert _buttons(middle) == {NEWER: "0", OLDER: "2"}
    assert _buttons(home_tab(cards[:5], [], now=NOW, page=2, in_progress=25)) == {NEWER: "1"}
    assert _buttons(home_tab(cards, [], now=NOW, in_progress=PAGE_SIZE)) == {}

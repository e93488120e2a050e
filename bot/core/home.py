"""The App Home tab (SPEC §4.4): each person's workshops, as a plain document.

The service finds the workshops a person is in and loads the page they are looking at; this
module says what the tab shows about them; `bot.slack.home` turns it into Block Kit. Like
`messages.Post`, the document is mrkdwn with every user's text escaped here, once; its lists
are cut (with "…and N more") so that no text can outgrow Slack's 3,000 characters, and a page
holds at most `PAGE_SIZE` workshops so that the tab stays well under its 100 blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.completeness import check
from bot.core.durations import format_duration
from bot.core.messages import when
from bot.core.model import KIND_EMOJI, KIND_LETTERS, Snapshot
from bot.core.steps import LAST_STEP
from bot.core.text import code, literal, plural

# Workshops in progress per page: each takes five blocks (see `bot.slack.home`), so a page
# is under sixty blocks, well inside the hundred Slack allows a home tab.
PAGE_SIZE = 10
# Lines of one list (what you added, open hotspots, finished workshops) before "…and N more".
MAX_LINES = 10
# Characters of one list's text: under Slack's 3,000 per text, with room for its heading and
# the "…and N more" line.
MAX_LIST_TEXT = 2700
# A name is shown whole up to this length. Escaped, the longest one stays under the limit of
# a list (`literal` makes each `*` a token of 27 characters: 100 of them are 2,700).
MAX_SHOWN_NAME = 100

START_HOW = (
    f"Storm runs an Event Storming + Event Modeling workshop in a channel. To start one, "
    f"invite me to the channel (`/invite @Storm`) and type `{code('/storm start <title>')}` "
    "there; `/storm help` shows every command."
)


@dataclass(frozen=True)
class Involvement:
    """A workshop in progress on the person's page, and what they added in its current step
    (the IDs of live elements they added or authored, oldest first)."""

    snapshot: Snapshot
    yours: tuple[str, ...]


@dataclass(frozen=True)
class Finished:
    """A finished workshop the person was in, listed briefly."""

    title: str
    channel_id: str
    finished_at: datetime


@dataclass(frozen=True)
class Card:
    """One workshop in progress: a title line and the sections under it (mrkdwn)."""

    title: str
    sections: tuple[str, ...]


@dataclass(frozen=True)
class HomeTab:
    """What a person's App Home shows: `page` (from 0) of `pages` of their workshops in
    progress, newest first, and their finished workshops. `heading` is plain text; `intro`,
    the cards and `finished` are mrkdwn, already escaped."""

    heading: str
    intro: str
    cards: tuple[Card, ...] = ()
    finished: str | None = None
    page: int = 0
    pages: int = 1


def page_count(workshops: int) -> int:
    """How many pages `workshops` in progress take (an empty tab is one page)."""
    return max(1, -(-workshops // PAGE_SIZE))


def page_range(workshops: int, page: int) -> tuple[int, slice]:
    """The page to show when `page` is asked for (a page that no longer exists, after some
    workshops ended, becomes the last one) and which of the workshops, newest first, it holds."""
    shown = min(max(page, 0), page_count(workshops) - 1)
    return shown, slice(shown * PAGE_SIZE, (shown + 1) * PAGE_SIZE)


def home_tab(
    active: Sequence[Involvement],
    finished: Sequence[Finished],
    *,
    now: datetime,
    page: int = 0,
    in_progress: int | None = None,
) -> HomeTab:
    """The tab: `active` are the workshops in progress on `page` (of all `in_progress`, by
    default just these), `finished` all the finished ones the person was in, most recently
    finished first."""
    total = len(active) if in_progress is None else in_progress
    pages = page_count(total)
    done = _finished(finished) if finished else None
    if not active:
        if done is None:
            return HomeTab(
                heading="Welcome to Storm",
                intro="You are in no workshop yet: the workshops of your channels show up "
                "here, with their step, time left and what you added.\n\n" + START_HOW,
            )
        return HomeTab(
            heading="Your workshops",
            intro="No workshop is in progress in your channels. " + START_HOW,
            finished=done,
        )
    intro = (
        f"{plural(total, 'workshop')} in progress in your channels"
        + (f" (page {page + 1} of {pages})" if pages > 1 else "")
        + f", as of {when(now)}. This tab is refreshed each time you open it."
    )
    return HomeTab(
        heading="Your workshops",
        intro=intro,
        cards=tuple(_card(involvement, now) for involvement in active),
        finished=done,
        page=page,
        pages=pages,
    )


def _card(involvement: Involvement, now: datetime) -> Card:
    snapshot = involvement.snapshot
    state = snapshot.current
    score = round(check(snapshot).score * 100)
    counts = snapshot.counts_by_kind()
    count_text = (
        ", ".join(plural(counts[kind], kind) for kind in KIND_LETTERS if counts.get(kind))
        or "nothing yet"
    )
    where = (
        f":round_pushpin: *Step {state.number} of {LAST_STEP}: {state.step.name}* · "
        f":alarm_clock: {_time_left(state.deadline_at, now)}\n"
        f"*Completeness {score}%* · {count_text}"
    )
    index = snapshot.by_key()
    yours = [index[key] for key in involvement.yours if key in index]
    added = _listing(
        "You added in this step",
        [f"{KIND_EMOJI[e.kind]} *{e.key}* {_name(e.name)}" for e in yours],
        none="You have added nothing in this step yet.",
    )
    spots = [h for h in snapshot.of_kind("hotspot") if not h.resolved]
    hotspots = _listing(
        "Open hotspots",
        [
            f"{KIND_EMOJI['hotspot']} *{h.key}* {_name(h.name)}"
            + (f" (on *{h.on}*)" if h.on else "")
            for h in spots
        ],
        none="No open hotspots.",
    )
    title = f"*{_name(snapshot.title)}* in <#{snapshot.channel_id}>"
    return Card(title=title, sections=(where, added, hotspots))


def _time_left(deadline: datetime | None, now: datetime) -> str:
    if deadline is None:
        return "no deadline"
    if deadline <= now:
        return f"time is up (since {when(deadline)})"
    return f"{format_duration(deadline - now)} left (until {when(deadline)})"


def _finished(finished: Sequence[Finished]) -> str:
    return _listing(
        "Finished workshops",
        [
            f":checkered_flag: *{_name(f.title)}* in <#{f.channel_id}> · finished "
            f"{when(f.finished_at)}"
            for f in finished
        ],
        none="",
    )


def _name(text: str) -> str:
    """User text for the tab: escaped, and shortened past `MAX_SHOWN_NAME` characters."""
    shown = text if len(text) <= MAX_SHOWN_NAME else text[: MAX_SHOWN_NAME - 1] + "…"
    return literal(shown)


def _listing(heading: str, lines: Iterable[str], *, none: str) -> str:
    """`*heading (n)*` and its lines, as many as fit in `MAX_LINES` and `MAX_LIST_TEXT`, then
    how many more there are; `none` when there are no lines."""
    every = list(lines)
    if not every:
        return none
    shown: list[str] = []
    size = 0
    for line in every[:MAX_LINES]:
        if size + len(line) + 1 > MAX_LIST_TEXT:
            break
        shown.append(line)
        size += len(line) + 1
    more = len(every) - len(shown)
    tail = f"\n…and {more} more" if more else ""
    return f"*{heading} ({len(every)})*\n" + "\n".join(shown) + tail

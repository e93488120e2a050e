"""Everything Storm renders, over a workshop whose every name is hostile: no mention leaks,
every message fits Slack's limits, and exports give the names back exactly.

Pure: snapshots are built by hand (names as Storm stores them, after `clean_name`), posts go
through the real Block Kit builder, and blocks are checked with the fake Slack's own validator.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import messages, reports
from bot.core.exports import gherkin_features, to_eventmodel, to_markdown, to_mermaid
from bot.core.exports.slices import slices_zip
from bot.core.exports.storm_model import to_json
from bot.core.grammar import USAGES, GrammarError, parse
from bot.core.messages import Post
from bot.core.model import ElementInfo, FieldSpec, Scenario, Snapshot, StepState
from bot.core.steps import LAST_STEP, STEPS
from bot.slack.blocks import build_messages, build_single
from tests.hostile.strategies import (
    collapse,
    message_problems,
    mrkdwn_texts,
    slack_texts,
    stored_names,
    unescape,
)

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
FACILITATOR = "UF1"  # never one of the ids in the hostile mention syntax


@dataclass(frozen=True)
class Workshop:
    """A hostile snapshot and the moment it is rendered at."""

    snapshot: Snapshot
    now: datetime


def _element(key: str, kind: str, name: str, **values: Any) -> ElementInfo:
    values.setdefault("author", "U7")
    values.setdefault("votes", 1)
    values.setdefault("step_number", 1)
    values.setdefault("created_at", T0 + timedelta(hours=1))
    return ElementInfo(key=key, kind=kind, name=name, **values)


@st.composite
def workshops(draw: st.DrawFn) -> Workshop:
    """Every kind of element, every relation, a merged and a dropped one, hostile names for
    elements, fields, scenarios and people; sometimes 150 long-named events, so that
    summaries and reports must be split over several blocks and messages."""
    name = stored_names()
    event_names = draw(st.lists(name, min_size=1, max_size=6), label="events")
    bulk = draw(st.sampled_from((0, 0, 0, 150)), label="bulk events")
    bulk_name = draw(name, label="bulk name")
    field_names = draw(st.lists(name, min_size=1, max_size=3), label="fields")
    fields = tuple(FieldSpec(f, generated=n == 1) for n, f in enumerate(field_names))
    current = draw(st.integers(1, LAST_STEP), label="current step")

    events = [
        _element(
            f"E{n}",
            "event",
            event,
            position=n,
            votes=n % 3,
            fields=fields if n == 1 else (),
            aggregate="A1" if n == 1 else None,
            aliases=("E98",) if n == 1 else (),
        )
        for n, event in enumerate(event_names, start=1)
    ]
    first_bulk = len(events) + 1
    events += [
        _element(f"E{n}", "event", collapse(f"{bulk_name[:190]} {n}"), position=n, votes=0)
        for n in range(first_bulk, first_bulk + bulk)
    ]
    others = [
        _element("C1", "command", draw(name), causes=("E1",), fields=fields, aggregate="A1"),
        _element(
            "V1",
            "view",
            draw(name),
            fed_by=("E1", "E98", "E99"),
            fields=(FieldSpec(field_names[0], origin=f"E1.{field_names[0]}"),),
        ),
        _element("A1", "aggregate", draw(name), members=("C1", "E1")),
        _element("P1", "policy", draw(name), on="E1", issues=("C1",)),
        _element("R1", "actor", draw(name), issues=("C1",)),
        _element("X1", "external", draw(name), causes=("E1",)),
        _element("H1", "hotspot", draw(name), on="E1"),
        _element("H2", "hotspot", draw(name), resolved=True),
        _element("S1", "scenario", draw(name), scenario=Scenario(when="C1", then=("E1",))),
        _element(
            "S2",
            "scenario",
            draw(name),
            scenario=Scenario(given=("E1",), when="C1", error=draw(name, label="error")),
        ),
        _element("S3", "scenario", draw(name), scenario=Scenario(given=("E1",), view="V1")),
    ]
    steps = tuple(
        StepState(
            number=s.number,
            timebox=timedelta(hours=24),
            opened_at=T0 + timedelta(days=s.number - 1) if s.number <= current else None,
            deadline_at=T0 + timedelta(days=s.number) if s.number <= current else None,
            closed_at=T0 + timedelta(days=s.number) if s.number < current else None,
        )
        for s in STEPS
    )
    snapshot = Snapshot(
        team_id="T1",
        title=draw(name, label="title"),
        channel_id="C1",
        facilitators=(FACILITATOR,),
        current_step=current,
        steps=steps,
        auto_advance=False,
        started_at=T0,
        finished_at=None,
        elements=(*events, *others),
        contributors_by_step={1: frozenset({"U7"}), current: frozenset({FACILITATOR, "U8"})},
        members=(FACILITATOR, "U7", "U8", "U9"),
        names={
            FACILITATOR: draw(name, label="facilitator's name"),
            "U7": draw(name, label="author's name"),
            "U8": draw(name, label="someone's name"),
        },
        dropped=(("E99", draw(name, label="dropped")),),
    )
    return Workshop(snapshot, T0 + timedelta(days=current - 1, hours=2))


def all_posts(workshop: Workshop) -> list[tuple[str, Post, frozenset[str]]]:
    """(what, post, users it may mention) for every builder in messages.py and reports.py
    that shows the workshop (`usage_error` has its own test below)."""
    s, now = workshop.snapshot, workshop.now
    n = s.current_step
    nobody: frozenset[str] = frozenset()
    posts: list[tuple[str, Post, frozenset[str]]] = [
        ("kickoff", messages.kickoff(s), nobody),
        ("status", messages.status(s, now, s.counts_by_kind()), nobody),
        ("help", messages.help_card(), nobody),
        ("help event", messages.help_card("event"), nobody),
        ("completeness", reports.completeness_report(s), nobody),
        ("report", reports.full_report(s), nobody),
        ("final report", reports.full_report(s, final=True), nobody),
        (
            "digest",
            reports.digest(
                s,
                now=now,
                since=T0,
                contributors=["U7", "U8", "U9"],
                previous_score=0.5,
                late_note=messages.late_note(now),
            )[0],
            nobody,
        ),
    ]
    for last_call in (False, True):
        reminder = messages.reminder(s, n, last_call=last_call, now=now, due_at=now, late=True)
        posts.append((f"reminder last_call={last_call}", reminder, nobody))
    for advancing in (False, True):
        times_up = messages.times_up(s, n, due_at=now, late=True, advancing=advancing)
        mentioned = nobody if advancing else frozenset(s.facilitators)
        posts.append((f"times up advancing={advancing}", times_up, mentioned))
    for number in range(1, LAST_STEP + 1):
        posts.append((f"prompt {number}", messages.step_prompt(s, number), nobody))
        posts.append((f"summary {number}", reports.step_summary(s, number), nobody))
    for element in s.elements[:12]:
        posted = messages.element_posted(element, s.name_of(element.author))
        posts.append((f"element {element.key}", posted, nobody))
    return posts


def check_posts(posts: list[tuple[str, Post, frozenset[str]]]) -> None:
    """Every message of every post (as posted, and as an ephemeral answer) is accepted by
    Slack and mentions nobody but `mentioned`."""
    failures = []
    for what, post, mentioned in posts:
        pages = build_messages(post)
        for number, message in enumerate([*pages, build_single(post)]):
            page = f"{what}, page {number + 1}" if number < len(pages) else f"{what}, single"
            found = message_problems(message.text, message.blocks, mentioned=mentioned)
            failures += [f"{page}: {problem}" for problem in found]
    assert not failures, "\n".join(failures[:20])


@settings(max_examples=40, deadline=None)
@given(workshop=workshops())
def test_every_post_fits_slack_and_mentions_nobody_it_should_not(workshop: Workshop) -> None:
    posts = all_posts(workshop)
    check_posts(posts)
    longest = max(len(build_messages(post)) for _, post, _ in posts)
    hypothesis.event(f"longest post: {'several messages' if longest > 1 else 'one message'}")


hostile_lines = st.one_of(
    slack_texts().map(lambda t: t.raw),
    st.tuples(st.sampled_from(sorted(USAGES)), slack_texts()).map(lambda p: f"{p[0]} {p[1].raw}"),
    st.tuples(slack_texts(), slack_texts()).map(lambda p: f"merge {p[0].raw} into {p[1].raw}"),
)


@settings(max_examples=200, deadline=None)
@given(line=hostile_lines)
def test_a_refusal_quoting_hostile_text_fits_slack_and_mentions_nobody(line: str) -> None:
    """`usage_error` quotes what the person typed (an unknown sub-command, an ambiguous line)."""
    try:
        parse(line)
    except GrammarError as error:
        check_posts(
            [("usage error", messages.usage_error(error.problem, error.usage), frozenset())]
        )


def _shown(post: Post) -> str:
    """What a person reads across every message of a post, white space aside."""
    texts = [
        text
        for message in build_messages(post)
        for text in mrkdwn_texts(message.text, message.blocks)[1:]
    ]
    return collapse(unescape(" ".join(texts)))


@settings(max_examples=40, deadline=None)
@given(workshop=workshops())
def test_names_are_shown_as_typed(workshop: Workshop) -> None:
    """Escaped exactly once, and never cut, even when a report runs over several messages."""
    s = workshop.snapshot
    report = _shown(reports.full_report(s))
    missing = [e.key for e in s.elements if e.name not in report]
    assert not missing, f"not shown as typed in the report: {missing}"
    for element in s.elements[:12]:
        (message,) = build_messages(messages.element_posted(element, s.name_of(element.author)))
        assert unescape(message.text) == f"{element.key} {element.name}"
        assert element.name in _shown(messages.element_posted(element, "x"))


# --- Exports ------------------------------------------------------------------------------


KINDS = (
    "events",
    "commands",
    "views",
    "aggregates",
    "policies",
    "actors",
    "externals",
    "hotspots",
    "scenarios",
)


def _names_in(snapshot: Snapshot) -> dict[str, str]:
    return {e.key: e.name for e in snapshot.elements}


@settings(max_examples=40, deadline=None)
@given(workshop=workshops())
def test_the_json_export_gives_every_name_back_exactly(workshop: Workshop) -> None:
    s = workshop.snapshot
    model = json.loads(json.dumps(to_json(s), indent=2, ensure_ascii=False))  # as uploaded
    assert model["workshop"]["title"] == s.title
    read_back = {
        item["id"]: item.get("name", item.get("title", item.get("text")))
        for kind in KINDS
        for item in model[kind]
    }
    assert read_back == _names_in(s)
    by_key = {e.key: e for e in s.elements}
    for kind in ("events", "commands", "views"):
        for item in model[kind]:
            assert [f["name"] for f in item["fields"]] == [
                f.name for f in by_key[item["id"]].fields
            ]
    (error,) = [sc["error"] for sc in model["scenarios"] if sc["error"] is not None]
    assert error == by_key["S2"].scenario.error  # type: ignore[union-attr]


@settings(max_examples=40, deadline=None)
@given(workshop=workshops())
def test_the_event_model_export_gives_every_title_back_exactly(workshop: Workshop) -> None:
    s = workshop.snapshot
    names = _names_in(s)
    document = json.loads(to_eventmodel(s))
    titled = [
        (element["id"], element["title"])
        for cut in document["slices"]
        for kind in ("commands", "events", "readmodels", "processors")
        for element in cut[kind]
    ]
    assert titled and all(names[key] == title for key, title in titled)
    assert all(cut["context"] == s.title for cut in document["slices"])


_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
#: A CommonMark code span: a run of backticks (not backslash-escaped) up to the next run of
#: exactly as many.
_CODE_SPAN = re.compile(r"(?<![`\\])(`+)(?!`).+?(?<!`)\1(?!`)")


@settings(max_examples=40, deadline=None)
@given(workshop=workshops())
def test_markdown_mermaid_and_gherkin_keep_their_structure(workshop: Workshop) -> None:
    """A name can end no table cell, no Mermaid label, no Gherkin line, and opens no HTML."""
    s = workshop.snapshot
    markdown = to_markdown(s)
    # Only a code span may hold `<` or `>` (a `/storm` line to type): its text is literal.
    outside_code = _CODE_SPAN.sub("", markdown)
    assert "<" not in outside_code and ">" not in outside_code
    columns = None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            columns = None
            continue
        cells = len(_UNESCAPED_PIPE.findall(line))
        assert columns in (None, cells), f"a table row with {cells} columns: {line!r}"
        columns = cells

    for line in to_mermaid(s).splitlines():
        assert line.count('"') in (0, 2), line
        labels = re.findall(r'"([^"]*)"', line)
        assert all(not re.search(r"[<>]", label) for label in labels), line

    step = re.compile(
        r"(@\w+|Feature: .+|  @\w+|  Scenario: .+|    (Given|When|Then|And) .+|  # .+)?"
    )
    for _, text in gherkin_features(s):
        bad = [line for line in text.splitlines() if not step.fullmatch(line)]
        assert not bad, bad


@settings(max_examples=40, deadline=None)
@given(workshop=workshops())
def test_slice_files_keep_their_structure(workshop: Workshop) -> None:
    """A name can end no table cell, open no HTML and start no heading in a slice's file."""
    with zipfile.ZipFile(io.BytesIO(slices_zip(workshop.snapshot))) as archive:
        files = {name: archive.read(name).decode() for name in archive.namelist()}
    assert all(re.fullmatch(r"\d{2,}-[a-z0-9-]+\.md", name) for name in files), list(files)
    for text in files.values():
        outside_code = _CODE_SPAN.sub("", text)
        assert "<" not in outside_code and ">" not in outside_code
        lines = text.splitlines()
        assert [line for line in lines if line.startswith("# ")] == [lines[0]]
        for line in lines:
            if line.startswith("|"):
                assert len(_UNESCAPED_PIPE.findall(line)) == 5, line

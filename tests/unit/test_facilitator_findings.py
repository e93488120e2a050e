"""What a facilitator found trying release 1 in the sandbox (issue 13), on models built by hand."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from bot.core import messages, reports
from bot.core.completeness import check, trace
from bot.core.exports import to_markdown
from bot.core.exports.storm_model import to_json
from bot.core.model import KINDS_BY_LETTER, ElementInfo, FieldSpec, Snapshot, StepState
from bot.core.naming import looks_past_tense
from bot.core.steps import LAST_STEP, STEPS
from bot.core.text import literal, plural, sentence, unescape, with_article

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def el(key: str, name: str, *fields: str, **values: object) -> ElementInfo:
    """An element of the kind its key says; fields as typed (`id*`, `total <- E1.amount`)."""
    specs = []
    for text in fields:
        field, arrow, origin = text.partition(" <- ")
        if arrow:
            specs.append(FieldSpec(field, origin=origin))
        else:
            specs.append(FieldSpec(field.rstrip("*"), generated=field.endswith("*")))
    values.setdefault("created_at", T0)
    return ElementInfo(
        key=key,
        kind=KINDS_BY_LETTER[key[0]],
        name=name,
        author="U1",
        votes=0,
        step_number=1,
        fields=tuple(specs),
        **values,  # type: ignore[arg-type]
    )


def model(*elements: ElementInfo, step: int = 8, **values: object) -> Snapshot:
    steps = tuple(
        StepState(s.number, timedelta(hours=24), T0, T0 + timedelta(hours=24), None) for s in STEPS
    )
    return Snapshot(
        team_id="T1",
        title="Library",
        channel_id="C1",
        facilitators=("U1",),
        current_step=step,
        steps=steps,
        auto_advance=False,
        started_at=T0,
        finished_at=None,
        elements=elements,
        **values,  # type: ignore[arg-type]
    )


def shown(post: messages.Post) -> str:
    """The mrkdwn a post carries, as one text."""
    return "\n".join((*post.sections, post.context or ""))


# 1. An explicit origin is a destination (SPEC §6).


def library() -> list[ElementInfo]:
    return [
        el("C1", "Return Late", "member id", "amount", causes=("E5",)),
        el("E5", "Fine Charged", "member id", "amount"),
        el("V3", "Fines", "member id", "total <- E5.amount", fed_by=("E5",)),
    ]


def test_a_field_named_as_an_explicit_origin_has_a_destination() -> None:
    report = check(model(*library()))
    lost = [(f.element, f.field) for f in report.findings if f.code == "field-no-destination"]
    assert lost == []
    found = trace(model(*library()), "E5", "amount")
    assert any("V3 Fines" in line and "total" in line for line in found.destinations)


def test_a_broken_explicit_origin_is_no_destination() -> None:
    c1, e5, _ = library()
    broken = el("V3", "Fines", "member id", "total <- E5.nothing", fed_by=("E5",))
    report = check(model(c1, e5, broken))
    lost = [(f.element, f.field) for f in report.findings if f.code == "field-no-destination"]
    assert lost == [("E5", "amount")]


# 2. Only `/storm drop` drops.


def test_step_two_does_not_call_an_undone_or_unzapped_element_dropped() -> None:
    snapshot = model(
        el("E1", "Book Lent", position=1),
        step=2,
        dropped=(("E2", "Book Returned"), ("H1", "What about cancellation?"), ("E4", "Typo")),
        withdrawn=frozenset({"E2", "H1"}),
    )
    summary = shown(reports.step_summary(snapshot, 2))
    assert "*Dropped (1)*: *E4* Typo" in summary
    assert "Book Returned" not in summary and "cancellation" not in summary


# 3. Time's up at the last step.


def test_times_up_at_the_last_step_asks_for_end_not_next() -> None:
    snapshot = model(el("E1", "Book Lent"))
    last = shown(messages.times_up(snapshot, LAST_STEP, due_at=T0, late=False, advancing=False))
    assert "`/storm end`" in last and "/storm next" not in last
    earlier = shown(messages.times_up(snapshot, 3, due_at=T0, late=False, advancing=False))
    assert "`/storm next`" in earlier


# 4. Wording.


def test_wording_a_facilitator_reads() -> None:
    assert plural(3, "policy") == "3 policies"
    assert plural(2, "day") == "2 days"
    assert with_article("command or event or view") == "a command, an event or a view"
    assert sentence("What about cancellation?") == "What about cancellation?"
    assert sentence("Book Lent") == "Book Lent."

    counts = {"policy": 3, "event": 1}
    everyone = model(members=("U1",), contributors_by_step={8: frozenset({"U1"})})
    status = shown(messages.status(everyone, T0, counts))
    assert "3 policies" in status
    assert "nobody yet" not in status.split("*Not yet:*")[1]

    quiet = shown(messages.times_up(model(), 3, due_at=T0, late=False, advancing=False))
    assert "0 elements" not in quiet and "Nothing was added" in quiet

    grouped = model(
        el("C1", "Lend Book", causes=("E1",), aggregate="A1"),
        el("E1", "Book Lent", aggregate="A1"),
        el("A1", "Loans", members=("C1", "E1")),
        step=4,
    )
    aggregates = reports.aggregates(grouped)
    assert "(0)" not in aggregates and "—" not in aggregates


# 5. Irregular past tenses.


def test_irregular_past_tenses_read_as_past() -> None:
    for name in ("Loan Became Overdue", "Fine Paid", "Book Lent", "Stock Ran Out", "Order Went"):
        assert looks_past_tense(name), name
    for name in ("Loan Overdue", "Outcome Pending", "Bold Event"):
        assert not looks_past_tense(name), name


# 6. Names as typed.


def test_names_are_shown_as_typed_not_formatted() -> None:
    for text in ("*Bold* Event", "_x_", "~x~", "`x`", "a <!channel> & b", "say *hi*!"):
        escaped = literal(text)
        assert unescape(escaped) == text
        assert "<!channel>" not in escaped
        # Every formatting character is shown through a date token's fallback, never bare.
        bare = re.sub(r"<!date\^00000000\^\{_\}\|[*_~`]+>", "", escaped)
        assert not set(bare) & set("*_~`"), escaped
    assert literal("order_id") == "order_id"  # inside a word nothing formats
    assert literal(":large_orange_square:") == ":large_orange_square:"

    snapshot = model(el("E1", "*Bold* Event", position=1), step=2)
    summary = shown(reports.step_summary(snapshot, 1))
    assert "*Bold* Event" not in summary
    assert "<!date^00000000^{_}|*>Bold<!date^00000000^{_}|*> Event" in summary
    assert json.loads(json.dumps(to_json(snapshot)))["events"][0]["name"] == "*Bold* Event"


# 7. The digest's hotspot numbers agree.


def test_the_digest_counts_hotspots_once_and_lists_the_open_ones() -> None:
    now = T0 + timedelta(hours=2)
    snapshot = model(
        el("H1", "Who pays fines?", created_at=T0 + timedelta(hours=1)),
        el("H2", "Late fees?", created_at=T0 + timedelta(hours=1), resolved=True),
        el("H3", "Renewals?", created_at=T0 + timedelta(hours=1)),
        el("H4", "Old question", created_at=T0 - timedelta(days=3)),
        step=2,
    )
    post, _ = reports.digest(
        snapshot, now=now, since=now - timedelta(days=1), contributors=[], previous_score=None
    )
    text = shown(post)
    assert "3 hotspots" in text  # the last 24 hours
    assert "*Hotspots:* 3 new (1 already resolved), 3 open" in text
    for line in ("*H1* Who pays fines?", "*H3* Renewals?", "*H4* Old question"):
        assert line in text
    assert "*H2*" not in text.split("*Hotspots:*")[1]


# 8. The Markdown export.


def test_the_markdown_next_line_is_code_and_origins_name_their_commands() -> None:
    snapshot = model(
        el("C1", "Lend Book", "member id", causes=("E1",)),
        el("E1", "Book Lent", "member id", "lent at*", "due <- C1.member id"),
        el("E2", "Book Lost", "member id"),
    )
    markdown = to_markdown(snapshot)
    (next_line,) = [line for line in markdown.splitlines() if line.startswith("Next:")]
    assert "\\`" not in next_line and "`/storm " in next_line
    assert "| E1 Book Lent | event | member id | String | C1 Lend Book |" in markdown
    assert "| E1 Book Lent | event | lent at | String | generated |" in markdown
    assert "| E1 Book Lent | event | due | String | ← C1.member id |" in markdown
    assert "| C1 Lend Book | command | member id | String | input |" in markdown
    assert "| E2 Book Lost | event | member id | String | — |" in markdown


# 9. Prompts on the workshop's own elements.


def test_step_prompts_use_the_workshops_own_events() -> None:
    snapshot = model(
        el("E1", "Member Registered", position=1), el("E2", "Book Lent", position=2), step=3
    )
    prompt = shown(messages.step_prompt(snapshot, 3))
    assert "Place Order" not in prompt
    assert "-&gt; E1`" in prompt
    assert "`/storm view " in prompt
    empty = shown(messages.step_prompt(model(step=3), 3))
    assert "`/storm command Place Order -&gt; E1`" in empty  # nothing to point at yet


# 10. The completeness report: one line per element, fields deferred before step 5.


def test_the_report_has_one_line_per_element_naming_its_fields() -> None:
    fields = [f"field {n}" for n in range(20)]
    snapshot = model(el("E1", "Book Lent", *fields, position=1), step=8)
    text = shown(reports.completeness_report(snapshot))
    lines = [line for line in text.splitlines() if "*E1*" in line]
    assert len(lines) == 2  # its errors, its warnings
    assert all("“field 19”" in line for line in lines)


def test_before_step_five_missing_fields_are_counted_not_listed() -> None:
    fields = [f"field {n}" for n in range(12)]
    elements = (el("E1", "Book Lent", *fields, position=1), el("E2", "Book Lost", position=2))
    early = shown(reports.completeness_report(model(*elements, step=3)))
    assert "“field" not in early and "no-origin" not in early
    assert "1 element without fields and 12 fields without an origin or a destination" in early
    assert "/storm fields" not in early  # the next step is not about fields yet
    late = shown(reports.completeness_report(model(*elements, step=5)))
    assert "“field 11”" in late
    assert check(model(*elements, step=3)).score == check(model(*elements, step=5)).score

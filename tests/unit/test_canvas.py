"""The channel canvas's Markdown (SPEC §4.5), on the export tests' ordering-and-payment model."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.core.canvas import MAX_MARKDOWN, SECTIONS, canvas_markdown, canvas_text, refusal
from bot.core.completeness import check
from bot.core.model import ElementInfo
from tests.unit.test_exports import el, hostile, model, typed


def sections(markdown: str) -> dict[str, str]:
    """Each H2's body, by its heading."""
    found: dict[str, str] = {}
    for chunk in re.split(r"^## ", markdown, flags=re.M)[1:]:
        heading, _, body = chunk.partition("\n")
        found[heading] = body.strip()
    return found


def test_the_canvas_has_its_sections_under_fixed_headings_in_order() -> None:
    markdown = canvas_markdown(model())
    assert markdown.startswith("# Checkout \\| Q4\n")
    assert re.findall(r"^## (.+)$", markdown, flags=re.M) == list(SECTIONS)
    assert list(sections(markdown)) == [
        "Overview",
        "Timeline",
        "Commands and views",
        "Slices",
        "Open hotspots",
        "Findings",
    ]
    assert "|---" not in markdown  # canvases have no tables: everything is a list


def test_the_overview_gives_the_step_the_counts_and_the_score() -> None:
    report = check(model())
    overview = sections(canvas_markdown(model()))["Overview"]
    assert "Step 7 of 8: Elaborate Scenarios" in overview
    assert "6 events, 3 commands, 2 views, 1 policy, 2 aggregates" in overview
    assert (
        f"**{round(report.score * 100)}%** ({report.passed_checks} of {report.checks} checks"
        in (overview)
    )


def test_the_timeline_lists_events_in_order_with_their_aggregate() -> None:
    timeline = sections(canvas_markdown(model()))["Timeline"].splitlines()
    assert timeline[0] == "1. **E1** Order Placed (aggregate **A1** Order)"
    assert [line.split("**")[1] for line in timeline] == ["E1", "E2", "E3", "E4", "E6", "E5"]
    assert timeline[4] == "5. **E6** Order Cancelled (aggregate **A1** Order)"


def test_commands_and_views_show_their_fields_generated_and_with_origin() -> None:
    body = sections(canvas_markdown(model()))["Commands and views"]
    assert "- **C1** Place Order: customer id, items, order id\\*" in body
    # An origin naming a merged ID shows its survivor.
    assert "- **C2** Request Payment: order id, amount ← E1.total" in body
    assert "- **V1** Order Summary: order id, items, amount ← E3.amount" in body
    assert body.index("### Commands") < body.index("### Views")


def test_fields_show_their_types_when_not_strings() -> None:
    body = sections(canvas_markdown(typed()))["Commands and views"]
    assert (
        "- **V1** Order Summary: order id:UUID, items:String\\[\\], amount:Decimal ← E3.amount"
        in body
    )
    assert "- **C1** Place Order: customer id, items, order id\\*" in body


def test_slices_are_commands_with_triggers_and_views_with_sources_each_with_scenarios() -> None:
    slices = sections(canvas_markdown(model()))["Slices"]
    place = slices[slices.index("### C1 Place Order") : slices.index("### C2")]
    assert "- Triggered by: **R1** Customer, **R2** Warehouse Clerk" in place
    assert "- Causes: **E1** Order Placed" in place
    assert "**S1** Place an order: Given nothing; When **C1** Place Order; Then **E1**" in place
    request = slices[slices.index("### C2") : slices.index("### C3")]
    assert "**P1** Request payment when placed whenever **E1** Order Placed" in request
    assert "- Scenarios: none yet" in request
    ship = slices[slices.index("### C3") : slices.index("### V1")]
    assert "Then rejected: order is not paid \\| yet" in ship
    assert "Given **E1** Order Placed, **E3** Payment Received; When **C3**" in ship
    summary = slices[slices.index("### V1") :]
    assert "- Sources: **E1** Order Placed, **E3** Payment Received" in summary
    assert "Then **V1** Order Summary shows order id, items, amount ← E3.amount" in summary
    # V2 names a dropped event: it is left out.
    assert "- Sources: **E5** Order Shipped\n" in summary


def test_only_open_hotspots_are_listed_with_what_they_are_about() -> None:
    hotspots = sections(canvas_markdown(model()))["Open hotspots"]
    assert hotspots == '- **H1** Who pays "shipping" \\| fees? (on **C3** Ship Order)'


def test_findings_are_grouped_by_severity_with_their_codes() -> None:
    report = check(model())
    findings = sections(canvas_markdown(model()))["Findings"]
    assert findings.count("\n- ") + findings.startswith("- ") == len(report.findings)
    first = report.findings[0]
    assert f"({'`' + first.code + '`'})" in findings


def test_an_empty_workshop_has_every_section_saying_so() -> None:
    body = sections(canvas_markdown(model({})))
    assert body["Timeline"] == "_None yet._"
    assert body["Slices"] == "_None yet._"
    assert body["Open hotspots"] == "_No open hotspots._"
    assert body["Findings"] == "_Nothing to check yet._"
    assert "- Model: empty so far." in body["Overview"]


def test_user_text_cannot_mention_link_or_format() -> None:
    markdown = canvas_markdown(hostile())
    for token in ("<!channel>", "`run`", "*x*", "![](@U1)", "[a](b)"):
        assert token not in markdown
    assert canvas_text("![](@U123) <@U1> [x](http://e.vil) *b* _i_ ~s~ `c` #h &amp;") == (
        "\\!\\[\\](@U123) \\<@U1\\> \\[x\\](http://e.vil) \\*b\\* \\_i\\_ \\~s\\~ "
        "\\`c\\` #h \\&amp;"
    )
    assert canvas_text("ping @here and @Channel, not @hero") == (
        "ping @\u2060here and @\u2060Channel, not @hero"
    )
    assert canvas_text("two\nlines") == "two lines"


def test_a_model_too_large_for_a_canvas_is_cut_with_a_note() -> None:
    events: dict[str, ElementInfo] = {}
    for n in range(1, 5001):
        events[f"E{n}"] = el(f"E{n}", "x" * 190 + str(n), position=n)
    markdown = canvas_markdown(model(events))
    assert len(markdown) <= MAX_MARKDOWN
    assert markdown.endswith("the rest is in `/storm export md`._\n")


def test_a_finished_workshop_says_so() -> None:
    finished = replace(model(), finished_at=model().started_at)
    assert "- Where: Finished." in canvas_markdown(finished)


def test_refusals_are_explained_in_words() -> None:
    assert "canvases are turned off in this workspace" in refusal("canvas_disabled_user_team")
    assert "Slack plan" in refusal("team_tier_cannot_create_channel_canvases")
    assert "someone else" in refusal("channel_canvas_already_exists")
    assert "`weird_error`" in refusal("weird_error")
    assert "`/storm canvas on` tries again" in refusal("restricted_action")

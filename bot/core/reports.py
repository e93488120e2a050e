"""Step summaries, the full report, the completeness report and the daily digest (SPEC §2, §5,
§6): plain documents composed from a snapshot, escaped once, here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.core.completeness import Report, check
from bot.core.durations import format_duration
from bot.core.messages import Post
from bot.core.model import KIND_EMOJI, ElementInfo, Snapshot
from bot.core.steps import STEPS
from bot.core.text import escape, plural

_SEVERITY_EMOJI = {
    "error": ":red_circle:",
    "warning": ":large_yellow_circle:",
    "info": ":large_blue_circle:",
}
_PLURAL_KIND = {"policy": "policies"}


def _line(element: ElementInfo, *, votes: bool = True) -> str:
    count = f" · {plural(element.votes, 'vote')}" if votes and element.votes else ""
    return f"{KIND_EMOJI[element.kind]} *{element.key}* {escape(element.name)}{count}"


def _names(snapshot: Snapshot, users: Iterable[str]) -> str:
    names = sorted(escape(snapshot.name_of(u)) for u in set(users))
    return ", ".join(names) if names else "nobody yet"


def _refs(snapshot: Snapshot, keys: Iterable[str]) -> str:
    index = snapshot.by_key()
    shown = [f"*{k}* {escape(index[k].name)}" if k in index else f"*{k}* (gone)" for k in keys]
    return ", ".join(shown) if shown else "—"


def _fields(element: ElementInfo) -> str:
    return ", ".join(f"`{escape(str(f))}`" for f in element.fields) or "_no fields yet_"


def _kind_count(kind: str, count: int) -> str:
    return plural(count, kind, _PLURAL_KIND.get(kind))


# ---- sections ------------------------------------------------------------------------


def timeline(snapshot: Snapshot) -> str:
    events = snapshot.events
    body = "\n".join(
        f"{n}. {_line(e)} — {escape(snapshot.name_of(e.author))}" for n, e in enumerate(events, 1)
    )
    return f"*Timeline ({plural(len(events), 'event')})*\n{body or 'No events yet.'}"


def merges_and_drops(snapshot: Snapshot) -> str:
    merged = [f"*{alias}* → *{e.key}*" for e in snapshot.elements for alias in e.aliases]
    dropped = [f"*{k}* {escape(name)}" for k, name in snapshot.dropped]
    return (
        f"*Merged ({len(merged)})*: {', '.join(merged) or 'none'}\n"
        f"*Dropped ({len(dropped)})*: {', '.join(dropped) or 'none'}"
    )


def hotspots(snapshot: Snapshot, *, open_only: bool = True) -> str:
    spots = [h for h in snapshot.of_kind("hotspot") if not (open_only and h.resolved)]
    lines = [
        f"{_line(h, votes=False)}"
        + (f" (on {_refs(snapshot, [h.on])})" if h.on else "")
        + (" · resolved" if h.resolved else "")
        for h in spots
    ]
    title = "Open hotspots" if open_only else "Hotspots"
    return f"*{title} ({len(spots)})*\n" + ("\n".join(lines) or "None.")


def cause_table(snapshot: Snapshot) -> str:
    causes: dict[str, list[str]] = {}
    for element in snapshot.elements:
        if element.kind in ("command", "external"):
            for event in element.causes:
                causes.setdefault(event, []).append(element.key)
    policies: dict[str, list[str]] = {}
    for policy in snapshot.of_kind("policy"):
        for command in policy.issues:
            policies.setdefault(command, []).append(policy.key)
    actors: dict[str, list[str]] = {}
    for actor in snapshot.of_kind("actor"):
        for command in actor.issues:
            actors.setdefault(command, []).append(actor.key)
    lines = []
    for event in snapshot.events:
        sources = causes.get(event.key, [])
        detail = []
        for source in sources:
            extra = actors.get(source, []) + policies.get(source, [])
            via = f" (by {_refs(snapshot, extra)})" if extra else ""
            detail.append(_refs(snapshot, [source]) + via)
        lines.append(f"{_line(event, votes=False)} ← " + ("; ".join(detail) or "_no cause yet_"))
    views = [
        f"{_line(v, votes=False)} ← fed by {_refs(snapshot, v.fed_by)}"
        for v in snapshot.of_kind("view")
    ]
    return (
        "*What causes each event*\n"
        + ("\n".join(lines) or "No events yet.")
        + ("\n*Views*\n" + "\n".join(views) if views else "")
    )


def aggregates(snapshot: Snapshot) -> str:
    groups = [
        f"{_line(a, votes=False)}: {_refs(snapshot, a.members)}"
        for a in snapshot.of_kind("aggregate")
    ]
    loose = [e.key for e in snapshot.elements if e.kind in ("command", "event") and not e.aggregate]
    return (
        f"*Aggregates ({len(groups)})*\n"
        + ("\n".join(groups) or "None yet.")
        + f"\n*Not grouped yet ({len(loose)})*: {_refs(snapshot, sorted(loose, key=_id_order))}"
    )


def _id_order(key: str) -> tuple[str, int]:
    return key[0], int(key[1:])


def with_fields(snapshot: Snapshot, kind: str) -> str:
    elements = snapshot.of_kind(kind)
    lines = []
    for element in elements:
        source = f" ← {_refs(snapshot, element.fed_by)}" if kind == "view" else ""
        lines.append(f"{_line(element, votes=False)}{source}: {_fields(element)}")
    title = {
        "command": "Commands and their fields",
        "event": "Events and their fields",
        "view": "Views, their fields and sources",
    }[kind]
    return f"*{title} ({len(elements)})*\n" + ("\n".join(lines) or "None yet.")


def scenarios(snapshot: Snapshot) -> str:
    by_subject: dict[str, list[ElementInfo]] = {}
    for scenario in snapshot.of_kind("scenario"):
        spec = scenario.scenario
        subject = (spec.view or spec.when or "?") if spec else "?"
        by_subject.setdefault(subject, []).append(scenario)
    lines = []
    for subject, items in by_subject.items():
        lines.append(_refs(snapshot, [subject]))
        for scenario in items:
            spec = scenario.scenario
            assert spec is not None
            given = _refs(snapshot, spec.given) if spec.given else "nothing"
            if spec.view:
                shape = f"given {given} then {_refs(snapshot, [spec.view])}"
            elif spec.error is not None:
                shape = f"given {given} when {_refs(snapshot, [spec.when or '?'])} then error “{escape(spec.error)}”"
            else:
                shape = f"given {given} when {_refs(snapshot, [spec.when or '?'])} then {_refs(snapshot, spec.then)}"
            lines.append(f"    • *{scenario.key}* {escape(scenario.name)}: {shape}")
    count = len(snapshot.of_kind("scenario"))
    return f"*Scenarios ({count})*\n" + ("\n".join(lines) or "None yet.")


def completeness_sections(report: Report) -> tuple[str, ...]:
    verdict = ":white_check_mark: passes" if report.passed else ":x: does not pass yet"
    head = f"*Completeness {round(report.score * 100)}%* · {verdict} · {report.passed_checks} of {report.checks} checks pass"
    groups = []
    for severity in ("error", "warning", "info"):
        found = [f for f in report.findings if f.severity == severity]
        if found:
            # One join for the heading and the lines: at 10,000 elements the lines are 2 MB of
            # text, and joining them first and adding the heading after copies them twice.
            heading = f"{_SEVERITY_EMOJI[severity]} *{plural(len(found), severity)}*"
            lines = (f"• `{f.code}` {escape(f.message)}" for f in found)
            groups.append("\n".join([heading, *lines]))
    return (head, *groups, escape(report.next_step))


# ---- posts ---------------------------------------------------------------------------


def step_summary(snapshot: Snapshot, number: int) -> Post:
    """The deliverable of a closing step (SPEC §2)."""
    step = STEPS[number - 1]
    contributors = f"*Contributors:* {_names(snapshot, snapshot.contributors(number))}"
    sections: tuple[str, ...]
    if number == 1:
        sections = (timeline(snapshot), contributors)
    elif number == 2:
        sections = (
            timeline(snapshot),
            merges_and_drops(snapshot),
            hotspots(snapshot),
            contributors,
        )
    elif number == 3:
        sections = (cause_table(snapshot), contributors)
    elif number == 4:
        sections = (aggregates(snapshot), contributors)
    elif number == 5:
        sections = (with_fields(snapshot, "command"), contributors)
    elif number == 6:
        sections = (with_fields(snapshot, "view"), with_fields(snapshot, "event"), contributors)
    elif number == 7:
        sections = (scenarios(snapshot), contributors)
    else:
        sections = (*completeness_sections(check(snapshot)), contributors)
    return Post(
        text=f"Step {number} closed: {step.name}",
        heading=f"Step {number} closed · {step.name}",
        sections=sections,
        context=f"Deliverable: {step.deliverable}",
    )


def completeness_report(snapshot: Snapshot) -> Post:
    report = check(snapshot)
    return Post(
        text=f"Completeness {round(report.score * 100)}%",
        heading=f"Completeness check · {snapshot.title}",
        sections=completeness_sections(report),
    )


def full_report(snapshot: Snapshot, *, final: bool = False) -> Post:
    counts = ", ".join(
        _kind_count(kind, n) for kind, n in sorted(snapshot.counts_by_kind().items())
    )
    everyone = frozenset().union(*snapshot.contributors_by_step.values())
    sections = (
        f"*Step {snapshot.current_step} of {len(STEPS)}:* {STEPS[snapshot.current_step - 1].name}"
        f" · {counts or 'nothing yet'}",
        timeline(snapshot),
        cause_table(snapshot),
        aggregates(snapshot),
        with_fields(snapshot, "command"),
        with_fields(snapshot, "event"),
        with_fields(snapshot, "view"),
        scenarios(snapshot),
        hotspots(snapshot, open_only=False),
        *completeness_sections(check(snapshot)),
        f"*Contributors:* {_names(snapshot, everyone)}",
    )
    heading = f"Final report · {snapshot.title}" if final else f"Report · {snapshot.title}"
    closing = (
        ("The channel can start a new workshop with `/storm start &lt;title&gt;`.",)
        if final
        else ()
    )
    return Post(text=heading, heading=heading, sections=(*sections, *closing))


def digest(
    snapshot: Snapshot,
    *,
    now: datetime,
    since: datetime,
    contributors: Iterable[str],
    previous_score: float | None,
    late_note: str | None = None,
) -> tuple[Post, float]:
    """The daily digest, and the score it reports (to compare with tomorrow's)."""
    fresh = [e for e in snapshot.elements if e.created_at and e.created_at >= since]
    by_kind: dict[str, int] = {}
    for element in fresh:
        by_kind[element.kind] = by_kind.get(element.kind, 0) + 1
    new_text = ", ".join(_kind_count(k, n) for k, n in sorted(by_kind.items())) or "nothing new"
    top = sorted((e for e in snapshot.elements if e.votes), key=lambda e: (-e.votes, e.key))[:5]
    top_text = "\n".join(f"{n}. {_line(e)}" for n, e in enumerate(top, 1)) or "No votes yet."
    open_spots = [h for h in snapshot.of_kind("hotspot") if not h.resolved]
    new_spots = [h for h in open_spots if h.created_at and h.created_at >= since]
    report = check(snapshot)
    score = round(report.score * 100)
    if previous_score is None:
        change = "first digest"
    else:
        delta = score - round(previous_score * 100)
        change = f"{'+' if delta >= 0 else ''}{delta} points since the last digest"
    state = snapshot.current
    deadline = state.deadline_at
    left = (
        f"{format_duration(deadline - now)} left" if deadline and deadline > now else "time is up"
    )
    post = Post(
        text=f"Daily digest: {snapshot.title}",
        heading=f"Daily digest · {snapshot.title}",
        sections=(
            f"*Last 24 hours:* {new_text}\n*Contributors:* {_names(snapshot, contributors)}",
            f"*Top votes*\n{top_text}",
            f"*Hotspots:* {len(new_spots)} new, {len(open_spots)} open"
            + ("\n" + "\n".join(_line(h, votes=False) for h in new_spots) if new_spots else ""),
            f"*Now:* step {state.number} of {len(STEPS)}, {state.step.name} · {left}",
            f"*Completeness {score}%* ({change}) · {escape(report.next_step)}",
        ),
        context=late_note,
    )
    return post, report.score

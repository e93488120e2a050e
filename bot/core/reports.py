"""Step summaries, the full report, the completeness report and the daily digest (SPEC §2, §5,
§6): plain documents composed from a snapshot, escaped once, here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.core.completeness import FIELD_CODES, FIELDS_STEP, Finding, Report, check
from bot.core.controls import Button
from bot.core.durations import format_duration
from bot.core.fixes import fix_buttons
from bot.core.messages import Post, when
from bot.core.model import KIND_EMOJI, ElementInfo, Snapshot
from bot.core.steps import STEPS
from bot.core.text import code, escape, literal, plural

_SEVERITY_EMOJI = {
    "error": ":red_circle:",
    "warning": ":large_yellow_circle:",
    "info": ":large_blue_circle:",
}
# What a finding says about its element, in the one line that element gets in a report.
_PHRASES = {
    "command-no-event": "causes no event",
    "view-no-source": "has no source event",
    "event-no-cause": "has no cause",
    "element-no-fields": "has no fields",
    "not-aggregated": "is in no aggregate",
    "command-no-scenario": "has no scenario",
    "hotspot-open": "is still open",
    "field-no-origin": "no origin for",
    "field-no-destination": "nothing reads",
    "input-lost": "no event it causes carries",
}


def _line(element: ElementInfo, *, votes: bool = True) -> str:
    count = f" · {plural(element.votes, 'vote')}" if votes and element.votes else ""
    return f"{KIND_EMOJI[element.kind]} *{element.key}* {literal(element.name)}{count}"


def _names(snapshot: Snapshot, users: Iterable[str]) -> str:
    names = sorted(literal(snapshot.name_of(u)) for u in set(users))
    return ", ".join(names) if names else "nobody yet"


def _refs(snapshot: Snapshot, keys: Iterable[str]) -> str:
    index = snapshot.by_key()
    shown = [f"*{k}* {literal(index[k].name)}" if k in index else f"*{k}* (gone)" for k in keys]
    return ", ".join(shown) if shown else "—"


def _fields(element: ElementInfo) -> str:
    return ", ".join(f"`{code(str(f))}`" for f in element.fields) or "_no fields yet_"


def _kind_count(kind: str, count: int) -> str:
    return plural(count, kind)


# ---- sections ------------------------------------------------------------------------


def timeline(snapshot: Snapshot) -> str:
    events = snapshot.events
    body = "\n".join(
        f"{n}. {_line(e)} — {literal(snapshot.name_of(e.author))}" for n, e in enumerate(events, 1)
    )
    return f"*Timeline ({plural(len(events), 'event')})*\n{body or 'No events yet.'}"


def merges_and_drops(snapshot: Snapshot) -> str:
    merged = [f"*{alias}* → *{e.key}*" for e in snapshot.elements for alias in e.aliases]
    dropped = [
        f"*{k}* {literal(name)}" for k, name in snapshot.dropped if k not in snapshot.withdrawn
    ]
    return (
        f"*Merged ({len(merged)})*: {', '.join(merged) or 'none'}\n"
        f"*Dropped ({len(dropped)})*: {', '.join(dropped) or 'none'}"
    )


_DIGEST_HOTSPOTS = 15  # open hotspots a digest lists; the report lists them all


def _hotspot_line(snapshot: Snapshot, hotspot: ElementInfo) -> str:
    return (
        _line(hotspot, votes=False)
        + (f" (on {_refs(snapshot, [hotspot.on])})" if hotspot.on else "")
        + (" · resolved" if hotspot.resolved else "")
        + (f": {literal(hotspot.answer)}" if hotspot.resolved and hotspot.answer else "")
    )


def resolved_hotspots(snapshot: Snapshot) -> str | None:
    """The hotspots settled so far with their answers (SPEC §3), beside the open ones in a
    step's summary; None while there are none."""
    settled = [h for h in snapshot.of_kind("hotspot") if h.resolved]
    if not settled:
        return None
    lines = "\n".join(_hotspot_line(snapshot, h) for h in settled)
    return f"*Resolved hotspots ({len(settled)})*\n{lines}"


def hotspots(snapshot: Snapshot, *, open_only: bool = True) -> str:
    spots = [h for h in snapshot.of_kind("hotspot") if not (open_only and h.resolved)]
    lines = [_hotspot_line(snapshot, h) for h in spots]
    title = "Open hotspots" if open_only else "Hotspots"
    return f"*{title} ({len(spots)})*\n" + ("\n".join(lines) or "None.")


def cause_table(snapshot: Snapshot) -> str:
    causes: dict[str, list[str]] = {}
    for element in snapshot.elements:
        if element.kind in ("command", "external"):
            for caused in element.causes:
                causes.setdefault(caused, []).append(element.key)
    policies: dict[str, list[str]] = {}
    for policy in snapshot.of_kind("policy"):
        for command in policy.issues:
            policies.setdefault(command, []).append(policy.key)
    actors: dict[str, list[str]] = {}
    for actor in snapshot.of_kind("actor") + snapshot.of_kind("screen"):
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
    screens = [
        f"{_line(u, votes=False)} → issues {_refs(snapshot, u.issues)}; "
        f"shows {_refs(snapshot, u.shows)}"
        for u in snapshot.of_kind("screen")
    ]
    return (
        "*What causes each event*\n"
        + ("\n".join(lines) or "No events yet.")
        + ("\n*Views*\n" + "\n".join(views) if views else "")
        + ("\n*Screens*\n" + "\n".join(screens) if screens else "")
    )


def aggregates(snapshot: Snapshot) -> str:
    groups = [
        f"{_line(a, votes=False)}: {_refs(snapshot, a.members)}"
        for a in snapshot.of_kind("aggregate")
    ]
    grouped = [e for e in snapshot.elements if e.kind in ("command", "event")]
    loose = [e.key for e in grouped if not e.aggregate]
    if loose:
        rest = f"*Not grouped yet ({len(loose)})*: {_refs(snapshot, sorted(loose, key=_id_order))}"
    else:
        rest = "Every command and event is in an aggregate." if grouped and groups else ""
    return (
        f"*Aggregates ({len(groups)})*\n"
        + ("\n".join(groups) or "None yet.")
        + (f"\n{rest}" if rest else "")
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
                shape = f"given {given} when {_refs(snapshot, [spec.when or '?'])} then error “{literal(spec.error)}”"
            else:
                shape = f"given {given} when {_refs(snapshot, [spec.when or '?'])} then {_refs(snapshot, spec.then)}"
            lines.append(f"    • *{scenario.key}* {literal(scenario.name)}: {shape}")
    count = len(snapshot.of_kind("scenario"))
    return f"*Scenarios ({count})*\n" + ("\n".join(lines) or "None yet.")


def next_step(report: Report) -> str:
    """The report's one line on what to do next, in mrkdwn: names as typed, the line as code."""
    found = report.next
    if found is None:
        return escape(report.next_step)
    return f"Next: {literal(found.advice)}: `{code(found.line)}`{found.more_text}."


def _finding_line(snapshot: Snapshot, key: str, found: list[Finding]) -> str:
    """One element's findings of one severity on one line, naming its fields."""
    element = snapshot.by_key().get(key)
    if element is None:
        head = f"*{key}*"
    elif element.kind == "hotspot":
        head = _hotspot_line(snapshot, element)
    else:
        head = _line(element, votes=False)
    parts = []
    by_code: dict[str, list[Finding]] = {}
    for finding in found:
        by_code.setdefault(finding.code, []).append(finding)
    for code_name, findings in by_code.items():
        fields = [f"“{literal(f.field)}”" for f in findings if f.field is not None]
        if code_name == "scenario-mismatch":
            label = element.label if element else key
            phrase = literal(findings[0].message.removeprefix(f"{label}: "))
        else:
            phrase = _PHRASES.get(code_name, code_name)
        parts.append(f"{phrase}{' ' + ', '.join(fields) if fields else ''} (`{code_name}`)")
    return f"• {head}: " + "; ".join(parts)


def listed_findings(snapshot: Snapshot, report: Report) -> tuple[Finding, ...]:
    """The findings a report lists one by one: before step 5 (Identify Inputs) those about
    fields are counted, not listed (SPEC §6)."""
    if snapshot.current_step < FIELDS_STEP:
        return tuple(f for f in report.findings if f.code not in FIELD_CODES)
    return report.findings


def completeness_sections(snapshot: Snapshot, report: Report) -> tuple[str, ...]:
    """The score, then one line per element and severity, then what to do next. Before step 5
    (Identify Inputs) findings about fields are counted, not listed (SPEC §6)."""
    verdict = ":white_check_mark: passes" if report.passed else ":x: does not pass yet"
    head = f"*Completeness {round(report.score * 100)}%* · {verdict} · {report.passed_checks} of {report.checks} checks pass"
    listed = listed_findings(snapshot, report)
    deferred = ""
    if snapshot.current_step < FIELDS_STEP:
        bare = sum(1 for f in report.findings if f.code == "element-no-fields")
        fields = len(
            {(f.element, f.field) for f in report.findings if f.code in FIELD_CODES and f.field}
        )
        counted = [
            *([plural(bare, "element") + " without fields"] if bare else []),
            *([plural(fields, "field") + " without an origin or a destination"] if fields else []),
        ]
        if counted:
            deferred = (
                f":hourglass_flowing_sand: {' and '.join(counted)}: "
                f"they are the work of steps {FIELDS_STEP} and {FIELDS_STEP + 1}."
            )
    groups = []
    for severity in ("error", "warning", "info"):
        found = [f for f in listed if f.severity == severity]
        if found:
            by_element: dict[str, list[Finding]] = {}
            for finding in found:
                by_element.setdefault(finding.element, []).append(finding)
            # One join for the heading and the lines: at 10,000 elements the lines are megabytes
            # of text, and joining them first and adding the heading after copies them twice.
            heading = f"{_SEVERITY_EMOJI[severity]} *{plural(len(found), severity)}*"
            lines = (_finding_line(snapshot, key, items) for key, items in by_element.items())
            groups.append("\n".join([heading, *lines]))
    return (head, *groups, *([deferred] if deferred else []), next_step(report))


# ---- posts ---------------------------------------------------------------------------


def step_summary(snapshot: Snapshot, number: int) -> Post:
    """The deliverable of a closing step (SPEC §2)."""
    step = STEPS[number - 1]
    contributors = f"*Contributors:* {_names(snapshot, snapshot.contributors(number))}"
    sections: tuple[str, ...]
    if number == 1:
        sections = (timeline(snapshot), contributors)
    elif number == 2:
        settled = resolved_hotspots(snapshot)
        sections = (
            timeline(snapshot),
            merges_and_drops(snapshot),
            hotspots(snapshot),
            *([settled] if settled else []),
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
        sections = (*completeness_sections(snapshot, check(snapshot)), contributors)
    return Post(
        text=f"Step {number} closed: {step.name}",
        heading=f"Step {number} closed · {step.name}",
        sections=sections,
        context=f"Deliverable: {step.deliverable}",
    )


def completeness_report(snapshot: Snapshot, workshop_id: int | None = None) -> Post:
    """The report `/storm check` posts. Made for `workshop_id` while the workshop is open, it
    carries a Fix button for each listed finding whose fix is mechanical (SPEC §4.4)."""
    report = check(snapshot)
    sections = completeness_sections(snapshot, report)
    buttons: tuple[Button, ...] = ()
    if workshop_id is not None and snapshot.finished_at is None:
        buttons, fixable = fix_buttons(snapshot, listed_findings(snapshot, report), workshop_id)
        if buttons:
            more = (
                f" The first {len(buttons)} of {fixable} are here: fix them, then `/storm check` "
                "again for the rest."
                if fixable > len(buttons)
                else ""
            )
            sections = (
                *sections,
                f"*Fix in one click ({fixable})*: each button applies its fix and re-checks; "
                f"a button with `…` asks first.{more}",
            )
    return Post(
        text=f"Completeness {round(report.score * 100)}%",
        heading=f"Completeness check · {snapshot.title}",
        sections=sections,
        controls=buttons,
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
        *completeness_sections(snapshot, check(snapshot)),
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
    spots = snapshot.of_kind("hotspot")
    open_spots = [h for h in spots if not h.resolved]
    # The same hotspots as "Last 24 hours" counts: new ones, resolved or not.
    new_spots = [h for h in spots if h.created_at and h.created_at >= since]
    settled = sum(1 for h in new_spots if h.resolved)
    spots_text = (
        f"*Hotspots:* {len(new_spots)} new"
        + (f" ({settled} already resolved)" if settled else "")
        + f", {len(open_spots)} open"
        + "".join(f"\n{_hotspot_line(snapshot, h)}" for h in open_spots[:_DIGEST_HOTSPOTS])
        + (
            f"\n…and {len(open_spots) - _DIGEST_HOTSPOTS} more"
            if len(open_spots) > _DIGEST_HOTSPOTS
            else ""
        )
    )
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
        f"{format_duration(deadline - now)} left (until {when(deadline)})"
        if deadline and deadline > now
        else "time is up"
    )
    post = Post(
        text=f"Daily digest: {snapshot.title}",
        heading=f"Daily digest · {snapshot.title}",
        sections=(
            f"*Last 24 hours:* {new_text}\n*Contributors:* {_names(snapshot, contributors)}",
            f"*Top votes*\n{top_text}",
            spots_text,
            f"*Now:* step {state.number} of {len(STEPS)}, {state.step.name} · {left}",
            f"*Completeness {score}%* ({change}) · {next_step(report)}",
        ),
        context=late_note,
    )
    return post, report.score

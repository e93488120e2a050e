"""The Markdown export (SPEC §7 `md`): the whole workshop for people.

User text is escaped rather than refused: a name like `<!channel>` or `a | b` must never
break a table.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from datetime import datetime

from bot.core.completeness import SEVERITIES, check
from bot.core.exports.links import Links
from bot.core.model import ElementInfo, FieldSpec, Scenario, Snapshot, StepState, normalise
from bot.core.steps import STEPS

_MD_ESCAPES = {c: "\\" + c for c in "\\`*_[]|~"} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
# The same escapes as `str.replace` steps, in an order where no step's output is escaped again
# by a later step: backslashes first, then the other backslash escapes, `&` before `<` and `>`.
# Much faster than escaping character by character, and the Markdown export escapes every
# name and reference it shows.
_MD_STEPS = tuple((c, _MD_ESCAPES[c]) for c in "\\`*_[]|~&<>")
_SEVERITY_HEADINGS = {"error": "Errors", "warning": "Warnings", "info": "Information"}
_NONE = "_None yet._"


def _md(text: str) -> str:
    """User text safe inside Markdown and its tables: no markup, no HTML, one line."""
    text = " ".join(text.splitlines())
    for plain, escaped in _MD_STEPS:
        if plain in text:
            text = text.replace(plain, escaped)
    return text


def _code_span(text: str) -> str:
    """Text as a Markdown code span, as typed: nothing is escaped in one, so it is fenced with
    more backticks than it holds in a row (CommonMark), and padded when it starts or ends with
    one."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"


def _carries(element: ElementInfo, wanted: str) -> bool:
    """Whether `element` has a field named `wanted` (already normalised) (SPEC §3)."""
    return any(normalise(spec.name) == wanted for spec in element.fields)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def _table(headers: Iterable[str], rows: list[list[str]]) -> str:
    """A GFM table; cells are Markdown already escaped by the caller."""
    if not rows:
        return _NONE
    head = list(headers)
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


class _Markdown:
    """The report for people, section by section; `links` names every reference."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.links = Links(snapshot)

    def ref(self, key: str | None) -> str:
        return _md(self.links.name(key)) if key else "—"

    def refs(self, keys: Iterable[str]) -> str:
        return ", ".join(self.ref(key) for key in self.links.keys(keys)) or "—"

    def person(self, user_id: str) -> str:
        return _md(self.snapshot.name_of(user_id))

    def header(self) -> str:
        s = self.snapshot
        facilitators = ", ".join(self.person(user) for user in s.facilitators) or "—"
        return "\n".join(
            [
                f"# {_md(s.title)}",
                "",
                "A Storm workshop: Event Storming + Event Modeling.",
                "",
                f"- Facilitators: {facilitators}",
                f"- Channel: {_md(s.channel_id)} (team {_md(s.team_id)})",
                f"- Started: {_when(s.started_at)}",
                f"- Finished: {_when(s.finished_at) if s.finished_at else 'not yet'}",
                f"- Current step: {s.current_step}. {STEPS[s.current_step - 1].name}",
            ]
        )

    def steps(self) -> str:
        rows = [
            [
                str(state.number),
                state.step.name,
                state.step.method,
                self._status(state),
                state.step.who,
            ]
            for state in self.snapshot.steps
        ]
        return "## Steps\n\n" + _table(["#", "Step", "Method", "Status", "Who"], rows)

    def _status(self, state: StepState) -> str:
        """Where a step stands; a step left before its time is `skipped`, not `not started`."""
        s = self.snapshot
        if state.closed_at:
            return f"done {_when(state.closed_at)}"
        if state.number == s.current_step and not s.finished_at:
            return f"in progress, due {_when(state.deadline_at)}"
        if state.opened_at:
            return f"opened {_when(state.opened_at)}"
        return "skipped" if state.number < s.current_step else "not started"

    def timeline(self) -> str:
        rows = [
            [
                str(position),
                event.key,
                _md(event.name),
                str(event.votes),
                self.person(event.author),
                self.ref(self.links.aggregate_of(event)),
            ]
            for position, event in enumerate(self.snapshot.events, start=1)
        ]
        headers = ["#", "ID", "Event", "Votes", "Author", "Aggregate"]
        return "## Timeline\n\n" + _table(headers, rows)

    def causes(self) -> str:
        s, links = self.snapshot, self.links
        triggers: dict[str, list[str]] = {}
        for policy in s.of_kind("policy"):
            for command in links.keys(policy.issues):
                triggers.setdefault(command, []).append(policy.key)
        commands = [
            [
                c.key,
                _md(c.name),
                self.refs(c.causes),
                self.refs(links.actors_of(c)),
                self.refs(triggers.get(c.key, [])),
                str(c.votes),
            ]
            for c in s.of_kind("command")
        ]
        policies = [
            [p.key, _md(p.name), self.ref(links.key(p.on)), self.refs(p.issues)]
            for p in s.of_kind("policy")
        ]
        actors = [[a.key, _md(a.name), self.refs(a.issues)] for a in s.of_kind("actor")]
        externals = [[x.key, _md(x.name), self.refs(x.causes)] for x in s.of_kind("external")]
        screens = [
            [u.key, _md(u.name), self.refs(u.issues), self.refs(u.shows)]
            for u in s.of_kind("screen")
        ]
        return "\n\n".join(
            [
                "## Causes",
                "### Commands",
                _table(["ID", "Command", "Causes", "Actors", "Policies", "Votes"], commands),
                "### Policies",
                _table(["ID", "Policy", "Whenever", "Then"], policies),
                "### Actors",
                _table(["ID", "Actor", "Issues"], actors),
                "### External systems",
                _table(["ID", "External system", "Causes"], externals),
                "### Screens",
                _table(["ID", "Screen", "Issues", "Shows"], screens),
            ]
        )

    def aggregates(self) -> str:
        s, links = self.snapshot, self.links
        rows = []
        for aggregate in s.of_kind("aggregate"):
            members = links.elements(aggregate.members)
            commands = [m.key for m in members if m.kind == "command"]
            events = [m.key for m in members if m.kind == "event"]
            views = [m.key for m in members if m.kind == "view"]
            rows.append(
                [
                    aggregate.key,
                    _md(aggregate.name),
                    self.refs(commands),
                    self.refs(events),
                    self.refs(views),
                ]
            )
        loose = [e.key for e in s.of_kind("command") + s.events if links.aggregate_of(e) is None]
        table = _table(["ID", "Aggregate", "Commands", "Events", "Views"], rows)
        return f"## Aggregates\n\n{table}\n\nNot in an aggregate: {self.refs(loose)}"

    def fields(self) -> str:
        rows = []
        for kind in ("command", "event", "view", "policy", "screen"):
            for element in self.snapshot.of_kind(kind):
                if kind in ("policy", "screen") and not element.fields:
                    continue  # fields are optional on them: no line saying there are none
                for spec in element.fields:
                    rows.append(
                        [
                            self.ref(element.key),
                            kind,
                            _md(spec.name),
                            spec.written_type,
                            self._field_origin(element, spec),
                        ]
                    )
                if not element.fields:
                    rows.append([self.ref(element.key), kind, "_no fields_", "—", "—"])
        return "## Fields\n\n" + _table(["Element", "Kind", "Field", "Type", "Origin"], rows)

    def _field_origin(self, element: ElementInfo, spec: FieldSpec) -> str:
        """Where a field comes from: generated, its explicit origin, or the elements that carry
        it in: the commands (or external systems) causing an event, the events feeding a view.
        A command's fields are its inputs."""
        origin = self.links.origin(spec)
        notes = (["generated"] if spec.generated else []) + ([f"← {_md(origin)}"] if origin else [])
        if notes:
            return ", ".join(notes)
        wanted = normalise(spec.name)
        if element.kind == "command":
            return "input"
        if element.kind == "screen":  # shown from a view, or typed by the person
            shown = [v.key for v in self.links.elements(element.shows) if _carries(v, wanted)]
            return ", ".join(map(self.ref, shown)) or "input"
        if element.kind == "policy":
            trigger = self.links.elements([element.on] if element.on else [])
            return ", ".join(self.ref(t.key) for t in trigger if _carries(t, wanted)) or "—"
        if element.kind == "event":
            sources = self._causes.get(element.key, [])
            externals = [f"{self.ref(x.key)} (external)" for x in sources if x.kind == "external"]
            carriers = [c.key for c in sources if c.kind == "command" and _carries(c, wanted)]
            return ", ".join([*map(self.ref, carriers), *externals]) or "—"
        feeding = [e.key for e in self.links.elements(element.fed_by) if _carries(e, wanted)]
        return ", ".join(map(self.ref, feeding)) or "—"

    @functools.cached_property
    def _causes(self) -> dict[str, list[ElementInfo]]:
        """The commands and external systems causing each event, by the event's ID."""
        found: dict[str, list[ElementInfo]] = {}
        for kind in ("command", "external"):
            for source in self.snapshot.of_kind(kind):
                for event in self.links.keys(source.causes):
                    found.setdefault(event, []).append(source)
        return found

    def views(self) -> str:
        rows = [
            [
                v.key,
                _md(v.name),
                self.refs(v.fed_by),
                ", ".join(_md(f.typed_name) for f in v.fields),
            ]
            for v in self.snapshot.of_kind("view")
        ]
        return "## Views\n\n" + _table(["ID", "View", "Fed by", "Fields"], rows)

    def scenarios(self) -> str:
        blocks = ["## Scenarios"]
        for element in self.snapshot.of_kind("scenario"):
            scenario = element.scenario or Scenario()
            lines = [f"### {element.key} {_md(element.name)}", ""]
            lines.append(
                f"- **Given** {self.refs(scenario.given) if scenario.given else 'nothing'}"
            )
            if scenario.when:
                lines.append(f"- **When** {self.ref(scenario.when)}")
            if scenario.view:
                view = self.links.by_key.get(scenario.view)
                shown = ", ".join(_md(f.typed_name) for f in view.fields) if view else ""
                lines.append(f"- **Then** {self.ref(scenario.view)} shows {shown or 'the result'}")
            elif scenario.error:
                lines.append(f"- **Then** rejected: {_md(scenario.error)}")
            else:
                lines.append(f"- **Then** {self.refs(scenario.then)}")
            blocks.append("\n".join(lines))
        if len(blocks) == 1:
            blocks.append(_NONE)
        return "\n\n".join(blocks)

    def hotspots(self) -> str:
        rows = [
            [
                h.key,
                _md(h.name),
                self.ref(self.links.key(h.on)),
                "resolved" if h.resolved else "open",
                _md(h.answer) if h.answer else "—",
                self.person(h.author),
            ]
            for h in self.snapshot.of_kind("hotspot")
        ]
        return "## Hotspots\n\n" + _table(
            ["ID", "Hotspot", "On", "Status", "Answer", "Author"], rows
        )

    def completeness(self) -> str:
        report = check(self.snapshot)
        verdict = "passed" if report.passed else "not passed"
        blocks = [
            "## Completeness",
            f"Score: **{round(report.score * 100)}%** ({verdict}).",
            _md(report.next_step)
            if report.next is None
            else f"Next: {_md(report.next.advice)}: {_code_span(report.next.line)}"
            f"{_md(report.next.more_text)}.",
        ]
        for severity in SEVERITIES:
            found = [f for f in report.findings if f.severity == severity]
            if not found:
                continue
            lines = [f"### {_SEVERITY_HEADINGS.get(severity, severity)} ({len(found)})", ""]
            # The message names the element and field already; the code is for searching.
            lines += [f"- {_md(f.message)} (`{f.code}`)" for f in found]
            blocks.append("\n".join(lines))
        if not report.findings:
            blocks.append("No findings.")
        return "\n\n".join(blocks)


def to_markdown(snapshot: Snapshot) -> str:
    """The whole workshop for people: what was decided, by whom, and what is still missing."""
    doc = _Markdown(snapshot)
    sections: list[Callable[[], str]] = [
        doc.header,
        doc.steps,
        doc.timeline,
        doc.causes,
        doc.aggregates,
        doc.fields,
        doc.views,
        doc.scenarios,
        doc.hotspots,
        doc.completeness,
    ]
    return "\n\n".join(section() for section in sections) + "\n"

"""The model in the formats people and other tools read (SPEC §7): each `Snapshot -> str`.

Every format reads relations through `export.Links`, so aliases of merged elements resolve to
their survivor and dropped elements are absent everywhere, exactly as in the JSON export.
User text is escaped for each format rather than refused: a name like `<!channel>`, `a | b`
or `say "hi"` must never break a table, a diagram or a feature file.

`to_eventmodel` cuts the model into slices of the Event Modeling Specification
(dilgerma/event-modeling-spec, `eventmodeling.schema.json`) the way Event Modeling draws them:

- one STATE_CHANGE slice per command, holding the command and the events it causes, the
  actors issuing it, and the scenarios whose `when` is that command;
- one STATE_VIEW slice per view, holding the read model (linked to its source events by
  inbound dependencies) and the view scenarios of that view;
- one AUTOMATION slice per policy, holding a processor that listens to its event and issues
  its command;
- one STATE_CHANGE slice per external system with the events it causes (marked EXTERNAL),
  and a last one for events that nothing causes yet, so that every event appears somewhere.

An event caused by several commands appears in each of their slices under the same ID.
Slices follow the timeline: a command slice sits at its first event, a view or policy slice
right after the last event it reads. A scenario whose command or view was dropped has nothing
to specify and is left out. Field types are unknown to Storm, so every field is a `String`;
`name*` becomes `generated` and an explicit origin becomes `mapping`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from bot.core.completeness import SEVERITIES, check
from bot.core.export import Links, indented_json
from bot.core.model import ElementInfo, FieldSpec, Scenario, Snapshot, StepState, normalise
from bot.core.steps import STEPS

# --- Markdown -----------------------------------------------------------------------------

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
            ]
        )

    def aggregates(self) -> str:
        s, links = self.snapshot, self.links
        rows = []
        for aggregate in s.of_kind("aggregate"):
            members = links.elements(aggregate.members)
            commands = [m.key for m in members if m.kind == "command"]
            events = [m.key for m in members if m.kind == "event"]
            rows.append(
                [aggregate.key, _md(aggregate.name), self.refs(commands), self.refs(events)]
            )
        loose = [e.key for e in s.of_kind("command") + s.events if links.aggregate_of(e) is None]
        table = _table(["ID", "Aggregate", "Commands", "Events"], rows)
        return f"## Aggregates\n\n{table}\n\nNot in an aggregate: {self.refs(loose)}"

    def fields(self) -> str:
        rows = []
        for kind in ("command", "event", "view"):
            for element in self.snapshot.of_kind(kind):
                for spec in element.fields:
                    rows.append(
                        [
                            self.ref(element.key),
                            kind,
                            _md(spec.name),
                            self._field_origin(element, spec),
                        ]
                    )
                if not element.fields:
                    rows.append([self.ref(element.key), kind, "_no fields_", "—"])
        return "## Fields\n\n" + _table(["Element", "Kind", "Field", "Origin"], rows)

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
            [v.key, _md(v.name), self.refs(v.fed_by), ", ".join(_md(f.name) for f in v.fields)]
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
                shown = ", ".join(_md(f.name) for f in view.fields) if view else ""
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
                self.person(h.author),
            ]
            for h in self.snapshot.of_kind("hotspot")
        ]
        return "## Hotspots\n\n" + _table(["ID", "Hotspot", "On", "Status", "Author"], rows)

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


# --- Mermaid ------------------------------------------------------------------------------

# Mermaid decodes `#name;` and `#123;` inside labels; everything that could end a string,
# start HTML, or be read by its pre-processor (`:`, `;`, `#`) goes in as such an entity.
_MERMAID_ESCAPES = {
    '"': "#quot;",
    "#": "#35;",
    ";": "#59;",
    ":": "#58;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "|": "#124;",
    "`": "#96;",
}
_MERMAID_TABLE = str.maketrans(_MERMAID_ESCAPES)
_MERMAID_CLASSES = {
    "event": "fill:#ffb35c,stroke:#c75f00,color:#000",
    "command": "fill:#9ccbff,stroke:#1f6fc5,color:#000",
    "view": "fill:#a8e6a1,stroke:#2f8a2a,color:#000",
    "actor": "fill:#fff5a5,stroke:#b3a100,color:#000",
    "external": "fill:#ffc4dd,stroke:#c2457b,color:#000",
    "aggregate": "fill:#fffbe0,stroke:#d4b800,color:#000",
}
_MERMAID_SHAPES = {
    "actor": ('(["', '"])'),
    "external": ('[["', '"]]'),
}


def _mermaid_label(element: ElementInfo) -> str:
    text = " ".join(element.name.splitlines())
    return f"{element.key} " + text.translate(_MERMAID_TABLE)


def _mermaid_node(element: ElementInfo) -> str:
    opening, closing = _MERMAID_SHAPES.get(element.kind, ('["', '"]'))
    return f"{element.key}{opening}{_mermaid_label(element)}{closing}"


def to_mermaid(snapshot: Snapshot) -> str:
    """A left-to-right flowchart: who and what triggers commands, the events, the views.

    Node IDs are element IDs (letters and digits only), so user text only ever appears inside
    quoted labels. Aggregates are drawn first so that their members are placed inside them.
    """
    links = Links(snapshot)
    lines = ["flowchart LR"]
    members: dict[str | None, list[ElementInfo]] = {}
    for element in snapshot.of_kind("command") + snapshot.events:
        members.setdefault(links.aggregate_of(element), []).append(element)
    for aggregate in snapshot.of_kind("aggregate"):
        lines.append(f'  subgraph {aggregate.key}["{_mermaid_label(aggregate)}"]')
        lines += [f"    {_mermaid_node(m)}" for m in members.pop(aggregate.key, [])]
        lines.append("  end")
    loose = members.get(None, [])
    for element in snapshot.of_kind("actor") + snapshot.of_kind("external") + loose:
        lines.append(f"  {_mermaid_node(element)}")
    lines += [f"  {_mermaid_node(view)}" for view in snapshot.of_kind("view")]

    for actor in snapshot.of_kind("actor"):
        lines += [f"  {actor.key} --> {command}" for command in links.keys(actor.issues)]
    for source in snapshot.of_kind("external") + snapshot.of_kind("command"):
        lines += [f"  {source.key} --> {event}" for event in links.keys(source.causes)]
    for view in snapshot.of_kind("view"):
        lines += [f"  {event} --> {view.key}" for event in links.keys(view.fed_by)]
    for policy in snapshot.of_kind("policy"):
        on, label = links.key(policy.on), _mermaid_label(policy)
        if on:
            lines += [f'  {on} -.->|"{label}"| {command}' for command in links.keys(policy.issues)]

    for kind, style in _MERMAID_CLASSES.items():
        lines.append(f"  classDef {kind} {style}")
    for kind in _MERMAID_CLASSES:
        keys = [e.key for e in snapshot.of_kind(kind)]
        if keys:
            lines.append(f"  class {','.join(keys)} {kind}")
    return "\n".join(lines) + "\n"


# --- Event Modeling Specification -----------------------------------------------------------

_ELEMENT_TYPES = {
    "command": "COMMAND",
    "event": "EVENT",
    "view": "READMODEL",
    "policy": "AUTOMATION",
}
_SPEC_TYPES = {"command": "SPEC_COMMAND", "event": "SPEC_EVENT", "view": "SPEC_READMODEL"}
_SLICE_ORDER = {"STATE_CHANGE": 0, "STATE_VIEW": 1, "AUTOMATION": 2}


def _em_field(links: Links, spec: FieldSpec) -> dict[str, Any]:
    field: dict[str, Any] = {"name": spec.name, "type": "String"}
    if spec.generated:
        field["generated"] = True
    origin = links.origin(spec)
    if origin:
        field["mapping"] = origin
    return field


class _EventModel:
    """Builds slices; `inbound`/`outbound` are the message flows between elements."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.links = links = Links(snapshot)
        self.position = {event.key: n for n, event in enumerate(snapshot.events, start=1)}
        self.inbound: dict[str, list[str]] = {}
        self.outbound: dict[str, list[str]] = {}
        for source in snapshot.of_kind("command") + snapshot.of_kind("external"):
            for event in links.keys(source.causes):
                self._flow(source.key, event)
        for view in snapshot.of_kind("view"):
            for event in links.keys(view.fed_by):
                self._flow(event, view.key)
        for policy in snapshot.of_kind("policy"):
            if on := links.key(policy.on):
                self._flow(on, policy.key)
            for command in links.keys(policy.issues):
                self._flow(policy.key, command)

    def _flow(self, source: str, target: str) -> None:
        self.outbound.setdefault(source, []).append(target)
        self.inbound.setdefault(target, []).append(source)

    def _dependencies(self, key: str) -> list[dict[str, str]]:
        found = []
        for direction, keys in (("INBOUND", self.inbound), ("OUTBOUND", self.outbound)):
            for other in self.links.elements(keys.get(key, [])):
                if other.kind in _ELEMENT_TYPES:  # actors and external systems are not elements
                    found.append(
                        {
                            "id": other.key,
                            "type": direction,
                            "title": other.name,
                            "elementType": _ELEMENT_TYPES[other.kind],
                        }
                    )
        return found

    def element(self, element: ElementInfo) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": element.key,
            "title": element.name,
            "type": _ELEMENT_TYPES[element.kind],
            "fields": [_em_field(self.links, spec) for spec in element.fields],
            "dependencies": self._dependencies(element.key),
        }
        if element.kind == "event":
            sources = self.links.elements(self.inbound.get(element.key, []))
            external = bool(sources) and all(s.kind == "external" for s in sources)
            out["context"] = "EXTERNAL" if external else "INTERNAL"
        aggregate = self.links.aggregate_of(element)
        if aggregate:
            out["aggregate"] = self.links.by_key[aggregate].name
        return out

    def _step(self, scenario: str, part: str, index: int, key: str) -> dict[str, Any]:
        element = self.links.by_key[key]
        return {
            "id": f"{scenario}-{part}-{index}",
            "title": element.name,
            "index": index,
            "type": _SPEC_TYPES.get(element.kind, "SPEC_EVENT"),
            "fields": [_em_field(self.links, spec) for spec in element.fields],
            "linkedId": key,
        }

    def specification(self, element: ElementInfo, subject: str) -> dict[str, Any]:
        scenario = element.scenario or Scenario()
        key, links = element.key, self.links
        command = links.key(scenario.when)
        given = [self._step(key, "given", i, k) for i, k in enumerate(links.keys(scenario.given))]
        when = [self._step(key, "when", 0, command)] if command else []
        if scenario.view:
            then = [self._step(key, "then", 0, subject)]
        elif scenario.error:
            then = [
                {"id": f"{key}-then-0", "title": scenario.error, "index": 0, "type": "SPEC_ERROR"}
            ]
        else:
            then = [self._step(key, "then", i, k) for i, k in enumerate(links.keys(scenario.then))]
        return {
            "id": key,
            "title": element.name,
            "given": given,
            "when": when,
            "then": then,
            "linkedId": subject,
        }

    def slice(
        self,
        key: str,
        title: str,
        slice_type: str,
        members: list[ElementInfo],
        specifications: list[dict[str, Any]],
    ) -> dict[str, Any]:
        by_kind = {
            kind: [self.element(m) for m in members if m.kind == kind] for kind in _ELEMENT_TYPES
        }
        aggregates = [self.links.aggregate_of(m) for m in members]
        return {
            "id": f"slice-{key}",
            "title": title,
            "status": "Created",
            "context": self.snapshot.title,
            "sliceType": slice_type,
            "commands": by_kind["command"],
            "events": by_kind["event"],
            "readmodels": by_kind["view"],
            "screens": [],
            "processors": by_kind["policy"],
            "tables": [],
            "specifications": specifications,
            "actors": [
                {"name": actor.name, "authRequired": False}
                for m in members
                if m.kind == "command"
                for actor in self.links.elements(self.links.actors_of(m))
            ],
            "aggregates": list(
                dict.fromkeys(self.links.by_key[a].name for a in aggregates if a is not None)
            ),
        }

    def slices(self) -> list[dict[str, Any]]:
        """Every slice, numbered, in timeline order."""
        s, links = self.snapshot, self.links
        end = len(self.position) + 1
        specs: dict[str, list[dict[str, Any]]] = {}
        for element in s.of_kind("scenario"):
            scenario = element.scenario or Scenario()
            subject = links.key(scenario.view) or links.key(scenario.when)
            if subject:
                specs.setdefault(subject, []).append(self.specification(element, subject))

        placed: list[tuple[float, int, dict[str, Any]]] = []

        def first(events: list[str]) -> float:
            return min((self.position[e] for e in events if e in self.position), default=end)

        def after_last(events: list[str]) -> float:
            return max((self.position[e] for e in events if e in self.position), default=end) + 0.5

        def place(where: float, key: str, title: str, slice_type: str, *parts: Any) -> None:
            built = self.slice(key, title, slice_type, *parts)
            placed.append((where, _SLICE_ORDER[slice_type], built))

        caused: set[str] = set()
        for source in s.of_kind("command") + s.of_kind("external"):
            events = links.keys(source.causes)
            caused.update(events)
            members = ([source] if source.kind == "command" else []) + links.elements(events)
            specifications = specs.get(source.key, [])
            place(first(events), source.key, source.name, "STATE_CHANGE", members, specifications)
        for view in s.of_kind("view"):
            where = after_last(links.keys(view.fed_by))
            place(where, view.key, view.name, "STATE_VIEW", [view], specs.get(view.key, []))
        for policy in s.of_kind("policy"):
            on = links.key(policy.on)
            place(
                after_last([on] if on else []), policy.key, policy.name, "AUTOMATION", [policy], []
            )
        loose = [event for event in s.events if event.key not in caused]
        if loose:
            title = "Events without a cause"
            place(first([e.key for e in loose]), "uncaused", title, "STATE_CHANGE", loose, [])

        placed.sort(key=lambda entry: entry[:2])
        for index, (_, _, built) in enumerate(placed, start=1):
            built["index"] = index
        return [built for _, _, built in placed]


def to_eventmodel(snapshot: Snapshot) -> str:
    """The model as Event Modeling slices (JSON text), for Event Modeling tools."""
    return indented_json(lambda: {"slices": _EventModel(snapshot).slices()})


# --- Gherkin --------------------------------------------------------------------------------


def _gherkin_text(text: str) -> str:
    """One line of step or title text: Gherkin has no escapes, only line structure to keep."""
    return " ".join(text.split())


def _gherkin_steps(keyword: str, texts: list[str]) -> list[str]:
    return [f"    {keyword if i == 0 else 'And'} {text}" for i, text in enumerate(texts)]


def _gherkin_scenario(links: Links, element: ElementInfo) -> list[str]:
    scenario = element.scenario or Scenario()

    def name(ref: str) -> str:
        found = links.by_key.get(ref)
        return _gherkin_text(found.name if found else ref)

    given = [name(ref) for ref in links.keys(scenario.given)]
    lines = [f"  @{element.key}", f"  Scenario: {_gherkin_text(element.name)}"]
    lines += _gherkin_steps("Given", given or ["nothing has happened"])
    if scenario.when:
        lines += _gherkin_steps("When", [name(scenario.when)])
    if scenario.view:
        view = links.by_key.get(scenario.view)
        shown = ", ".join(_gherkin_text(f.name) for f in view.fields) if view else ""
        lines += _gherkin_steps("Then", [f"{name(scenario.view)} shows {shown or 'the result'}"])
    elif scenario.error:
        lines += _gherkin_steps(
            "Then", [f"the command is rejected: {_gherkin_text(scenario.error)}"]
        )
    else:
        then = [name(ref) for ref in links.keys(scenario.then)]
        lines += _gherkin_steps("Then", then or ["no event is recorded"])
    return lines


def gherkin_features(snapshot: Snapshot) -> list[tuple[str, str]]:
    """One feature file per aggregate, then one for the ungrouped: (file name, text).

    Gherkin allows one `Feature:` per file, so each text here parses on its own. A scenario
    belongs to the aggregate of its command (or of its view, should a view ever be grouped);
    scenarios whose subject has no aggregate go to `Feature: Ungrouped`.
    """
    links = Links(snapshot)
    by_feature: dict[str | None, list[ElementInfo]] = {}
    for element in snapshot.of_kind("scenario"):
        scenario = element.scenario or Scenario()
        subject = links.by_key.get(scenario.view or scenario.when or "")
        by_feature.setdefault(links.aggregate_of(subject) if subject else None, []).append(element)

    features: list[tuple[str, str, str, list[ElementInfo]]] = [
        (_file_name(a), f"@{a.key}\n", _gherkin_text(a.name), by_feature.get(a.key, []))
        for a in snapshot.of_kind("aggregate")
    ]
    if by_feature.get(None):
        features.append(("ungrouped.feature", "", "Ungrouped", by_feature[None]))

    files = []
    for file_name, tag, title, scenarios in features:
        lines = [f"{tag}Feature: {title}"]
        if not scenarios:
            lines += ["", "  # No scenarios yet."]
        for element in scenarios:
            lines += ["", *_gherkin_scenario(links, element)]
        files.append((file_name, "\n".join(lines) + "\n"))
    return files


def _file_name(aggregate: ElementInfo) -> str:
    """`a1-order.feature`: the ID keeps it unique, the name makes it readable."""
    slug = re.sub(r"[^a-z0-9]+", "-", aggregate.name.casefold()).strip("-")
    return f"{aggregate.key.lower()}-{slug}.feature" if slug else f"{aggregate.key.lower()}.feature"

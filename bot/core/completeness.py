"""The completeness check (SPEC §6) and field traces, as pure functions of the model.

Event Modeling's promise is that every piece of information has an origin and a
destination: a command's inputs land in events, events feed views and policies, and every
field shown to people came from somewhere. `check` proves that promise (or says where it
breaks) and `trace` follows one field through the model for `/storm trace`.

The snapshot holds live elements only; every key read from a relation is resolved through
`Snapshot.by_key()`, so merged IDs still work and dropped elements, which no longer resolve,
neither raise findings nor satisfy them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.core.model import KIND_LETTERS, ElementInfo, FieldSpec, Snapshot, normalise
from bot.core.text import with_article

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES: tuple[str, ...] = (ERROR, WARNING, INFO)
_LETTER_ORDER = {letter: rank for rank, letter in enumerate(KIND_LETTERS.values())}
CLEAN = "Nothing to fix: every field has an origin and a destination."
EMPTY = "Nothing to check yet: add events, the commands that cause them and the views they feed."


@dataclass(frozen=True, slots=True)
class Finding:
    """One check that did not pass.

    `element` is the key of the element at fault (the hotspot itself for `hotspot-open`, the
    scenario for `scenario-mismatch`); `field` is the field's name as written on it.
    `message` is one plain sentence for people, unescaped: renderers escape it.
    """

    code: str
    severity: str
    element: str
    field: str | None
    message: str


@dataclass(frozen=True, slots=True)
class NextStep:
    """The next thing to do: advice for people (plain text, naming elements as typed), the
    `/storm` line that does it, and how many other findings the same fix applies to.

    Kept apart so that each renderer shows the line as code its own way (Slack, Markdown)
    while escaping the names in the advice as text.
    """

    advice: str
    line: str
    more: int = 0

    @property
    def more_text(self) -> str:
        return f" ({self.more} more like it)" if self.more else ""


@dataclass(frozen=True)
class Report:
    """What the check found, most serious first, with the score and the next thing to do
    (None when there is nothing to fix)."""

    findings: tuple[Finding, ...]
    checks: int
    passed_checks: int
    next: NextStep | None

    @property
    def next_step(self) -> str:
        """The next thing to do as one plain line, the `/storm` line in backticks."""
        if self.next is None:
            return CLEAN if self.checks else EMPTY
        return f"Next: {self.next.advice}: `{self.next.line}`{self.next.more_text}."

    @property
    def score(self) -> float:
        """The share of checks that pass; an empty model has nothing wrong with it."""
        return self.passed_checks / self.checks if self.checks else 1.0

    @property
    def passed(self) -> bool:
        """The model is complete when no error remains (SPEC §6); warnings do not block."""
        return not any(f.severity == ERROR for f in self.findings)


@dataclass(frozen=True, slots=True)
class Trace:
    """Where one field comes from and where it goes, one line per place, for people."""

    element: str
    field: str
    origins: tuple[str, ...]
    destinations: tuple[str, ...]


def _id_order(key: str) -> tuple[int, int]:
    """Kind letter in SPEC order (E, C, V, A, H, P, R, X, S), then the counter."""
    letter, number = key[:1].upper(), key[1:]
    return _LETTER_ORDER.get(letter, len(_LETTER_ORDER)), int(number) if number.isdigit() else 0


class _Names:
    """Field names normalised once per check: the check asks whether an element carries a
    field for every field of every element, so `normalise` (a regular expression) would
    otherwise run again for the same names over and over."""

    def __init__(self) -> None:
        self._normalised: dict[str, str] = {}
        self._carried: dict[str, frozenset[str]] = {}

    def normalise(self, name: str) -> str:
        found = self._normalised.get(name)
        if found is None:
            found = self._normalised[name] = normalise(name)
        return found

    def carries(self, element: ElementInfo, name: str) -> bool:
        """Whether `element` (a live element: keys are unique) has a field that matches
        `name` after normalisation (SPEC §3)."""
        carried = self._carried.get(element.key)
        if carried is None:
            carried = frozenset(self.normalise(spec.name) for spec in element.fields)
            self._carried[element.key] = carried
        return self.normalise(name) in carried


def _labels(elements: Iterable[ElementInfo]) -> str:
    return ", ".join(e.label for e in elements)


class _Graph:
    """The model's relations, resolved through aliases and indexed both ways.

    Only relations between live elements of the right kinds are kept: a link to a dropped
    element resolves to nothing and so counts for nothing.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self.by_key = snapshot.by_key()
        self.names = _Names()
        self.carries = self.names.carries
        self.order = {e.key: _id_order(e.key) for e in snapshot.elements}
        self.elements = sorted(snapshot.elements, key=lambda e: self.order[e.key])
        self._kinds: dict[str, list[ElementInfo]] = {}
        for element in self.elements:
            self._kinds.setdefault(element.kind, []).append(element)
        self.caused_by: dict[str, list[ElementInfo]] = {}
        self.feeds: dict[str, list[ElementInfo]] = {}
        self.policies_on: dict[str, list[ElementInfo]] = {}
        self.issuers: dict[str, list[ElementInfo]] = {}
        self.aggregated: set[str] = set()
        self.exercised: set[str] = set()
        for element in self.elements:
            if element.kind in ("command", "external"):
                for event in self.related(element.causes, "event"):
                    self.caused_by.setdefault(event.key, []).append(element)
            elif element.kind == "view":
                for event in self.related(element.fed_by, "event"):
                    self.feeds.setdefault(event.key, []).append(element)
            elif element.kind == "policy":
                for trigger in self.triggers(element):
                    self.policies_on.setdefault(trigger.key, []).append(element)
            elif element.kind == "aggregate":
                self.aggregated.update(m.key for m in self.related(element.members, "command"))
                self.aggregated.update(m.key for m in self.related(element.members, "event"))
            elif element.kind == "scenario" and element.scenario:
                self.exercised.update(
                    c.key for c in self.related((element.scenario.when,), "command")
                )
            if element.kind in ("actor", "policy", "screen"):
                for command in self.related(element.issues, "command"):
                    self.issuers.setdefault(command.key, []).append(element)
            if element.kind in ("command", "event") and self.resolve(
                element.aggregate, "aggregate"
            ):
                self.aggregated.add(element.key)
        self.named_as_origin: dict[tuple[str, str], list[tuple[ElementInfo, FieldSpec]]] = {}
        for element in self.elements:
            for spec in element.fields:
                if spec.origin and self.origin_problem(element, spec.name, spec.origin) is None:
                    key, _, name = spec.origin.partition(".")
                    source = self.resolve(key)
                    assert source is not None  # origin_problem found it
                    wanted = (source.key, self.names.normalise(name))
                    self.named_as_origin.setdefault(wanted, []).append((element, spec))

    def resolve(self, key: str | None, kind: str | None = None) -> ElementInfo | None:
        """The live element a key (or merged alias) names, if it is of `kind`."""
        if not key:
            return None
        element = self.by_key.get(key)  # keys are stored as typed by Storm: E3, not " e3"
        if element is None:
            element = self.by_key.get(key.strip().upper())
        if element is None or (kind is not None and element.kind != kind):
            return None
        return element

    def related(self, keys: Iterable[str | None], kind: str) -> list[ElementInfo]:
        """The distinct live elements of `kind` that `keys` name, in ID order."""
        found = {e.key: e for e in (self.resolve(key, kind) for key in keys) if e is not None}
        if len(found) < 2:
            return list(found.values())
        return sorted(found.values(), key=self.id_order)

    def id_order(self, element: ElementInfo) -> tuple[int, int]:
        order = self.order.get(element.key)
        return order if order is not None else _id_order(element.key)

    def of_kind(self, kind: str) -> list[ElementInfo]:
        return list(self._kinds.get(kind, ()))

    def causes(self, command: ElementInfo) -> list[ElementInfo]:
        return self.related(command.causes, "event")

    def sources(self, view: ElementInfo) -> list[ElementInfo]:
        return self.related(view.fed_by, "event")

    def commands_causing(self, event: ElementInfo) -> list[ElementInfo]:
        return [e for e in self.caused_by.get(event.key, []) if e.kind == "command"]

    def externals_causing(self, event: ElementInfo) -> list[ElementInfo]:
        return [e for e in self.caused_by.get(event.key, []) if e.kind == "external"]

    def policy_command(self, policy: ElementInfo) -> ElementInfo | None:
        commands = self.related(policy.issues, "command")
        return commands[0] if commands else None

    def triggers(self, policy: ElementInfo) -> list[ElementInfo]:
        """What sets a policy off: its event, or the view it reads as a to-do list."""
        return self.related((policy.on,), "event") or self.related((policy.on,), "view")

    def readers(self, trigger: ElementInfo, name: str) -> list[tuple[ElementInfo, ElementInfo]]:
        """(policy, command) pairs triggered by `trigger` (an event or a view) whose command
        carries `name`.

        A policy on E issuing C reads exactly the fields of E that C carries, and a policy
        triggered by a view reads the fields of that view that its command carries (SPEC §6).
        """
        pairs = []
        for policy in self.policies_on.get(trigger.key, []):
            command = self.policy_command(policy)
            if command is not None and self.carries(command, name):
                pairs.append((policy, command))
        return pairs

    def named_by(self, element: ElementInfo, name: str) -> list[tuple[ElementInfo, FieldSpec]]:
        """The fields that name `element`'s field `name` as their explicit origin: each is a
        destination of that field (SPEC §6)."""
        return self.named_as_origin.get((element.key, self.names.normalise(name)), [])

    def origin_problem(self, owner: ElementInfo, field: str, origin: str) -> str | None:
        """Why the explicit origin of `owner`'s `field` does not hold, as a predicate
        ("names no element any more"); None when it names a live field. A field naming itself
        as its own origin is circular and proves nothing.
        """
        key, _, name = origin.partition(".")
        source = self.resolve(key)
        if source is None:
            return "names no element any more"
        if not name or not self.carries(source, name):
            return f"does not exist: {source.label} has no field “{name}”"
        if source.key == owner.key and self.names.normalise(name) == self.names.normalise(field):
            return "is the field itself"
        return None


class _Checker:
    """Runs every check of SPEC §6 once, counting them and collecting what fails.

    Each check is `if self.failed(ok): self.found(...)`, so that a finding's message is only
    written for the checks that fail: most pass.
    """

    def __init__(self, graph: _Graph) -> None:
        self.graph = graph
        self.checks = 0
        self.findings: list[Finding] = []

    def failed(self, ok: bool) -> bool:
        """Count one check; True when it does not pass."""
        self.checks += 1
        return not ok

    def found(
        self,
        code: str,
        severity: str,
        element: ElementInfo,
        message: str,
        spec: FieldSpec | None = None,
    ) -> None:
        """The finding of a check that did not pass."""
        name = spec.name if spec else None
        self.findings.append(Finding(code, severity, element.key, name, message))

    def run(self) -> None:
        graph = self.graph
        for command in graph.of_kind("command"):
            self.command(command)
        for event in graph.of_kind("event"):
            self.event(event)
        for view in graph.of_kind("view"):
            self.view(view)
        for scenario in graph.of_kind("scenario"):
            problems = _scenario_problems(graph, scenario)
            if self.failed(not problems):
                self.found(
                    "scenario-mismatch",
                    ERROR,
                    scenario,
                    f"{scenario.label}: {'; '.join(problems)}; rewrite the scenario",
                )
        for hotspot in graph.of_kind("hotspot"):
            if self.failed(hotspot.resolved):
                self.found(
                    "hotspot-open",
                    INFO,
                    hotspot,
                    f"{hotspot.label}{_on(graph, hotspot)} is still open: settle it, then resolve it",
                )

    def shared(self, element: ElementInfo) -> None:
        """The checks commands, events and views have in common: fields, and for commands
        and events an aggregate."""
        if self.failed(bool(element.fields)):
            self.found(
                "element-no-fields",
                WARNING,
                element,
                f"{element.label} has no fields: list the information it carries",
            )
        if element.kind != "view" and self.failed(element.key in self.graph.aggregated):
            self.found(
                "not-aggregated",
                WARNING,
                element,
                f"{element.label} is in no aggregate: group it with the others of its sub-system",
            )

    def command(self, command: ElementInfo) -> None:
        graph = self.graph
        events = graph.causes(command)
        if self.failed(bool(events)):
            self.found(
                "command-no-event",
                ERROR,
                command,
                f"{command.label} causes no event: say which events it causes",
            )
        self.shared(command)
        if self.failed(command.key in graph.exercised):
            self.found(
                "command-no-scenario",
                WARNING,
                command,
                f"{command.label} has no scenario: specify it with given/when/then",
            )
        for spec in command.fields:
            if self.failed(any(graph.carries(event, spec.name) for event in events)):
                where = (
                    f"add it to {_labels(events)}" if events else "link the command to its events"
                )
                self.found(
                    "input-lost",
                    ERROR,
                    command,
                    f"{command.label}: field “{spec.name}” is lost: none of the events it causes carries it; {where}",
                    spec,
                )

    def event(self, event: ElementInfo) -> None:
        graph = self.graph
        commands = graph.commands_causing(event)
        externals = graph.externals_causing(event)
        if self.failed(bool(commands or externals)):
            self.found(
                "event-no-cause",
                WARNING,
                event,
                f"{event.label} has no cause: link the command or external system that causes it",
            )
        self.shared(event)
        views = graph.feeds.get(event.key, [])
        for spec in event.fields:
            if spec.origin:
                problem = _broken_origin(graph, event, spec, spec.origin)
            elif spec.generated or externals:
                problem = None
            elif not commands:
                problem = (
                    "nothing causes this event; link a command to it or mark the field generated"
                )
            elif any(graph.carries(command, spec.name) for command in commands):
                problem = None
            else:
                problem = f"no command causing it carries it; add it to {_labels(commands)} or mark it generated"
            self._origin(event, spec, problem)
            if self.failed(
                any(graph.carries(view, spec.name) for view in views)
                or bool(graph.readers(event, spec.name))
                or bool(graph.named_by(event, spec.name))
            ):
                self.found(
                    "field-no-destination",
                    WARNING,
                    event,
                    f"{event.label}: field “{spec.name}” goes nowhere: no view it feeds carries it, no policy it triggers reads it and no field names it as its origin; show it in a view or drop it",
                    spec,
                )

    def view(self, view: ElementInfo) -> None:
        graph = self.graph
        events = graph.sources(view)
        if self.failed(bool(events)):
            self.found(
                "view-no-source",
                ERROR,
                view,
                f"{view.label} has no source: say which events feed it",
            )
        self.shared(view)
        for spec in view.fields:
            if spec.origin:
                problem = _broken_origin(graph, view, spec, spec.origin)
            elif spec.generated or any(graph.carries(event, spec.name) for event in events):
                problem = None
            elif events:
                problem = f"no event feeding it carries it; add it to {_labels(events)} or give it an explicit origin"
            else:
                problem = "no event feeds this view; say which events feed it"
            self._origin(view, spec, problem)

    def _origin(self, element: ElementInfo, spec: FieldSpec, problem: str | None) -> None:
        if self.failed(problem is None):
            self.found(
                "field-no-origin",
                ERROR,
                element,
                f"{element.label}: field “{spec.name}” has no origin: {problem}",
                spec,
            )


def _broken_origin(graph: _Graph, owner: ElementInfo, spec: FieldSpec, origin: str) -> str | None:
    problem = graph.origin_problem(owner, spec.name, origin)
    return f"its origin {origin} {problem}" if problem else None


def _on(graph: _Graph, hotspot: ElementInfo) -> str:
    target = graph.resolve(hotspot.on)
    return f" (on {target.label})" if target else ""


def _scenario_problems(graph: _Graph, scenario: ElementInfo) -> list[str]:
    """What is wrong with a scenario as written, in words; empty when it holds.

    Every key must still resolve: `given` to events, `when` to a command, `then` to events
    that command causes, `view` to a view. A scenario naming neither a command nor a view
    specifies nothing.
    """
    spec = scenario.scenario
    if spec is None:
        return ["it has no given/when/then"]
    problems = []
    for key in spec.given:
        found = graph.resolve(key)
        if found is None:
            problems.append(f"given {key} no longer exists")
        elif found.kind != "event":
            problems.append(f"given {found.label} is {with_article(found.kind)}, not an event")
    if spec.when is None and spec.view is None:
        problems.append("it names neither a command nor a view")
    when = graph.resolve(spec.when)
    command = when if when is not None and when.kind == "command" else None
    if spec.when is not None and when is None:
        problems.append(f"when {spec.when} no longer exists")
    elif when is not None and command is None:
        problems.append(f"when {when.label} is {with_article(when.kind)}, not a command")
    if spec.view is not None and graph.resolve(spec.view, "view") is None:
        problems.append(f"{spec.view} is not a view (any more)")
    caused = {e.key for e in graph.causes(command)} if command else set()
    for key in spec.then:
        found = graph.resolve(key)
        if found is None:
            problems.append(f"then {key} no longer exists")
        elif found.kind != "event":
            problems.append(f"then {found.label} is {with_article(found.kind)}, not an event")
        elif command is not None and found.key not in caused:
            problems.append(f"then {found.label} is not caused by {command.label}")
    return problems


def _sort_key(graph: _Graph) -> Callable[[Finding], tuple[int, tuple[int, int], bool, str, str]]:
    """Findings by severity, then ID order, then field (normalised), then code."""
    ranks = {severity: rank for rank, severity in enumerate(SEVERITIES)}

    def key(finding: Finding) -> tuple[int, tuple[int, int], bool, str, str]:
        order = graph.order.get(finding.element)
        return (
            ranks[finding.severity],
            order if order is not None else _id_order(finding.element),
            finding.field is not None,
            graph.names.normalise(finding.field or ""),
            finding.code,
        )

    return key


def check(snapshot: Snapshot) -> Report:
    """Run every check of SPEC §6 over the live model.

    Decisions where SPEC §6 leaves room:

    - `event-no-cause` counts commands and external systems. A policy issues a command,
      and that command causes the events, so policies add nothing beyond commands.
    - Destinations are exactly what SPEC §6 names: views the event feeds, policies it
      triggers, and fields anywhere that name it as their explicit origin (when that origin
      holds: a broken one proves nothing).
    - An explicit origin must resolve to a live element (aliases included) carrying the
      field, and not to the field itself; otherwise the field has no origin.
    - A scenario is one check, whatever is wrong with it: its finding lists every problem.
    - A policy triggered by a view reads the fields of that view that its command carries:
      they are destinations of the view's fields (`trace` shows them). SPEC §6 asks no
      destination of a view's fields, so this raises or clears no finding; an event's field
      is not read by such a policy (the view is), and counts only through a view carrying it.
    - Fields of policies and screens have no check of their own: SPEC §6 names commands,
      events and views only.
    """
    graph = _Graph(snapshot)
    checker = _Checker(graph)
    checker.run()
    findings = tuple(sorted(checker.findings, key=_sort_key(graph)))
    return Report(
        findings=findings,
        checks=checker.checks,
        passed_checks=checker.checks - len(findings),
        next=_next_step(graph, findings, snapshot.current_step),
    )


# What to fix first when several kinds of finding remain: what breaks the flow of
# information before what merely leaves it untidy.
_PRIORITY: tuple[str, ...] = (
    "command-no-event",
    "view-no-source",
    "input-lost",
    "field-no-origin",
    "scenario-mismatch",
    "event-no-cause",
    "element-no-fields",
    "field-no-destination",
    "not-aggregated",
    "command-no-scenario",
    "hotspot-open",
)


def _with_field(element: ElementInfo, spec: str) -> str:
    """The `/storm fields` line that adds one field to an element (or rewrites it where it
    stands), keeping the others: the command sets an element's whole field list."""
    wanted = normalise(spec.rstrip("*"))
    written = [spec if normalise(f.name) == wanted else str(f) for f in element.fields]
    return f"/storm fields {element.key}: {', '.join(written if spec in written else [*written, spec])}"


def _advice(graph: _Graph, finding: Finding) -> tuple[str, str]:
    """How to fix one finding, and a `/storm` line that would do it."""
    element = graph.by_key[finding.element]
    name = finding.field or ""
    code = finding.code
    if code == "command-no-event":
        return f"say what {element.label} causes", f"/storm command {element.name} -> <event>"
    if code == "view-no-source":
        return f"say which events feed {element.label}", f"/storm view {element.name} <- <event>"
    if code == "input-lost":
        events = graph.causes(element)
        line = (
            _with_field(events[0], name) if events else f"/storm command {element.name} -> <event>"
        )
        return f"carry “{name}” of {element.label} into an event it causes", line
    if code == "field-no-origin" and _field(element, name).origin:
        return (
            f"fix or drop the explicit origin of “{name}” on {element.label}",
            _with_field(element, name),
        )
    if code == "field-no-origin":
        sources = (
            graph.commands_causing(element) if element.kind == "event" else graph.sources(element)
        )
        if sources:
            return f"give “{name}” of {element.label} an origin", _with_field(sources[0], name)
        return (
            f"give “{name}” of {element.label} an origin, or mark it generated",
            _with_field(element, name + "*"),
        )
    if code == "scenario-mismatch":
        problems = "; ".join(_scenario_problems(graph, element))
        return (
            f"fix {element.label} ({problems}) by dropping it and writing it again",
            "/storm scenario <title>: given … when … then …",
        )
    if code == "event-no-cause":
        return f"say what causes {element.label}", f"/storm command <command> -> {element.key}"
    if code == "element-no-fields":
        return (
            f"list the fields of {element.label}",
            f"/storm fields {element.key}: <field>, <field>",
        )
    if code == "field-no-destination":
        views = graph.feeds.get(element.key, [])
        line = _with_field(views[0], name) if views else f"/storm view <view> <- {element.key}"
        return f"show “{name}” of {element.label} in a view", line
    if code == "not-aggregated":
        return (
            f"group {element.label} into an aggregate",
            f"/storm aggregate <name>: {element.key}",
        )
    if code == "command-no-scenario":
        events = graph.causes(element)
        then = " ".join(e.key for e in events) or "<event>"
        return (
            f"specify {element.label}",
            f"/storm scenario <title>: given nothing when {element.key} then {then}",
        )
    return f"settle {element.label} and close it", f"/storm resolve {element.key}"


# Findings about fields: before step 5 (Identify Inputs) they are counted in the score but
# neither listed nor proposed as the next thing to do (SPEC §6): fields are steps 5 and 6's work.
FIELD_CODES = frozenset(
    {"field-no-origin", "field-no-destination", "input-lost", "element-no-fields"}
)
FIELDS_STEP = 5


def _next_step(graph: _Graph, findings: tuple[Finding, ...], step: int) -> NextStep | None:
    """The most important kind of fix, shown on its first case; before step 5, a fix to
    anything but fields when there is one."""
    if not findings:
        return None
    candidates = findings
    if step < FIELDS_STEP:
        candidates = tuple(f for f in findings if f.code not in FIELD_CODES) or findings
    code = min((f.code for f in candidates), key=_PRIORITY.index)
    same = [f for f in candidates if f.code == code]
    advice, line = _advice(graph, same[0])
    return NextStep(advice, line, len(same) - 1)


def _field(element: ElementInfo, name: str) -> FieldSpec:
    wanted = normalise(name)
    for spec in element.fields:
        if normalise(spec.name) == wanted:
            return spec
    known = ", ".join(f.name for f in element.fields) or "none"
    raise KeyError(f"{element.label} has no field “{name}” (its fields: {known})")


def _own_origins(graph: _Graph, element: ElementInfo, spec: FieldSpec) -> list[str]:
    """The origins a field states itself: generated, or an explicit origin."""
    if spec.origin:
        problem = graph.origin_problem(element, spec.name, spec.origin)
        return [f"explicit origin {spec.origin}" + (f", which {problem}" if problem else "")]
    return ["generated by the system"] if spec.generated else []


def _named_by(graph: _Graph, elements: list[ElementInfo], name: str) -> list[str]:
    """The fields that name this field of these elements as their explicit origin."""
    lines: list[str] = []
    for element in elements:
        for owner, spec in graph.named_by(element, name):
            line = f"{owner.label}: field “{spec.name}” ({owner.kind}, explicit origin)"
            if line not in lines:
                lines.append(line)
    return lines


def _downstream(graph: _Graph, events: list[ElementInfo], name: str) -> list[str]:
    """Where a field goes from these events: views they feed carrying it, then policies
    they trigger reading it, then fields naming it as their explicit origin."""
    views: dict[str, ElementInfo] = {}
    policies: list[str] = []
    for event in events:
        for view in graph.feeds.get(event.key, []):
            if graph.carries(view, name):
                views.setdefault(view.key, view)
        for policy, command in graph.readers(event, name):
            line = f"policy {policy.label} → {command.label}"
            if line not in policies:
                policies.append(line)
    ordered = sorted(views.values(), key=graph.id_order)
    for view in ordered:  # a view read as a to-do list passes the field on to a command
        for line in _view_readers(graph, view, name):
            if line not in policies:
                policies.append(line)
    return [f"{view.label} (view)" for view in ordered] + policies + _named_by(graph, events, name)


def _view_readers(graph: _Graph, view: ElementInfo, name: str) -> list[str]:
    """The policies that read this field of a view (SPEC §6), with the command each issues."""
    return [
        f"policy {policy.label} → {command.label} (for each item of {view.label})"
        for policy, command in graph.readers(view, name)
    ]


def trace(snapshot: Snapshot, key: str, field: str) -> Trace:
    """Where a field comes from and where it goes, for `/storm trace <ref>.<field>`.

    A command field goes to the events it causes carrying it, then on to their views and
    policies; its origin is whoever issues the command. An event field comes from the
    commands or external systems causing it and goes to views and policies. A view field
    comes from the events feeding it and goes to the policies that read it as a to-do list.
    A policy's field comes from its trigger and goes to its command; a screen's from the views
    it shows (or the person using it) to the commands it issues. Any field also goes to the
    fields that name it as their explicit origin. Raises KeyError,
    with a message for people, when the element or the field does not exist.
    """
    graph = _Graph(snapshot)
    element = graph.resolve(key)
    if element is None:
        raise KeyError(f"no element {key}")
    spec = _field(element, field)
    own = _own_origins(graph, element, spec)
    if element.kind == "command":
        issuers = [f"{i.label} ({i.kind}) issues it" for i in graph.issuers.get(element.key, [])]
        origins = own + (issuers or ["an input: whoever issues the command gives it"])
        events = [e for e in graph.causes(element) if graph.carries(e, spec.name)]
        destinations = (
            [f"{e.label} (event)" for e in events]
            + _named_by(graph, [element], spec.name)
            + _downstream(graph, events, spec.name)
        )
    elif element.kind == "event":
        commands = [c for c in graph.commands_causing(element) if graph.carries(c, spec.name)]
        externals = graph.externals_causing(element)
        origins = [f"{c.label} (command) carries it" for c in commands]
        origins += [f"external system {x.label}" for x in externals] + own
        destinations = _downstream(graph, [element], spec.name)
    elif element.kind == "view":
        carriers = [e for e in graph.sources(element) if graph.carries(e, spec.name)]
        origins = [f"{e.label} (event) carries it" for e in carriers] + own
        destinations = _view_readers(graph, element, spec.name) + _named_by(
            graph, [element], spec.name
        )
    elif element.kind == "policy":
        triggers = [t for t in graph.triggers(element) if graph.carries(t, spec.name)]
        origins = [f"{t.label} ({t.kind}) triggers it and carries it" for t in triggers] + own
        command = graph.policy_command(element)
        issued = [command] if command is not None and graph.carries(command, spec.name) else []
        destinations = [f"{c.label} (command)" for c in issued] + _named_by(
            graph, [element], spec.name
        )
    else:  # a screen: what its views show, or what a person types; it goes to its commands
        shown = [v for v in graph.related(element.shows, "view") if graph.carries(v, spec.name)]
        origins = [f"{v.label} (view) shows it" for v in shown] + own
        origins = origins or ["an input: the person using the screen gives it"]
        issued = [
            c for c in graph.related(element.issues, "command") if graph.carries(c, spec.name)
        ]
        destinations = [f"{c.label} (command)" for c in issued] + _named_by(
            graph, [element], spec.name
        )
    return Trace(element.key, spec.name, tuple(origins), tuple(destinations))

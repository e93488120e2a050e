"""The channel canvas (SPEC §4.5): the model as Slack canvas Markdown, for `/storm canvas on`.

A canvas is read by people who were not in the workshop's threads, so it is organised like
the method reads: where the workshop stands, the timeline, the commands and views with their
fields, the slices (a command with what triggers it, or a view with its sources, each with
its given/when/then), the open questions and what the completeness check still finds.

Each part is an H2 with a fixed heading (`SECTIONS`), so that a section can be found again by
its heading (`canvases.sections.lookup`) and people always find the same parts in the same
order. Slack's canvas Markdown has no tables; everything is a list.

User text is escaped (`canvas_text`): canvas Markdown turns `![](@U123)` into a mention,
`<!here>`-like tokens may ping, and `*`, `_`, `~` and backticks format. Nothing anyone types
into a name becomes a mention, a link or formatting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.completeness import ERROR, INFO, WARNING, Report, check
from bot.core.exports.links import Links
from bot.core.model import ElementInfo, FieldSpec, Scenario, Snapshot
from bot.core.steps import STEPS
from bot.core.text import plural

OVERVIEW, TIMELINE, COMMANDS_AND_VIEWS = "Overview", "Timeline", "Commands and views"
SLICES, HOTSPOTS, FINDINGS = "Slices", "Open hotspots", "Findings"
SECTIONS: tuple[str, ...] = (OVERVIEW, TIMELINE, COMMANDS_AND_VIEWS, SLICES, HOTSPOTS, FINDINGS)
# Slack refuses canvas Markdown over 1 MiB (1,048,576 characters); a canvas near it is far too
# long to read anyway, so what does not fit is cut with a word saying so.
MAX_MARKDOWN = 1_000_000
_NONE = "_None yet._"
# ASCII punctuation that formats, links, mentions (`![](@U123)`, `<@U123>`) or makes an
# entity (`&amp;`) in canvas Markdown: escaped with a backslash (CommonMark escapes any ASCII
# punctuation that way). Without `[` there is no link, and user text never starts a line, so
# `(`, `#` and the list markers stay as typed.
_SPECIAL = re.compile(r"([\\`*_~\[\]!<>|&])")
# `@here`, `@channel` and `@everyone` typed as words: a word joiner after the `@` keeps them
# from being read as a broadcast mention, and shows nothing.
_BROADCAST = re.compile(r"@(?=(?:here|channel|everyone)\b)", re.IGNORECASE)
_KINDS_SHOWN = (
    ("event", "event"),
    ("command", "command"),
    ("view", "view"),
    ("policy", "policy"),
    ("aggregate", "aggregate"),
    ("actor", "actor"),
    ("external", "external system"),
    ("screen", "screen"),
    ("hotspot", "hotspot"),
    ("scenario", "scenario"),
)
_SEVERITY_WORDS = {ERROR: "Errors", WARNING: "Warnings", INFO: "Notes"}


def canvas_text(text: str) -> str:
    """User text as canvas Markdown shows it typed: one line, nothing formats or mentions."""
    line = " ".join(text.split())
    return _BROADCAST.sub("@\u2060", _SPECIAL.sub(r"\\\1", line))


def _code(text: str) -> str:
    """A `/storm` line as a code span (no user text is ever inside one unescaped: a backtick
    in it becomes its look-alike, so the span cannot end early)."""
    return "`" + text.replace("`", "\u02cb") + "`"


class _Canvas:
    def __init__(self, snapshot: Snapshot, report: Report) -> None:
        self.snapshot = snapshot
        self.report = report
        self.links = Links(snapshot)

    # ---- references ------------------------------------------------------------------

    def ref(self, key: str | None) -> str:
        """`**E3** Order Placed` for a live element; the reference as written otherwise."""
        element = self.links.by_key.get(key) if key else None
        if element is None:
            return canvas_text(key or "—")
        return f"**{element.key}** {canvas_text(element.name)}"

    def refs(self, keys: Iterable[str]) -> str:
        return ", ".join(self.ref(key) for key in self.links.keys(keys)) or "—"

    def field(self, spec: FieldSpec) -> str:
        """A field as SPEC §3 writes it: `name`, `name:Decimal` (typed), `name*` (generated),
        `name ← E3.amount`."""
        name = canvas_text(spec.typed_name)
        origin = self.links.origin(spec)
        if origin:
            return f"{name} ← {canvas_text(origin)}"
        return f"{name}\\*" if spec.generated else name

    def fields(self, element: ElementInfo) -> str:
        return ", ".join(self.field(spec) for spec in element.fields) or "_no fields yet_"

    # ---- sections --------------------------------------------------------------------

    def title(self) -> str:
        return f"# {canvas_text(self.snapshot.title)}"

    def overview(self) -> str:
        s, report = self.snapshot, self.report
        step = STEPS[s.current_step - 1]
        where = (
            "Finished."
            if s.finished_at
            else f"Step {step.number} of {len(STEPS)}: {step.name} ({step.method})."
        )
        counts = s.counts_by_kind()
        shown = [plural(counts[k], word) for k, word in _KINDS_SHOWN if counts.get(k)]
        verdict = "passes" if report.passed else "does not pass yet"
        if report.checks:
            score = (
                f"**{round(report.score * 100)}%** ({report.passed_checks} of "
                f"{plural(report.checks, 'check')} pass; the model {verdict})"
            )
        else:
            score = "nothing to check yet"
        lines = [
            f"- Where: {where}",
            f"- Model: {', '.join(shown) if shown else 'empty so far'}.",
            f"- Completeness: {score}.",
        ]
        if report.next is not None:
            lines.append(
                f"- Next: {canvas_text(report.next.advice)}: {_code(report.next.line)}"
                f"{canvas_text(report.next.more_text)}."
            )
        lines.append("")
        lines.append(
            "_Storm keeps this canvas current while `/storm canvas on`; edits made here are "
            "replaced with the model._"
        )
        return "\n".join(lines)

    def timeline(self) -> str:
        events = self.snapshot.events
        if not events:
            return _NONE
        lines = []
        for position, event in enumerate(events, start=1):
            aggregate = self.links.aggregate_of(event)
            lines.append(
                f"{position}. {self.ref(event.key)}"
                + (f" (aggregate {self.ref(aggregate)})" if aggregate else "")
            )
        return "\n".join(lines)

    def commands_and_views(self) -> str:
        blocks = []
        for kind, heading in (("command", "Commands"), ("view", "Views")):
            elements = self.snapshot.of_kind(kind)
            lines = [f"### {heading}", ""]
            lines += [f"- {self.ref(e.key)}: {self.fields(e)}" for e in elements] or [_NONE]
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)

    def slices(self) -> str:
        s, links = self.snapshot, self.links
        scenarios: dict[str, list[ElementInfo]] = {}
        for element in s.of_kind("scenario"):
            scenario = element.scenario or Scenario()
            subject = links.key(scenario.view or scenario.when)
            if subject is not None:
                scenarios.setdefault(subject, []).append(element)
        policies: dict[str, list[ElementInfo]] = {}
        for policy in s.of_kind("policy"):
            for issued in links.keys(policy.issues):
                policies.setdefault(issued, []).append(policy)
        blocks = []
        for command in s.of_kind("command"):
            triggers = [self.ref(actor) for actor in links.actors_of(command)]
            triggers += [
                f"{self.ref(p.key)} whenever {self.ref(links.key(p.on))}"
                for p in policies.get(command.key, [])
            ]
            lines = [
                f"### {command.key} {canvas_text(command.name)}",
                "",
                f"- Triggered by: {', '.join(triggers) or '—'}",
                f"- Causes: {self.refs(command.causes)}",
            ]
            lines += self._scenarios(scenarios.get(command.key, []))
            blocks.append("\n".join(lines))
        for view in s.of_kind("view"):
            lines = [
                f"### {view.key} {canvas_text(view.name)}",
                "",
                f"- Sources: {self.refs(view.fed_by)}",
            ]
            lines += self._scenarios(scenarios.get(view.key, []))
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks) or _NONE

    def _scenarios(self, elements: list[ElementInfo]) -> list[str]:
        if not elements:
            return ["- Scenarios: none yet"]
        lines = ["- Scenarios:"]
        for element in elements:
            scenario = element.scenario or Scenario()
            given = self.refs(scenario.given) if scenario.given else "nothing"
            parts = [f"Given {given}"]
            if scenario.when:
                parts.append(f"When {self.ref(scenario.when)}")
            if scenario.view:
                view = self.links.by_key.get(scenario.view)
                shown = ", ".join(self.field(f) for f in view.fields) if view else ""
                parts.append(f"Then {self.ref(scenario.view)} shows {shown or 'the result'}")
            elif scenario.error:
                parts.append(f"Then rejected: {canvas_text(scenario.error)}")
            else:
                parts.append(f"Then {self.refs(scenario.then)}")
            lines.append(f"  - **{element.key}** {canvas_text(element.name)}: {'; '.join(parts)}")
        return lines

    def hotspots(self) -> str:
        open_ = [h for h in self.snapshot.of_kind("hotspot") if not h.resolved]
        lines = []
        for hotspot in open_:
            on = self.links.key(hotspot.on)
            lines.append(f"- {self.ref(hotspot.key)}" + (f" (on {self.ref(on)})" if on else ""))
        return "\n".join(lines) or "_No open hotspots._"

    def findings(self) -> str:
        report = self.report
        if not report.findings:
            return "No findings." if report.checks else "_Nothing to check yet._"
        blocks = []
        for severity in (ERROR, WARNING, INFO):
            found = [f for f in report.findings if f.severity == severity]
            if found:
                lines = [f"### {_SEVERITY_WORDS[severity]} ({len(found)})", ""]
                lines += [f"- {canvas_text(f.message)} ({_code(f.code)})" for f in found]
                blocks.append("\n".join(lines))
        return "\n\n".join(blocks)


def canvas_markdown(snapshot: Snapshot) -> str:
    """The whole canvas: the workshop's title, then one H2 per part of `SECTIONS`."""
    doc = _Canvas(snapshot, check(snapshot))
    bodies = (
        doc.overview(),
        doc.timeline(),
        doc.commands_and_views(),
        doc.slices(),
        doc.hotspots(),
        doc.findings(),
    )
    parts = [doc.title()]
    parts += [f"## {heading}\n\n{body}" for heading, body in zip(SECTIONS, bodies, strict=True)]
    return _fitted("\n\n".join(parts) + "\n")


def _fitted(markdown: str) -> str:
    """At most `MAX_MARKDOWN` characters, cut at a line's end with a note saying so."""
    if len(markdown) <= MAX_MARKDOWN:
        return markdown
    note = "\n\n_The model is too large for one canvas: the rest is in `/storm export md`._\n"
    cut = markdown.rfind("\n", 0, MAX_MARKDOWN - len(note))
    return markdown[:cut] + note


# Slack's refusals of a canvas, in words for the facilitator (SPEC §4.5).
_PLAN = (
    "this workspace's Slack plan does not let apps make this canvas (free plans allow one "
    "canvas tab per channel and no channel canvas from apps)"
)
REFUSALS: dict[str, str] = {
    "team_tier_cannot_create_channel_canvases": _PLAN,
    "free_teams_cannot_create_non_tabbed_canvases": _PLAN,
    "free_team_canvas_tab_already_exists": _PLAN,
    "free_teams_cannot_edit_standalone_canvases": _PLAN,
    "canvas_disabled_user_team": "canvases are turned off in this workspace (an admin can "
    "turn them on)",
    "channel_canvas_already_exists": "the channel already has a canvas that someone else "
    "made, and Slack did not let me add one of my own",
    "restricted_action": "this workspace does not let me write canvases in this channel",
    "access_denied": "this workspace does not let me write canvases in this channel",
    "missing_scope": "my Slack app lacks the `canvases:write` scope (reinstall it from "
    "`manifest.yml`)",
    "not_in_channel": "I am not in this channel (invite me with `/invite @Storm`)",
    "channel_not_found": "the channel was not found",
    "is_archived": "the channel is archived",
}


def refusal(code: str) -> str:
    """What the facilitator is told, once, when Slack refuses the canvas with `code`.

    mrkdwn; `code` comes from Slack and is shown as code."""
    why = REFUSALS.get(code, f"Slack answered {_code(code)}")
    return (
        f":warning: I cannot keep the model in this channel's canvas: {why}. The workshop "
        "goes on as before. `/storm canvas on` tries again; `/storm canvas off` stops."
    )

"""The `slices` export (SPEC §7): the hand-off to builders, one Markdown file per slice in
one zip.

The slices are `slicing.cut`'s, the same as the `eventmodel` export's, so a builder's file
and a tool's slice name the same work. A command's file says what triggers it (actors,
policies), its fields with their types, the events it causes and its scenarios; a view's file
its source events, its fields and its scenarios. Every scenario step shows its element's data
(fields with types), because that is what a builder writes a test from.

The files are Markdown files, not Slack messages: user text is escaped for Markdown only.
File names are stable and readable (`01-place-order.md`): the slice's number on the timeline,
padded so that they sort, and its name. The zip's entries carry a fixed date, so that the same
model gives the same bytes.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable

from bot.core.exports.links import Links
from bot.core.exports.markdown import _md
from bot.core.exports.slicing import Slice, cut
from bot.core.model import ElementInfo, Scenario, Snapshot

ZIP_NAME = "storm-slices.zip"
_KINDS = {
    "STATE_CHANGE": "State change",
    "STATE_VIEW": "State view",
    "AUTOMATION": "Automation",
}
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip entry can carry
_SLUG = re.compile(r"[^a-z0-9]+")
_SLUG_LENGTH = 60


def file_name(cut_slice: Slice, width: int) -> str:
    """`01-place-order.md`: the slice's number padded to `width`, and its name in plain
    lower-case ASCII (its key when nothing of the name is left)."""
    ascii_name = unicodedata.normalize("NFKD", cut_slice.name).encode("ascii", "ignore").decode()
    slug = _SLUG.sub("-", ascii_name.lower())[:_SLUG_LENGTH].strip("-")
    return f"{cut_slice.index:0{width}d}-{slug or cut_slice.key.lower()}.md"


class _SliceFile:
    """One slice's Markdown, section by section."""

    def __init__(self, snapshot: Snapshot, links: Links) -> None:
        self.snapshot = snapshot
        self.links = links

    def name(self, key: str | None) -> str:
        return _md(self.links.name(key))

    def names(self, keys: Iterable[str]) -> str:
        return ", ".join(self.name(key) for key in self.links.keys(keys))

    def fields(self, element: ElementInfo) -> list[str]:
        """The element's fields as a table: name, type, identifier, where it comes from."""
        if not element.fields:
            return ["_No fields yet._"]
        lines = ["| field | type | identifier | notes |", "| --- | --- | --- | --- |"]
        for spec in element.fields:
            notes = []
            if spec.generated:
                notes.append("generated")
            if origin := self.links.origin(spec):
                ref, _, field = origin.partition(".")
                notes.append(f"from {self.name(ref)}: {_md(field)}")
            lines.append(
                f"| {_md(spec.name)} | {spec.written_type} | `{spec.code_name}` "
                f"| {'; '.join(notes)} |"
            )
        return lines

    def step(self, word: str, key: str, suffix: str = "") -> list[str]:
        """A given/when/then step: its element and that element's data."""
        element = self.links.by_key[key]
        lines = [f"- **{word}** {self.name(key)}{suffix}"]
        lines += [f"  - {_md(spec.name)}: {spec.written_type}" for spec in element.fields]
        return lines

    def scenario(self, element: ElementInfo) -> list[str]:
        scenario, links = element.scenario or Scenario(), self.links
        lines = [f"### {_md(element.label)}", ""]
        given = links.keys(scenario.given)
        if not given:
            lines.append("- **Given** nothing has happened")
        for n, key in enumerate(given):
            lines += self.step("Given" if n == 0 else "And", key)
        if command := links.key(scenario.when):
            lines += self.step("When", command)
        if view := links.key(scenario.view):
            lines += self.step("Then", view, " shows")
        elif scenario.error:
            lines.append(f"- **Then** the command is rejected: {_md(scenario.error)}")
        else:
            then = links.keys(scenario.then)
            if not then:
                lines.append("- **Then** nothing happens")
            for n, key in enumerate(then):
                lines += self.step("Then" if n == 0 else "And", key)
        return [*lines, ""]

    def trigger(self, cut_slice: Slice) -> list[str]:
        """What sets the slice off: who issues its command, or which events it reads."""
        links = self.links
        found: list[str] = []
        for command in cut_slice.of_kind("command"):
            found += [f"- Actor {self.name(a)}" for a in links.actors_of(command)]
            found += [
                f"- Screen {_md(screen.label)}"
                for screen in cut_slice.of_kind("screen")
                if command.key in links.keys(screen.issues)
            ]
        for policy in cut_slice.of_kind("policy"):
            on = links.key(policy.on)
            whenever = f": whenever {self.name(on)}" if on else ""
            found.append(f"- Policy {_md(policy.label)}{whenever}")
        for view in cut_slice.of_kind("view"):
            found += [f"- {self.name(e)}" for e in links.keys(view.fed_by)]
        source = links.by_key.get(cut_slice.key)
        if source is not None and source.kind == "external":
            found.append(f"- External system {_md(source.label)}")
        if found:
            return found
        if cut_slice.of_kind("view"):
            return ["_No events feed it yet._"]
        return ["_Nothing triggers it yet._"]

    def text(self, cut_slice: Slice) -> str:
        links, kind = self.links, cut_slice.slice_type
        lines = [
            f"# Slice {cut_slice.index}: {_md(cut_slice.name)}",
            "",
            f"{_KINDS[kind]} slice `{cut_slice.id}` of {_md(self.snapshot.title)}.",
        ]
        aggregates = dict.fromkeys(
            a for a in (links.aggregate_of(m) for m in cut_slice.members) if a is not None
        )
        if aggregates:
            lines.append(f"Aggregate: {self.names(aggregates)}.")
        heading = "Sources" if kind == "STATE_VIEW" else "Trigger"
        lines += ["", f"## {heading}", "", *self.trigger(cut_slice)]
        for member in cut_slice.members:
            if member.kind in ("command", "view"):
                title = "Command" if member.kind == "command" else "View"
                lines += ["", f"## {title} {_md(member.label)}", "", *self.fields(member)]
        events = cut_slice.of_kind("event")
        if events:
            lines += ["", "## Events"]
            for event in events:
                lines += ["", f"### {_md(event.label)}", "", *self.fields(event)]
        if kind == "AUTOMATION":
            lines += ["", "_The policy issues no command yet._"]
        lines += ["", "## Scenarios", ""]
        for scenario in cut_slice.scenarios:
            lines += self.scenario(scenario)
        if not cut_slice.scenarios:
            lines += ["_No scenarios yet._", ""]
        return "\n".join(lines)


def slices_zip(snapshot: Snapshot) -> bytes:
    """Every slice's file, in timeline order, in one zip; each is compressed as soon as it is
    written, so that only one slice's text is held at a time."""
    links = Links(snapshot)
    slices = cut(snapshot, links)
    width = max(2, len(str(len(slices))))
    writer = _SliceFile(snapshot, links)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for cut_slice in slices:
            entry = zipfile.ZipInfo(file_name(cut_slice, width), date_time=_FIXED_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, writer.text(cut_slice))
    return out.getvalue()

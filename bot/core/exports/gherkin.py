"""The Gherkin export (SPEC §7 `gherkin`): one feature per aggregate."""

from __future__ import annotations

import re

from bot.core.exports.links import Links
from bot.core.model import ElementInfo, Scenario, Snapshot


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
        shown = ", ".join(_gherkin_text(f.typed_name) for f in view.fields) if view else ""
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

"""A large workshop stays inside Slack's limits: nothing rejected, nothing cut (SPEC §4.3)."""

from __future__ import annotations

import json

from tests.support.running import InProcess, text_of

EVENTS, COMMANDS, VIEWS, AGGREGATES, SCENARIOS = 300, 100, 60, 40, 150


def _lines() -> list[str]:
    lines = [
        "event " + "; ".join(f"Thing {n} Happened" for n in range(start, start + 50))
        for start in range(1, EVENTS + 1, 50)
    ]
    lines += [f"command Do Thing {n} -> E{3 * n - 2}, E{3 * n - 1}" for n in range(1, COMMANDS + 1)]
    lines += [f"view Screen {n} <- E{n}, E{n + 60}" for n in range(1, VIEWS + 1)]
    for n in range(AGGREGATES):
        commands = [f"C{c}" for c in range(n * 2 + 1, n * 2 + 3)]
        events = [f"E{e}" for e in range(n * 7 + 1, n * 7 + 8)]
        lines.append(f"aggregate Area {n + 1}: " + " ".join(commands + events))
    lines += [f"fields C{n}: order id*, amount {n}" for n in range(1, COMMANDS + 1)]
    lines += [f"fields E{n}: order id, amount {n}" for n in range(1, 101)]
    lines += [f"fields V{n}: order id, total {n}" for n in range(1, 51)]
    lines += [
        f"scenario Case {n}: given E{n + 1} when C{(n - 1) % COMMANDS + 1} then E{3 * ((n - 1) % COMMANDS) + 1}"
        for n in range(1, SCENARIOS + 1)
    ]
    return lines


def test_summaries_reports_digests_and_exports_of_a_large_workshop(storm: InProcess) -> None:
    storm.run("start Big Bang")
    for line in _lines():
        answer = storm.run(line)
        assert ":warning:" not in answer and ":no_entry_sign:" not in answer, (line, answer)
    for _ in range(7):
        storm.run("next")
    storm.run("report")
    storm.run("check")
    storm.run("digest now")
    for fmt in ("json", "md", "mermaid", "eventmodel", "gherkin", "slices"):
        storm.run(f"export {fmt}")
    storm.wait_for_post("Daily digest", timeout=60)
    storm.run("end")
    storm.wait_for_post("Final report", timeout=60)
    storm.wait_until_sent(timeout=120)

    rejected = [call for call in storm.fake.calls if call.error]
    assert rejected == []

    model = json.loads(next(f for f in storm.fake.files() if f.filename == "storm-model.json").text)
    assert len(model["events"]) == EVENTS and len(model["commands"]) == COMMANDS
    assert len(model["views"]) == VIEWS and len(model["aggregates"]) == AGGREGATES
    assert len(model["scenarios"]) == SCENARIOS
    fields = sum(
        len(item["fields"]) for kind in ("commands", "events", "views") for item in model[kind]
    )
    assert fields == 500

    def whole(heading: str) -> str:
        first = next(m for m in storm.posts() if text_of(m).startswith(heading))
        return "\n".join(text_of(m) for m in storm.fake.thread("C1", first.ts) or [first])

    timeline = whole("Step 1 closed")
    assert all(f"*E{n}* Thing {n} Happened" in timeline for n in range(1, EVENTS + 1))
    scenarios = whole("Step 7 closed")
    assert all(f"*S{n}* Case {n}" in scenarios for n in range(1, SCENARIOS + 1))
    report = whole("Final report")
    assert "*E300* Thing 300 Happened" in report and "*S150* Case 150" in report
    assert "Completeness" in whole("Completeness check")
    assert "Daily digest" in whole("Daily digest")

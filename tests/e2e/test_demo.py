"""`stormbot demo` as a user runs it: a whole workshop on a fresh database, and its exports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What the demo's team leaves open on purpose (see the last scenes of bot/sandbox/demo.py).
FINDINGS = {
    ("field-no-destination", "warning", "E4", "authorisation id"),
    ("command-no-scenario", "warning", "C6", None),
    ("hotspot-open", "info", "H2", None),
}
COUNTS = {
    "events": 7,  # eight were added; E7 was merged into E2
    "commands": 6,
    "views": 2,
    "aggregates": 2,
    "policies": 2,
    "actors": 3,
    "externals": 1,
    "hotspots": 2,
    "scenarios": 8,
}


@dataclass(frozen=True)
class Played:
    out: Path
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Played:
    """One run of the demo, as a user starts it, on a fresh database (it takes seconds)."""
    tmp_path = tmp_path_factory.mktemp("demo")
    out = tmp_path / "exports"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "NO_COLOR": "1",
        "COLUMNS": "120",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--out", str(out)],
        cwd=tmp_path,  # no stray .env, and nothing written next to the code
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return Played(out, result.stdout, result.stderr)


def test_the_demo_plays_all_eight_steps_and_writes_every_export(played: Played) -> None:
    out = played.out
    model = json.loads((out / "storm-model.json").read_text())
    assert model["format"] == "storm-model/1"
    assert {kind: len(model[kind]) for kind in COUNTS} == COUNTS
    assert model["workshop"]["title"] == "Ordering and Payment"
    assert model["workshop"]["step"] == {"number": 8, "name": "Completeness Check"}
    assert len(model["workshop"]["facilitators"]) == 2
    completeness = model["completeness"]
    found = {(f["code"], f["severity"], f["element"], f["field"]) for f in completeness["findings"]}
    assert found == FINDINGS
    assert completeness["passed"] is True

    assert (out / "storm.mmd").read_text().startswith("flowchart")
    assert "Ordering and Payment" in (out / "storm.md").read_text()
    assert json.loads((out / "storm-eventmodel.json").read_text())["slices"]
    features = sorted(out.glob("*.feature"))
    assert [f.name for f in features][:2] == ["a1-order.feature", "a2-payment.feature"]
    assert all(f.read_text().strip() for f in features)


def test_the_demo_tells_the_story_and_ends_with_the_completeness_report(played: Played) -> None:
    story = played.stdout
    for step in (
        "Step 1 of 8: Collect Domain Events",
        "Step 8 of 8: Completeness Check",
        "Half time · Collect Domain Events",
        "Time's up · Aggregation",
        "Daily digest · Ordering and Payment",
        "Final report · Ordering and Payment",
    ):
        assert step in story, step
    assert "dana reacted ⚡" in story and "bob reacted ❓" in story
    report = story.split("The completeness report", 1)[1]
    assert "passes" in report
    for code, _severity, element, _field in FINDINGS:
        assert code in report and element in report
    assert "storm-model.json" in report  # the closing line lists the exports
    assert "ERROR" not in played.stderr and "Traceback" not in played.stderr, played.stderr

"""The benchmark's quick mode runs end to end and reports figures a script can read.

Why a smoke test and not a benchmark in the suite: timings on a shared two-core machine say
little, so nothing here asserts a speed. What must hold is that `python -m bench --quick`
starts both servers as production does, drives them with signed requests, and ends with the
one line scripts read; that every part produced its figures; and that the load reached Storm's
real code path (each run had acknowledged requests, and every acknowledged one was stored).
Without wrk the quick mode falls back to its Python load generator, so this runs anywhere.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
LAST_LINE = re.compile(r"^storm/bare throughput at 50 concurrent: (\d+\.\d{2})$")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    work = tmp_path_factory.mktemp("bench")
    figures = work / "figures.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(figures)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    return done.stdout, json.loads(figures.read_text())


def test_the_last_line_gives_the_throughput_ratio(quick_run: tuple[str, dict[str, Any]]) -> None:
    report, _ = quick_run
    last = report.rstrip("\n").splitlines()[-1]
    match = LAST_LINE.match(last)
    assert match, f"unexpected last line: {last!r}"
    assert float(match.group(1)) > 0


def test_every_run_was_acknowledged_and_stored(quick_run: tuple[str, dict[str, Any]]) -> None:
    _, figures = quick_run
    runs = figures["runs"]
    seen = {(r["target"], r["scenario"], r["connections"]) for r in runs}
    assert seen == {
        (target, scenario, connections)
        for target in ("storm", "bare")
        for scenario in ("/storm event", ":zap: reaction")
        for connections in (1, 10, 50)
    }
    for run in runs:
        assert run["acked"] > 0, run
        assert run["load"]["p50_ms"] > 0 and run["rps"] > 0, run
        assert run["lost"] == 0, run
    reactions = [r for r in runs if r["target"] == "storm" and r["scenario"] == ":zap: reaction"]
    assert all(r["applied"] >= r["stored"] for r in reactions), reactions


def test_model_sql_and_memory_figures_are_reported(quick_run: tuple[str, dict[str, Any]]) -> None:
    report, figures = quick_run
    sizes = figures["model"]["sizes"]
    for operation in ("completeness.check", "reports.full_report", "export.to_json_text"):
        timings = figures["model"]["times"][operation]
        assert sorted(int(size) for size in timings) == sizes
    assert "snapshots.load_snapshot (SQLite)" in figures["model"]["times"]
    for request in ("/storm event", ":zap: reaction", "/storm report", "/storm status"):
        counts = figures["sql"][request]
        assert len(counts) == 2
        assert all(c["ack"] and min(c["ack"]) > 0 for c in counts.values()), counts
    workers = [m for m in figures["memory_loaded"] if m["role"] == "worker"]
    assert len(workers) == figures["config"]["workers"]
    assert all(m["rss"] > 0 for m in workers)
    goals = {g["goal"] for g in figures["goals"]}
    assert any("p99" in goal for goal in goals)
    for section in ("1. Requests under load", "2. Memory", "3. SQL", "4. Model size", "5. Goals"):
        assert section in report


def test_clicks_and_forms_are_timed(quick_run: tuple[str, dict[str, Any]]) -> None:
    """Each kind of click reached Storm at each concurrency and was acknowledged, and every
    menu click's form was opened through the fake Slack."""
    report, figures = quick_run
    (round_,) = figures["clicks"]
    kinds = {(t["kind"], t["connections"]) for t in round_}
    assert kinds == {
        (kind, c)
        for kind in ("vote click", "form submission", "menu click (opens a form)")
        for c in (1, 10)
    }
    for timings in round_:
        assert len(timings["acks"]) == 20 and timings["errors"] == 0, timings
        if timings["kind"].startswith("menu"):
            assert len(timings["opened"]) == 20 and timings["not_opened"] == 0, timings
    assert "6. Clicks and forms" in report
    assert any("views.open" in g["goal"] for g in figures["goals"])


def test_a_burst_under_slacks_post_limit_is_timed(quick_run: tuple[str, dict[str, Any]]) -> None:
    """The burst reached Storm and every capture was shown, once, against the fake enforcing
    the limit (a burst of 40 needs more posts than it lets through at once, unless shared)."""
    report, figures = quick_run
    (round_,) = figures["postlimit"]
    assert round_["missing"] == 0 and round_["repeated"] == 0, round_
    assert 0 < round_["visible_s"] < 60 and round_["acks_s"] > 0, round_
    assert 1 <= round_["messages"] < 40, round_
    assert "7. Slack's post limit" in report
    assert any("post limit" in g["goal"] for g in figures["goals"])


def test_the_board_is_painted_and_timed(quick_run: tuple[str, dict[str, Any]]) -> None:
    """Boards of both sizes were laid out and painted, the larger taking more pictures or the
    same, and painting's memory peak was measured in a process of its own."""
    report, figures = quick_run
    found = figures["pictures"]
    assert sorted(int(size) for size in found["times"]) == [30, 300]
    assert all(t["median"] > 0 for t in found["times"].values())
    assert found["pages"]["300"] >= found["pages"]["30"] >= 1
    assert found["peak_extra_mb"] >= 0
    assert "8. The board's pictures" in report
    assert any(g["goal"].startswith("board: layout and PNG of 300") for g in figures["goals"])


def test_storm_on_postgresql_is_measured_or_said_not_run(
    quick_run: tuple[str, dict[str, Any]],
) -> None:
    """With the PostgreSQL server there: one instance, two instances and the bare app each took
    acknowledged /storm event requests and stored every one, and the posts due together were
    each sent once by the three instances. Without it: one line says why, and nothing else."""
    report, figures = quick_run
    found = figures["postgres"]
    assert "9. PostgreSQL" in report
    if found["not_run"]:
        assert os.environ.get("CI") != "true", f"CI=true needs PostgreSQL: {found['not_run']}"
        assert "not reachable" in found["not_run"]
        assert f"not run: {found['not_run']}" in report
        return
    assert not found["failed"], "\n".join(found["notes"])
    assert {r["setup"] for r in found["speed"]} == {"storm", "storm x2", "bare"}
    for run in found["speed"]:
        assert run["load"]["ok"] > 0 and run["lost"] == 0, run
    (round_,) = found["posts"]
    assert round_["missing"] == 0 and round_["repeated"] == 0, round_
    assert round_["statuses"].get("sent") == round_["posts"], round_
    assert any(g["goal"].startswith("PostgreSQL: 1,000 posts") for g in figures["goals"])

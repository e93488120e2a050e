"""`stormbot import FILE --channel …` as an admin runs it: a process of its own on a real
SQLite file, through the same code as the Slack form."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.support.shared import SHARED

ROOT = Path(__file__).resolve().parents[2]
REAL = SHARED / "schemas" / "examples" / "cool-customer-demo.config.json"


def stormbot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SLACK_")  # no token: channels by id only
    }
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'storm.db'}", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bot", "import", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def elements(tmp_path: Path) -> list[tuple[str, int, str]]:
    with sqlite3.connect(tmp_path / "storm.db") as connection:
        return list(connection.execute("SELECT kind, number, name FROM element ORDER BY id"))


def test_an_admin_imports_a_file_into_a_channel_and_confirms_adding_to_it(tmp_path: Path) -> None:
    first = stormbot(tmp_path, str(REAL), "--channel", "C0123", "--team", "T1", "--user", "U1")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(
        ":inbox_tray: Imported *cool-customer-demo.config.json* into the new workshop *Cool "
        "Customer demo*; you are its facilitator: added 2 events, 2 commands, 1 view and 2 "
        "screens."
    )
    made = elements(tmp_path)
    assert len(made) == 7

    # Again into the same workshop: it asks (the first facilitator imports) and stores nothing.
    asked = stormbot(tmp_path, str(REAL), "--channel", "C0123")
    assert asked.returncode == 2
    assert "Add them to the workshop *Cool Customer demo*?" in asked.stdout
    assert asked.stdout.rstrip().endswith("Run again with --yes to add them.")
    assert elements(tmp_path) == made

    other = tmp_path / "more.json"
    other.write_text(
        json.dumps(
            {
                "format": "storm-model/1",
                "events": [
                    {"id": "E1", "name": "Customer registered"},
                    {"id": "E2", "name": "Customer moved"},
                ],
            }
        )
    )
    added = stormbot(tmp_path, str(other), "--channel", "C0123", "--yes")
    assert added.returncode == 0, added.stderr
    assert "added 1 event" in added.stdout and "*E1* Customer registered" in added.stdout
    assert elements(tmp_path)[-1] == ("event", 3, "Customer moved")


def test_a_bad_file_exits_non_zero_naming_the_problem_and_stores_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "storm-model/1", "events": [{"id": "E1"}]}')
    refused = stormbot(tmp_path, str(bad), "--channel", "C0123", "--team", "T1", "--user", "U1")
    assert refused.returncode == 1
    assert "events[0].name: expected text, found null" in refused.stderr
    assert "Nothing was stored." in refused.stderr
    assert elements(tmp_path) == []


def test_a_channel_name_needs_a_slack_token_and_a_new_workshop_a_facilitator(
    tmp_path: Path,
) -> None:
    by_name = stormbot(tmp_path, str(REAL), "--channel", "#ordering", "--team", "T1")
    assert by_name.returncode == 1
    assert "is not a channel id (C…); names are looked up only with SLACK_BOT_TOKEN set" in (
        by_name.stderr
    )
    nobody = stormbot(tmp_path, str(REAL), "--channel", "C0123", "--team", "T1")
    assert nobody.returncode == 1
    assert "--user U…" in nobody.stderr

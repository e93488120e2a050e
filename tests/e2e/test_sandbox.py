"""`stormbot sandbox` driven through a pseudo-terminal, as a person types at it."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30


def _environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, "TERM": "dumb", "NO_COLOR": "1", "PYTHONPATH": str(ROOT), **extra}
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        env.pop(name, None)
    return env


class Terminal:
    """The sandbox in a pty; `type` sends a line and waits for the next prompt."""

    def __init__(self, tmp_path: Path) -> None:
        env = _environment(DATABASE_URL=f"sqlite:///{tmp_path / 'sandbox.db'}")
        self.log = io.StringIO()
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "bot", "sandbox", "--files", str(tmp_path / "files")],
            cwd=str(tmp_path),
            env=env,
            encoding="utf-8",
            timeout=TIMEOUT,
            dimensions=(50, 220),
        )
        self.child.logfile_read = self.log
        self.child.expect_exact("alice in #general> ")

    def type(self, line: str, *, prompt: str = "alice in #general> ") -> str:
        """What the sandbox printed in answer to `line`, up to its next prompt."""
        self.child.sendline(line)
        self.child.expect_exact(prompt)
        return str(self.child.before)

    def quit(self) -> str:
        self.child.sendline(":quit")
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.log.getvalue()


@pytest.fixture
def terminal(tmp_path: Path) -> Terminal:
    return Terminal(tmp_path)


def test_a_short_workshop_with_reminders_that_fire_once(terminal: Terminal) -> None:
    assert "Step 1 of 8: Collect Domain Events" in terminal.type("/storm start Checkout")
    added = terminal.type("/storm event Order Placed")
    assert "E1 Order Placed · event" in added
    e1 = re.search(r"\[(\d+)\] Storm  \S+  in thread \[\d+\]\s+\S+ E1 Order Placed", added)
    assert e1, added

    terminal.type(":as bob", prompt="bob in #general> ")
    said = terminal.type(":say Payment Received", prompt="bob in #general> ")
    number = re.search(r"\[(\d+)\] bob", said)
    assert number, said
    terminal.type(":as alice")
    reacted = terminal.type(f":react {number.group(1)} zap")
    assert "E2 Payment Received · event" in reacted
    assert "Added E2 Payment Received from that message." in reacted
    # An element's message is updated in place: the sandbox shows it again, under its number.
    renamed = terminal.type("/storm rename E1 Order Submitted")
    assert f"[{e1.group(1)} updated] Storm" in renamed, renamed
    assert "E1 Order Submitted · event" in renamed.split(" updated] ")[1]

    assert "Timebox for step 1 set to 20m." in terminal.type("/storm timebox current 20m")
    half = terminal.type(":clock +11m")
    assert "Half time · Collect Domain Events" in half
    assert "E1 Order Submitted" in half and "E2 Payment Received" in half
    up = terminal.type(":clock +10m")
    assert "Time's up · Collect Domain Events" in up
    assert "@alice: run /storm next" in up

    transcript = terminal.quit()
    assert transcript.count("Half time · Collect Domain Events") == 1
    assert transcript.count("Time's up · Collect Domain Events") == 1
    assert "Last call" not in transcript  # its deadline had passed when the clock got there


def test_sandbox_lines_explain_their_mistakes(terminal: Terminal) -> None:
    assert ":react N NAME" in terminal.type(":help")
    assert "there is no message [99]" in terminal.type(":react 99 zap")
    assert "the clock only moves forward" in terminal.type(":clock 2000-01-01 09:00")
    assert "is not a command here" in terminal.type("/giphy storm")
    assert "There is no workshop in this channel" in terminal.type("/storm status")
    terminal.quit()


def test_stormbot_without_a_token_runs_the_sandbox_on_a_database_here(tmp_path: Path) -> None:
    env = _environment()
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        input="/storm start Checkout\n:quit\n",
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Storm sandbox" in result.stdout
    assert "alice in #general> /storm start Checkout" in result.stdout  # piped lines are echoed
    assert "Step 1 of 8: Collect Domain Events" in result.stdout
    assert (tmp_path / "storm.db").exists()  # the default database, in the current folder


def test_the_sandbox_clock_is_where_it_was_after_a_restart(tmp_path: Path) -> None:
    first = Terminal(tmp_path)
    first.type("/storm start Checkout")
    first.type("/storm timebox current 1h30m")
    moved = first.type(":clock +1h")
    clock = re.search(r"It is (.+?) UTC", moved)
    assert clock, moved
    first.quit()

    again = Terminal(tmp_path)  # the same database
    banner = " ".join(again.log.getvalue().split())  # the terminal wraps long lines
    shown = re.search(r"clock: (\w{3} \d\d \w{3} \d{4} \d\d:\d\d)", banner)
    assert shown, banner
    moments = [datetime.strptime(m, "%a %d %b %Y %H:%M") for m in (clock.group(1), shown.group(1))]
    assert timedelta(0) <= moments[1] - moments[0] <= timedelta(minutes=2)
    status = again.type("/storm status")
    assert re.search(r"\b29m( \d+s)? left", status), status
    assert "Half time" not in again.quit()  # it fired before the restart, once


def test_clicking_votes_and_a_form_checks_what_is_typed(terminal: Terminal) -> None:
    terminal.type("/storm start Checkout")
    added = terminal.type("/storm event Order Placed")
    shown = re.search(r"\[(\d+)\] Storm  \S+  in thread \[\d+\]\s+\S+ E1 Order Placed", added)
    assert shown, added
    n = shown.group(1)
    assert "[Vote] [⋯ Rename… | Fields… | Merge into… | Drop | Hotspot on this…]" in added

    voted = terminal.type(f":click {n} Vote")
    assert f"alice clicked “Vote” on [{n}]" in voted
    assert f"[{n} updated] Storm" in voted and "E1 Order Placed · event · 1 vote" in voted

    opened = terminal.type(f":click {n} Rename…")
    assert "┌ Rename E1" in opened and "New name = Order Placed" in opened, opened
    assert "[Rename] [Cancel]" in opened
    refused = terminal.type(":form New name=   ")
    assert "Storm sent the form back" in refused
    assert "✗ The new name cannot be empty" in refused
    assert "New name = —" in terminal.type(":form")  # still open, with what was typed
    sent = terminal.type(":form new name=Order Submitted")
    assert "Form sent." in sent and "Renamed E1 from Order Placed to Order Submitted" in sent
    if f"[{n} updated]" not in sent:  # the message's update may come a moment later
        terminal.child.expect_exact(f"[{n} updated]")
        terminal.child.expect_exact("alice in #general> ")
    assert "no form is open" in terminal.type(":form")

    terminal.type(f":click {n} Rename")
    assert "Form closed." in terminal.type(":cancel")
    assert "no form is open" in terminal.type(":cancel")
    assert "nothing labelled 'Promote'" in terminal.type(f":click {n} Promote")
    assert ":click N LABEL" in terminal.type(":help")
    terminal.quit()

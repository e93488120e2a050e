"""Importing a model in `stormbot sandbox`, typed at a pseudo-terminal as a person would:
`:upload` shares a local file in the channel and the Import into Storm shortcut imports it;
`/storm import` opens the form, whose file field takes a local path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.test_sandbox import Terminal

pytest.importorskip("pexpect")

PAYMENTS = "alice in #payments> "


def _typed(terminal: Terminal, line: str, prompt: str = PAYMENTS) -> str:
    """What the sandbox printed for `line`, its lines wrapped at the terminal's width joined."""
    return " ".join(terminal.type(line, prompt=prompt).split())


def _number(shown: str, pattern: str) -> str:
    found = re.search(pattern, shown)
    assert found, shown
    return found.group(1)


def test_a_file_shared_in_the_channel_is_imported_with_the_shortcut(tmp_path: Path) -> None:
    terminal = Terminal(tmp_path)
    terminal.type("/storm start Checkout")
    terminal.type("/storm event Order Placed; Payment Received")
    exported = terminal.type("/storm export json")
    assert "storm-model.json" in exported
    _typed(terminal, ":in #payments")

    assert "there is no file" in _typed(terminal, ":upload nowhere.json")
    shared = _typed(terminal, ":upload files/storm-model.json our model")
    n = _number(shared, r"\[(\d+)\] alice \S+ our model 📎 storm-model.json")
    assert f":shortcut {n} Import into Storm imports it" in shared

    imported = _typed(terminal, f":shortcut {n} Import into Storm")
    assert "Imported storm-model.json into the new workshop Checkout" in imported
    assert "@alice imported storm-model.json: 2 events added" in imported
    assert "Model: 2 events" in _typed(terminal, "/storm status")

    # The same file again, through the form: the workshop has elements now, so it asks.
    form = _typed(terminal, "/storm import")
    assert "┌ Import a model" in form and "Model file = —" in form
    asked = _typed(terminal, ":form Model file=files/storm-model.json")
    assert "Form sent." in asked and "Add them to the workshop Checkout?" in asked
    question = _number(asked, r"\[(\d+)\] Storm \S+ \(only you, alice\) 📥")
    assert "[Import] [Cancel]" in asked
    cancelled = _typed(terminal, f":click {question} Cancel")
    assert "Import cancelled: nothing was changed." in cancelled
    assert "Model: 2 events" in _typed(terminal, "/storm status")
    terminal.quit()

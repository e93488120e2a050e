"""The core imports neither Slack, nor SQL, nor the scheduler (ARCHITECTURE quality 1)."""

import pkgutil
import subprocess
import sys

import bot.core

FORBIDDEN = ("slack_sdk", "slack_bolt", "sqlmodel", "sqlalchemy", "apscheduler")


def test_the_core_imports_no_framework() -> None:
    modules = [f"bot.core.{m.name}" for m in pkgutil.iter_modules(bot.core.__path__)]
    assert len(modules) >= 8
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"

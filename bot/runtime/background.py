"""The background worker: one process per instance, beside its web workers, for all Slack does
not wait for. The background workers of several instances share the work through claims in
the database (`storage.claims`), none of it pinned to one.

It sends the outbox's posts on schedule (element messages, prompts, reminders, summaries,
digests, reports, exports) and applies the reactions the web workers recorded, finding both by
polling the database (`bot.runtime.app.BACKGROUND_POLL_SECONDS`) besides APScheduler's timed wake-ups.
It runs at a lower CPU priority (`nice`): under a burst, acknowledgements get the CPU first and
the posts follow as soon as it is free; an idle machine sends them within the poll interval.

The serving process keeps one running (`Background`): it is restarted if it dies, and stops
with the server. It also stops by itself if the serving process disappears (a SIGKILL leaves
no one to stop it).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from multiprocessing.process import BaseProcess
from pathlib import Path

from bot.runtime.app import build_app
from bot.runtime.logs import configure_logging
from bot.runtime.settings import load_settings

log = logging.getLogger(__name__)
NICENESS = 10  # lower priority than the web workers (0); on Linux about a tenth of the CPU
RESTART_DELAY_SECONDS = 1.0


def run() -> None:
    """The background worker's main: reads the same settings as `stormbot serve`."""
    settings = load_settings()
    configure_logging(settings, quiet=False)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    storm = build_app(settings, role="background")
    storm.start()
    # Only now: starting up (and sending what a restart left due) is as urgent as the web
    # workers' own start. Every thread of the process takes the new priority.
    _lower_priority()
    server = os.getppid()
    try:
        while not stopping.wait(1.0):
            if os.getppid() != server:
                log.warning("the serving process is gone: the background worker stops")
                return
    finally:
        storm.stop()


def _lower_priority() -> None:
    """`nice` the whole process, threads already running included (on Linux each thread has
    its own priority, and `os.nice` only changes the calling one's)."""
    tasks = Path(f"/proc/{os.getpid()}/task")
    if not tasks.is_dir():  # not Linux: the process's own priority is all there is
        os.nice(NICENESS)
        return
    for task in tasks.iterdir():
        os.setpriority(os.PRIO_PROCESS, int(task.name), NICENESS)


class Background:
    """Runs the background worker while the server serves, restarting it if it dies."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")  # no threads inherited from here
        self._process: BaseProcess | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # a restart and a stop never cross
        self._watcher = threading.Thread(target=self._watch, name="storm-background", daemon=True)

    def start(self) -> None:
        self._launch()
        self._watcher.start()

    def stop(self) -> None:
        """Ask the worker to finish what it is sending, then make sure it is gone."""
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is None or process.pid is None:
            return
        process.terminate()
        process.join(timeout=15)
        if process.is_alive():
            process.kill()
            process.join()

    def _launch(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self._process = self._context.Process(target=run, name="storm-background")
            self._process.start()

    def _watch(self) -> None:
        while not self._stopping.is_set():
            process = self._process
            assert process is not None
            process.join(timeout=1.0)
            if process.is_alive() or self._stopping.is_set():
                continue
            log.error("the background worker exited (code %s); starting it again", process.exitcode)
            if not self._stopping.wait(RESTART_DELAY_SECONDS):
                self._launch()

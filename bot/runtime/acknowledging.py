"""A sign between an instance's processes that the web workers are busy."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Where `stormbot serve` tells the processes it starts (web workers, background worker) to
# find the sign when their database is not a file beside which it could be.
SIGN_VARIABLE = "STORM_BUSY_SIGN"


@contextmanager
def instance_sign() -> Iterator[None]:
    """A sign of this instance's own while the block runs (`stormbot serve`), named after
    this process in the temporary directory so that several instances on one machine each
    have theirs, passed on in the environment (`SIGN_VARIABLE`), and removed at the end.

    Named here rather than by each process after its parent: with one web worker, uvicorn
    serves in this process itself, whose parent is whatever started Storm."""
    path = Path(tempfile.gettempdir()) / f"storm-{os.getpid()}.acknowledging"
    os.environ[SIGN_VARIABLE] = str(path)
    try:
        yield
    finally:
        del os.environ[SIGN_VARIABLE]
        path.unlink(missing_ok=True)


class Acknowledging:
    """A sign, shared by an instance's processes, that the web workers are answering
    requests right now: the modification time of a file (beside the SQLite database, or the
    instance's own, `instance_sign`).

    `nice` alone does not keep the background worker out of the acknowledgements' way: the
    fake or real Slack answering its posts runs at full priority, and a preempted low-priority
    writer holding the database's lock makes every web worker wait for it. So the background
    worker also holds back between two pieces of work while requests are coming in (for at
    most `MAX_HOLD_SECONDS` each, so it always gets on), and catches up as soon as the burst is
    over: a burst of captures is acknowledged at full speed and posted right after it.
    """

    TOUCH_EVERY_SECONDS = 0.05  # a web worker marks itself busy at most this often
    QUIET_AFTER_SECONDS = 0.1  # no request for this long: the web workers are idle
    MAX_HOLD_SECONDS = 2.0

    def __init__(self, path: str | None) -> None:
        self._path = path
        self._touched = 0.0

    def touch(self) -> None:
        """A web worker is answering a request (cheap: one `utime` per 50 ms at the most)."""
        now = time.monotonic()
        if self._path is None or now - self._touched < self.TOUCH_EVERY_SECONDS:
            return
        self._touched = now
        try:
            os.utime(self._path)
        except FileNotFoundError:
            Path(self._path).touch()

    def hold_while_busy(self) -> None:
        """The background worker, before its next piece of work: wait while requests come in."""
        if self._path is None:
            return
        held_until = time.monotonic() + self.MAX_HOLD_SECONDS
        while time.monotonic() < held_until and self._busy():
            time.sleep(self.TOUCH_EVERY_SECONDS)

    def _busy(self) -> bool:
        if self._path is None:
            return False
        try:
            return time.time() - os.stat(self._path).st_mtime < self.QUIET_AFTER_SECONDS
        except OSError:
            return False

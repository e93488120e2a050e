"""The one clock the app reads, so that tests and the sandbox can move time instead of sleeping."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What every part of Storm asks for the current time."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    def to_monotonic(self, moment: datetime) -> float:
        """The real `time.time()` at which `moment` of this clock will be reached."""
        ...

    def on_jump(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever the clock jumps, so schedules can be recomputed."""
        ...


class SystemClock:
    """Wall-clock time; it never jumps."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def to_monotonic(self, moment: datetime) -> float:
        return moment.timestamp()

    def on_jump(self, listener: Callable[[], None]) -> None:
        """The system clock never jumps, so there is nothing to notify."""


class ManualClock:
    """Real time shifted by an offset that tests and the sandbox can move forward.

    Time keeps flowing (so short real timeboxes still work), and `advance` jumps ahead,
    telling listeners so that the scheduler re-plans what has become due.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0) if start is None else start - datetime.now(UTC)
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def to_monotonic(self, moment: datetime) -> float:
        with self._lock:
            return (moment - self._offset).timestamp()

    def on_jump(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def advance(self, delta: timedelta) -> None:
        """Jump forward by `delta` and let the listeners re-plan."""
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += delta
        for listener in list(self._listeners):
            listener()

    def set(self, moment: datetime) -> None:
        """Jump forward to `moment`."""
        self.advance(max(moment - self.now(), timedelta(0)))

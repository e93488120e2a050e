"""The two servers under test, as child processes, and what the kernel says about them.

Storm is started exactly as an admin starts it (`python -m bot serve`, README "Running in
production"); the bare app with the same uvicorn settings (`python -m bench.bare`, through
`bot.runtime.server.serve_asgi`). Each runs in its own session, so that stopping it stops uvicorn's
supervisor and workers and nothing else. CPU time and memory come from `/proc`: the
supervisor ("master"), its web workers and Storm's background worker, separately.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Memory:
    """One process's memory, in MiB: resident now, its peak, and its proportional share."""

    role: str
    pid: int
    rss: float
    peak: float
    pss: float


@dataclass
class Served:
    """A uvicorn-served app on a loopback port."""

    name: str
    module: str
    env: dict[str, str]
    workers: int
    log_path: Path
    health_path: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def events_url(self) -> str:
        return self.base_url + "slack/events"

    def start(self, timeout: float = 90.0) -> Served:
        env = {
            **os.environ,
            **self.env,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "PYTHONPATH": str(REPO),
        }
        env.pop("SLACK_APP_TOKEN", None)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, *(["serve"] if self.module == "bot" else [])],
            env=env,
            cwd=self.log_path.parent,  # no stray .env from the caller's directory
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            if self._answers() and len(self.worker_pids()) >= self.workers:
                time.sleep(0.5)  # let the last worker finish importing
                return self
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not come up:\n{self.log_tail()}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + self.health_path.lstrip("/"), timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # it answered
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # ---- /proc ---------------------------------------------------------------------------

    @property
    def master_pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def children(self) -> list[int]:
        """The master's children, but for multiprocessing's resource tracker: uvicorn's web
        workers, and Storm's background worker."""
        master = self.master_pid
        try:  # each thread's children: a restarted background worker is its watcher's
            children = [
                int(pid)
                for task in Path(f"/proc/{master}/task").iterdir()
                for pid in (task / "children").read_text().split()
            ]
        except (OSError, ValueError):
            children = []
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit() and _ppid(int(entry.name)) == master:
                    children.append(int(entry.name))
        return [pid for pid in children if not _is_resource_tracker(pid)]

    def worker_pids(self) -> list[int]:
        """uvicorn's web workers (with one worker uvicorn serves in the master itself). Storm's
        background worker is the child that runs niced (`bot/runtime/background.py`)."""
        if self.workers == 1:
            return [self.master_pid]
        return [pid for pid in self.children() if _nice(pid) == 0]

    def background_pids(self) -> list[int]:
        return [pid for pid in self.children() if _nice(pid) > 0]

    def cpu_seconds(self) -> dict[int, float]:
        """CPU time (user + system) so far, per process: the master and all its children."""
        return {pid: _cpu(pid) for pid in [self.master_pid, *self.children()]}

    def memory(self) -> list[Memory]:
        if self.workers == 1:  # the master is the worker
            found = [_memory("worker", self.master_pid)]
        else:
            found = [_memory("master", self.master_pid)]
            found += [_memory("worker", pid) for pid in self.worker_pids()]
        found += [_memory("background", pid) for pid in self.background_pids()]
        return found


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings (a process that is new counts from zero)."""
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


def _is_resource_tracker(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"multiprocessing.resource_tracker" in command


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def _nice(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat[stat.rindex(")") + 2 :].split()[16])


def _cpu(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _memory(role: str, pid: int) -> Memory:
    status = _kib_fields(Path(f"/proc/{pid}/status"))
    rollup = _kib_fields(Path(f"/proc/{pid}/smaps_rollup"))
    return Memory(
        role,
        pid,
        status.get("VmRSS", 0) / 1024,
        status.get("VmHWM", 0) / 1024,
        rollup.get("Pss", 0) / 1024,
    )


def _kib_fields(path: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    try:
        text = path.read_text()
    except OSError:
        return found
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            found[name.strip()] = int(parts[0])
    return found

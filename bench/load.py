"""Signed requests, and the load generators that send them.

Slack signs `v0:<timestamp>:<body>` with the app's signing secret, and Bolt refuses a request
whose timestamp is more than five minutes old, so a run's requests are built and signed just
before it starts: each `/storm event` carries a new event name, each reaction a new
`event_id` on a message of its own, byte for byte as Slack sends them
(`bot.sandbox.slack_requests`). They are written one per line for `bench/slack.lua`, which wrk
replays over keep-alive connections from a separate process; `bench/pyload.py` replays the
same file when wrk is missing (quick mode only).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from bot.sandbox.slack_requests import SlackRequests, compute_signature, new_event_ts

HERE = Path(__file__).resolve().parent
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
INSTALL_WRK = (
    "wrk is not installed. Install it with `apt-get update && apt-get install -y wrk` "
    "(Debian/Ubuntu) or `brew install wrk` (macOS), or run the quick mode, which falls back "
    "to a small Python load generator: `python -m bench --quick`."
)
_NOUNS = ("Order", "Parcel", "Invoice", "Refund", "Basket", "Ticket", "Voucher", "Payment")
_VERBS = ("Placed", "Shipped", "Sent", "Approved", "Cancelled", "Received", "Booked", "Closed")
_LETTERS = "bcdfghjklmnpqrstvwxz"


@dataclass(frozen=True)
class LoadResult:
    """What the load generator saw in one run."""

    requests: int
    duration_s: float
    ok: int
    wrong: int
    repeats: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def failed(self) -> int:
        """Socket errors, non-200 answers and 200s that did not say what was expected."""
        return self.errors + self.wrong


def wrk_path() -> str | None:
    return shutil.which("wrk")


class Requests:
    """Builds Slack's request bodies for one team, as `SlackRequests` does in the tests."""

    def __init__(self, signing_secret: str, team_id: str, seed: int = 1) -> None:
        self._slack = SlackRequests("http://127.0.0.1:9/", signing_secret, team_id=team_id)
        self._secret = signing_secret
        self._rng = random.Random(seed)
        self._made = 0

    def event_name(self) -> str:
        """A new, past-tense event name, unlike the others (so capture's naming hints stay
        rare, as in a real workshop)."""
        self._made += 1
        word = "".join(self._rng.choice(_LETTERS) for _ in range(7)).capitalize()
        return f"{self._rng.choice(_NOUNS)} {word}{self._made} {self._rng.choice(_VERBS)}"

    def commands(self, channel: str, users: list[str], count: int) -> list[bytes]:
        """`/storm event <name>` as Slack posts it (form-encoded), one new name each."""
        bodies = []
        for n in range(count):
            fields = self._slack.command_payload(
                f"event {self.event_name()}", user=users[n % len(users)], channel=channel
            )
            bodies.append(urllib.parse.urlencode(fields).encode())
        return bodies

    def reactions(
        self, channel: str, users: list[str], messages: list[tuple[str, str]], tag: str
    ) -> list[bytes]:
        """`reaction_added` :zap: envelopes (JSON), one per message (ts, author), each with its
        own `event_id`."""
        bodies = []
        for n, (ts, author) in enumerate(messages):
            event = {
                "type": "reaction_added",
                "user": users[(n + 1) % len(users)],
                "reaction": "zap",
                "item_user": author,
                "item": {"type": "message", "channel": channel, "ts": ts},
                "event_ts": new_event_ts(),
            }
            envelope = self._slack.envelope(event, event_id=f"Ev{tag}{n:07d}")
            bodies.append(json.dumps(envelope).encode())
        return bodies

    def write_signed(self, bodies: list[bytes], path: Path) -> None:
        """Sign with a fresh timestamp and write `<ts>\\t<signature>\\t<body>` lines."""
        timestamp = str(int(time.time()))
        with path.open("wb") as out:
            for body in bodies:
                signature = compute_signature(self._secret, timestamp, body)
                out.write(f"{timestamp}\t{signature}\t".encode() + body + b"\n")


def run(
    tool: str,
    url: str,
    bodies: Path,
    *,
    connections: int,
    seconds: float,
    content_type: str,
    expect: str,
    shared_with: tuple[str, ...] = (),
) -> LoadResult:
    """One run of the load generator (`wrk` or `python`) against `url`, or against `url` and
    the servers `shared_with` together (the same path on each): the connections are split
    evenly between them and the figures are of all requests together."""
    urls = [url, *shared_with]
    env = {
        **os.environ,
        "BENCH_BODIES": str(bodies),
        "BENCH_CONTENT_TYPE": content_type,
        "BENCH_EXPECT": expect,
        "BENCH_THREADS": str(len(urls)),  # wrk: one thread per server
        "BENCH_PATH": urllib.parse.urlsplit(url).path,
    }
    if shared_with:
        env["BENCH_TARGETS"] = ",".join(urllib.parse.urlsplit(u).netloc for u in urls)
    if tool == "wrk":
        wrk = wrk_path()
        if wrk is None:
            raise RuntimeError(INSTALL_WRK)
        argv = [
            wrk,
            f"-t{len(urls)}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(HERE / "slack.lua"),
            url,
        ]
    else:
        argv = [sys.executable, "-m", "bench.pyload", ",".join(urls), str(bodies)]
        argv.append(str(connections))
        argv.append(str(seconds))
        env["PYTHONPATH"] = str(HERE.parent)
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=seconds + 120, check=False
    )
    line = next(
        (x for x in done.stdout.splitlines() if x.startswith("BENCH_RESULT ")),
        None,
    )
    if line is None:
        raise RuntimeError(
            f"{tool} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    raw = json.loads(line.removeprefix("BENCH_RESULT "))
    return LoadResult(
        requests=int(raw["requests"]),
        duration_s=float(raw["duration_s"]),
        ok=int(raw["ok"]),
        wrong=int(raw["wrong"]),
        repeats=int(raw["repeats"]),
        errors=sum(int(raw[k]) for k in ("connect", "read", "write", "status", "timeout")),
        p50_ms=float(raw["p50_ms"]),
        p90_ms=float(raw["p90_ms"]),
        p99_ms=float(raw["p99_ms"]),
        max_ms=float(raw["max_ms"]),
    )

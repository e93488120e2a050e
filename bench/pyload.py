"""A small load generator in Python, for when `wrk` is not installed (quick mode only).

It replays the same pre-signed request file as `bench/slack.lua`, over keep-alive
connections, one thread per connection, and prints the same `BENCH_RESULT {json}` line. It is
much slower than wrk (the GIL caps it near a thousand requests per second on this kind of
machine), so its figures are a smoke test, not a measurement; the benchmark says so when it
uses it. Run as a separate process: `python -m bench.pyload URL FILE CONNECTIONS SECONDS`;
URL may be several, comma-separated (servers sharing the load: connection n goes to the n-th,
round robin), as `bench/slack.lua` spreads wrk's threads.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    wrong: int = 0
    status: int = 0
    errors: int = 0


def _percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    rank = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[rank]


def run(
    urls: list[str], lines: list[tuple[str, str, bytes]], connections: int, seconds: float
) -> dict:
    """Send the requests from `connections` threads for `seconds`, spread over `urls`; the
    figures wrk reports."""
    targets = [urllib.parse.urlsplit(url) for url in urls]
    content_type = os.environ.get("BENCH_CONTENT_TYPE", "application/x-www-form-urlencoded")
    expect = os.environ.get("BENCH_EXPECT", "").encode()
    counter = itertools.count()
    repeats = 0
    deadline = time.monotonic() + seconds
    tallies = [_Tally() for _ in range(connections)]

    def worker(tally: _Tally, parts: urllib.parse.SplitResult) -> None:
        nonlocal repeats
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.monotonic() < deadline:
            n = next(counter)
            if n >= len(lines) and n % len(lines) == 0:
                repeats += 1
            ts, sig, body = lines[n % len(lines)]
            headers = {
                "Content-Type": content_type,
                "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": sig,
            }
            started = time.perf_counter()
            try:
                conn.request("POST", parts.path or "/", body=body, headers=headers)
                reply = conn.getresponse()
                answer = reply.read()
            except (OSError, http.client.HTTPException):
                tally.errors += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                continue
            tally.latencies.append(time.perf_counter() - started)
            if reply.status != 200:
                tally.status += 1
            elif expect and expect not in answer:
                tally.wrong += 1
            else:
                tally.ok += 1
        conn.close()

    started = time.monotonic()
    threads = [
        threading.Thread(target=worker, args=(t, targets[n % len(targets)]), daemon=True)
        for n, t in enumerate(tallies)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 15)
    elapsed = time.monotonic() - started
    latencies = sorted(v for t in tallies for v in t.latencies)
    return {
        "requests": len(latencies),
        "duration_s": elapsed,
        "ok": sum(t.ok for t in tallies),
        "wrong": sum(t.wrong for t in tallies),
        "repeats": repeats,
        "connect": 0,
        "read": sum(t.errors for t in tallies),
        "write": 0,
        "status": sum(t.status for t in tallies),
        "timeout": 0,
        "p50_ms": _percentile(latencies, 50) * 1000,
        "p90_ms": _percentile(latencies, 90) * 1000,
        "p99_ms": _percentile(latencies, 99) * 1000,
        "max_ms": (latencies[-1] if latencies else 0.0) * 1000,
    }


def read_lines(path: str) -> list[tuple[str, str, bytes]]:
    lines = []
    with open(path, "rb") as handle:
        for raw in handle:
            ts, sig, body = raw.rstrip(b"\n").split(b"\t", 2)
            lines.append((ts.decode(), sig.decode(), body))
    return lines


def main(argv: list[str]) -> int:
    url, path, connections, seconds = argv
    result = run(url.split(","), read_lines(path), int(connections), float(seconds))
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

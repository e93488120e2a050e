"""Clicks and forms under load: how fast Storm acknowledges a Vote click and a form
submission, and how soon after a menu click it opens the form (`views.open`).

Storm runs as in production (`python -m bot serve`, `WEB_CONCURRENCY` web workers and the
background worker, SQLite), against the benchmark's fake Slack in this process. A small
threaded client here sends correctly signed `block_actions` and `view_submission` requests,
each timed from just before it is sent to its answer, at 1 and 10 at a time. Every request's
body is built before its run starts, as wrk's are in the request part: Slack's own work is
not on this machine, and a client building payloads while requests are in flight would take
the CPU they are measured on. Each click's `trigger_id` is minted by the fake just before the
click is sent (put into its body in place of `TRIGGER_SLOT`), and the fake notes when
`views.open` arrives with it, so the delay is the one a person waits for the form. Slack
gives an app 3 s to ack, and a `trigger_id` expires 3 s after the click.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.fake import BenchSlack
from bench.serving import Served
from bot.sandbox.blockkit import action_payload, find_choice
from bot.sandbox.fake_slack import Call
from bot.sandbox.slack_requests import SlackRequests, compute_signature, new_event_ts

SIGNING_SECRET = "bench-signing-secret-0123456789"
BOT_TOKEN = "xoxb-bench-bot-token"
TEAM = "T0001"
CHANNEL = "CCLICKS"
USERS = [f"U{n}" for n in range(2000, 2040)]
ELEMENTS = 40
# Stands for a click's trigger id in a body built ahead; URL-safe, so it is the same encoded.
TRIGGER_SLOT = "trigger-minted-when-sent"


@dataclass(frozen=True)
class Timings:
    """One kind of request at one concurrency: ack latencies (ms), and for menu clicks the
    delay until `views.open` (ms)."""

    kind: str
    connections: int
    acks: list[float]
    errors: int
    opened: list[float]
    not_opened: int


def _votes(message: Any) -> int:
    """How many Vote buttons a message carries: one per element on it."""
    return sum(
        element.get("action_id") == "storm.vote"
        for block in message.blocks or []
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    )


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class _Client:
    """One keep-alive connection that posts signed interactivity payloads, as Slack does."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def post(self, body: bytes) -> tuple[int, float]:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": compute_signature(SIGNING_SECRET, timestamp, body),
        }
        started = time.perf_counter()
        try:
            self._connection.request("POST", "/slack/events", body, headers)
            response = self._connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            self._connection.close()
            self._connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=10)
            status = 0
        return status, (time.perf_counter() - started) * 1000


class ClickBench:
    """Storm served beside the fake Slack, with one workshop whose elements have messages."""

    def __init__(self, work: Path, workers: int) -> None:
        self.fake = BenchSlack(BOT_TOKEN, team_id=TEAM)
        for user in USERS:
            self.fake.add_user(user, user.lower())
        self.work = work
        self.workers = workers
        self.storm: Served | None = None
        self.slack: SlackRequests | None = None
        self._opened: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextmanager
    def running(self) -> Iterator[ClickBench]:
        self.fake.start()
        self.fake.subscribe(self._note_views_open)
        self.storm = Served(
            "storm",
            "bot",
            {
                "WEB_CONCURRENCY": str(self.workers),
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": self.fake.api_url,
                "DATABASE_URL": f"sqlite:///{self.work / 'clicks.db'}",
            },
            self.workers,
            self.work / "clicks.log",
            "/healthz",
        ).start()
        self.slack = SlackRequests(
            self.storm.base_url, SIGNING_SECRET, team_id=TEAM, fake=self.fake
        )
        try:
            self._seed()
            yield self
        finally:
            self.storm.stop()
            self.fake.stop()

    def _note_views_open(self, call: Call) -> None:
        if call.method == "views.open":
            with self._lock:
                self._opened[str(call.params.get("trigger_id"))] = time.perf_counter()

    def _seed(self) -> None:
        assert self.slack is not None
        self.fake.set_channel_members(CHANNEL, [*USERS, self.fake.bot_user_id])
        self.slack.command("start Clicks", user=USERS[0], channel=CHANNEL)
        names = "; ".join(f"Thing {n} happened" for n in range(1, ELEMENTS + 1))
        self.slack.command(f"event {names}", user=USERS[0], channel=CHANNEL)
        self.fake.wait_for(lambda f: len(self.elements()) >= ELEMENTS, timeout=120)

    def elements(self) -> list[tuple[Any, int]]:
        """Each element's place: its message, and which of the message's Vote buttons is its
        own (the first, unless elements captured together share the message)."""
        return [
            (m, which)
            for m in self.fake.messages(CHANNEL)
            if (m.metadata or {}).get("event_payload")
            for which in range(1, _votes(m) + 1)
        ]

    # -- what is sent -----------------------------------------------------------------------

    def _click(self, n: int, label: str, elements: list[tuple[Any, int]]) -> dict[str, Any]:
        assert self.slack is not None
        message, which = elements[n % len(elements)]
        choice = find_choice(message.blocks or [], label, which=which)
        return self.slack.block_actions_payload(
            [action_payload(choice, new_event_ts())],
            user=USERS[(n // len(elements)) % len(USERS)],
            channel=CHANNEL,
            message_ts=message.ts,
            trigger_id=TRIGGER_SLOT,
            response_url="http://127.0.0.1:9/unused",
        )

    def _submission(self, n: int, _elements: list[tuple[Any, int]]) -> dict[str, Any]:
        """A submitted Rename… form, as Slack sends it after the person typed a name."""
        assert self.slack is not None
        element = f"E{n % ELEMENTS + 1}"
        view = {
            "id": f"VBENCH{n}",
            "type": "modal",
            "callback_id": "storm.rename",
            "private_metadata": json.dumps({"w": 1, "c": CHANNEL, "e": element}),
            "hash": "1",
            "blocks": [],
            "state": {
                "values": {
                    "name": {"value": {"type": "plain_text_input", "value": f"Thing {n} done"}}
                }
            },
        }
        payload = self.slack.view_submission_payload(view, user=USERS[n % len(USERS)])
        payload["view"]["state"] = view["state"]
        payload["trigger_id"] = TRIGGER_SLOT
        return payload

    # -- one measured run -------------------------------------------------------------------

    def measure(self, kind: str, connections: int, count: int) -> Timings:
        assert self.storm is not None
        makers: dict[str, Callable[[int, list[tuple[Any, int]]], dict[str, Any]]] = {
            "vote click": lambda n, elements: self._click(n, "Vote", elements),
            "form submission": self._submission,
            "menu click (opens a form)": lambda n, elements: self._click(n, "Rename…", elements),
        }
        make, elements = makers[kind], self.elements()
        bodies = []
        for n in range(count):
            payload = make(n, elements)
            encoded = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
            bodies.append((encoded, payload["user"]["id"]))
        acks: list[float] = []
        opened: list[float] = []
        errors = not_opened = 0
        lock = threading.Lock()
        port = self.storm.port
        slot = TRIGGER_SLOT.encode()

        def worker(indices: list[int]) -> None:
            nonlocal errors, not_opened
            client = _Client(port)
            for n in indices:
                body, user = bodies[n]
                trigger = self.fake.new_trigger(user)  # minted as the person clicks
                sent = time.perf_counter()
                status, elapsed = client.post(body.replace(slot, trigger.encode()))
                with lock:
                    acks.append(elapsed)
                    errors += status != 200
                if kind.startswith("menu"):
                    deadline = time.monotonic() + 3
                    while time.monotonic() < deadline:
                        with self._lock:
                            at = self._opened.pop(trigger, None)
                        if at is not None:
                            with lock:
                                opened.append((at - sent) * 1000)
                            break
                        time.sleep(0.001)
                    else:
                        with lock:
                            not_opened += 1

        shares = [list(range(start, count, connections)) for start in range(connections)]
        with ThreadPoolExecutor(max_workers=connections) as pool:
            list(pool.map(worker, shares))
        return Timings(kind, connections, acks, errors, opened, not_opened)


KINDS = ("vote click", "form submission", "menu click (opens a form)")


def run(
    work: Path, *, workers: int, connections: list[int], count: int, rounds: int
) -> list[list[Timings]]:
    """Every kind at every concurrency, `rounds` times; each round's timings."""
    bench = ClickBench(work, workers)
    found: list[list[Timings]] = []
    with bench.running():
        for _ in range(rounds):
            found.append([bench.measure(kind, c, count) for kind in KINDS for c in connections])
    return found


def section(rounds: list[list[Timings]]) -> list[str]:
    """The report's lines: medians over rounds of each run's p50 and p99."""
    lines = [
        "request                      conns   ack p50 ms   ack p99 ms  errors"
        "   views.open after click p50/p99 ms"
    ]
    for index, first in enumerate(rounds[0]):
        runs = [r[index] for r in rounds]
        p50 = _median([percentile(r.acks, 50) for r in runs])
        p99 = _median([percentile(r.acks, 99) for r in runs])
        errors = sum(r.errors for r in runs)
        opened = ""
        if first.kind.startswith("menu"):
            o50 = _median([percentile(r.opened, 50) for r in runs])
            o99 = _median([percentile(r.opened, 99) for r in runs])
            missing = sum(r.not_opened for r in runs)
            opened = f"{o50:8.1f} / {o99:.1f}" + (f" ({missing} never opened)" if missing else "")
        lines.append(
            f"{first.kind:<28} {first.connections:>5} {p50:>12.1f} {p99:>12.1f} {errors:>7}   {opened}"
        )
    return lines


def worst(rounds: list[list[Timings]]) -> tuple[float, float, int]:
    """The goals' figures: the largest median ack p99 of any kind and concurrency, the
    largest median views.open p99, and how many forms never opened."""
    ack = opened = 0.0
    missing = 0
    for index, first in enumerate(rounds[0]):
        runs = [r[index] for r in rounds]
        ack = max(ack, _median([percentile(r.acks, 99) for r in runs]))
        if first.kind.startswith("menu"):
            opened = max(opened, _median([percentile(r.opened, 99) for r in runs]))
            missing += sum(r.not_opened for r in runs)
    return ack, opened, missing


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2

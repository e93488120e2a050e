"""SQL statements per request, at two workshop sizes: they must not grow with the workshop.

Storm runs in this process (as `tests/support/running.py` runs it: `build_app`, served over
real HTTP on loopback by a threading WSGI server), against the fake Slack, with SQLite's own
trace callback on every connection of its engine (it sees the statements capture runs on the
driver's cursor, which SQLAlchemy's events do not, and BEGIN and COMMIT too). Statements are split by thread: those run on
the request's own thread before it is answered (the acknowledgement path), and those run
after, by the outbox, the scheduler and Bolt's lazy listeners (posting, reading the reacted-to
message). A request is over when Storm has run no statement for a while and has nothing due.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from sqlalchemy import create_engine, event, text

from bench import model
from bench.fake import BenchSlack
from bot.runtime.app import build_app
from bot.runtime.settings import Settings
from bot.sandbox.slack_requests import Response, SlackRequests, new_event_id, new_event_ts

BOT_TOKEN = "xoxb-bench-bot-token"
SIGNING_SECRET = "bench-signing-secret-0123456789"
TEAM = "T0001"
_names = itertools.count(1)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log: the figures are the output."""


@dataclass
class Counted:
    """Statements of one request: on the acknowledgement path, and after it."""

    ack: Counter[str] = field(default_factory=Counter)
    after: Counter[str] = field(default_factory=Counter)

    def total(self, which: str) -> int:
        return sum(getattr(self, which).values())


@dataclass
class ActionResult:
    """One kind of request at one size: statement counts per repetition, and timings."""

    ack: list[int]
    after: list[int]
    kinds: Counter[str]
    ack_ms: list[float]
    settle_ms: list[float]


class _Counter:
    """Counts Storm's statements by the thread that ran them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current = Counted()
        self.last_at = time.monotonic()

    def traced(self, dbapi_connection: Any, _record: Any) -> None:
        """Count every statement this new connection runs."""
        dbapi_connection.set_trace_callback(self)

    def __call__(self, statement: str) -> None:
        word = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
        on_request = "process_request_thread" in threading.current_thread().name
        with self._lock:
            (self.current.ack if on_request else self.current.after)[word] += 1
            self.last_at = time.monotonic()

    def take(self) -> Counted:
        with self._lock:
            taken, self.current = self.current, Counted()
            return taken


def run(sizes: list[int], workdir: Path, *, repetitions: int = 3) -> dict[str, dict[int, Any]]:
    """Count statements per action (event, reaction, report, status) at each size."""
    url = f"sqlite:///{workdir / 'sqlcount.db'}"
    fake = BenchSlack(BOT_TOKEN, team_id=TEAM).start()
    for person in model.PEOPLE:
        fake.add_user(person, f"person{person[1:]}")
    storm = build_app(
        Settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=fake.api_url,
            database_url=url,
        )
    )
    for size in sizes:
        model.seed(storm.engine, model.plan(size), team_id=TEAM, channel_id=f"CSQL{size}")
    counter = _Counter()
    event.listen(storm.engine, "connect", counter.traced)
    storm.engine.dispose()  # connections opened before the listener would go uncounted
    probe = create_engine(url)  # for waiting; its statements are not Storm's
    storm.start()
    server = make_server("127.0.0.1", 0, storm.wsgi(), server_class=_Server, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    slack = SlackRequests(f"http://127.0.0.1:{server.server_port}/", SIGNING_SECRET, team_id=TEAM)
    results: dict[str, dict[int, Any]] = {}
    try:
        _settle(storm, probe, counter)
        counter.take()
        for size in sizes:
            channel = f"CSQL{size}"
            fake.set_channel_members(channel, [*model.PEOPLE, fake.bot_user_id])
            for name, action in _actions(slack, fake, channel).items():
                results.setdefault(name, {})[size] = _measure(
                    action, storm, probe, counter, repetitions
                )
    finally:
        server.shutdown()
        server.server_close()
        storm.stop()
        probe.dispose()
        fake.stop()
    return results


def _actions(
    slack: SlackRequests, fake: BenchSlack, channel: str
) -> dict[str, Callable[[], Response]]:
    def event_command() -> Response:
        return slack.command(
            f"event Parcel Bench{next(_names)} Shipped", user="U002", channel=channel
        )

    def reaction() -> Response:
        message = fake.post_user_message(channel, "U003", f"Invoice Bench{next(_names)} Sent")
        body = {
            "type": "reaction_added",
            "user": "U004",
            "reaction": "zap",
            "item_user": "U003",
            "item": {"type": "message", "channel": channel, "ts": message.ts},
            "event_ts": new_event_ts(),
        }
        return slack.event(body, event_id=new_event_id())

    return {
        "/storm event": event_command,
        ":zap: reaction": reaction,
        "/storm report": lambda: slack.command("report", user="U001", channel=channel),
        "/storm status": lambda: slack.command("status", user="U001", channel=channel),
    }


def _measure(
    action: Callable[[], Response], storm: Any, probe: Any, counter: _Counter, repetitions: int
) -> ActionResult:
    action()  # the first time fills caches (user names, Bolt's): not a steady state
    _settle(storm, probe, counter)
    counter.take()
    result = ActionResult([], [], Counter(), [], [])
    for _ in range(repetitions):
        started = time.monotonic()
        response = action()
        acked = time.monotonic()
        if response.status != 200:
            raise RuntimeError(f"Storm answered {response.status}: {response.body[:200]}")
        _settle(storm, probe, counter)
        counted = counter.take()
        result.ack.append(counted.total("ack"))
        result.after.append(counted.total("after"))
        result.kinds.update(counted.ack)
        result.kinds.update(counted.after)
        result.ack_ms.append((acked - started) * 1000)
        result.settle_ms.append((counter.last_at - started) * 1000)
    return result


def _settle(
    storm: Any, probe: Any, counter: _Counter, quiet: float = 0.4, timeout: float = 60
) -> None:
    """Wait until Storm has nothing due, nothing unapplied and ran no statement for `quiet`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if time.monotonic() - counter.last_at < quiet or not storm.outbox.idle():
            continue
        with probe.connect() as connection:
            busy = connection.execute(
                text(
                    "SELECT (SELECT count(*) FROM scheduled_post WHERE status = 'sending' OR "
                    "(status = 'pending' AND due_at <= :now)) + "
                    "(SELECT count(*) FROM slack_event WHERE processed_at IS NULL)"
                ),
                {"now": _now_text()},
            ).scalar()
        if not busy:
            return
    raise RuntimeError("Storm did not settle within a minute")


def _now_text() -> str:
    """Now, as SQLAlchemy stores a UTC timestamp in SQLite."""
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0

"""A crash storm: the real `stormbot serve`, several people at once, and SIGKILL at random.

Why a harness rather than a few restarts: the moments that can lose data are narrow (between a
commit and its answer, between claiming a post and sending it, between acknowledging a
reaction and applying it), and only many kills at random points under concurrent traffic reach
them. Every request's fate is recorded as its sender saw it (confirmed, answered otherwise,
cut off, never delivered), so that after the storm the model can be held to exactly what
people were told, no more and no less.

Choices are seeded (`STORM_CRASH_SEED`): each person's actions, the killer's timings and the
channel's messages come from their own `random.Random`, so a seed replays the same plan. What
the operating system's scheduling interleaves (which request a kill cuts off, which IDs exist
when someone votes) cannot be replayed, which is why the storm is long and its checks hold for
any interleaving.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from bot.core.model import element_key
from bot.sandbox.fake_slack import FakeSlack, Message
from bot.sandbox.slack_requests import Response, SlackRequests, new_event_id
from storage import repository as repo
from storage.db import make_engine
from storage.tables import Element, ScheduledPost, Vote
from storage.unit_of_work import unit_of_work
from tests.support import peek
from tests.support.running import CHANNEL, SIGNING_SECRET, ServeProcess, answer_text, text_of

SEED_ENV = "STORM_CRASH_SEED"
DEFAULT_SEED = 20_240_917
FACILITATOR = "U1"
FREEZE_MARGIN = timedelta(seconds=2)  # posts due this close to the freeze may be cancelled by it

# What a sender knows about one request.
CONFIRMED = "confirmed"  # HTTP 200 carrying the confirmation of exactly what was asked
ANSWERED = "answered"  # HTTP 200 with another answer (a refusal, an apology): nothing changed
CUT_OFF = "cut off"  # the connection died, or no 200: it may or may not have happened
UNDELIVERED = "undelivered"  # connection refused: the bot never saw it

# Scheduled posts a person reads in the channel, by the kind the outbox stores them as.
TIMELINE_KINDS = ("kickoff", "prompt", "half_time", "last_call", "deadline", "summary")
DIGEST_KINDS = ("digest", "plan_digest")  # one is always pending while digests are on
_POST_CLASSES = (
    (re.compile(r"^Workshop started: "), "kickoff"),
    (re.compile(r"^Step (\d) of 8: .* is open$"), "prompt"),
    (re.compile(r"^Half time: Step (\d) of 8"), "half_time"),
    (re.compile(r"^Last call: Step (\d) of 8"), "last_call"),
    (re.compile(r"^Time's up: Step (\d) of 8"), "deadline"),
    (re.compile(r"^Step (\d) closed: "), "summary"),
)
_ELEMENT_POST = re.compile(r"^([A-Z]\d+) ")
_LINKED_MESSAGES = "SELECT message_ts FROM element WHERE message_ts IS NOT NULL"
_NOUNS = ("Order", "Parcel", "Invoice", "Refund", "Basket", "Ticket", "Voucher", "Payment")
_VERBS = ("Placed", "Shipped", "Sent", "Approved", "Cancelled", "Received", "Booked", "Closed")


def seed_from_env() -> int:
    """The storm's seed: `STORM_CRASH_SEED` to replay a run, a fixed one otherwise."""
    return int(os.environ.get(SEED_ENV, DEFAULT_SEED))


@dataclass(frozen=True)
class StormPlan:
    """How hard to storm: the default fits CI (≥ 20 kills, about a minute on two cores)."""

    seed: int
    min_kills: int = 20
    min_seconds: float = 40.0
    max_seconds: float = 240.0  # a machine this slow fails the run: fewer kills than asked
    users: tuple[str, ...] = ("U1", "U2", "U3", "U4")
    uptime: tuple[float, float] = (0.2, 1.0)  # how long the bot serves before a kill
    startup_kill_every: int = 4  # every so many kills, one lands while the bot is starting
    timebox: str = "20s"  # every step's timebox, so reminders and deadlines fall in the storm
    zap_messages: int = 60  # people's messages in the channel that reactions turn into events


# ---- what was sent, and what the sender was told ---------------------------------------------


@dataclass
class Command:
    """One `/storm` line and its fate."""

    seq: int
    user: str
    kind: str  # event | vote | rename | hotspot
    line: str
    names: tuple[str, ...] = ()  # event names; a rename's new name; a hotspot's text
    target: str | None = None  # the element voted for, renamed, or a hotspot is on
    outcome: str = ""
    answer: str = ""
    created: tuple[str, ...] = ()  # IDs the confirmation named as new, in order


@dataclass
class Reaction:
    """One reaction, delivered (and redelivered, as Slack does) under one `event_id`."""

    user: str
    reaction: str  # zap | +1
    ts: str
    text: str  # the reacted-to message's text
    event_id: str = field(default_factory=new_event_id)
    tries: list[str] = field(default_factory=list)

    @property
    def acked(self) -> bool:
        return CONFIRMED in self.tries

    @property
    def reached(self) -> bool:
        """Whether any delivery may have reached the bot (only a refused connection did not)."""
        return any(t != UNDELIVERED for t in self.tries)


@dataclass
class Ledger:
    """Everything sent during the storm, shared by the people's threads."""

    commands: list[Command] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    known: dict[str, str] = field(default_factory=dict)  # confirmed event ID -> its author
    kills: int = 0
    startup_kills: int = 0
    restarts: int = 0
    start_seconds: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: int = 0

    def next_seq(self) -> int:
        with self.lock:
            self._seq += 1
            return self._seq


class StartupFailure(AssertionError):
    """The bot did not come back after a kill: the log says why."""


# ---- the process under test ------------------------------------------------------------------


class Bot:
    """`python -m bot serve` that can be killed at any moment and started again on its port."""

    def __init__(self, serve: ServeProcess) -> None:
        self.serve = serve

    @property
    def running(self) -> bool:
        return self.serve.process is not None and self.serve.process.poll() is None

    def spawn(self) -> None:
        """Start the process without waiting for it (so a kill can land during start-up)."""
        log = self.serve.log_path.open("ab")
        log.write(f"\n===== spawn at {datetime.now(UTC).isoformat()} =====\n".encode())
        log.flush()
        self.serve.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=self.serve.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def wait_healthy(self, timeout: float = 45.0) -> float:
        """Seconds until `/healthz` answers 200; a process that exits or hangs fails the run."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not self.running:
                raise StartupFailure(f"stormbot exited during start-up:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.serve.base_url + "healthz", timeout=2) as reply:
                    if reply.status == 200:
                        return time.monotonic() - started
            except (urllib.error.URLError, OSError, http.client.HTTPException):
                time.sleep(0.05)
        raise StartupFailure(f"stormbot not healthy after {timeout}s:\n{self.log_tail()}")

    def start(self) -> float:
        self.spawn()
        return self.wait_healthy()

    def kill(self) -> None:
        """SIGKILL the whole process group, and wait until no worker holds the port."""
        process = self.serve.process
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.01)

    def log_tail(self, lines: int = 60) -> str:
        text = self.serve.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def deliver(send: Callable[[], Response]) -> tuple[str, Response | None]:
    """Send one request; classify what the sender can know when it fails."""
    try:
        response = send()
    except urllib.error.URLError as error:
        if isinstance(error.reason, ConnectionRefusedError):
            return UNDELIVERED, None
        return CUT_OFF, None
    except (OSError, http.client.HTTPException):  # reset, remote disconnected, timeout
        return CUT_OFF, None
    if response.status != 200:
        return CUT_OFF, response
    return CONFIRMED, response


# ---- the people ------------------------------------------------------------------------------


class Person(threading.Thread):
    """One workshop participant: types commands and reacts, one thing at a time, as people do."""

    def __init__(self, storm: Storm, user: str) -> None:
        super().__init__(name=f"person-{user}", daemon=True)
        self.storm = storm
        self.user = user
        self.rng = random.Random(f"{storm.plan.seed}:{user}")
        self.slack = SlackRequests(storm.bot.serve.base_url, SIGNING_SECRET, timeout=20)
        self.counter = 0
        self.mine: list[str] = []  # confirmed events of mine, which I may rename
        self.retries: list[tuple[float, Reaction]] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.storm.stopping.is_set():
                self.act()
                time.sleep(self.rng.uniform(0.0, 0.05))
        except BaseException as error:  # reported by the test, with the seed
            self.error = error

    def unique(self) -> str:
        self.counter += 1
        return f"{self.user}x{self.counter}"

    def act(self) -> None:
        now = time.monotonic()
        due = [r for r in self.retries if r[0] <= now]
        if due:
            self.retries.remove(due[0])
            self.react(due[0][1])
            return
        with self.storm.ledger.lock:
            known = sorted(self.storm.ledger.known)
        choice = self.rng.choices(
            ("event", "vote", "rename", "hotspot", "zap", "+1"), weights=(4, 3, 2, 1, 2, 2)
        )[0]
        if choice == "vote" and known:
            key = self.rng.choice(known)
            self.command("vote", f"vote {key}", target=key)
        elif choice == "rename" and self.mine:
            key = self.rng.choice(self.mine)
            name = f"{self.rng.choice(_NOUNS)} {self.unique()} {self.rng.choice(_VERBS)}"
            self.command("rename", f"rename {key} {name}", names=(name,), target=key)
        elif choice == "hotspot" and known:
            key = self.rng.choice(known)
            text = f"Is {self.unique()} right?"
            self.command("hotspot", f"hotspot {text} on {key}", names=(text,), target=key)
        elif choice == "zap":
            message = self.rng.choice(self.storm.zap_messages)
            self.react(Reaction(self.user, "zap", message.ts, message.text))
        elif choice == "+1" and (posts := self.storm.element_posts()):
            message = self.rng.choice(posts)
            self.react(Reaction(self.user, "+1", message.ts, message.text))
        else:
            names = tuple(
                f"{self.rng.choice(_NOUNS)} {self.unique()} {self.rng.choice(_VERBS)}"
                for _ in range(self.rng.choice((1, 1, 2, 3)))
            )
            separator = self.rng.choice(("; ", "\n"))
            self.command("event", "event " + separator.join(names), names=names)

    def command(
        self, kind: str, line: str, *, names: tuple[str, ...] = (), target: str | None = None
    ) -> None:
        ledger = self.storm.ledger
        sent = Command(ledger.next_seq(), self.user, kind, line, names, target)
        with ledger.lock:
            ledger.commands.append(sent)
        outcome, response = deliver(lambda: self.slack.command(line, user=self.user))
        if outcome == CONFIRMED and response is not None:
            sent.answer = answer_text(response.json())
            created = confirmation(sent)
            outcome = ANSWERED if created is None else CONFIRMED
            sent.created = created or ()
        sent.outcome = outcome
        if outcome == UNDELIVERED:
            time.sleep(self.rng.uniform(0.1, 0.3))  # the bot is down: try again in a moment
        if outcome == CONFIRMED and kind == "event":
            self.mine.extend(sent.created)
            with ledger.lock:
                ledger.known.update(dict.fromkeys(sent.created, self.user))

    def react(self, reaction: Reaction) -> None:
        """Deliver a reaction event; when it is not acknowledged, redeliver it later, as Slack
        does (same `event_id`, `X-Slack-Retry-Num`), up to three times."""
        if not reaction.tries:
            with self.storm.ledger.lock:
                self.storm.ledger.reactions.append(reaction)
        outcome, _ = deliver(lambda: self.storm.send_reaction(self.slack, reaction))
        reaction.tries.append(outcome)
        if outcome != CONFIRMED and len(reaction.tries) <= 3:
            self.retries.append((time.monotonic() + self.rng.uniform(0.3, 1.5), reaction))
        if outcome == UNDELIVERED:
            time.sleep(self.rng.uniform(0.1, 0.3))

    def redeliver_all(self) -> None:
        """Slack's last redeliveries of what was not acknowledged, now that the bot is up."""
        pending = [reaction for _, reaction in sorted(self.retries, key=lambda r: r[0])]
        self.retries.clear()
        for reaction in pending:
            while not reaction.acked and len(reaction.tries) <= 3:
                self.react(reaction)
        self.retries.clear()


def confirmation(command: Command) -> tuple[str, ...] | None:
    """The IDs a confirmation names as created, () when it creates none; None when the answer
    is not the confirmation of exactly what was asked."""
    answer = command.answer
    if command.kind == "event":
        lines = answer.splitlines()
        count = len(command.names)
        if not lines or lines[0] != f"Added {count} event{'s' if count != 1 else ''}:":
            return None
        added = [m.groups() for line in lines[1:] if (m := re.match(r"^\*(E\d+)\* (.+)$", line))]
        if [name for _, name in added] != list(command.names):
            return None
        return tuple(key for key, _ in added)
    if command.kind == "vote":
        target = re.escape(command.target or "")
        if re.match(rf"^(Voted for|You already voted for) \*{target}\*", answer):
            return ()
        return None
    if command.kind == "rename":
        (name,) = command.names
        if answer.startswith(f"Renamed *{command.target}* from ") and f" to {name}." in answer:
            return ()
        return None
    (text,) = command.names
    found = re.match(
        rf"^Added hotspot \*(H\d+)\* {re.escape(text)} on \*{command.target}\*", answer
    )
    return (found.group(1),) if found else None


# ---- the storm -------------------------------------------------------------------------------


class Storm:
    """Runs people and a killer against the bot, then lets it settle for the verdict."""

    def __init__(self, plan: StormPlan, fake: FakeSlack, bot: Bot) -> None:
        self.plan = plan
        self.fake = fake
        self.bot = bot
        self.ledger = Ledger()
        self.stopping = threading.Event()
        self.zap_messages: list[Message] = []
        self.slack = SlackRequests(bot.serve.base_url, SIGNING_SECRET, timeout=30)
        self.seconds = 0.0
        self.database_url = bot.serve.env["DATABASE_URL"]

    def send_reaction(self, slack: SlackRequests, reaction: Reaction) -> Response:
        """A `reaction_added` delivery; redeliveries carry the same `event_id`."""
        message = self.fake.message(CHANNEL, reaction.ts)
        event = slack.reaction_event(
            "reaction_added",
            reaction.reaction,
            user=reaction.user,
            channel=CHANNEL,
            ts=reaction.ts,
            item_user=message.user if message else None,
        )
        retry = len(reaction.tries) or None
        return slack.event(event, event_id=reaction.event_id, retry_num=retry)

    def element_posts(self) -> list[Message]:
        """Storm's messages that carry an element's ID and that :+1: can vote on.

        Only those whose ts the bot has stored (read straight from the database, as a reader
        that takes no lock): a reaction on a message the bot cannot link yet is
        ignored by design of the link, not lost by a crash, and
        `test_a_vote_on_an_element_message_posted_just_before_a_kill_counts` covers the
        message whose ts a kill kept from ever being stored.
        """
        linked = {ts for (ts,) in peek.rows(self.database_url, _LINKED_MESSAGES)}
        return [
            m
            for m in self.fake.messages(CHANNEL)
            if m.user == self.fake.bot_user_id and _ELEMENT_POST.match(m.text) and m.ts in linked
        ]

    def run_facilitator(self, line: str, expect: str) -> str:
        """A facilitator's command while the bot is known to be up: it must be confirmed."""
        response = self.slack.command(line, user=FACILITATOR)
        assert response.status == 200, (line, response.status, response.body)
        answer = answer_text(response.json())
        assert expect in answer, (line, answer)
        return answer

    def set_up(self) -> None:
        """A workshop whose steps time out during the storm, advancing by themselves."""
        rng = random.Random(f"{self.plan.seed}:messages")
        for n in range(self.plan.zap_messages):
            author = rng.choice(self.plan.users)
            text = f"{rng.choice(_NOUNS)} said{n} {rng.choice(_VERBS)}"
            self.zap_messages.append(self.fake.post_user_message(CHANNEL, author, text))
        self.ledger.start_seconds.append(self.bot.start())
        self.run_facilitator("start Crash Storm", "started")
        self.run_facilitator(f"timebox all {self.plan.timebox}", "Timebox for every step")
        self.run_facilitator("auto on", "Auto-advance is on")

    def run(self) -> None:
        """People act while the killer kills; ends with the bot up after its last restart."""
        people = [Person(self, user) for user in self.plan.users]
        started = time.monotonic()
        for person in people:
            person.start()
        try:
            self._kill_loop(started)
        finally:
            self.stopping.set()
            for person in people:
                person.join(timeout=60)
            self.seconds = time.monotonic() - started
        for person in people:
            if person.error is not None:
                raise person.error
        if not self.bot.running:
            self.ledger.start_seconds.append(self.bot.start())
        for person in people:
            person.redeliver_all()

    def _kill_loop(self, started: float) -> None:
        plan, ledger, rng = self.plan, self.ledger, random.Random(f"{self.plan.seed}:killer")
        while True:
            elapsed = time.monotonic() - started
            if elapsed >= plan.max_seconds or (
                ledger.kills >= plan.min_kills and elapsed >= plan.min_seconds
            ):
                return
            time.sleep(rng.uniform(*plan.uptime))
            self.bot.kill()
            ledger.kills += 1
            if ledger.kills % plan.startup_kill_every == plan.startup_kill_every - 1:
                self.bot.spawn()
                time.sleep(rng.uniform(0.2, 1.0))
                if not self.bot.running:
                    raise StartupFailure(f"stormbot exited during start-up:\n{self.bot.log_tail()}")
                self.bot.kill()
                ledger.kills += 1
                ledger.startup_kills += 1
            ledger.start_seconds.append(self.bot.start())
            ledger.restarts += 1


# ---- the verdict ------------------------------------------------------------------------------


@dataclass
class Findings:
    """What went wrong, by category; empty lists mean the bot kept every promise."""

    lost: list[str] = field(default_factory=list)  # confirmed, then missing or changed
    half_done: list[str] = field(default_factory=list)
    phantom: list[str] = field(default_factory=list)  # applied though never (or twice) sent
    reused: list[str] = field(default_factory=list)  # one ID confirmed for two things
    double_posts: list[str] = field(default_factory=list)
    lost_posts: list[str] = field(default_factory=list)  # scheduled posts that never came
    lost_acked_reactions: list[str] = field(default_factory=list)
    odd_answers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # known at-most-once losses, for the record
    figures: dict[str, Any] = field(default_factory=dict)

    def failures(self) -> dict[str, list[str]]:
        return {
            name: items
            for name, items in (
                ("lost confirmed changes", self.lost),
                ("half-done changes", self.half_done),
                ("phantom or doubled changes", self.phantom),
                ("reused IDs", self.reused),
                ("double posts", self.double_posts),
                ("lost scheduled posts", self.lost_posts),
                (
                    "acknowledged reactions never applied "
                    "(bot/service/reactions.py ReactionInbox.process claims before applying)",
                    self.lost_acked_reactions,
                ),
                ("unexpected answers", self.odd_answers),
            )
            if items
        }


@dataclass
class Observed:
    """The end state: the JSON export, the database's own records, and what Slack received."""

    model: dict[str, Any]
    element_ts: dict[str, str | None]  # element ID -> the ts of its message, as stored
    voters: dict[str, set[str]]  # element ID -> who voted, as stored
    posts: list[dict[str, Any]]  # the outbox rows; "due" ones were owed before the freeze
    channel: list[Message]  # Storm's messages in the channel, threads included
    ephemerals: list[Message]
    log: str
    settle_seconds: float  # how long the bot took to catch up once the storm was over


def settle_and_observe(storm: Storm, timeout: float = 90.0) -> Observed:
    """Let the bot finish what it owes, freeze the timeline, then read the end state.

    What fell due during the storm is sent first (late, if the storm held it up); then every
    timebox is set to an hour, so that no deadline falls while the end state is read.
    """
    engine = make_engine(storm.bot.serve.env["DATABASE_URL"])
    try:
        started = time.monotonic()
        wait_settled(engine, timeout)
        settle_seconds = time.monotonic() - started
        frozen_at = datetime.now(UTC)
        storm.run_facilitator("timebox all 1h", "Timebox for every step")
        wait_settled(engine, timeout)
        before = len(storm.fake.files(CHANNEL))
        storm.run_facilitator("export json", "Exporting the model as json")
        storm.fake.wait_for(lambda f: len(f.files(CHANNEL)) > before, timeout=timeout)
        model = json.loads(storm.fake.files(CHANNEL)[-1].text)
        wait_settled(engine, timeout)
        with unit_of_work(engine) as session:
            elements = {e.id: e for e in session.exec(select(Element))}
            voters: dict[str, set[str]] = defaultdict(set)
            for vote in session.exec(select(Vote)):
                element = elements[vote.element_id]
                voters[element_key(element.kind, element.number)].add(vote.user_id)
            posts = [
                {
                    "kind": p.kind,
                    "step_number": p.step_number,
                    "due_at": p.due_at,
                    "status": p.status,
                    "due": p.due_at <= frozen_at - FREEZE_MARGIN,
                    "claimed_at": p.claimed_at,
                }
                for p in session.exec(select(ScheduledPost).order_by(col(ScheduledPost.id)))
            ]
    finally:
        engine.dispose()
    return Observed(
        model=model,
        element_ts={element_key(e.kind, e.number): e.message_ts for e in elements.values()},
        voters=dict(voters),
        posts=posts,
        channel=[m for m in storm.fake.messages(CHANNEL) if m.user == storm.fake.bot_user_id],
        ephemerals=storm.fake.ephemerals(CHANNEL),
        log=storm.bot.serve.log_path.read_text(errors="replace"),
        settle_seconds=settle_seconds,
    )


def wait_settled(engine: Engine, timeout: float) -> None:
    """Until no reaction waits to be applied and no post that is due waits to be sent, twice
    in a row (a post being sent right now is finished by the second look)."""
    deadline = time.monotonic() + timeout
    calm = 0
    while calm < 2:
        with unit_of_work(engine) as session:
            busy = repo.unprocessed_slack_events(session) or repo.due_posts(
                session, now=datetime.now(UTC), limit=1
            )
        calm = 0 if busy else calm + 1
        if time.monotonic() > deadline:
            raise AssertionError(f"the bot did not settle within {timeout}s: {busy}")
        time.sleep(0.5)


def classify_post(text: str) -> tuple[str, int | None] | None:
    """Which scheduled post a channel message is, from its text: (kind, step)."""
    if text.endswith(" (continued)"):
        return None
    for pattern, kind in _POST_CLASSES:
        found = pattern.match(text)
        if found:
            return kind, int(found.group(1)) if found.groups() else None
    return None


def verify(ledger: Ledger, observed: Observed) -> Findings:
    """Hold the end state to what each person was told."""
    found = Findings()
    _check_commands_and_zaps(ledger, observed, found)
    _check_votes(ledger, observed, found)
    _check_posts(observed, found)
    details = found.figures
    found.figures = {}
    _figures(ledger, observed, found)  # the headline figures first, then the details
    found.figures.update(details)
    return found


def _check_commands_and_zaps(ledger: Ledger, observed: Observed, found: Findings) -> None:
    events = {e["id"]: e for e in observed.model["events"]}
    hotspots = {h["id"]: h for h in observed.model["hotspots"]}
    for kind, items in (("event", observed.model["events"]), ("hotspot", hotspots.values())):
        ids = [item["id"] for item in items]
        if len(ids) != len(set(ids)):
            found.reused.append(f"{kind} IDs not unique in the export: {sorted(ids)}")
    by_name = Counter(e["name"] for e in events.values())
    by_text = Counter(h["text"] for h in hotspots.values())
    for name, count in by_name.items():
        if count > 1:
            found.phantom.append(f"event name {name!r} appears {count} times (applied twice?)")

    created_as: dict[str, set[str]] = defaultdict(set)  # ID -> names it was confirmed with
    renames: dict[str, list[Command]] = defaultdict(list)
    explained: set[str] = set()
    for command in sorted(ledger.commands, key=lambda c: c.seq):
        if command.outcome == ANSWERED:
            found.odd_answers.append(f"{command.user} /storm {command.line!r}: {command.answer}")
        if command.kind == "event":
            explained.update(command.names)
            present = [name for name in command.names if by_name[name]]
            if command.outcome == CONFIRMED:
                for key, name in zip(command.created, command.names, strict=True):
                    created_as[key].add(name)
            elif command.outcome == CUT_OFF:
                if present and len(present) != len(command.names):
                    found.half_done.append(
                        f"cut-off line {command.line!r} ({command.user}): only {present} exist"
                    )
            elif present:
                found.phantom.append(
                    f"{command.outcome} line {command.line!r} ({command.user}) applied: {present}"
                )
        elif command.kind == "rename" and command.target is not None:
            renames[command.target].append(command)
            explained.update(command.names)
        elif command.kind == "hotspot":
            _check_hotspot(command, hotspots, by_text, found)

    for reaction in ledger.reactions:
        if reaction.reaction == "zap":
            explained.add(reaction.text)
    for message in observed.ephemerals:
        text = text_of(message)
        added = re.match(r"^Added \*(E\d+)\* (.+?) from that message\.", text)
        if added:
            created_as[added.group(1)].add(added.group(2))

    for key, names in sorted(created_as.items()):
        if len(names) > 1:
            found.reused.append(f"{key} was confirmed as {sorted(names)}")
        (name,) = sorted(names)[:1]
        allowed = _allowed_names(name, renames.get(key, []))
        event = events.get(key)
        if event is None:
            found.lost.append(f"confirmed {key} {name!r} is not in the export")
        elif event["name"] not in allowed:
            found.lost.append(f"{key} is named {event['name']!r}; confirmed {sorted(allowed)}")

    for key, commands in renames.items():
        for command in commands:
            event = events.get(key)
            if (
                command.outcome in (UNDELIVERED, ANSWERED)
                and event
                and event["name"] in command.names
            ):
                found.phantom.append(f"{command.outcome} rename {command.line!r} was applied")
    for name in by_name:
        if name not in explained:
            found.phantom.append(f"event {name!r} was never sent by anyone")
    sent_texts = {c.names[0] for c in ledger.commands if c.kind == "hotspot"}
    for text in by_text:
        if text not in sent_texts:
            found.phantom.append(f"hotspot {text!r} was never sent by anyone")

    zapped: dict[str, list[Reaction]] = defaultdict(list)
    for reaction in ledger.reactions:
        if reaction.reaction == "zap":
            zapped[reaction.text].append(reaction)
    for text, reactions in zapped.items():
        if any(r.acked for r in reactions) and not by_name[text]:
            users = sorted({r.user for r in reactions if r.acked})
            found.lost_acked_reactions.append(
                f":zap: on {text!r} by {users} acknowledged, no event"
            )
        if by_name[text] and not any(r.reached for r in reactions):
            found.phantom.append(f"{text!r} became an event though no :zap: reached the bot")


def _allowed_names(created: str, renames: list[Command]) -> set[str]:
    """The names an element may have: its last confirmed name, or the name of a rename that
    was cut off after it (which may or may not have happened). One person renames their own
    events, one request at a time, so request order is commit order."""
    last, pending = created, set()
    for command in sorted(renames, key=lambda c: c.seq):
        if command.outcome == CONFIRMED:
            last, pending = command.names[0], set()
        elif command.outcome == CUT_OFF:
            pending.add(command.names[0])
    return {last} | pending


def _check_hotspot(
    command: Command, hotspots: dict[str, Any], by_text: Counter[str], found: Findings
) -> None:
    (text,) = command.names
    if by_text[text] > 1:
        found.phantom.append(f"hotspot {text!r} exists {by_text[text]} times")
    if command.outcome == CONFIRMED:
        (key,) = command.created
        hotspot = hotspots.get(key)
        if hotspot is None or hotspot["text"] != text or hotspot["on"] != command.target:
            found.lost.append(f"confirmed hotspot {key} {text!r} on {command.target}: {hotspot}")
    elif command.outcome in (UNDELIVERED, ANSWERED) and by_text[text]:
        found.phantom.append(f"{command.outcome} hotspot {command.line!r} was applied")


def _check_votes(ledger: Ledger, observed: Observed, found: Findings) -> None:
    """Per element: everyone told their vote counts is counted (a confirmed `/storm vote`, or
    an acknowledged :+1:); nobody else is, but those whose vote was cut off. The export's
    count is the number of distinct voters stored."""
    keys_of_ts: dict[str, list[str]] = defaultdict(list)
    for key, ts in observed.element_ts.items():
        if ts:
            keys_of_ts[ts].append(key)
    confirmed: dict[str, set[str]] = defaultdict(set)
    acked: dict[str, set[str]] = defaultdict(set)
    maybe: dict[str, set[str]] = defaultdict(set)
    unlinked: list[str] = []
    for command in ledger.commands:
        if command.kind == "vote" and command.target is not None:
            if command.outcome == CONFIRMED:
                confirmed[command.target].add(command.user)
            elif command.outcome == CUT_OFF:
                maybe[command.target].add(command.user)
    shared: list[str] = []
    for reaction in ledger.reactions:
        if reaction.reaction != "+1" or not reaction.reached:
            continue
        keys = keys_of_ts.get(reaction.ts, [])
        if len(keys) > 1:  # a message that elements share: the Vote buttons vote, not :+1:
            shared.append(f"{reaction.user} :+1: on {'/'.join(keys)}")
            continue
        key = keys[0] if keys else None
        if key is None:  # the element's message went out, but its ts was never stored
            if reaction.acked:
                unlinked.append(f"{reaction.user} :+1: on {reaction.text!r}")
            continue
        (acked if reaction.acked else maybe)[key].add(reaction.user)
    counts = {e["id"]: e["votes"] for e in observed.model["events"]}
    for key in sorted({*counts, *observed.voters, *confirmed, *acked, *maybe}):
        stored = observed.voters.get(key, set())
        if key in counts and counts[key] != len(stored):
            found.lost.append(f"{key}: export says {counts[key]} votes, stored {sorted(stored)}")
        if missing := confirmed[key] - stored:
            found.lost.append(f"{key}: confirmed votes of {sorted(missing)} not counted")
        if missing := acked[key] - stored - confirmed[key]:
            found.lost_acked_reactions.append(f"{key}: acknowledged :+1: of {sorted(missing)}")
        if extra := stored - confirmed[key] - acked[key] - maybe[key]:
            found.phantom.append(f"{key}: votes of {sorted(extra)} that nobody sent")
    if unlinked:
        found.notes.append(
            f"{len(unlinked)} acknowledged :+1: on element messages whose ts was never stored "
            f"(posted, then killed before recording it), so they count nothing: {unlinked[:5]}"
        )
    found.figures["unlinked +1"] = len(unlinked)
    if shared:
        found.notes.append(
            f"{len(shared)} :+1: on messages that several elements share, which vote for none "
            f"(SPEC §4.3): {shared[:5]}"
        )


def _check_posts(observed: Observed, found: Findings) -> None:
    """Each scheduled post at most once; each that fell due sent, unless moot."""
    seen: Counter[tuple[str, int | None]] = Counter()
    posted_at: dict[tuple[str, int | None], float] = {}
    elements: Counter[str] = Counter()
    advancing: list[int] = []
    for message in observed.channel:
        post = classify_post(message.text)
        if post is not None:
            seen[post] += 1
            posted_at[post] = float(message.ts)
            if post[0] == "deadline" and "moving to the next step" in text_of(message):
                advancing.append(post[1] or 0)
        elif (element := _ELEMENT_POST.match(message.text)) is not None:
            payload = (message.metadata or {}).get("event_payload") or {}
            elements.update(payload.get("elements") or [element.group(1)])
    for post, count in sorted(seen.items(), key=str):
        if count > 1:
            found.double_posts.append(f"{post} posted {count} times")
    for key, count in sorted(elements.items()):
        if count > 1:
            found.double_posts.append(f"element {key} posted {count} times")

    cut_short: Counter[str] = Counter()
    timeline: list[str] = []
    for row in observed.posts:
        if not row["due"]:
            continue
        if row["kind"] not in TIMELINE_KINDS:
            if row["status"] == "sending":
                cut_short[row["kind"]] += 1
            continue
        post = (row["kind"], row["step_number"] if row["kind"] != "kickoff" else None)
        timeline.append(_timeline_line(row, posted_at.get(post)))
        # A due post is cancelled only by the freeze, and only if the bot still owed it then.
        owed = ("sent", "sending", "pending", "failed", "cancelled")
        if row["status"] in owed and not seen[post]:
            found.lost_posts.append(
                f"{post} due {row['due_at']:%H:%M:%S} is {row['status']!r} and not in Slack"
            )
        elif row["status"] == "sending":
            cut_short["timeline (sent, not recorded)"] += 1
    if not any(r["kind"] in DIGEST_KINDS and r["status"] == "pending" for r in observed.posts):
        found.lost_posts.append(
            "no daily digest is scheduled any more: a digest or its planning was claimed, then "
            "killed before the next one was planned (Outbox._plan_digest runs after the claim)"
        )
    for step in advancing:
        if not seen[("prompt", step + 1)]:
            found.lost_posts.append(
                f"Time's up for step {step} said it was moving on, but step {step + 1} never "
                "opened (killed between the post and the advance; the claim is not retried)"
            )
    if cut_short:
        found.notes.append(
            "outbox posts claimed but cut short by a kill (sent at most once, by design): "
            + ", ".join(f"{kind} {n}" for kind, n in sorted(cut_short.items()))
        )
    found.figures["posts cut short"] = sum(cut_short.values())
    found.figures["scheduled posts due"] = timeline
    found.figures["scheduled posts in Slack"] = sum(seen.values())


def _timeline_line(row: dict[str, Any], posted_at: float | None) -> str:
    """`deadline1 sent: claimed 3.1s late, in Slack 0.05s after the claim`, for the figures."""
    line = f"{row['kind']}{row['step_number'] or ''} {row['status']}"
    claimed = row["claimed_at"]
    if claimed is not None:
        line += f": claimed {(claimed - row['due_at']).total_seconds():.1f}s late"
        if posted_at is not None:
            line += f", in Slack {posted_at - claimed.timestamp():.2f}s after the claim"
    return line


def _figures(ledger: Ledger, observed: Observed, found: Findings) -> None:
    outcomes = Counter(c.outcome for c in ledger.commands)
    tries = Counter(t for r in ledger.reactions for t in r.tries)
    log = observed.log
    found.figures.update(
        {
            "commands": len(ledger.commands),
            "commands confirmed": outcomes[CONFIRMED],
            "commands cut off": outcomes[CUT_OFF],
            "commands undelivered": outcomes[UNDELIVERED],
            "reactions": len(ledger.reactions),
            "reaction deliveries": sum(tries.values()),
            "reactions acked": sum(r.acked for r in ledger.reactions),
            "requests sent": len(ledger.commands) + sum(tries.values()),
            "kills": ledger.kills,
            "kills during start-up": ledger.startup_kills,
            "restarts": ledger.restarts,
            "slowest start (s)": round(max(ledger.start_seconds, default=0), 2),
            "seconds to catch up after the storm": round(observed.settle_seconds, 1),
            "events": len(observed.model["events"]),
            "hotspots": len(observed.model["hotspots"]),
            "votes": sum(e["votes"] for e in observed.model["events"]),
            "step at the end": observed.model["workshop"]["step"]["number"],
            "losses": len(found.lost),
            "half-done": len(found.half_done),
            "phantoms": len(found.phantom),
            "double posts": len(found.double_posts),
            "lost scheduled posts": len(found.lost_posts),
            "acked reactions lost": len(found.lost_acked_reactions),
            "log tracebacks": log.count("Traceback"),
            "log 'database is locked'": log.count("database is locked"),
        }
    )

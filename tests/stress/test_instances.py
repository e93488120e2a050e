"""Several instances on one database (SPEC §8): three real `stormbot serve` processes, requests
spread round-robin as a load balancer would, one instance SIGKILLed mid-burst and started
again.

600 requests from 20 people in 5 channels (captures, votes, :zap: and :+1: reactions, next and
extend), while every step's timebox runs out and the workshops advance by themselves. Then,
held to what each person was told and to what the channels show:

- every confirmed capture and vote, and every acknowledged reaction, is in the model;
- each workshop's element IDs run 1, 2, 3… per kind: none twice, none missing;
- every scheduled post recorded as sent (prompts, reminders, time's-up, summaries, digests)
  is in its channel exactly once, and none is there twice (each carries its post's id in
  its metadata);
- every element has exactly one message;
- every Slack event is applied once: each :zap:'d message became one event.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.core.model import element_key
from bot.sandbox.fake_slack import FakeSlack, Message
from bot.sandbox.slack_requests import Response, SlackRequests, new_event_id
from bot.service.reactions import ELEMENT_METADATA
from bot.slack.outbox import POST_METADATA
from storage import repository as repo
from storage.db import make_engine
from storage.tables import Element, ScheduledPost, SlackEvent, Vote, Workshop
from storage.unit_of_work import unit_of_work
from tests.stress.harness import CONFIRMED, CUT_OFF, UNDELIVERED, Bot, deliver
from tests.support.running import SIGNING_SECRET, answer_text, serve_process

INSTANCES = 3
CHANNELS = ("C1", "C2", "C3", "C4", "C5")
PEOPLE_PER_CHANNEL = 4
REQUESTS = 600
KILL_AFTER = 200  # requests sent before one instance is killed
LEASE_SECONDS = 10
SLOW_SLACK_SECONDS = 2.0
# Channel posts that stand for a scheduled post, and so carry its id in their metadata.
_CHANNEL_KINDS = ("kickoff", "prompt", "half_time", "last_call", "times_up", "summary", "digest")


@dataclass
class Sent:
    """One request as its sender saw it."""

    user: str
    channel: str
    kind: str
    line: str = ""
    outcome: str = ""
    answer: str = ""
    ts: str = ""  # a reaction's message
    event_id: str = ""


@dataclass
class Cluster:
    """The instances behind a round-robin balancer that skips one it cannot reach."""

    fake: FakeSlack
    bots: list[Bot]
    clients: list[SlackRequests] = field(default_factory=list)
    turn: Iterator[int] = field(default_factory=itertools.count)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.clients = [
            SlackRequests(b.serve.base_url, SIGNING_SECRET, timeout=30) for b in self.bots
        ]

    def send(self, request: str, **params: object) -> tuple[str, Response | None]:
        with self.lock:
            first = next(self.turn)
        outcome: tuple[str, Response | None] = (UNDELIVERED, None)
        for n in range(len(self.clients)):
            client = self.clients[(first + n) % len(self.clients)]
            outcome = deliver(lambda client=client: getattr(client, request)(**params))  # type: ignore[misc]
            if outcome[0] != UNDELIVERED:
                return outcome
        return outcome


@pytest.fixture
def cluster(fake_slack: FakeSlack, database_url: str, tmp_path: Path) -> Iterator[Cluster]:
    for c, channel in enumerate(CHANNELS):
        people = [f"U{c * PEOPLE_PER_CHANNEL + n + 1}" for n in range(PEOPLE_PER_CHANNEL)]
        for user in people:
            fake_slack.add_user(user, user.lower())
        fake_slack.set_channel_members(channel, [*people, fake_slack.bot_user_id])
    bots = []
    for n in range(INSTANCES):
        serve = serve_process(fake_slack, database_url, tmp_path / f"stormbot-{n}.log")
        serve.env.update({"WEB_CONCURRENCY": "1", "STORM_LEASE_SECONDS": str(LEASE_SECONDS)})
        bots.append(Bot(serve))
    try:
        for bot in bots:  # one at a time: each applies the migrations it finds missing
            bot.start()
        yield Cluster(fake_slack, bots)
    finally:
        for bot in bots:
            bot.kill()


def test_three_instances_one_killed_mid_burst_lose_nothing_and_post_everything_once(
    cluster: Cluster, database_url: str
) -> None:
    fake = cluster.fake
    zap_messages = {
        channel: [
            fake.post_user_message(channel, f"U{c * 4 + 2}", f"Order said{c}x{n} Placed")
            for n in range(8)
        ]
        for c, channel in enumerate(CHANNELS)
    }
    for c, channel in enumerate(CHANNELS):
        facilitator = f"U{c * PEOPLE_PER_CHANNEL + 1}"
        for line, expect in (
            (f"start Storm {channel}", "started"),
            ("timebox all 10s", "Timebox for every step"),
            ("auto on", "Auto-advance is on"),
            ("digest now", ""),
        ):
            outcome, response = cluster.send(
                "command", text=line, user=facilitator, channel=channel
            )
            assert outcome == CONFIRMED and response is not None
            assert expect in answer_text(response.json()), (line, answer_text(response.json()))

    ledger: list[Sent] = []
    ledger_lock = threading.Lock()
    count = itertools.count(1)
    killed = threading.Event()

    def person(user: str, channel: str, facilitator: bool, seed: int) -> None:
        rng = random.Random(seed)
        mine: list[str] = []
        for _ in range(REQUESTS // (len(CHANNELS) * PEOPLE_PER_CHANNEL)):
            n = next(count)
            if n == KILL_AFTER:
                killed.set()
            choice = rng.choices(
                ("event", "vote", "zap", "+1", "step"),
                weights=(5, 2, 2, 2, 1 if facilitator else 0),
            )[0]
            sent = Sent(user, channel, choice)
            if choice == "vote" and mine:
                sent.line = f"vote {rng.choice(mine)}"
            elif choice == "step":
                sent.line = rng.choice(("next", "extend 10s"))
            elif choice in ("zap", "+1"):
                targets = (
                    zap_messages[channel] if choice == "zap" else _element_messages(fake, channel)
                )
                if not targets:
                    sent.kind, sent.line = "event", f"event Thing {user}x{n} Happened"
                else:
                    sent.ts = rng.choice(targets).ts
            else:
                sent.kind, sent.line = "event", f"event Thing {user}x{n} Happened"
            if sent.kind == "vote" and not sent.line:
                sent.kind, sent.line = "event", f"event Thing {user}x{n} Happened"
            if sent.line:
                sent.outcome, response = cluster.send(
                    "command", text=sent.line, user=user, channel=channel
                )
                if response is not None and sent.outcome == CONFIRMED:
                    sent.answer = answer_text(response.json())
                    if sent.kind == "event" and sent.answer.startswith("Added 1 event:"):
                        mine.append(sent.answer.split("*")[1])
            else:
                sent.event_id = new_event_id()
                reaction = "zap" if sent.kind == "zap" else "+1"
                for attempt in range(4):  # Slack redelivers what was not acknowledged
                    event = cluster.clients[0].reaction_event(
                        "reaction_added",
                        reaction,
                        user=user,
                        channel=channel,
                        ts=sent.ts,
                        item_user=fake.bot_user_id if reaction == "+1" else None,
                    )
                    sent.outcome, _ = cluster.send(
                        "event", event=event, event_id=sent.event_id, retry_num=attempt or None
                    )
                    if sent.outcome == CONFIRMED:
                        break
                    time.sleep(0.5)
            with ledger_lock:
                ledger.append(sent)
            time.sleep(rng.uniform(0.0, 0.05))

    def killer() -> None:
        killed.wait(timeout=120)
        # Slack slows down, and the kill lands while the instance has a post on its way: the
        # post reaches the channel after the instance died, its sending unrecorded.
        fake.fail("chat.postMessage", delay=SLOW_SLACK_SECONDS, times=40)
        _wait_for_a_post_on_its_way(database_url, cluster.bots[1])
        time.sleep(SLOW_SLACK_SECONDS / 2)  # its request is with Slack now
        cluster.bots[1].kill()
        fake.clear_faults()
        time.sleep(1.0)
        cluster.bots[1].start()

    threads = [threading.Thread(target=killer, daemon=True)]
    for c, channel in enumerate(CHANNELS):
        for n in range(PEOPLE_PER_CHANNEL):
            user = f"U{c * PEOPLE_PER_CHANNEL + n + 1}"
            threads.append(
                threading.Thread(
                    target=person, args=(user, channel, n == 0, c * 10 + n), daemon=True
                )
            )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads)
    assert len(ledger) == REQUESTS
    assert killed.is_set()

    engine = make_engine(database_url)
    try:
        _timeboxes_run_out(engine)
        _settle(engine)
        _check(engine, fake, ledger)
    finally:
        engine.dispose()
    logs = "".join(bot.serve.log_path.read_text(errors="replace") for bot in cluster.bots)
    print(
        f"\n[instances] {logs.count('taking over')} posts taken over, "
        f"{logs.count('had gone out')} of them found in the channel"
    )


def _wait_for_a_post_on_its_way(database_url: str, bot: Bot, timeout: float = 20.0) -> None:
    """Until one of `bot`'s processes has claimed a post and not finished it."""
    assert bot.serve.process is not None
    group = bot.serve.process.pid
    engine = make_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with unit_of_work(engine, read_only=True) as session:
                claimants = session.exec(
                    select(ScheduledPost.claimed_by).where(ScheduledPost.status == "sending")
                ).all()
            for claimant in claimants:
                with contextlib.suppress(ProcessLookupError, ValueError, IndexError):
                    if os.getpgid(int(str(claimant).split(":")[1])) == group:
                        return
            time.sleep(0.02)
    finally:
        engine.dispose()


def _element_messages(fake: FakeSlack, channel: str) -> list[Message]:
    return [
        m
        for m in fake.messages(channel)
        if (m.metadata or {}).get("event_type") == ELEMENT_METADATA
    ]


def _timeboxes_run_out(engine: Engine, timeout: float = 45.0) -> None:
    """Until every workshop has had a time's-up and a summary, on whichever instances."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with unit_of_work(engine, read_only=True) as session:
            done = session.exec(
                select(ScheduledPost.workshop_id, ScheduledPost.kind).where(
                    ScheduledPost.status == "sent",
                    col(ScheduledPost.kind).in_(("times_up", "summary")),
                )
            ).all()
        if len(set(done)) == 2 * len(CHANNELS):
            return
        time.sleep(0.5)
    raise AssertionError(f"timeboxes did not run out in every workshop: {sorted(set(done))}")


def _settle(engine: Engine, timeout: float = 60.0) -> None:
    """Until every event is applied and nothing due is left unsent (the killed instance's
    claims too, once their lease has run out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with unit_of_work(engine, read_only=True) as session:
            events = session.exec(
                select(SlackEvent).where(col(SlackEvent.processed_at).is_(None))
            ).all()
            due = repo.due_posts(session, now=datetime.now(UTC))
            sending = session.exec(
                select(ScheduledPost).where(ScheduledPost.status == "sending")
            ).all()
        if not events and not due and not sending:
            return
        time.sleep(0.5)
    raise AssertionError(
        f"not settled: {len(events)} events, {len(due)} due, {len(sending)} sending"
    )


def _check(engine: Engine, fake: FakeSlack, ledger: list[Sent]) -> None:
    with unit_of_work(engine, read_only=True) as session:
        workshops = {w.channel_id: w for w in session.exec(select(Workshop)).all()}
        elements = session.exec(select(Element)).all()
        votes = {(v.element_id, v.user_id) for v in session.exec(select(Vote)).all()}
        sent_posts = session.exec(
            select(ScheduledPost).where(
                ScheduledPost.status == "sent", col(ScheduledPost.kind).in_(_CHANNEL_KINDS)
            )
        ).all()
        failed = session.exec(select(ScheduledPost).where(ScheduledPost.status == "failed")).all()
        element_posts = {
            post.payload["element_id"]: post
            for post in session.exec(select(ScheduledPost).where(ScheduledPost.kind == "element"))
        }
    messages = {channel: fake.messages(channel) for channel in CHANNELS}
    by_key = {(e.workshop_id, element_key(e.kind, e.number)): e for e in elements}

    # Nothing acknowledged is lost.
    lost = []
    for sent in ledger:
        workshop = workshops[sent.channel]
        if sent.outcome != CONFIRMED:
            continue
        if sent.kind == "event" and sent.answer.startswith("Added 1 event:"):
            key = sent.answer.split("*")[1]
            element = by_key.get((workshop.id, key))
            if element is None or element.name not in sent.line:
                lost.append(f"{sent.user}: {sent.line} -> {key}")
        elif sent.kind == "vote" and sent.answer.startswith(("Voted for", "You already voted")):
            key = sent.line.split()[1]
            element = by_key.get((workshop.id, key))
            if element is None or (element.id, sent.user) not in votes:
                lost.append(f"{sent.user}: {sent.line}")
        elif sent.kind == "zap":
            found = [e for e in elements if e.workshop_id == workshop.id and e.source_ts == sent.ts]
            if len(found) != 1:
                lost.append(f"{sent.user}: zap on {sent.ts} made {len(found)} events")
    assert lost == [], lost
    assert sum(s.outcome == CONFIRMED for s in ledger) > REQUESTS * 0.9
    assert not [s for s in ledger if s.outcome == CUT_OFF and s.kind in ("zap", "+1")]

    # IDs: per workshop and kind, 1..n, none twice, none missing.
    numbers: dict[tuple[int, str], list[int]] = {}
    for element in elements:
        numbers.setdefault((element.workshop_id, element.kind), []).append(element.number)
    for (workshop_id, kind), found in numbers.items():
        assert sorted(found) == list(range(1, len(found) + 1)), (workshop_id, kind, sorted(found))

    # Every scheduled post sent exactly once, none twice.
    named: Counter[int] = Counter()
    for channel_messages in messages.values():
        for message in channel_messages:
            metadata = message.metadata or {}
            if metadata.get("event_type") == POST_METADATA:
                named[int(metadata["event_payload"]["post"])] += 1
    assert [post_id for post_id, n in named.items() if n > 1] == []
    assert [(p.id, p.kind) for p in sent_posts if named[p.id or 0] != 1] == []
    kinds = Counter(p.kind for p in sent_posts)
    assert kinds["kickoff"] == len(CHANNELS) and kinds["digest"] >= len(CHANNELS)
    assert kinds["prompt"] > len(CHANNELS)
    assert kinds["times_up"] >= len(CHANNELS) and kinds["summary"] >= len(CHANNELS)
    assert kinds["half_time"] > 0
    assert failed == []

    # Every element has exactly one message.
    shown: Counter[tuple[int, str]] = Counter()
    for channel, channel_messages in messages.items():
        for message in channel_messages:
            metadata = message.metadata or {}
            if metadata.get("event_type") == ELEMENT_METADATA:
                payload = metadata["event_payload"]
                for key in payload.get("elements") or [payload["element"]]:
                    shown[(workshops[channel].id or 0, key)] += 1
    twice = [k for k, n in shown.items() if n > 1]
    assert twice == [], _messages_naming(messages, {key for _, key in twice})
    unshown = [k for k in by_key if shown[k] != 1]
    deleted = {m.ts for m in fake.deleted()}
    assert unshown == [], [
        (
            k,
            by_key[k].message_ts,
            "deleted" if by_key[k].message_ts in deleted else "",
            _post_state(element_posts.get(by_key[k].id)),
        )
        for k in unshown
    ]


def _messages_naming(messages: dict[str, list[Message]], keys: set[str]) -> list[str]:
    """The element messages that show any of `keys`, for a failure's message."""
    found = []
    for channel, channel_messages in messages.items():
        for message in channel_messages:
            payload = (message.metadata or {}).get("event_payload") or {}
            named = set(payload.get("elements") or [payload.get("element")])
            if named & keys:
                found.append(f"{channel} {message.ts} in {message.thread_ts}: {payload}")
    return found


def _post_state(post: ScheduledPost | None) -> str:
    """What became of a post, for a failure's message."""
    if post is None:
        return "no post"
    return f"post {post.id}: {post.status} {post.error} by {post.claimed_by}, {post.attempts} sends"

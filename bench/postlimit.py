"""Slack's post limit: how soon a burst of captures is all visible in the channel.

Slack lets about one message a second into a channel, after a short burst, and answers 429
with `Retry-After` beyond (SPEC §4.3, §9). Storm runs as in production (`python -m bot
serve`, `bench.serving.Served`) against the fake Slack Web API enforcing that limit
(`PostLimit`: one post a second per channel, bursts of four; posts and updates count). Each
round starts a workshop in a channel of its own and lets the channel's allowance fill up
again; then four people send ten `/storm event` each, every one as soon as their previous
one is answered, all four at once. The figure is the seconds from the last acknowledgement
until every one of the 40 events is in a message of the channel: a message's `ts` is when
the fake took it, on the wall clock this process reads too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.fake import BenchSlack
from bench.serving import Served
from bot.sandbox.fake_slack import Message, PostLimit
from bot.sandbox.slack_requests import SlackRequests

BOT_TOKEN = "xoxb-bench-bot-token"
SIGNING_SECRET = "bench-signing-secret-0123456789"
TEAM = "T0001"
PEOPLE = ("U2001", "U2002", "U2003", "U2004")
EACH = 10  # captures per person: 40 in all
LIMIT = PostLimit(per_second=1.0, burst=4)  # what Slack allows, as the fake enforces it
REFILL_S = LIMIT.burst / LIMIT.per_second  # a quiet channel's allowance is full again
VISIBLE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Round:
    """One burst of captures."""

    acks_s: float  # from the first capture sent until the last one was acknowledged
    visible_s: float  # from the last acknowledgement until all of them were visible
    messages: int  # element messages they took
    limited: int  # posts and updates the limit answered with 429 meanwhile
    missing: int  # events never visible (within the timeout)
    repeated: int  # events shown in more than one message


def run(rounds: int, workdir: Path, *, workers: int) -> list[Round]:
    """`rounds` bursts, each in a new workshop, against one Storm served as in production."""
    fake = BenchSlack(BOT_TOKEN, team_id=TEAM, post_limit=LIMIT).start()
    for person in PEOPLE:
        fake.add_user(person, f"person{person[1:]}")
    storm = Served(
        "storm",
        "bot",
        {
            "WEB_CONCURRENCY": str(workers),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": f"sqlite:///{workdir / 'postlimit.db'}",
        },
        workers,
        workdir / "postlimit.log",
        "/healthz",
    ).start()
    try:
        slack = SlackRequests(storm.base_url, SIGNING_SECRET, team_id=TEAM, fake=fake)
        return [_round(fake, slack, f"CPL{n}") for n in range(1, rounds + 1)]
    finally:
        storm.stop()
        fake.stop()


def _round(fake: BenchSlack, slack: SlackRequests, channel: str) -> Round:
    fake.set_channel_members(channel, [*PEOPLE, fake.bot_user_id])
    answer = slack.command("start Post limit", user=PEOPLE[0], channel=channel)
    if answer.status != 200 or "started" not in answer.body:
        raise RuntimeError(f"Storm did not start a workshop in {channel}: {answer.body[:300]}")
    if not _wait(lambda: any("Step 1 of 8" in m.text for m in _posts(fake, channel)), 30.0):
        raise RuntimeError(f"Storm did not post step 1's prompt in {channel}")
    time.sleep(REFILL_S)  # the kickoff and the prompt took some of the allowance
    limited_before = _limited(fake)
    names = {person: [f"Step {n} Done By {person}" for n in range(EACH)] for person in PEOPLE}

    def capture(person: str) -> float:
        for name in names[person]:
            answer = slack.command(f"event {name}", user=person, channel=channel)
            if answer.status != 200 or "Added 1 event" not in answer.body:
                raise RuntimeError(f"/storm event was not confirmed: {answer.body[:300]}")
        return time.time()

    started = time.time()
    with ThreadPoolExecutor(max_workers=len(PEOPLE)) as pool:
        last_ack = max(pool.map(capture, PEOPLE))
    wanted = [name for person in PEOPLE for name in names[person]]

    def shown() -> dict[str, list[Message]]:
        messages = [m for m in _posts(fake, channel) if _carries(m)]
        return {name: [m for m in messages if f" {name} ·" in _text(m)] for name in wanted}

    _wait(lambda: all(shown().values()), VISIBLE_TIMEOUT_S)
    found = shown()
    seen = [min(float(m.ts) for m in found[name]) for name in wanted if found[name]]
    return Round(
        acks_s=last_ack - started,
        visible_s=max(seen) - last_ack if seen else float("nan"),
        messages=len({m.ts for ms in found.values() for m in ms}),
        limited=_limited(fake) - limited_before,
        missing=sum(not ms for ms in found.values()),
        repeated=sum(len(ms) > 1 for ms in found.values()),
    )


def _posts(fake: BenchSlack, channel: str) -> list[Message]:
    return [m for m in fake.messages(channel) if m.user == fake.bot_user_id]


def _carries(message: Message) -> bool:
    """Whether a message is an element message (it names its elements in its metadata)."""
    return bool((message.metadata or {}).get("event_payload"))


def _text(message: Message) -> str:
    sections = [b["text"]["text"] for b in message.blocks or [] if b.get("type") == "section"]
    return "\n".join(sections) or message.text


def _limited(fake: BenchSlack) -> int:
    counts = fake.counts()
    return counts[("chat.postMessage", "ratelimited")] + counts[("chat.update", "ratelimited")]


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    """Whether `condition` came true within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True

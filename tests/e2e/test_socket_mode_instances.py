"""Two `stormbot serve` processes in Socket Mode on one database, against a fake Socket Mode
server that hands each envelope to one of their four connections at random, as Slack does:
every capture numbered once, every event applied once (Slack's redelivery going to the other
instance), every element shown in exactly one message, every scheduled post sent once."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.core.model import element_key
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.slack_requests import SlackRequests, new_event_id
from bot.service.reactions import ELEMENT_METADATA
from bot.slack.outbox import POST_METADATA
from storage import repository as repo
from storage.db import make_engine
from storage.tables import Element, ScheduledPost, SlackEvent, Workshop
from storage.unit_of_work import unit_of_work
from tests.support.running import SIGNING_SECRET, ServeProcess, answer_text, serve_process
from tests.support.socket_mode import APP_TOKEN, FakeSocketMode

CHANNELS = ("C1", "C2")
USERS = ("U1", "U2", "U3", "U4")
CAPTURES = 40  # commands, spread over the channels and people
ZAPS = 10  # messages turned into events by a :zap:, each delivered twice


@pytest.fixture
def instances(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path, socket_mode: FakeSocketMode
) -> Iterator[list[ServeProcess]]:
    """Two instances with two connections each, all four live."""
    processes = []
    try:
        for n in range(2):
            process = serve_process(fake_slack, database_url, tmp_path / f"storm-{n}.log")
            process.env.pop("SLACK_SIGNING_SECRET")
            process.env["SLACK_APP_TOKEN"] = APP_TOKEN
            process.env["SOCKET_MODE_CONNECTIONS"] = "2"
            processes.append(process)
            process.start()
        socket_mode.wait_for_live(4)
        yield processes
    finally:
        for process in processes:
            process.stop()


def test_two_socket_mode_instances_apply_everything_once(
    instances: list[ServeProcess],
    socket_mode: FakeSocketMode,
    fake_slack: FakeSlack,
    database_url: str,
) -> None:
    pick = random.Random(17)
    slack = SlackRequests("http://127.0.0.1:1/", SIGNING_SECRET, fake=fake_slack)
    used = Counter[int]()

    def command(text: str, user: str, channel: str) -> str:
        link = pick.choice(socket_mode.live())
        used[link.id] += 1
        payload = slack.command_payload(text, user=user, channel=channel)
        return answer_text(socket_mode.command(payload, link=link).payload)

    for channel in CHANNELS:
        assert "started" in command(f"start Orders {channel}", "U1", channel)
    for n in range(CAPTURES):
        channel, user = CHANNELS[n % 2], USERS[n % len(USERS)]
        assert "Added 1 event" in command(f"event Thing {n} Happened", user, channel)

    # Slack redelivers an event it thinks was lost: here always, and to another connection.
    zapped = []
    for n in range(ZAPS):
        channel = CHANNELS[n % 2]
        said = fake_slack.post_user_message(channel, USERS[n % 4], f"Parcel {n} Returned")
        zapped.append((channel, said.ts))
        event = slack.envelope(
            slack.reaction_event("reaction_added", "zap", user="U2", channel=channel, ts=said.ts),
            event_id=new_event_id(),
        )
        first, second = pick.sample(socket_mode.live(), 2)
        for link in (first, second):
            used[link.id] += 1
            socket_mode.ack(socket_mode.send(event, link=link, kind="events_api"))
    assert len(used) == 4, "every connection of both instances carried some of the work"

    engine = make_engine(database_url)
    try:
        _settle(engine, expected_events=CAPTURES + ZAPS)
        with unit_of_work(engine, read_only=True) as session:
            workshops = {w.channel_id: w for w in session.exec(select(Workshop)).all()}
            elements = session.exec(select(Element)).all()
            sent = session.exec(
                select(ScheduledPost).where(
                    ScheduledPost.status == "sent", col(ScheduledPost.kind) == "kickoff"
                )
            ).all()
    finally:
        engine.dispose()

    # Numbers: per workshop 1..n, none twice, none missing.
    for channel, workshop in workshops.items():
        numbers = sorted(e.number for e in elements if e.workshop_id == workshop.id)
        assert numbers == list(range(1, CAPTURES // 2 + ZAPS // 2 + 1)), (channel, numbers)
    # Each zapped message made one event, though it arrived twice.
    for channel, ts in zapped:
        made = [e for e in elements if e.source_ts == ts]
        assert len(made) == 1, (channel, ts, [e.name for e in made])

    # Each element in exactly one message; each kickoff posted once.
    shown = Counter[tuple[str, str]]()
    kickoffs = Counter[int]()
    for channel in CHANNELS:
        for message in fake_slack.messages(channel):
            metadata = message.metadata or {}
            if metadata.get("event_type") == ELEMENT_METADATA:
                payload = metadata["event_payload"]
                for key in payload.get("elements") or [payload["element"]]:
                    shown[(channel, key)] += 1
            elif metadata.get("event_type") == POST_METADATA:
                kickoffs[int(metadata["event_payload"]["post"])] += 1
    expected = {
        (channel, element_key(e.kind, e.number))
        for channel, w in workshops.items()
        for e in elements
        if e.workshop_id == w.id
    }
    assert set(shown) == expected and set(shown.values()) == {1}
    assert [post.id for post in sent if kickoffs[post.id or 0] != 1] == []
    assert len(sent) == len(CHANNELS)


def _settle(engine: Engine, *, expected_events: int, timeout: float = 60.0) -> None:
    """Until every event is applied, every element made and nothing due is left unsent."""
    deadline = time.monotonic() + timeout
    while True:
        with unit_of_work(engine, read_only=True) as session:
            pending = session.exec(
                select(SlackEvent).where(col(SlackEvent.processed_at).is_(None))
            ).all()
            made = len(session.exec(select(Element)).all())
            due = repo.due_posts(session, now=datetime.now(UTC))
            sending = session.exec(
                select(ScheduledPost).where(ScheduledPost.status == "sending")
            ).all()
        if not pending and made >= expected_events and not due and not sending:
            return
        assert time.monotonic() < deadline, (
            f"not settled: {len(pending)} events, {made} elements, {len(due)} due, "
            f"{len(sending)} sending"
        )
        time.sleep(0.3)

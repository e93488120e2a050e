"""Two instances on one database, side by side in one process (SPEC §8): the work after the
acknowledgement is shared, each piece done once: an element's message posted once, a channel
canvas made once, whichever instance takes each request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from bot.sandbox.fake_slack import FakeSlack
from bot.service.reactions import ELEMENT_METADATA
from storage.tables import ScheduledPost
from storage.unit_of_work import unit_of_work
from tests.support.running import CHANNEL, InProcess, start_in_process, text_of


@pytest.fixture
def pair(fake_slack: FakeSlack, database_url: str) -> Iterator[tuple[InProcess, InProcess]]:
    first = start_in_process(fake_slack, database_url)
    second = start_in_process(fake_slack, database_url)
    try:
        yield first, second
    finally:
        second.stop()
        first.stop()


def test_each_element_gets_one_message_whichever_instance_sends_it(
    pair: tuple[InProcess, InProcess], fake_slack: FakeSlack
) -> None:
    first, second = pair
    first.run("start Checkout")
    for n in range(12):
        (first, second)[n % 2].run(f"event Thing {n} Happened", user="U2")

    def shown(fake: FakeSlack) -> list[str]:
        keys: list[str] = []
        for message in fake.messages(CHANNEL):
            metadata = message.metadata or {}
            if metadata.get("event_type") == ELEMENT_METADATA:
                payload = metadata["event_payload"]
                keys.extend(payload.get("elements") or [payload["element"]])
        return keys

    fake_slack.wait_for(lambda f: len(shown(f)) >= 12, timeout=20)
    first.wait_until_sent()
    second.wait_until_sent()
    assert sorted(shown(fake_slack), key=lambda k: int(k[1:])) == [f"E{n}" for n in range(1, 13)]


def test_one_channel_canvas_however_many_instances_keep_it(
    pair: tuple[InProcess, InProcess], fake_slack: FakeSlack
) -> None:
    first, second = pair
    first.run("start Checkout")
    second.run("event Order Placed")
    # Slack is slow to make it: both instances' keepers see the workshop without a canvas.
    fake_slack.fail("conversations.canvases.create", delay=1.5)
    assert "follow its changes" in first.run("canvas on")
    fake_slack.wait_for(lambda f: len(f.canvases.in_channel(CHANNEL)) == 1, timeout=15)
    second.run("event Payment Received")
    fake_slack.wait_for(
        lambda f: "Payment Received" in f.canvases.in_channel(CHANNEL)[0].markdown, timeout=30
    )
    assert len(fake_slack.canvases.in_channel(CHANNEL)) == 1
    creates = fake_slack.calls_to("conversations.canvases.create") + fake_slack.calls_to(
        "canvases.create"
    )
    assert len(creates) == 1


def test_elements_wait_for_their_steps_prompt_that_another_instance_is_sending(
    pair: tuple[InProcess, InProcess], fake_slack: FakeSlack
) -> None:
    first, second = pair
    first.run("start Checkout")
    first.wait_until_sent()
    # Slack is slow with the next step's prompt, and the other instance has elements to post.
    fake_slack.fail("chat.postMessage", delay=1.5, times=2)  # the summary, then the prompt
    first.run("next")
    fake_slack.wait_for(lambda _: _prompt_on_its_way(first))
    for n in range(3):
        second.run(f"event Thing {n} Happened", user="U2")
    first.wait_for_post("*E3* Thing 2 Happened", timeout=15)
    first.wait_until_sent()
    second.wait_until_sent()
    prompt = next(m for m in first.posts() if text_of(m).startswith("Step 2 of 8"))
    replies = [m.ts for m in fake_slack.thread(CHANNEL, prompt.ts)[1:]]
    elements = [m for m in fake_slack.messages(CHANNEL) if "Thing" in text_of(m)]
    assert [m.ts for m in elements] == replies and len(elements) >= 1


def _prompt_on_its_way(storm: InProcess) -> bool:
    with unit_of_work(storm.storm.engine, read_only=True) as session:
        return bool(
            session.exec(
                select(ScheduledPost).where(
                    ScheduledPost.kind == "prompt", ScheduledPost.status == "sending"
                )
            ).first()
        )

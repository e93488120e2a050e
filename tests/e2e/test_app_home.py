"""The App Home tab over signed HTTP (SPEC §4.4): opening it publishes the person's workshops,
from their channels only and their workspace only, in a view the fake Slack validates like
Slack; its page buttons lead to the older workshops; the ack never waits for Slack."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.completeness import check
from bot.core.home import PAGE_SIZE
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.slack_requests import SlackRequests
from bot.service.home import Home
from bot.service.reactions import ReactionInbox, Reactions
from bot.service.snapshots import load_snapshot
from bot.slack.home import HomeViews
from bot.slack.web import WebApi
from storage import repository as repo
from storage.unit_of_work import unit_of_work
from tests.support.running import SIGNING_SECRET, TEAM, InProcess, ServeProcess, serve_process

OTHER_TEAM = "T0002"


def home_texts(view: dict[str, Any] | None) -> str:
    """What a person reads on their Home tab."""
    if view is None:
        return ""
    parts: list[str] = []
    for block in view["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts.extend(e["text"]["text"] for e in block.get("elements", []) if "text" in e)
    return "\n".join(parts)


def wait_for_home(fake: FakeSlack, user: str, needle: str, timeout: float = 10.0) -> str:
    """Wait until `user`'s Home tab shows `needle`; returns all it shows."""
    fake.wait_for(lambda f: needle in home_texts(f.home_view(user)), timeout=timeout)
    return home_texts(fake.home_view(user))


def cards(text: str) -> dict[str, str]:
    """The tab's text per workshop card, by title (cards start with `*Title* in <#C…>`)."""
    found: dict[str, str] = {}
    title = None
    for line in text.split("\n"):
        if " in <#C" in line and line.startswith("*") and "finished" not in line:
            title = line.split("*")[1]
            found[title] = ""
        elif title is not None:
            found[title] += line + "\n"
    return found


def score(storm: InProcess, team: str, channel: str) -> int:
    """The completeness score the digests report for a channel's workshop."""
    with unit_of_work(storm.storm.engine, read_only=True) as session:
        workshop = repo.open_workshop(session, team_id=team, channel_id=channel)
        assert workshop is not None
        return round(check(load_snapshot(session, workshop)).score * 100)


def deadline_of(storm: InProcess, channel: str) -> datetime:
    """When the current step of a channel's workshop is due."""
    with unit_of_work(storm.storm.engine, read_only=True) as session:
        workshop = repo.open_workshop(session, team_id=TEAM, channel_id=channel)
        assert workshop is not None and workshop.id is not None
        run = repo.step_run(session, workshop_id=workshop.id, number=workshop.current_step)
        assert run.deadline_at is not None
        return run.deadline_at


def no_refused_publish(fake: FakeSlack) -> None:
    calls = fake.calls_to("views.publish")
    assert calls, "nothing was published"
    assert all(call.error is None for call in calls), [c.error for c in calls]


@pytest.fixture
def two_workshops(storm: InProcess) -> InProcess:
    """Checkout in C1 (U1, U2, U3) at step 2 and Returns in C2 (U1, U2) at step 1."""
    storm.fake.set_channel_members("C2", ["U1", "U2", storm.fake.bot_user_id])
    storm.run("start Checkout")
    storm.run("event Order Placed")  # E1, step 1: not this step's
    storm.run("event Payment Taken", user="U2")  # E2
    storm.run("next")
    storm.run("hotspot Who refunds &lt;!channel&gt; &amp; co? on E2")  # H1, U1's in step 2
    storm.run("hotspot Settled already", user="U2")  # H2
    storm.run("resolve H2", user="U2")
    storm.run("rename E1 Order Submitted", user="U2")
    storm.run("start Returns", user="U2", channel="C2")
    storm.run("event Return Requested", channel="C2")  # E1, U1's in step 1
    storm.run("command Accept Return -> E1", user="U2", channel="C2")  # C1
    storm.wait_until_sent()
    return storm


def test_a_person_sees_each_workshop_of_their_channels(two_workshops: InProcess) -> None:
    storm = two_workshops
    response = storm.slack.open_home("U1")
    assert response.status == 200
    text = wait_for_home(storm.fake, "U1", "*Returns* in <#C2>")
    shown = cards(text)
    assert list(shown) == ["Returns", "Checkout"]  # newest first
    checkout, returns = shown["Checkout"], shown["Returns"]

    assert "*Step 2 of 8: Refine Domain Events*" in checkout
    deadline = deadline_of(storm, "C1")
    assert f"left (until <!date^{int(deadline.timestamp())}^" in checkout
    assert deadline.strftime("|%Y-%m-%d %H:%M UTC>") in checkout  # the fallback
    assert f"*Completeness {score(storm, TEAM, 'C1')}%*" in checkout
    assert "2 events, 2 hotspots" in checkout
    assert "*You added in this step (1)*\n:large_red_square: *H1* Who refunds" in checkout
    assert "*Open hotspots (1)*" in checkout
    assert "*H1* Who refunds &lt;!channel&gt; &amp; co? (on *E2*)" in checkout
    assert "H2" not in checkout and "Order Submitted" not in checkout

    assert "*Step 1 of 8: Collect Domain Events*" in returns
    assert f"*Completeness {score(storm, TEAM, 'C2')}%*" in returns
    assert "1 event, 1 command" in returns
    assert "*You added in this step (1)*\n:large_orange_square: *E1* Return Requested" in returns
    assert "No open hotspots." in returns
    assert "2 workshops in progress" in text
    no_refused_publish(storm.fake)


def test_what_each_person_added_is_their_own(two_workshops: InProcess) -> None:
    storm = two_workshops
    storm.slack.open_home("U2")
    text = wait_for_home(storm.fake, "U2", "*Returns* in <#C2>")
    shown = cards(text)
    assert "*You added in this step (1)*\n:large_red_square: *H2* Settled" in shown["Checkout"]
    assert "*You added in this step (1)*\n:large_blue_square: *C1* Accept" in shown["Returns"]
    # U3 is only in C1, and added nothing: the channel's members were read at the start.
    storm.slack.open_home("U3")
    text = wait_for_home(storm.fake, "U3", "*Checkout* in <#C1>")
    assert "Returns" not in text
    assert "You have added nothing in this step yet." in text


def test_someone_in_no_workshop_is_told_how_to_start_one(two_workshops: InProcess) -> None:
    storm = two_workshops
    storm.fake.add_user("U7", "gus")
    storm.slack.open_home("U7")
    text = wait_for_home(storm.fake, "U7", "Welcome to Storm")
    assert "`/storm start &lt;title&gt;`" in text and "/invite @Storm" in text
    assert "Checkout" not in text and "Returns" not in text
    no_refused_publish(storm.fake)


def test_someone_who_just_joined_a_channel_finds_its_workshop(two_workshops: InProcess) -> None:
    storm = two_workshops
    storm.fake.add_user("U8", "hana")
    storm.fake.set_channel_members("C2", ["U1", "U2", "U8", storm.fake.bot_user_id])
    storm.slack.open_home("U8")
    text = wait_for_home(storm.fake, "U8", "*Returns* in <#C2>")
    assert "Checkout" not in text


def test_a_workshop_of_another_workspace_is_never_shown(two_workshops: InProcess) -> None:
    storm = two_workshops
    storm.run("start Zebra Secret Launch", team=OTHER_TEAM, channel="C1")
    storm.run("event Zebra Invoice Settled", team=OTHER_TEAM, channel="C1")
    storm.wait_until_sent()
    storm.slack.open_home("U1")
    text = wait_for_home(storm.fake, "U1", "*Returns* in <#C2>")
    assert "Zebra" not in text
    # In the other workspace, U1 sees that one workshop only.
    storm.slack.event(storm.slack.app_home_opened_event("U1"), team_id=OTHER_TEAM)
    text = wait_for_home(storm.fake, "U1", "Zebra Secret Launch")
    assert list(cards(text)) == ["Zebra Secret Launch"]


def test_finished_workshops_are_listed_briefly(two_workshops: InProcess) -> None:
    storm = two_workshops
    storm.run("end", user="U2", channel="C2")
    storm.slack.open_home("U1")
    text = wait_for_home(storm.fake, "U1", "*Finished workshops (1)*")
    assert ":checkered_flag: *Returns* in <#C2> · finished <!date^" in text
    assert list(cards(text)) == ["Checkout"]
    assert "1 workshop in progress" in text


def test_the_page_buttons_show_the_older_workshops(storm: InProcess) -> None:
    channels = [f"C{n}" for n in range(10, 10 + PAGE_SIZE + 2)]
    for n, channel in enumerate(channels):
        storm.fake.set_channel_members(channel, ["U1", storm.fake.bot_user_id])
        storm.run(f"start Workshop {n:02d}", channel=channel)
    storm.wait_until_sent()
    storm.slack.open_home("U1")
    first = wait_for_home(storm.fake, "U1", "(page 1 of 2)")
    assert list(cards(first)) == [f"Workshop {n:02d}" for n in range(PAGE_SIZE + 1, 1, -1)]
    assert len(storm.fake.home_view("U1")["blocks"]) <= 100

    assert storm.slack.click_home("U1", "Older workshops →").status == 200
    second = wait_for_home(storm.fake, "U1", "(page 2 of 2)")
    assert list(cards(second)) == ["Workshop 01", "Workshop 00"]
    assert storm.slack.click_home("U1", "← Newer workshops").status == 200
    wait_for_home(storm.fake, "U1", "(page 1 of 2)")
    no_refused_publish(storm.fake)


def test_opening_the_tab_is_acknowledged_while_slack_is_slow(two_workshops: InProcess) -> None:
    storm = two_workshops
    storm.fake.fail("views.publish", delay=3.5)
    response = storm.slack.open_home("U1")
    assert response.status == 200
    assert response.elapsed < 1.0
    wait_for_home(storm.fake, "U1", "*Checkout* in <#C1>", timeout=15)


def test_a_burst_of_openings_waiting_in_the_inbox_publishes_once_per_person(
    two_workshops: InProcess,
) -> None:
    """What the background worker finds waiting (it was busy, or down): of each person's
    openings only the latest is published."""
    storm = two_workshops
    client = storm.storm.bolt.client
    home = Home(storm.storm.engine, storm.clock, HomeViews(client), lambda team, channel: None)
    background = ReactionInbox(  # records only, like a web worker; applies when asked
        storm.storm.engine,
        storm.clock,
        WebApi(client),
        storm.storm.workshops,
        Reactions(),
        applies_after_ack=False,
        latest_only={"app_home_opened": home.apply},
    )
    for user in ("U1", "U1", "U2", "U1"):
        background.record(storm.slack.envelope(storm.slack.app_home_opened_event(user)))
    storm.fake.reset_calls()
    background.process_pending()
    published = [call.params["user_id"] for call in storm.fake.calls_to("views.publish")]
    assert sorted(published) == ["U1", "U2"]
    assert "*Checkout* in <#C1>" in home_texts(storm.fake.home_view("U2"))
    with unit_of_work(storm.storm.engine, read_only=True) as session:
        assert repo.unprocessed_slack_events(session) == []


@pytest.fixture
def served(fake_slack: FakeSlack, database_url: str, tmp_path: Path) -> Iterator[ServeProcess]:
    process = serve_process(fake_slack, database_url, tmp_path / "stormbot.log")
    try:
        yield process.start()
    finally:
        process.stop()


def test_web_workers_record_the_opening_and_the_background_worker_publishes(
    served: ServeProcess, fake_slack: FakeSlack
) -> None:
    slack = SlackRequests(served.base_url, SIGNING_SECRET, fake=fake_slack)
    assert slack.command("start Checkout", user="U1", channel="C1").status == 200
    response = slack.open_home("U2")
    assert response.status == 200 and response.elapsed < 1.0
    text = wait_for_home(fake_slack, "U2", "*Checkout* in <#C1>", timeout=20)
    assert "*Step 1 of 8: Collect Domain Events*" in text
    assert all(call.error is None for call in fake_slack.calls_to("views.publish"))

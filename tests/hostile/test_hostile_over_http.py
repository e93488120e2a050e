"""Hostile input end to end: signed slash commands and reactions against the real app.

Each example works in a channel of its own (a fresh workshop), so one server serves every
example of a test. The properties, for every example:

- every request is answered 200, and no answer is Storm's "something went wrong";
- every call Storm makes is accepted by the fake Slack Web API (it checks Slack's limits);
- no post, answer or file comment carries a mention or link that came from user text;
- nothing is logged at ERROR and no outbox post failed;
- the JSON export gives every accepted name back exactly as typed, and whatever was not
  accepted was refused in words (":warning:" for a line that cannot be read,
  ":no_entry_sign:" for an action Storm will not do, "cannot become" for a message).

Users: U2 is the facilitator, U3 a participant. The hostile mention syntax names U1, W42,
C1…, never them, so a `<@U2>` Storm writes on purpose is told apart from an injected one.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.core.model import parse_element_key
from bot.sandbox.fake_slack import Message
from storage.tables import ScheduledPost
from storage.unit_of_work import unit_of_work
from tests.hostile.strategies import (
    SlackText,
    expected_name,
    message_problems,
    refusal,
    slack_texts,
    spec_normalise,
    typed_text,
    unescape,
    usable_in,
)
from tests.support.running import InProcess, json_exports

FACILITATOR, PARTICIPANT = "U2", "U3"
SLACK_DISPLAY_NAME_MAX = 80  # Slack refuses longer display names
ACTING = frozenset({FACILITATOR, PARTICIPANT})
_numbers = itertools.count(1)
#: An example here costs about half a second, so shrinking a failure would take minutes: a
#: failure is reported as generated, with the sub-command and input in its message. The pure
#: tests of this package shrink the same inputs to minimal ones in seconds.
HTTP_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def texts(where: str = "") -> st.SearchStrategy[SlackText]:
    return slack_texts().filter(lambda text: usable_in(where, text))


class Example:
    """One example's channel, what Storm answered there, and what it should have stored."""

    def __init__(self, storm: InProcess, caplog: pytest.LogCaptureFixture) -> None:
        number = next(_numbers)
        self.storm = storm
        self.channel = f"CH{number:05d}"
        self.first_call = len(storm.fake.calls)
        self.names: dict[str, str] = {}  # element id -> the name it must have
        self.fields: dict[str, list[str]] = {}
        self.title = ""
        self.answers: list[dict[str, Any]] = []
        caplog.clear()
        self.caplog = caplog

    def run(self, line: str, *, user: str = FACILITATOR) -> str:
        """`/storm <line>` as Slack sends it; the answer as the person reads it."""
        response = self.storm.slack.command(line, user=user, channel=self.channel)
        assert response.status == 200, f"{line!r}: HTTP {response.status} {response.body}"
        body = response.json()
        self.answers.append(body)
        blocks = body.get("blocks") or []
        answer = "\n".join(b["text"]["text"] for b in blocks if b.get("type") == "section")
        assert "went wrong" not in answer, f"{line!r} failed inside Storm: {answer}"
        return answer or body.get("text", "")

    def kept(self, what: str, answer: str, shown: str, refused_by: str = ":warning:") -> str | None:
        """The name Storm must have kept for `shown`; None after checking it was refused."""
        name = expected_name(shown)
        if name is None:
            assert refused_by in answer, (
                f"{what}: {shown!r} was neither kept nor refused: {answer!r}"
            )
            hypothesis.event(f"{what}: refused ({refusal(shown)})")
            return None
        assert name in unescape(answer), f"{what}: {name!r} not confirmed as typed: {answer!r}"
        hypothesis.event(f"{what}: kept")
        return name

    def added(self, what: str, answer: str, shown: str, pattern: str, **existing: str) -> None:
        """Check what a line that adds an element answered, and note what it must store.

        `existing` names the elements of that kind already there, which a name may resolve
        to instead of making a new one (SPEC §4.1: `command` creates *or* adds links).
        """
        name = expected_name(shown)
        found = re.search(pattern, answer)
        if name is not None and found is None:
            resolves = parse_element_key(name) is not None or spec_normalise(name) in {
                spec_normalise(n) for n in existing.values()
            }
            assert resolves, f"{what}: {shown!r} was not added: {answer!r}"
            said = (":no_entry_sign:", "Nothing new", "Updated")
            assert any(word in answer for word in said), f"{what}: {shown!r}: {answer!r}"
            hypothesis.event(f"{what}: names an existing element")
            return
        name = self.kept(what, answer, shown)
        if name is not None and found is not None:
            self.names[found.group(1)] = name

    def post_starting(self, start: str) -> Message:
        """Storm's post in this channel whose first section starts with `start`."""

        def found() -> list[Message]:
            posts = self.storm.posts(self.channel)
            return [m for m in posts if m.blocks and m.blocks[0]["text"]["text"].startswith(start)]

        self.storm.fake.wait_for(lambda _: bool(found()), timeout=20)
        (post,) = found()
        return post

    def export(self) -> dict[str, Any]:
        fake = self.storm.fake
        before = len(json_exports(fake, self.channel))
        self.run("export json")
        fake.wait_for(lambda f: len(json_exports(f, self.channel)) > before, timeout=20)
        return json.loads(json_exports(fake, self.channel)[-1].text)

    def check(self, model: dict[str, Any]) -> None:
        """Every property of this module, for this example."""
        self.storm.wait_until_sent(timeout=20)
        assert model["workshop"]["title"] == self.title
        stored = {
            item["id"]: item.get("name", item.get("title", item.get("text")))
            for kind in ("events", "commands", "views", "hotspots", "scenarios")
            for item in model[kind]
        }
        assert {key: stored.get(key) for key in self.names} == self.names
        fields = {item["id"]: [f["name"] for f in item["fields"]] for item in model["commands"]}
        assert {key: fields.get(key) for key in self.fields} == self.fields

        calls = self.storm.fake.calls[self.first_call :]
        rejected = [f"{c.method}: {c.error}" for c in calls if c.error]
        assert not rejected, f"Slack rejected: {rejected}"
        shown = [
            (c.method, c.params.get("text") or "", c.params.get("blocks"))
            for c in calls
            if c.method in ("chat.postMessage", "chat.postEphemeral", "chat.update")
        ]
        shown += [
            ("initial_comment", c.params["initial_comment"], None)
            for c in calls
            if c.params.get("initial_comment")
        ]
        shown += [("answer", a.get("text") or " ", a.get("blocks")) for a in self.answers]
        problems = [
            f"{method}: {problem}"
            for method, text, blocks in shown
            for problem in message_problems(text, blocks, mentioned=ACTING)
        ]
        assert not problems, "\n".join(problems[:20])

        with unit_of_work(self.storm.storm.engine) as session:
            failed = session.exec(select(ScheduledPost).where(ScheduledPost.status == "failed"))
            assert not [(post.kind, post.error) for post in failed]
        errors = [r.getMessage() for r in self.caplog.records if r.levelno >= logging.ERROR]
        assert not errors, errors


@HTTP_SETTINGS
@given(
    title=texts(),
    new_event=texts("event"),
    hotspot=texts(),
    renamed=texts(),
    command=texts("command"),
    view=texts("view"),
    field=texts("fields"),
    scenario=texts("scenario"),
)
def test_hostile_lines_are_stored_as_typed_or_refused(
    storm: InProcess,
    caplog: pytest.LogCaptureFixture,
    title: SlackText,
    new_event: SlackText,
    hotspot: SlackText,
    renamed: SlackText,
    command: SlackText,
    view: SlackText,
    field: SlackText,
    scenario: SlackText,
) -> None:
    example = Example(storm, caplog)
    example.title = example.kept("start", example.run(f"start {title.raw}"), title.shown) or ""
    if not example.title:
        example.title = "Fallback"
        example.run("start Fallback")
    example.run("event Order Placed", user=PARTICIPANT)
    example.run("command Place Order -&gt; E1", user=PARTICIPANT)

    answer = example.run(f"event {new_event.raw}")
    example.added("event", answer, new_event.shown, r"Added 1 event:\n\*(E\d+)\*")
    answer = example.run(f"hotspot {hotspot.raw} on E1", user=PARTICIPANT)
    example.added("hotspot", answer, hotspot.shown, r"Added hotspot \*(H\d+)\*")
    answer = example.run(f"rename E1 -&gt; {renamed.raw}")
    if name := example.kept("rename", answer, renamed.shown):
        example.names["E1"] = name
    answer = example.run(f"command {command.raw} -&gt; E1")
    example.added("command", answer, command.shown, r"Added command \*(C\d+)\*", C1="Place Order")
    answer = example.run(f"view {view.raw} &lt;- E1", user=PARTICIPANT)
    example.added("view", answer, view.shown, r"Added view \*(V\d+)\*")
    answer = example.run(f"fields C1: {field.raw}")
    if not field.shown.strip():
        example.fields["C1"] = []
    elif spec_normalise(field.shown):
        if name := example.kept("fields", answer, field.shown):
            example.fields["C1"] = [name]
    else:
        assert ":warning:" in answer, f"{field.shown!r} is no field name, yet: {answer!r}"
    answer = example.run(f"scenario {scenario.raw}: given nothing when C1 then E1")
    example.added("scenario", answer, scenario.shown, r"Added scenario \*(S\d+)\*")
    example.run(f"trace C1.{field.raw}")  # the field, if it was kept
    example.run(f"trace E1.{field.raw}")  # E1 has no fields: the refusal quotes both names
    for line in ("status", "report", "check", "digest now", "next"):
        example.run(line)
    example.check(example.export())


@HTTP_SETTINGS
@given(
    said=slack_texts(),
    asked=slack_texts(),
    author_name=typed_text(max_pieces=3).map(lambda name: name[:SLACK_DISPLAY_NAME_MAX]),
)
def test_hostile_messages_are_captured_as_typed_or_refused(
    storm: InProcess,
    caplog: pytest.LogCaptureFixture,
    said: SlackText,
    asked: SlackText,
    author_name: str,
) -> None:
    """:zap: and :question: on messages people wrote (by an author with a hostile name), and
    :question: on Storm's own post of the event, which quotes the event's name."""
    example = Example(storm, caplog)
    fake, slack, channel = storm.fake, storm.slack, example.channel
    author = f"UA{next(_numbers):05d}"
    fake.add_user(author, "author", display_name=author_name)
    example.title = "Capture"
    example.run("start Capture")

    def react(reaction: str, ts: str) -> str:
        """React as the facilitator; the note Storm then shows them."""
        before = len(fake.ephemerals(channel, FACILITATOR))
        response = slack.reaction_added(reaction, user=FACILITATOR, channel=channel, ts=ts)
        assert response.status == 200, response.body
        fake.wait_for(lambda f: len(f.ephemerals(channel, FACILITATOR)) > before, timeout=20)
        note = fake.ephemerals(channel, FACILITATOR)[-1]
        sections = [b["text"]["text"] for b in note.blocks or [] if b.get("type") == "section"]
        return "\n".join(sections) or note.text

    said_ts = fake.post_user_message(channel, author, said.raw).ts
    if name := example.kept(":zap:", react("zap", said_ts), said.shown, "cannot become"):
        example.names["E1"] = name
    asked_ts = fake.post_user_message(channel, PARTICIPANT, asked.raw).ts
    if name := example.kept(
        ":question:", react("question", asked_ts), asked.shown, "cannot become"
    ):
        example.names["H1"] = name
    if "E1" in example.names:  # a :question: on the event's own post quotes the event
        posted = example.post_starting(":large_orange_square: *E1* ")
        about = f"Question about E1 {example.names['E1']}"
        note = react("question", posted.ts)
        if name := example.kept(":question: on E1", note, about, "cannot become"):
            example.names["H2" if "H1" in example.names else "H1"] = name
    model = example.export()
    if "E1" in example.names:
        assert model["events"][0]["author"] == author
    example.check(model)

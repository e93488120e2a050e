"""Who may read and change a workshop: signed requests only, from its own workspace and
channel, and facilitation by its facilitators (SPEC §4.1, §9).

Every sub-command is tried across each boundary: from another channel of the same workspace,
and from another workspace whose channel happens to have the same id. Nothing may read C1's
workshop (its names never appear in an answer, a post or a file made from elsewhere) or change
it (its rows in the database, its export and its status stay exactly as they were). The same
holds for reactions that name C1's messages from elsewhere. Then, inside C1, everything SPEC
§4.1 reserves to facilitators is refused to a participant, with nothing changed.

Signatures: tests/e2e/test_security_and_http.py covers badly signed slash commands and one
forged event; here every kind of bad signature is tried on reaction events, commands and
Slack's url_verification handshake, including a body swapped under a valid signature, a
signature made with another app's secret and a timestamp that is not a number; and the
5-minute window is checked from the inside.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from bot.core import grammar
from bot.core.exports import FORMATS
from bot.sandbox.slack_requests import Response, compute_signature
from bot.slack.outbox import UPDATE_EVERY
from bot.slack.shortcuts import IMPORT_INTO_STORM
from storage import repository as repo
from storage.unit_of_work import unit_of_work
from tests.support.running import CHANNEL, SIGNING_SECRET, TEAM, InProcess, text_of

OTHER_CHANNEL = "C2"
OTHER_TEAM = "T0002"
# (team, channel) across each boundary from C1 in T0001.
BOUNDARIES = {"another channel": (TEAM, OTHER_CHANNEL), "another workspace": (OTHER_TEAM, CHANNEL)}

C1_TITLE = "Zebra Secret Launch"
# C1's model, built by its facilitator U1 (and U2 for E2): one element of every kind.
C1_LINES = [
    ("U1", f"start {C1_TITLE}"),
    ("U1", "facilitator add <@U2|bob>"),
    ("U1", "event Zebra Invoice Settled"),  # E1
    ("U2", "event Zebra Parcel Shipped"),  # E2
    ("U1", "event Zebra Refund Granted"),  # E3
    ("U1", "command Zebra Settle Invoice -> E1"),  # C1
    ("U1", "view Zebra Ledger Screen <- E1"),  # V1
    ("U1", "hotspot Zebra tax rules unclear on E1"),  # H1
    ("U1", "policy Zebra ship when settled: E3 -> C1"),  # P1 (on E1 it would be a loop)
    ("U1", "actor Zebra Accountant -> C1"),  # R1
    ("U1", "external Zebra Bank Gateway -> E2"),  # X1
    ("U1", "screen Zebra Payment Form -> C1 <- V1"),  # U1
    ("U1", "policy Zebra chase each unpaid: V1 -> C1"),  # P2, on a view
    ("U1", "aggregate Zebra Billing: C1 E1 V1"),  # A1
    ("U1", "fields C1: invoice_id*, amount"),
    ("U1", "fields E1: invoice_id, amount"),
    ("U1", "fields V1: invoice_id"),
    ("U1", "fields U1: invoice_id, zebra_card"),
    ("U1", "fields P2: invoice_id"),
    ("U1", "scenario Zebra happy path: given nothing when C1 then E1"),  # S1
    ("U3", "vote E1"),
]
# What must never be shown outside C1. No line sent from elsewhere contains any of them.
C1_SECRETS = [
    C1_TITLE,
    "Zebra Invoice Settled",
    "Zebra Parcel Shipped",
    "Zebra Refund Granted",
    "Zebra Settle Invoice",
    "Zebra Ledger Screen",
    "Zebra tax rules unclear",
    "Zebra ship when settled",
    "Zebra Accountant",
    "Zebra Bank Gateway",
    "Zebra Payment Form",
    "Zebra chase each unpaid",
    "zebra_card",
    "Zebra Billing",
    "Zebra happy path",
    "invoice_id",
]

# A valid line for every sub-command, naming C1's elements by ID, by misspelt name (which
# invites a "did you mean" from whatever workshop answers) and by field.
LINES: dict[str, list[str]] = {
    "start": ["start Intruder Workshop"],
    "status": ["status"],
    "next": ["next"],
    "step": ["step 3"],
    "extend": ["extend 2h"],
    "timebox": ["timebox all 1d", "timebox current 1h"],
    "auto": ["auto on"],
    "facilitator": ["facilitator add <@U9|mallory>", "facilitator remove <@U2|bob>"],
    "digest": ["digest 06:15", "digest now", "digest off"],
    "end": ["end"],
    "event": ["event Intruder Event Happened"],
    "hotspot": [
        "hotspot Intruder question on E1",
        'hotspot Other question on "Zebra Invoice Setled"',
    ],
    "resolve": ["resolve H1"],
    "rename": ["rename E1 Intruder Renamed", "rename Zebra Invoice Setled -> Intruder Renamed"],
    "merge": ["merge E2 into E1"],
    "drop": ["drop E3", "drop C1"],
    "undo": ["undo"],
    "order": ["order E3 E2 E1"],
    "move": ["move E3 before E1"],
    "vote": ["vote E2", "vote Zebra Invoice Setled"],
    "command": ["command Intruder Command -> E1"],
    "view": ["view Intruder View <- E1"],
    "policy": ["policy Intruder Policy: E1 -> C1", "policy Intruder To-do: V1 -> C1"],
    "actor": ["actor Intruder Actor -> C1"],
    "external": ["external Intruder System -> E2"],
    "screen": ["screen Intruder Screen -> C1 <- V1", "screen Zebra Payment Frm -> C1"],
    "aggregate": ["aggregate Intruder Group: C1 E1 V1"],
    "fields": ["fields E1: stolen_field", "fields C1: stolen*", "fields U1: stolen"],
    "scenario": ["scenario Intruder case: given nothing when C1 then E1"],
    "trace": ["trace C1.amount", "trace E1.invoice id", "trace U1.zebra card"],
    "check": ["check"],
    "report": ["report"],
    "board": ["board"],
    "canvas": ["canvas on", "canvas off"],
    "export": [f"export {fmt}" for fmt in FORMATS],
}
# Facilitation last, and `end` at the very end, so that every other line meets an open workshop.
ORDER = [name for name in LINES if not grammar.USAGES[name].facilitator_only and name != "start"]
ORDER += [name for name in LINES if grammar.USAGES[name].facilitator_only and name != "end"]
ORDER += ["end"]


def test_every_sub_command_has_a_line_here() -> None:
    """A new sub-command must be tried across the boundaries too (`import` opens a form:
    `test_an_import_from_another_channel_or_workspace_leaves_c1_alone` tries it)."""
    assert set(LINES) == set(grammar.USAGES) - {"help", "import"}
    assert all(grammar.parse(line) for lines in LINES.values() for line in lines)
    assert not any(
        secret in line for lines in LINES.values() for line in lines for secret in C1_SECRETS
    )


def test_no_sub_command_from_another_channel_or_workspace_reads_or_changes_c1(
    storm: InProcess,
) -> None:
    _build_c1(storm)
    baseline = _state(storm)
    c1_posts = _channel_record(storm, CHANNEL)

    # No workshop over there yet: every line is refused the same way, C1 is not consulted.
    for boundary, (team, channel) in BOUNDARIES.items():
        for name in ORDER:
            for line in LINES[name]:
                answer = storm.run(line, user="U1", team=team, channel=channel)
                assert "There is no workshop in this channel" in answer, (boundary, line, answer)
                _assert_no_secret(answer, boundary, line)
    storm.wait_until_sent()
    assert _state(storm) == baseline
    assert _channel_record(storm, CHANNEL) == c1_posts, "nothing may be posted to C1"
    assert _channel_record(storm, OTHER_CHANNEL) == ([], [])

    # A workshop over there, facilitated by U3: `start` makes a new one and leaves C1 alone.
    for boundary, (team, channel) in BOUNDARIES.items():
        answer = storm.run(f"start Intruder {boundary}", user="U3", team=team, channel=channel)
        assert f"Intruder {boundary}" in answer and "started" in answer, answer
        assert f"Intruder {boundary}" in storm.run("status", user="U3", team=team, channel=channel)
    storm.wait_until_sent()
    assert _state(storm) == baseline
    # (The other workspace's kickoff went to its channel, which has C1's id: see below.)
    c1_posts = _channel_record(storm, CHANNEL)

    # Every line again, by U1 (C1's facilitator, a participant over there) and then by U3 (the
    # facilitator over there): refs like E1 or C1 must resolve in that workshop or nowhere.
    for boundary, (team, channel) in BOUNDARIES.items():
        for user in ("U1", "U3"):
            for name in ORDER:
                if name == "end" and user == "U1":
                    continue
                for line in LINES[name]:
                    answer = storm.run(line, user=user, team=team, channel=channel)
                    _assert_no_secret(answer, boundary, line)
        storm.wait_until_sent(timeout=30)
        assert _state(storm) == baseline, boundary
        if boundary == "another channel":
            assert _channel_record(storm, CHANNEL) == c1_posts, "nothing may be posted to C1"
            # The other channel got its own posts and files, none showing C1's content.
            messages, files = _channel_record(storm, OTHER_CHANNEL)
            assert any("Intruder another channel" in text for text in messages)
            assert len(files) >= len(LINES["export"]), "its exports went to its own channel"
        else:
            # The other workspace's channel has C1's id, and this fake Slack has one
            # workspace, so its posts land in the same fake channel: what was added there
            # since must not show C1's content.
            messages, files = _channel_record(storm, CHANNEL)
            messages, files = messages[len(c1_posts[0]) :], files[len(c1_posts[1]) :]
            assert len(files) >= len(LINES["export"]), "its exports went to its own channel"
        for text in messages + files:
            _assert_no_secret(text, boundary, "a post or a file")
    assert C1_TITLE in storm.run("status", user="U1")


def test_an_import_from_another_channel_or_workspace_leaves_c1_alone(storm: InProcess) -> None:
    """A file that reuses C1's ids, imported with the shortcut and then again through its
    confirmation, from across each boundary: it goes to a workshop over there, never C1's."""
    _build_c1(storm)
    baseline = _state(storm)
    c1_files = _channel_record(storm, CHANNEL)[1]
    intruder = {
        "format": "storm-model/1",
        "workshop": {"title": "Intruder Import"},
        "events": [{"id": "E1", "name": "Intruder Event Happened", "position": 1}],
        "commands": [{"id": "C1", "name": "Intruder Command", "causes": ["E1"]}],
    }
    shared = storm.fake.share_file("C3", "U3", "intruder.json", json.dumps(intruder).encode())
    message = storm.fake.message_json("C3", shared.ts)

    def answered(channel: str, needle: str) -> Any:
        storm.fake.wait_for(
            lambda f: any(needle in text_of(m) for m in f.ephemerals(channel, "U3")), timeout=10
        )
        return next(m for m in storm.fake.ephemerals(channel, "U3") if needle in text_of(m))

    for boundary, (team, channel) in BOUNDARIES.items():
        payload = storm.slack.message_action_payload(
            IMPORT_INTO_STORM,
            user="U3",
            channel=channel,
            message_ts=shared.ts,
            message=message,
            team_id=team,
        )
        assert storm.slack.interaction(payload).status == 200
        answered(channel, "Imported *intruder.json* into the new workshop *Intruder Import*")
        assert "*Model:* 1 command, 1 event" in storm.run(
            "status", user="U3", team=team, channel=channel
        ), boundary
        assert storm.slack.interaction({**payload, "action_ts": "2.000001"}).status == 200
        question = answered(channel, "Add them to the workshop *Intruder Import*?")
        button = next(
            e
            for b in question.blocks or []
            if b["type"] == "actions"
            for e in b["elements"]
            if e["text"]["text"] == "Import"
        )
        click = storm.slack.block_actions_payload(
            [{"action_id": button["action_id"], "type": "button", "value": button["value"]}],
            user="U3",
            channel=channel,
            message_ts=question.ts,
            team_id=team,
        )
        assert storm.slack.interaction(click).status == 200
        storm.fake.wait_for(
            lambda f, c=channel, q=question: "Imported" in text_of(f.message(c, q.ts) or q),
            timeout=10,
        )
    storm.wait_until_sent()
    assert _state(storm) == baseline
    assert _channel_record(storm, CHANNEL)[1] == c1_files
    for text in _channel_record(storm, OTHER_CHANNEL)[0]:
        _assert_no_secret(text, "another channel", "an import")


def test_reactions_from_another_channel_or_workspace_do_not_touch_c1(storm: InProcess) -> None:
    _build_c1(storm)
    e2 = storm.wait_for_post("*E2* Zebra Parcel Shipped")[0]
    said = storm.fake.post_user_message(CHANNEL, "U2", "Zebra Coupon Applied")
    assert storm.slack.reaction_added("zap", user="U2", channel=CHANNEL, ts=said.ts).status == 200
    storm.wait_for_post("Zebra Coupon Applied")  # E4, made by :zap:, still in step 1
    # typed, not :+1:: E2's message may be shared with the elements posted with it (the post
    # limit), and a :+1: there votes for none of them
    assert "Voted for" in storm.run("vote E2", user="U2")
    _wait_for_votes(storm, {"E2": 1})
    other = storm.fake.post_user_message(CHANNEL, "U3", "Zebra Stock Reserved")
    storm.wait_until_sent(within=2 * UPDATE_EVERY)  # the vote's update of E2's message too
    baseline = _state(storm)
    c1_posts = _channel_record(storm, CHANNEL)

    def across(team: str, channel: str) -> None:
        for kind, reaction, user, ts in [
            ("reaction_added", "+1", "U3", e2.ts),  # would be a second vote on E2
            ("reaction_removed", "+1", "U2", e2.ts),  # would take U2's vote away
            ("reaction_removed", "zap", "U2", said.ts),  # would take E4 back (still step 1)
            ("reaction_added", "question", "U3", e2.ts),  # would be a hotspot on E2
            ("reaction_added", "zap", "U3", other.ts),  # would capture C1's message
        ]:
            if team != TEAM and reaction in ("zap", "question") and kind == "reaction_added":
                continue  # the fake has one workspace: its C1 is T0001's, readable by anyone
            event = storm.slack.reaction_event(kind, reaction, user=user, channel=channel, ts=ts)
            assert storm.slack.event(event, team_id=team).status == 200

    for team, channel in BOUNDARIES.values():  # no workshop over there
        across(team, channel)
    _wait_until_reactions_applied(storm)
    for boundary, (team, channel) in BOUNDARIES.items():  # a workshop over there too
        storm.run(f"start Intruder {boundary}", user="U3", team=team, channel=channel)
        storm.run("event Intruder Event Happened", user="U3", team=team, channel=channel)
        across(team, channel)
    _wait_until_reactions_applied(storm)
    storm.wait_until_sent()

    assert _state(storm) == baseline
    assert _channel_record(storm, CHANNEL)[1] == c1_posts[1]
    for text in _channel_record(storm, OTHER_CHANNEL)[0]:
        _assert_no_secret(text, "another channel", "a post")
    assert [e["votes"] for e in storm.export_json()["events"]] == [1, 1, 0, 0]


def test_only_facilitators_facilitate_and_a_refusal_changes_nothing(storm: InProcess) -> None:
    storm.run("start Checkout", user="U1")
    storm.run("event Order Placed; Payment Received", user="U2")
    storm.run("hotspot Who pays? on E1", user="U3")
    storm.wait_until_sent(within=2 * UPDATE_EVERY)  # the hotspot's update of E1's message too
    baseline = _state(storm)
    status = storm.run("status", user="U1")
    posts = _channel_record(storm, CHANNEL)

    reserved = sorted(name for name, usage in grammar.USAGES.items() if usage.facilitator_only)
    assert reserved == sorted(
        ["next", "step", "extend", "timebox", "auto", "facilitator", "digest", "canvas", "end"]
    )
    for name in reserved:
        for line in LINES[name] + (["facilitator add <@U2|bob>"] if name == "facilitator" else []):
            answer = storm.run(line, user="U2")
            assert "Only a facilitator" in answer, (line, answer)
    storm.wait_until_sent()
    assert _state(storm) == baseline
    assert storm.run("status", user="U1") == status
    assert _channel_record(storm, CHANNEL) == posts
    # U2 did not make themselves a facilitator along the way.
    assert "Only a facilitator" in storm.run("next", user="U2")


def test_merge_and_drop_are_for_facilitators_and_authors(storm: InProcess) -> None:
    storm.run("start Checkout", user="U1")
    storm.run("event Order Placed", user="U2")  # E1, by U2
    storm.run("event Order Was Placed; Order Shipped; Order Cancelled", user="U3")  # E2-E4, by U3
    storm.wait_until_sent()
    baseline = _state(storm)

    refused = [
        ("U3", "merge E1 into E2"),  # U3 is not E1's author, nor a facilitator
        ("U3", "drop E1"),
        ("U2", "merge E2 into E1"),
        ("U2", "drop E3"),
    ]
    for user, line in refused:
        answer = storm.run(line, user=user)
        assert "Only a facilitator or the author" in answer, (line, answer)
    storm.wait_until_sent()
    assert _state(storm) == baseline

    assert ":no_entry_sign:" not in storm.run("merge E2 into E1", user="U3")  # its author
    assert [e["id"] for e in storm.export_json()["events"]] == ["E1", "E3", "E4"]
    assert ":no_entry_sign:" not in storm.run("drop E3", user="U3")  # author drops their own
    assert ":no_entry_sign:" not in storm.run("drop E1", user="U1")  # facilitator drops any
    assert [e["id"] for e in storm.export_json()["events"]] == ["E4"]
    # U3 undoes U3's drop, never U1's.
    storm.run("undo", user="U3")
    assert [e["id"] for e in storm.export_json()["events"]] == ["E3", "E4"]


# ---- signatures -------------------------------------------------------------------------

# How each bad request is signed, given its raw body: (timestamp header, signature header),
# or None to send neither header.
_Signer = Callable[[bytes], tuple[str, str] | None]


def _now() -> int:
    return int(time.time())


def _signed_at(offset: int) -> _Signer:
    """Correctly signed, but at `offset` seconds from now: only the time is wrong."""

    def sign(body: bytes) -> tuple[str, str]:
        at = _now() + offset
        return str(at), compute_signature(SIGNING_SECRET, at, body)

    return sign


BAD_SIGNATURES: dict[str, _Signer] = {
    "forged": lambda body: (str(_now()), "v0=" + "0" * 64),
    "missing": lambda body: None,
    "stale": _signed_at(-6 * 60),
    "from-the-future": _signed_at(+6 * 60),
    "malformed": lambda body: (str(_now()), "not-a-signature"),
    "empty": lambda body: (str(_now()), ""),
    "non-numeric-timestamp": lambda body: ("yesterday", compute_signature(SIGNING_SECRET, 0, body)),
    "another-body": lambda body: (str(_now()), compute_signature(SIGNING_SECRET, _now(), b"{}")),
    "another-secret": lambda body: (str(_now()), compute_signature("not-our-secret", _now(), body)),
}


def _send(storm: InProcess, body: str, content_type: str, signer: _Signer) -> Response:
    signed = signer(body.encode())
    if signed is None:
        return storm.slack.post(body, content_type, sign=False)
    timestamp, signature = signed
    return storm.slack.post(body, content_type, timestamp=timestamp, signature=signature)


@pytest.mark.parametrize("how", list(BAD_SIGNATURES))
def test_badly_signed_events_commands_and_handshakes_are_refused_and_change_nothing(
    storm: InProcess, how: str
) -> None:
    signer = BAD_SIGNATURES[how]
    storm.run("start Checkout")
    storm.run("event Order Placed", user="U2")
    e1 = storm.wait_for_post("*E1* Order Placed")[0]
    said = storm.fake.post_user_message(CHANNEL, "U3", "Refund Issued")
    storm.wait_until_sent()
    baseline = _state(storm)
    calls = len(storm.fake.calls)

    for reaction, ts in (("+1", e1.ts), ("zap", said.ts), ("question", e1.ts)):
        event = storm.slack.reaction_event(
            "reaction_added", reaction, user="U3", channel=CHANNEL, ts=ts
        )
        body = json.dumps(storm.slack.envelope(event))
        assert _send(storm, body, "application/json", signer).status == 401, reaction
    for line in ("end", "event Forged Event", "vote E1", "drop E1"):
        form = storm.slack.command_payload(line, user="U1", channel=CHANNEL)
        body = urlencode(form)
        assert _send(storm, body, "application/x-www-form-urlencoded", signer).status == 401
    handshake = json.dumps(
        {"token": "t", "challenge": "forged-challenge", "type": "url_verification"}
    )
    response = _send(storm, handshake, "application/json", signer)
    assert response.status == 401 and "forged-challenge" not in response.body

    # Refused before anything is recorded: nothing to wait for.
    storm.wait_until_sent()
    assert _state(storm) == baseline
    assert storm.fake.calls[calls:] == [], "a refused request must not reach Slack either"


def test_a_signature_inside_the_five_minute_window_is_accepted(storm: InProcess) -> None:
    """The window is Slack's five minutes either way; a little clock skew is no attack."""
    storm.run("start Checkout")
    for offset in (-4 * 60, +4 * 60):
        signer = _signed_at(offset)
        form = storm.slack.command_payload(f"event Skewed {offset}", user="U1", channel=CHANNEL)
        body = urlencode(form)
        response = _send(storm, body, "application/x-www-form-urlencoded", signer)
        assert response.status == 200, (offset, response.body)
    storm.wait_until_sent()
    assert [e["name"] for e in storm.export_json()["events"]] == ["Skewed -240", "Skewed 240"]


# ---- helpers ----------------------------------------------------------------------------


def _build_c1(storm: InProcess) -> None:
    for user, line in C1_LINES:
        answer = storm.run(line, user=user)
        assert ":no_entry_sign:" not in answer and ":warning:" not in answer, (line, answer)
    # The vote's message update waits a little after the element's message went out: the
    # state compared with afterwards is C1's once that is sent too.
    storm.wait_until_sent(within=2 * UPDATE_EVERY)


def _state(storm: InProcess) -> dict[str, Any]:
    """Everything stored about C1's workshop, row by row, and what a person sees of it."""
    rows: dict[str, Any] = {}
    with unit_of_work(storm.storm.engine) as session:
        workshop = repo.open_workshop(session, team_id=TEAM, channel_id=CHANNEL)
        assert workshop is not None, "C1's workshop must stay open"
        workshop_id = workshop.id
        tables = SQLModel.metadata.tables
        element_ids = [
            row.id
            for row in session.execute(
                select(tables["element"]).where(tables["element"].c.workshop_id == workshop_id)
            )
        ]
        for name, table in sorted(tables.items()):
            if name == "workshop":
                query = select(table).where(table.c.id == workshop_id)
            elif "workshop_id" in table.c:
                query = select(table).where(table.c.workshop_id == workshop_id)
            elif "element_id" in table.c:
                query = select(table).where(table.c.element_id.in_(element_ids))
            else:
                continue  # not a workshop's data (the event inbox, the people cache)
            rows[name] = sorted(
                (
                    tuple(sorted(row._mapping.items(), key=lambda item: item[0]))
                    for row in session.execute(query)
                ),
                key=repr,
            )
    rows["status"] = storm.run("status", user="U1")
    return rows


def _channel_record(storm: InProcess, channel: str) -> tuple[list[str], list[str]]:
    """Every message (ephemerals included) and every file in a channel, as text."""
    messages = [
        f"{m.text}\n{text_of(m)}\n{json.dumps(m.blocks or [])}"
        for m in storm.fake.messages(channel, include_ephemeral=True)
        if m.user == storm.fake.bot_user_id
    ]
    files = [f"{f.title}\n{f.initial_comment}\n{f.text}" for f in storm.fake.files(channel)]
    return messages, files


def _assert_no_secret(text: str, boundary: str, line: str) -> None:
    leaked = [secret for secret in C1_SECRETS if secret in text]
    assert leaked == [], f"{boundary}: `{line}` showed C1's {leaked}:\n{text}"


def _wait_for_votes(storm: InProcess, expected: dict[str, int]) -> None:
    storm.fake.wait_for(
        lambda _: (
            {e["id"]: e["votes"] for e in storm.export_json()["events"] if e["id"] in expected}
            == expected
        ),
        timeout=10,
    )


def _wait_until_reactions_applied(storm: InProcess, timeout: float = 10.0) -> None:
    """Every reaction event received has been claimed for processing (then applied at once)."""

    def done(_: object) -> bool:
        with unit_of_work(storm.storm.engine) as session:
            return not repo.unprocessed_slack_events(session)

    storm.fake.wait_for(done, timeout=timeout)
    storm.wait_until_sent()

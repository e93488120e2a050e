"""The sandbox's pure parts: typed text encoded as Slack sends it, the clock lines, and
Slack messages read back as terminal text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.sandbox.blockkit import find_choice, find_field, find_option, form_fields
from bot.sandbox.console import clock_target
from bot.sandbox.fake_slack import Message
from bot.sandbox.render import Feed, Reader, mrkdwn, render_view
from bot.sandbox.session import SandboxError, reaction_name, to_slack

NOW = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
PEOPLE = {"alice": "UALICE", "bob": "UBOB"}
READER = Reader(
    name_of={"UALICE": "alice", "UBOB": "bob", "U0BOT": "Storm"}.get,
    channel_label=lambda channel: "#general",
    time_of=lambda ts: NOW,
)


def test_typed_text_is_encoded_as_slack_sends_it() -> None:
    assert to_slack("facilitator add @bob", PEOPLE, {}) == "facilitator add <@UBOB|bob>"
    assert to_slack("ask @Alice, then @zoe.", PEOPLE, {}) == "ask <@UALICE|Alice>, then @zoe."
    assert to_slack("in #general", PEOPLE, {"general": "CGENERAL"}) == "in <#CGENERAL|general>"
    assert to_slack("Fish & <Chips>", PEOPLE, {}) == "Fish &amp; &lt;Chips&gt;"
    assert to_slack("mail bob@example.com", PEOPLE, {}) == "mail bob@example.com"


def test_reaction_names_are_slacks() -> None:
    assert reaction_name(":zap:") == "zap"
    assert reaction_name("thumbsup") == "+1"
    with pytest.raises(SandboxError):
        reaction_name("two words")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("+2h", NOW + timedelta(hours=2)),
        ("+1d30m", NOW + timedelta(days=1, minutes=30)),
        ("09:00", datetime(2026, 3, 3, 9, 0, tzinfo=UTC)),  # the next 09:00
        ("11:00", datetime(2026, 3, 2, 11, 0, tzinfo=UTC)),
        ("09:00 tomorrow", datetime(2026, 3, 3, 9, 0, tzinfo=UTC)),
        ("tomorrow", NOW + timedelta(days=1)),
        ("2026-12-01 09:00", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
    ],
)
def test_clock_lines(line: str, expected: datetime) -> None:
    assert clock_target(line, NOW) == expected


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("09:00 today", "the clock only moves forward"),
        ("2020-01-01", "the clock only moves forward"),
        ("+2 weeks", "not a duration"),
        ("25:00", "not a time of day"),
        ("soon", "not a time"),
        ("2026-02-30", "not a date"),
    ],
)
def test_clock_lines_that_cannot_be_followed(line: str, problem: str) -> None:
    with pytest.raises(SandboxError, match=problem):
        clock_target(line, NOW)


def test_mrkdwn_reads_as_slack_shows_it() -> None:
    text = mrkdwn(
        "*E1* Fish &amp; Chips · `/storm next` · _soon_ ~old~ :zap: :large_orange_square:\n"
        "- one\n&gt; quoted\n<@UBOB>, <@UALICE|alice> and <!channel> see "
        "<https://example.com|the docs> by <!date^1772443800^{time}|2026-03-02 09:30 UTC>",
        READER,
    )
    assert text.plain == (
        "E1 Fish & Chips · /storm next · soon old ⚡ 🟧\n"
        "• one\n▎ quoted\n@bob, @alice and @channel see the docs by 2026-03-02 09:30 UTC"
    )
    styled = {text.plain[span.start : span.end]: str(span.style) for span in text.spans}
    assert "bold" in styled["E1"] and "italic" in styled["soon"]
    assert "link https://example.com" in styled["the docs"]


def _message(ts: str, **fields: object) -> Message:
    return Message(ts=ts, channel="CGENERAL", user="U0BOT", bot_id="B0BOT", **fields)  # type: ignore[arg-type]


def test_the_feed_numbers_each_message_once_and_indents_replies() -> None:
    feed = Feed(READER)
    parent = _message("1.000001", text="Step 1 is open")
    reply = _message("1.000002", text="E1 Order Placed", thread_ts="1.000001")
    secret = _message("1.000003", text="Only for you", ephemeral_to="UBOB")
    assert feed.take_new([parent, reply, secret]) == [parent, reply, secret]
    assert feed.take_new([parent, reply, secret]) == []
    assert (feed.number_of("CGENERAL", "1.000002"), feed.message(1)) == (2, parent)
    assert feed.number_of("CGENERAL", "1.000003") is None  # nobody can react to it
    lines = _plain(feed.render(reply, viewer="bob"))
    assert lines == ["    [2] Storm  10:15  in thread [1]", "        E1 Order Placed"]
    assert _plain(feed.render(secret, viewer="bob"))[0] == "Storm  10:15  (only you, bob)"
    assert _plain(feed.render(secret, viewer="alice"))[0] == "Storm  10:15  (only bob)"
    assert feed.take_deleted([reply]) == [2]


def _plain(renderable: object) -> list[str]:
    from rich.console import Console

    console = Console(width=80, color_system=None, record=True)
    with console.capture() as captured:
        console.print(renderable)
    return captured.get().splitlines()


def test_the_feed_shows_an_edited_message_again_under_its_number() -> None:
    feed = Feed(READER)
    parent = _message("1.000001", text="Step 1 is open")
    reply = _message("1.000002", text="E1 Order Placed", thread_ts="1.000001")
    feed.take_new([parent, reply])
    assert feed.take_updated([parent, reply]) == []
    edited = _message("1.000002", text="E1 Order Submitted", thread_ts="1.000001")
    edited.edited_ts = "1.000009"
    assert feed.changed(edited) and not feed.changed(parent)
    assert feed.take_updated([parent, edited]) == [edited]
    assert feed.take_updated([parent, edited]) == []  # shown once per edit
    assert feed.message(2) == edited  # `:react 2 +1` reacts to what it says now
    lines = _plain(feed.render(edited, viewer="bob", updated=True))
    assert lines == ["    [2 updated] Storm  10:15  in thread [1]", "        E1 Order Submitted"]


def _element_blocks(key: str, votes: str) -> list[dict]:
    menu = {
        "type": "overflow",
        "action_id": "menu",
        "options": [
            {"text": {"type": "plain_text", "text": label}, "value": f"{label} {key}"}
            for label in ("Rename…", "Drop")
        ],
    }
    vote = {"type": "button", "action_id": "vote", "value": key}
    vote["text"] = {"type": "plain_text", "text": f"Vote{votes}"}
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{key} Order Placed"}},
        {"type": "actions", "block_id": f"controls {key}", "elements": [vote, menu]},
    ]


def test_buttons_and_menus_show_compactly_and_a_shared_message_says_which() -> None:
    feed = Feed(READER)
    shared = _message("1.000001", text="two elements")
    shared.blocks = _element_blocks("E1", " · 2") + _element_blocks("E2", "")
    feed.take_new([shared])
    assert _plain(feed.render(shared))[1:] == [
        "    E1 Order Placed",
        "    [Vote · 2] [⋯ Rename… | Drop]",
        "    E2 Order Placed",
        "    [Vote] [⋯ Rename… | Drop]",
    ]
    assert find_choice(shared.blocks, "vote", which=2).element["value"] == "E2"
    assert find_choice(shared.blocks, "Vote · 2").element["value"] == "E1"
    assert find_choice(shared.blocks, "Rename", which=2).option == {
        "text": {"type": "plain_text", "text": "Rename…"},
        "value": "Rename… E2",
    }
    with pytest.raises(LookupError, match="2 things labelled 'Vote'; say which"):
        find_choice(shared.blocks, "Vote")
    with pytest.raises(LookupError, match=r"there is no 3\. 'Drop'"):
        find_choice(shared.blocks, "Drop", which=3)


def test_an_ephemeral_message_with_a_button_gets_a_number() -> None:
    feed = Feed(READER)
    note = _message("1.000001", text="Time is up")
    note.ephemeral_to = "UALICE"
    plain = _message("1.000002", text="Only for you")
    plain.ephemeral_to = "UALICE"
    note.blocks = _element_blocks("E1", "")
    feed.take_new([note, plain])
    assert feed.number_of("CGENERAL", "1.000001") == 1
    assert feed.number_of("CGENERAL", "1.000002") is None


def test_a_form_shows_its_fields_what_they_hold_and_the_errors() -> None:
    kinds = [
        {"text": {"type": "plain_text", "text": k}, "value": k.lower()} for k in ("Event", "View")
    ]
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Add"},
        "submit": {"type": "plain_text", "text": "Add"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "In *Checkout*"}},
            {
                "type": "input",
                "block_id": "name",
                "label": {"type": "plain_text", "text": "Name"},
                "hint": {"type": "plain_text", "text": "One per line"},
                "element": {"type": "plain_text_input", "action_id": "v", "multiline": True},
            },
            {
                "type": "input",
                "block_id": "kind",
                "optional": True,
                "label": {"type": "plain_text", "text": "Kind"},
                "element": {
                    "type": "static_select",
                    "action_id": "v",
                    "options": kinds,
                    "initial_option": kinds[1],
                },
            },
        ],
        "state": {"values": {"name": {"v": {"type": "plain_text_input", "value": "A\nB"}}}},
    }
    assert _plain(render_view(view, READER, errors={"name": "Already there"})) == [
        "┌ Add",
        "  In Checkout",
        "  Name = A",
        "         B   (several lines: write \\n between them)",
        "    One per line",
        "    ✗ Already there",
        "  Kind = View   (optional; one of: Event, View)",
        "  [Add] [Cancel]",
        "└",
    ]


def test_a_field_and_an_option_are_found_by_the_start_of_their_label() -> None:
    fields = form_fields(
        {
            "blocks": [
                {
                    "type": "input",
                    "block_id": "fields",
                    "label": {"type": "plain_text", "text": "Fields, one per line"},
                    "element": {"type": "plain_text_input", "action_id": "v"},
                },
                {
                    "type": "input",
                    "block_id": "into",
                    "label": {"type": "plain_text", "text": "Merge E1 into"},
                    "element": {
                        "type": "static_select",
                        "action_id": "v",
                        "options": [
                            {
                                "text": {"type": "plain_text", "text": "E2 Order Shipped"},
                                "value": "2",
                            }
                        ],
                    },
                },
            ]
        }
    )
    assert find_field(fields, "fields").block_id == "fields"
    assert find_field(fields, "into").block_id == "into"  # a block id works too
    assert find_option(fields[1].element, "e2")["value"] == "2"
    with pytest.raises(LookupError, match="no field 'Field' in this form"):
        find_field(fields, "Field")  # a start of a word is not a label

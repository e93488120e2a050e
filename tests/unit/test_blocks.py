"""Posts become Block Kit within Slack's limits, split and continued, never cut."""

from bot.core import controls, messages
from bot.core.controls import Button, Menu
from bot.core.messages import Post
from bot.core.model import ElementInfo, FieldSpec
from bot.sandbox.fake_slack import validate_blocks
from bot.slack.blocks import (
    MAX_ACTIONS,
    MAX_BLOCKS,
    MAX_SECTION_TEXT,
    MAX_SHARED,
    action_pattern,
    build_messages,
    build_shared,
    control_element,
)


def _section_texts(post: Post) -> list[str]:
    return [
        block["text"]["text"]
        for message in build_messages(post)
        for block in message.blocks
        if block["type"] == "section"
    ]


def test_a_long_section_is_split_at_line_breaks_without_losing_a_line() -> None:
    lines = [f"*E{n}* an event with a reasonably long name number {n}" for n in range(400)]
    post = Post(text="t", heading="Timeline", sections=("\n".join(lines),))
    texts = _section_texts(post)
    assert len(texts) > 1
    assert all(len(text) <= MAX_SECTION_TEXT for text in texts)
    assert "\n".join(texts).split("\n") == lines


def test_a_single_huge_line_is_split_at_spaces() -> None:
    words = " ".join(f"word{n}" for n in range(1500))
    texts = _section_texts(Post(text="t", sections=(words,)))
    assert all(len(text) <= MAX_SECTION_TEXT for text in texts)
    assert " ".join(texts).split() == words.split()


def test_too_many_blocks_continue_in_further_messages() -> None:
    post = Post(text="Report", heading="Report", sections=tuple(f"s{n}" for n in range(120)))
    pages = build_messages(post)
    assert len(pages) == 3
    assert all(len(page.blocks) <= MAX_BLOCKS for page in pages)
    assert pages[1].text == "Report (continued)"
    assert [b["text"]["text"] for p in pages for b in p.blocks if b["type"] == "section"] == [
        f"s{n}" for n in range(120)
    ]


def test_fallback_text_is_escaped() -> None:
    (message,) = build_messages(Post(text="<!channel> & co", sections=("x",)))
    assert message.text == "&lt;!channel&gt; &amp; co"


def _element(n: int, fields: int = 0) -> Post:
    """An element's post as Storm makes it, with `fields` long field names."""
    info = ElementInfo(
        key=f"E{n}",
        kind="event",
        name=f"Something & <{n}> happened " * 7,
        author="U1",
        votes=n % 3,
        step_number=1,
        fields=tuple(FieldSpec(f"field & number {f} of {n}", False, None) for f in range(fields)),
    )
    return messages.element_posted(info, "Ada", workshop_id=7)


def test_a_shared_message_keeps_each_elements_section_and_buttons_apart() -> None:
    posts = [_element(n) for n in range(1, MAX_SHARED + 1)]
    message = build_shared(posts)
    assert validate_blocks(message.blocks) == []  # block ids unique, texts within limits
    assert [b["type"] for b in message.blocks] == ["section", "actions", "context"] * MAX_SHARED
    for n, post in enumerate(posts):
        section, controls = message.blocks[3 * n], message.blocks[3 * n + 1]
        assert section["text"]["text"] == post.sections[0]  # nothing cut when it fits
        assert [e["value"] for e in controls["elements"] if "value" in e] == [f"7:E{n + 1}"]
    assert message.text.startswith("E1 Something &amp; &lt;1&gt; happened")


def test_a_shared_message_stays_within_slacks_limits_however_many_fields_it_gains() -> None:
    posts = [_element(n, fields=300) for n in range(1, MAX_SHARED + 1)]
    message = build_shared(posts)
    assert validate_blocks(message.blocks) == []
    assert len(message.blocks) <= MAX_BLOCKS
    texts = [message.text] + [
        b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"]
        for b in message.blocks
        if b["type"] in ("section", "context")
    ]
    assert sum(len(t) for t in texts) <= 40_000
    for n, block in enumerate(b for b in message.blocks if b["type"] == "section"):
        shown = block["text"]["text"]
        assert shown.endswith("…")  # cut, and says so
        assert shown.startswith(f":large_orange_square: *E{n + 1}* Something")
        head = shown[:-1]
        assert ";" in head[head.rfind("&") :]  # never cut inside an escaped character
    # Alone in its message, the same element is never cut: it continues in its thread.
    alone = build_messages(posts[0])
    assert "field &amp; number 299 of 1" in "".join(
        b["text"]["text"] for page in alone for b in page.blocks if b["type"] == "section"
    )


def test_many_buttons_take_several_actions_blocks_each_with_unique_action_ids() -> None:
    buttons = tuple(Button(f"Fix {n}", controls.FIX, f'[1,"c","C{n}",null]') for n in range(60))
    (message,) = build_messages(Post(text="Check", sections=("findings",), controls=buttons))
    actions = [b for b in message.blocks if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [MAX_ACTIONS, MAX_ACTIONS, 10]
    assert len({b["block_id"] for b in actions}) == 3
    for block in actions:
        ids = [e["action_id"] for e in block["elements"]]
        assert len(set(ids)) == len(ids)
        assert all(action_pattern(controls.FIX).match(i) for i in ids)
    shown = [e["text"]["text"] for b in actions for e in b["elements"]]
    assert shown == [f"Fix {n}" for n in range(60)]  # in order, none lost
    assert not action_pattern(controls.FIX).match("storm.fixer")
    assert not action_pattern(controls.FIX).match("storm.fix.1x")


def test_a_menu_beyond_five_choices_is_a_select() -> None:
    five = Menu("element", tuple((f"Choice {n}", f"c{n} 1:C1") for n in range(5)))
    six = Menu("element", (*five.choices, ("Scenario…", "scenario 1:C1")))
    assert control_element(five)["type"] == "overflow"
    select = control_element(six)
    assert select["type"] == "static_select" and len(select["options"]) == 6
    assert select["action_id"] == control_element(five)["action_id"]  # routed alike

"""Posts become Block Kit within Slack's limits, split and continued, never cut."""

from bot.core.messages import Post
from bot.slack.blocks import MAX_BLOCKS, MAX_SECTION_TEXT, build_messages


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

"""User text is stored as typed and always shown escaped."""

import pytest

from bot.core.text import TextError, clean_name, escape, from_slack, mentioned_users


def test_escape_neutralises_mentions_and_entities() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


@pytest.mark.parametrize(
    ("raw", "typed"),
    [
        ("a &amp; b &lt;c&gt;", "a & b <c>"),
        ("hi <@U123|dana>", "hi @dana"),
        ("hi <@U123>", "hi @U123"),
        ("in <#C1|general>", "in #general"),
        ("<!here> now", "@here now"),
        ("see <https://example.com|the site>", "see the site"),
        ("see <https://example.com>", "see https://example.com"),
        ("&amp;lt;", "&lt;"),
    ],
)
def test_from_slack_gives_back_what_was_typed(raw: str, typed: str) -> None:
    assert from_slack(raw) == typed


def test_mentioned_users() -> None:
    assert mentioned_users("<@U1|a> and <@W2>") == ["U1", "W2"]


def test_clean_name_collapses_space_and_refuses_the_unshowable() -> None:
    assert clean_name("  Order \t Placed  ") == "Order Placed"
    assert clean_name("Bestellung 📦 aufgegeben 👍🏽") == "Bestellung 📦 aufgegeben 👍🏽"
    assert clean_name("تم الطلب") == "تم الطلب"
    with pytest.raises(TextError):
        clean_name("   ")
    with pytest.raises(TextError):
        clean_name("bell\x07")

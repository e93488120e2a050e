"""Text as people typed it, and text as Slack shows it.

Slack sends what people type with `&`, `<` and `>` entity-escaped and with mentions, channels
and links wrapped in `<…>`. Storm stores what the person *saw* when typing and escapes it
again on the way out, so that a name like `<!channel>` can never mention anyone.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_LENGTH = 200
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_WHITESPACE = re.compile(r"\s+")


class TextError(ValueError):
    """Text that Storm refuses to store; the message says why, in words."""


def escape(text: str) -> str:
    """Escape user text for mrkdwn, exactly as Slack requires: `&`, `<` and `>`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain_token(inner: str) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (label or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        if label:
            return label
        word = target[1:].split("^", 1)[0]
        return "@" + word
    return label or target


def from_slack(raw: str) -> str:
    """Turn Slack-encoded text back into what the person saw when typing it."""
    plain = _SLACK_TOKEN.sub(lambda m: _plain_token(m.group(1)), raw)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mentioned_users(raw: str) -> list[str]:
    """User ids mentioned in Slack-encoded text (`<@U123|alice>`), in order."""
    return _USER_MENTION.findall(raw)


def unescape(text: str) -> str:
    """The plain text behind escaped mrkdwn (for notification text, which is escaped again)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def clean_name(text: str, *, what: str = "a name") -> str:
    """Collapse white space and refuse what would make a broken or invisible name."""
    collapsed = _WHITESPACE.sub(" ", text).strip()
    if not collapsed:
        raise TextError(f"{what} cannot be empty")
    if all(unicodedata.category(c) in ("Cf", "Zs", "Zl", "Zp") for c in collapsed):
        raise TextError(f"{what} cannot be made only of invisible characters")
    controls = [c for c in collapsed if unicodedata.category(c) == "Cc"]
    if controls:
        raise TextError(f"{what} cannot contain control characters")
    if len(collapsed) > MAX_NAME_LENGTH:
        raise TextError(
            f"{what} can be at most {MAX_NAME_LENGTH} characters (this one has {len(collapsed)})"
        )
    return collapsed


def with_article(kind: str) -> str:
    """`a command`, `an event`: an element kind as a sentence names it."""
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 event`, `3 events`."""
    return f"{count} {word if count == 1 else (many or word + 's')}"

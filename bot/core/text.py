"""Text as people typed it, and text as Slack shows it.

Slack sends what people type with `&`, `<` and `>` entity-escaped and with mentions, channels
and links wrapped in `<…>`. Storm stores what the person *saw* when typing and escapes it
again on the way out, so that a name like `<!channel>` can never mention anyone.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_LENGTH = 200
MAX_ANSWER_LENGTH = 1000  # a hotspot's answer may say more than a name
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_WHITESPACE = re.compile(r"\s+")


class TextError(ValueError):
    """Text that Storm refuses to store; the message says why, in words."""


def escape(text: str) -> str:
    """Escape text for Slack exactly as Slack requires: `&`, `<` and `>` (enough for plain
    text such as a notification; user text shown in mrkdwn wants `literal`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Slack has no escape for its formatting characters. What it always shows as typed is the
# fallback of a date token it cannot format (an invalid format, `{_}`), so a run of them
# goes in as `<!date^00000000^{_}|*>`: the trick jsx-slack's `<Escape>` uses. A run between two
# letters or digits (`order_id`, `a*b`) formats nothing in Slack and is left alone, which
# also keeps emoji codes (`:large_orange_square:`) working.
_FORMATTING = re.compile(r"(?<![^\W_])[*_~`]+|[*_~`]+(?![^\W_])")
_LITERAL_TOKEN = re.compile(r"<!date\^00000000\^\{_\}\|([*_~`]+)>")
_CODE_LOOKALIKE = (
    "\u02cb"  # modifier letter grave accent: a backtick would end the code span it is shown in
)


def literal(text: str) -> str:
    """User text for mrkdwn, shown as typed (SPEC §4.3, §9): `&`, `<` and `>` escaped, and
    `*bold*`, `_italic_`, `~strike~` and `` `code` `` kept from formatting."""
    escaped = escape(text)
    if not any(c in escaped for c in "*_~`"):
        return escaped
    return _FORMATTING.sub(lambda m: f"<!date^00000000^{{_}}|{m.group(0)}>", escaped)


def code(text: str) -> str:
    """Text shown inside a `` `code` `` span: nothing formats there, but a backtick would end
    the span, so it becomes its look-alike."""
    return escape(text).replace("`", _CODE_LOOKALIKE)


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
    plain = _LITERAL_TOKEN.sub(lambda m: m.group(1), text) if "<!date^00000000^" in text else text
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def clean_name(text: str, *, what: str = "a name", limit: int = MAX_NAME_LENGTH) -> str:
    """Collapse white space and refuse what would make a broken or invisible name (or text
    of at most `limit` characters, such as a hotspot's answer)."""
    collapsed = _WHITESPACE.sub(" ", text).strip()
    if not collapsed:
        raise TextError(f"{what} cannot be empty")
    if all(unicodedata.category(c) in ("Cf", "Zs", "Zl", "Zp") for c in collapsed):
        raise TextError(f"{what} cannot be made only of invisible characters")
    controls = [c for c in collapsed if unicodedata.category(c) == "Cc"]
    if controls:
        raise TextError(f"{what} cannot contain control characters")
    if len(collapsed) > limit:
        raise TextError(f"{what} can be at most {limit} characters (this one has {len(collapsed)})")
    return collapsed


def with_article(kind: str) -> str:
    """`a command`, `an event`: an element kind as a sentence names it; alternatives written
    `command or event or view` become `a command, an event or a view`."""
    if " or " in kind:
        *first, last = [with_article(part) for part in kind.split(" or ")]
        return f"{', '.join(first)} or {last}"
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 event`, `3 events`, `2 policies` (a consonant and `y` make `ies`)."""
    if count == 1:
        return f"{count} {word}"
    if many is None:
        regular = len(word) > 1 and word[-1] == "y" and word[-2] not in "aeiou"
        many = word[:-1] + "ies" if regular else word + "s"
    return f"{count} {many}"


def sentence(text: str) -> str:
    """`text` ended with a full stop, unless it already ends a sentence (`…cancellation?`)."""
    return text if text.endswith((".", "?", "!", "…")) else text + "."

"""Hypothesis strategies for hostile text, and a model of what Storm must make of it.

Why a model of Slack's side: Slack sends what a person typed with `&`, `<` and `>`
entity-escaped, and real mentions, channels and links as `<…>` tokens. "Stored as typed" needs
both sides of that, so `SlackText.raw` is the wire form and `SlackText.shown` is what the person
saw while typing: what Storm must store, and show back. The model here is written from Slack's
documentation and SPEC §4.3/§9, not from Storm's code, so that the properties test the code
rather than restate it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from bot.sandbox.fake_slack import MESSAGE_TEXT_MAX, validate_blocks

MAX_NAME_LENGTH = 200  # README "Limits": names are at most 200 characters

# --- Pieces of hostile text -----------------------------------------------------------------

#: Mention syntax as it would reach Slack unescaped: any of these in a post would notify.
MENTION_SYNTAX = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U1>",
    "<@W42|dana>",
    "<#C1>",
    "<#C9|general>",
    "<!subteam^S1>",
    "<!subteam^S2|@devs>",
    "<https://evil.example/|click me>",
    "<!date^1700000000^{date}|today>",
)
MRKDWN = ("*bold*", "_it_", "~gone~", "`code`", "```block```", "> quote", "&gt; quote", "•")
ENTITIES = ("&", "&amp;", "&lt;", "&gt;", "&lt;!channel&gt;", "&#60;", "&nbsp;", "<", ">", "<>")
SQL = (
    "'; DROP TABLE element; --",
    '" OR "1"="1',
    "1; DELETE FROM workshop",
    "%",
    "_",
    "\\",
    "NULL",
    "' OR 1=1 /*",
)
EMOJI = (
    "👍",
    "👍🏽",
    "👩🏾‍💻",
    "👨‍👩‍👧‍👦",
    "🇺🇦",
    "🏳️‍🌈",
    "❤️",
    ":zap:",
    ":+1::skin-tone-3:",
    ":large_orange_square:",
    "🧑🏿‍🤝‍🧑🏻",
)
RIGHT_TO_LEFT = (
    "שלום עולם",
    "مرحبا بالعالم",
    "\u202eevil\u202c",
    "\u200f",
    "\u200e",
    "abc שלום 123",
    "\u2067isolate\u2069",
)
ODD_UNICODE = (
    "e\u0301",
    "Z̴̡̧a̸l̷g̶o̵",
    "\u200b",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "ǅ",
    "ﬁ",
    "\U0001d518\U0001d52b\U0001d526",  # "Uni" in Fraktur letters
)
#: Control characters that are not white space: a name holding one must be refused.
CONTROLS = ("\x00", "\x07", "\x08", "\x1b[31m", "\x7f", "\x9b")
#: White space, including the control characters Unicode counts as white space.
SPACES = (" ", "  ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\u2028", "\u3000")
FORMAT = ("{}", "{0}", "%s", "${x}", "<script>alert(1)</script>", "\\n")
GRAMMAR = (
    "->",
    "<-",
    "→",
    "←",
    ":",
    ";",
    ",",
    ".",
    "*",
    '"',
    "“”",
    " on E1",
    " into ",
    " and ",
    " when ",
    " then ",
    " given ",
    "error",
    "nothing",
    "E1",
    "c1",
    "e99",
)
WORDS = ("Order Placed", "a", "Payment", "x")

FRAGMENTS = (
    MENTION_SYNTAX
    + MRKDWN
    + ENTITIES
    + SQL
    + EMOJI
    + RIGHT_TO_LEFT
    + ODD_UNICODE
    + CONTROLS
    + SPACES
    + FORMAT
    + GRAMMAR
    + WORDS
)

#: Any character but lone surrogates, which no UTF-8 request (and so no Slack request) can carry.
characters = st.characters(exclude_categories=("Cs",))
#: Random characters for the bulk of names; control characters come from `CONTROLS` instead, so
#: that most generated names are ones Storm must keep (and so test "stored as typed").
_visible = st.characters(exclude_categories=("Cs", "Cc"))


def slack_escape(typed: str) -> str:
    """What Slack does to typed text before sending it (docs: "Escaping text")."""
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _short_text(max_pieces: int) -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(FRAGMENTS), st.text(_visible, min_size=1, max_size=12))
    return st.lists(piece, max_size=max_pieces).map("".join)


def _long_text() -> st.SearchStrategy[str]:
    """Around the 200-character limit, or far beyond it."""
    near_limit = st.builds(
        lambda fragment, n: (fragment * n)[: MAX_NAME_LENGTH + 10],
        st.sampled_from((*FRAGMENTS, "a")),
        st.integers(1, MAX_NAME_LENGTH + 10),
    )
    very_long = st.builds(
        lambda fragment, n: fragment * n, st.sampled_from(FRAGMENTS), st.integers(200, 3000)
    )
    return st.one_of(near_limit, very_long)


def typed_text(*, max_pieces: int = 6) -> st.SearchStrategy[str]:
    """Hostile text as a person types it: fragments and random characters, sometimes long."""
    short = _short_text(max_pieces)
    return st.one_of(short, short, short, short, _long_text())


# --- What Slack sends ---------------------------------------------------------------------

#: Real Slack tokens (a mention picked from the menu, a pasted link) and what the person saw.
#: Unlabelled mentions show their id: Storm has no way to know the handle from the line alone.
#: Inside a token Slack escapes `&`, `<` and `>` too, so a label never holds a raw `>`.
SLACK_TOKENS: tuple[tuple[str, str], ...] = (
    ("<@U1>", "@U1"),
    ("<@U1|alice>", "@alice"),
    ("<@W42|dana>", "@dana"),
    ("<!channel>", "@channel"),
    ("<!here>", "@here"),
    ("<!everyone>", "@everyone"),
    ("<#C1>", "#C1"),
    ("<#C9|general>", "#general"),
    ("<!subteam^S2|@devs>", "@devs"),
    ("<https://example.com/a?b=1&amp;c=2|the docs>", "the docs"),
    ("<https://example.com/x>", "https://example.com/x"),
    ("<https://example.com/a?b=1&amp;c=2>", "https://example.com/a?b=1&c=2"),
    ("<mailto:ops@example.com|ops@example.com>", "ops@example.com"),
    ("<https://example.com/a;b|a;b>", "a;b"),
    ("<https://example.com/k:v,w|k: v, w -&gt; x &lt;- y>", "k: v, w -> x <- y"),
)
#: Stands for a Slack token in `SlackText.literal`: no separator can be made of it.
TOKEN_MARK = "\ufffc"


@dataclass(frozen=True)
class SlackText:
    """One piece of a `/storm` line: `raw` as Slack sends it, `shown` as the person saw it.

    `literal` is `shown` with every Slack token replaced by `TOKEN_MARK`, for deciding whether
    the person typed a separator themselves (a link's label may hold `;` or `->` and must not
    split anything).
    """

    raw: str
    shown: str
    literal: str

    def __add__(self, other: SlackText) -> SlackText:
        return SlackText(
            self.raw + other.raw, self.shown + other.shown, self.literal + other.literal
        )


def _typed_piece(text: str) -> SlackText:
    return SlackText(slack_escape(text), text, text)


def _token_piece(token: tuple[str, str]) -> SlackText:
    return SlackText(token[0], token[1], TOKEN_MARK)


def slack_texts(*, max_pieces: int = 5) -> st.SearchStrategy[SlackText]:
    """Hostile text as Slack delivers it: typed pieces (escaped) mixed with real tokens."""
    typed = _short_text(3).map(_typed_piece)
    token = st.sampled_from(SLACK_TOKENS).map(_token_piece)
    parts = st.lists(st.one_of(typed, typed, token), min_size=1, max_size=max_pieces)
    short = parts.map(lambda pieces: sum(pieces[1:], pieces[0]))
    return st.one_of(short, short, short, short, _long_text().map(_typed_piece))


# --- What Storm must make of it -------------------------------------------------------------


def collapse(text: str) -> str:
    """Runs of white space as one space, none at the ends: names are kept that way (the
    grammar's contract; white space is Unicode's, as `str.split` reads it)."""
    return " ".join(text.split())


def refusal(shown: str) -> str | None:
    """Why Storm must refuse `shown` as a name (README "Limits"), or None when it must keep it.

    White space (Unicode's, which includes a few control characters) is collapsed first; what
    is left must be non-empty, show something (not only zero-width or direction marks), hold
    no control character and be at most 200 characters.
    """
    collapsed = collapse(shown)
    if not collapsed:
        return "empty"
    if all(unicodedata.category(c) in ("Cf", "Zs", "Zl", "Zp") for c in collapsed):
        return "invisible"
    if any(unicodedata.category(c) == "Cc" for c in collapsed):
        return "control"
    if len(collapsed) > MAX_NAME_LENGTH:
        return "long"
    return None


def expected_name(shown: str) -> str | None:
    """The name Storm must store for `shown`, or None when it must refuse it."""
    return None if refusal(shown) else collapse(shown)


#: Words a refusal must use for a reason, so that the person knows what to change.
REFUSAL_WORDS = {"control": ("control",), "long": ("200",), "invisible": ("invisible",)}


def stored_names() -> st.SearchStrategy[str]:
    """Names as Storm stores them after accepting them: hostile, but within the rules."""
    fragments = tuple(f for f in FRAGMENTS if refusal(f) is None)  # no controls, no blanks
    piece = st.one_of(st.sampled_from(fragments), st.text(_visible, min_size=1, max_size=12))
    short = st.lists(piece, min_size=1, max_size=6).map("".join)
    long = st.builds(
        lambda fragment, n: fragment * n, st.sampled_from(fragments), st.integers(1, 200)
    )
    return (
        st.one_of(short, short, short, long)
        .map(lambda text: collapse(text)[:MAX_NAME_LENGTH].strip())
        .filter(lambda name: refusal(name) is None)
    )


def blank_looking() -> st.SearchStrategy[str]:
    """Text that shows nothing: white space and zero-width or direction marks only."""
    invisible = st.sampled_from(
        (" ", "\t", "\u3000", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f")
    )
    return st.lists(invisible, min_size=1, max_size=8).map("".join).filter(lambda t: t.strip())


# --- Finding mentions in what Storm posts ----------------------------------------------------

#: Slack reads `<…>` in mrkdwn or in a message's `text` as a mention, a channel or a link.
SLACK_SPECIAL = re.compile(r"<([^<>]*)>")
#: The tokens that notify or link: `<@U…>`, `<#C…>`, `<!channel>`, `<!subteam^…>`, `<url|label>`.
_MENTION_OR_LINK = re.compile(r"[@#!]|[a-z][a-z0-9+.-]*:|[^|]*\|", re.IGNORECASE)
#: The only such tokens Storm writes itself besides mentioning people on purpose: times, and
#: a date Slack cannot format, whose fallback shows mrkdwn's formatting characters as typed.
STORM_DATE = re.compile(
    r"!date\^\d+\^\{date_short_pretty\} at \{time\}\|\d{4}-\d\d-\d\d \d\d:\d\d UTC"
    r"|!date\^00000000\^\{_\}\|[*_~`]+"
)
#: Such a formatting character as a reader sees it: the token's fallback.
_LITERAL = re.compile(r"<!date\^00000000\^\{_\}\|([*_~`]+)>")


def special_tokens(text: str, *, allowed_users: frozenset[str] = frozenset()) -> list[str]:
    """The mentions and links in `text` that Storm did not write on purpose.

    Storm writes times as `<!date^…>` and mentions `allowed_users` (facilitators on "time's
    up", the person who asked for an export); any other mention or link came from user text.
    A bare `<word>` is neither a mention nor a link, so it is not reported here.
    """
    found = []
    for inner in SLACK_SPECIAL.findall(text):
        if not _MENTION_OR_LINK.match(inner) or STORM_DATE.fullmatch(inner):
            continue
        if inner.startswith("@") and inner[1:] in allowed_users:
            continue
        found.append(f"<{inner}>")
    return found


_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def broken_entities(text: str) -> list[str]:
    """`&` that starts no `&amp;`, `&lt;` or `&gt;`: unescaped user text, or an entity cut."""
    return [text[max(0, m.start() - 10) : m.start() + 10] for m in _ENTITY.finditer(text)]


def unescape(mrkdwn: str) -> str:
    """What a person reads in mrkdwn text (formatting characters shown as typed through a date
    token's fallback, entities decoded)."""
    plain = _LITERAL.sub(r"\1", mrkdwn)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mrkdwn_texts(text: str, blocks: list[dict[str, Any]] | None) -> list[str]:
    """What Slack reads for mentions in a message: its `text` and every mrkdwn text object."""
    texts = [text]
    for block in blocks or []:
        objects = [block.get("text"), *(block.get("elements") or [])]
        texts += [o["text"] for o in objects if isinstance(o, dict) and o.get("type") == "mrkdwn"]
    return texts


def message_problems(
    text: str, blocks: list[dict[str, Any]] | None, *, mentioned: frozenset[str] = frozenset()
) -> list[str]:
    """Why Slack would reject this message (the fake Web API's own checks), or show it wrong:
    a mention or link that came from user text, or an entity cut in two."""
    found = [f"blocks: {error}" for error in validate_blocks(blocks or [])]
    if not 0 < len(text) <= MESSAGE_TEXT_MAX:
        found.append(f"text of {len(text)} characters")
    for shown in mrkdwn_texts(text, blocks):
        found += [
            f"unescaped {token!r}" for token in special_tokens(shown, allowed_users=mentioned)
        ]
        found += [f"broken entity in …{cut!r}…" for cut in broken_entities(shown)]
    return found


# --- Where people cannot type a sub-command's own separators ---------------------------------

#: Per sub-command, what a person cannot type inside a name there without splitting the line
#: (matched against `SlackText.literal`, so a link or mention holding it is still one name).
SEPARATORS: dict[str, str] = {
    "event": r"[;\n]",
    "hotspot": r"(?i)(?<!\S)on\s",
    "command": r"-+>|→",
    "actor": r"-+>|→",
    "external": r"-+>|→",
    "view": r"<-|←",
    "policy": r":(?=\s|$)",
    "aggregate": r":(?=\s|$)",
    "fields": r",|<-|←|\*\s*$|:",  # `:` separates a field from its type (SPEC §3)
    "scenario": r"(?i):\s*given(?!\S)",
    "error": r"^\s*:",
    "merge": r"(?i)(?<!\S)into(?!\S)",
}


def usable_in(where: str, text: SlackText) -> bool:
    """True when `text` holds none of the separators of `where` (see `SEPARATORS`)."""
    pattern = SEPARATORS.get(where)
    return pattern is None or not re.search(pattern, text.literal)


def spec_normalise(name: str) -> str:
    """SPEC §3: names and fields match ignoring case, spaces, `_` and `-`."""
    return re.sub(r"[\s_\-]+", "", name).casefold()

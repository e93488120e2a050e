"""The `/storm` grammar on hostile lines: a command, or a clear refusal, and names as typed.

Each line is built as Slack sends it: the person's typing entity-escaped, real mentions and
links as `<…>` tokens (`strategies.SlackText`). Pure: no server, no database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import commands
from bot.core.grammar import USAGES, GrammarError, parse
from tests.hostile.strategies import (
    GRAMMAR,
    REFUSAL_WORDS,
    SlackText,
    blank_looking,
    characters,
    collapse,
    refusal,
    slack_escape,
    slack_texts,
    spec_normalise,
    usable_in,
)

#: What a refusal must not look like: a Python error leaking out instead of words for people.
_LEAKED = re.compile(
    r"Traceback|object at 0x|NoneType|has no attribute|index out of range|invalid literal"
    r"|not enough values|too many values|unhashable|takes \d+ positional|KeyError|TypeError"
)


def assert_clear(error: GrammarError) -> None:
    """A refusal says what is wrong, in words, and shows a usage that exists."""
    assert isinstance(error.problem, str) and len(error.problem.strip()) >= 10, error.problem
    assert not _LEAKED.search(error.problem), error.problem
    assert error.usage is None or error.usage in USAGES.values()


# --- Every line --------------------------------------------------------------------------

heads = st.one_of(
    st.sampled_from(sorted(USAGES)),
    st.sampled_from(sorted(USAGES)).map(str.upper),
    st.text(characters, max_size=12),
    slack_texts(max_pieces=2).map(lambda t: t.raw),
)
bodies = st.lists(
    st.one_of(
        slack_texts(max_pieces=3).map(lambda t: t.raw),
        st.sampled_from(GRAMMAR).map(slack_escape),
        st.sampled_from(GRAMMAR),  # some callers do not escape
        st.text(characters, max_size=20),  # not even Slack-shaped
    ),
    max_size=8,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(head=heads, separator=st.sampled_from((" ", "\n", "  ", "\t", "")), body=bodies)
def test_every_line_is_a_command_or_a_clear_refusal(head: str, separator: str, body: str) -> None:
    try:
        parse(head + separator + body)
    except GrammarError as error:
        assert_clear(error)


# --- Names come back as typed, or are refused -------------------------------------------


@dataclass(frozen=True)
class Slot:
    """A place in a sub-command where a person types a name: the line around it, how to read
    the name back, and the key in `strategies.SEPARATORS` of what the person cannot type there
    because it is the sub-command's own separator."""

    line: Callable[[str], str]
    read: Callable[[commands.Command], str]
    separators: str = ""
    also_refused: Callable[[str], bool] = lambda name: False


def around(before: str, after: str = "") -> Callable[[str], str]:
    """The line Slack sends when the person types `before`, the name, then `after`."""
    return lambda raw: slack_escape(before) + raw + slack_escape(after)


def only(names: tuple[str, ...]) -> str:
    assert len(names) == 1, names
    return names[0]


SLOTS: dict[str, Slot] = {
    "start": Slot(around("start "), lambda c: c.title),
    "event": Slot(around("event "), lambda c: only(c.names), "event"),
    "hotspot": Slot(around("hotspot "), lambda c: c.text, "hotspot"),
    "hotspot on": Slot(around("hotspot ", " on E1"), lambda c: c.text),
    "rename": Slot(around("rename E1 -> "), lambda c: c.new_name),
    "command": Slot(around("command ", " -> E1"), lambda c: c.name, "command"),
    "view": Slot(around("view ", " <- E1"), lambda c: c.name, "view"),
    "actor": Slot(around("actor ", " -> C1"), lambda c: c.name, "actor"),
    "external": Slot(around("external ", " -> E1"), lambda c: c.name, "external"),
    "policy": Slot(around("policy ", ": E1 -> C1"), lambda c: c.name, "policy"),
    "aggregate": Slot(around("aggregate ", ": E1 C1"), lambda c: c.name, "aggregate"),
    "scenario title": Slot(
        around("scenario ", ": given nothing when C1 then E1"),
        lambda c: c.title,
        "scenario",
    ),
    "scenario error": Slot(
        around("scenario Empty cart: given nothing when C1 then error "),
        lambda c: c.error,
        "error",  # `then error: <text>` may take a colon
    ),
    "trace": Slot(around("trace E1."), lambda c: c.field),
    "vote": Slot(around("vote "), lambda c: c.ref),
    "drop": Slot(around("drop "), lambda c: c.ref),
    "resolve": Slot(around("resolve "), lambda c: c.ref),
    "merge": Slot(
        around("merge ", " into E1"),
        lambda c: c.source,
        "merge",
        also_refused=lambda name: spec_normalise(name) == "e1",  # into itself
    ),
}


@pytest.mark.parametrize("where", sorted(SLOTS))
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_a_name_is_read_as_typed_or_refused_clearly(where: str, data: st.DataObject) -> None:
    slot = SLOTS[where]
    text = data.draw(slack_texts().filter(lambda t: usable_in(slot.separators, t)), label="typed")
    line = slot.line(text.raw)
    why = refusal(text.shown)
    try:
        command = parse(line)
    except GrammarError as error:
        assert_clear(error)
        assert why is not None or slot.also_refused(collapse(text.shown)), (
            f"refused {text.shown!r} (sent as {line!r}): {error.problem}"
        )
        if why in ("control", "long"):
            assert any(word in error.problem for word in REFUSAL_WORDS[why]), error.problem
    else:
        assert why is None, f"accepted {text.shown!r} ({why}) as {command!r}"
        assert slot.read(command) == collapse(text.shown), f"sent as {line!r}"


@settings(max_examples=100, deadline=None)
@given(text=slack_texts().filter(lambda t: not re.search(r",|<-|←|:", t.literal)))
def test_a_field_name_is_read_as_typed_or_refused_clearly(text: SlackText) -> None:
    """`fields C1: <name>`: a blank list clears the fields; a name of only spaces, `_` and
    `-` is no name; a final `*` marks the field generated. A `:` in a field is its type's
    separator (`total:Decimal`, SPEC §3), like `,` and `<-` left to the grammar's tests."""
    shown = text.shown
    generated = collapse(shown).endswith("*")
    name = collapse(collapse(shown).rstrip("*")) if generated else collapse(shown)
    line = slack_escape("fields C1: ") + text.raw
    try:
        command = parse(line)
    except GrammarError as error:
        assert_clear(error)
        assert refusal(name) is not None or not spec_normalise(name), (
            f"refused {shown!r} (sent as {line!r}): {error.problem}"
        )
        return
    assert isinstance(command, commands.SetFields)
    if not shown.strip():
        assert command.fields == ()
        return
    assert refusal(name) is None and spec_normalise(name), f"accepted {shown!r}: {command!r}"
    (field,) = command.fields
    assert (field.name, field.generated) == (name, generated), f"sent as {line!r}"


# --- Names that show nothing ------------------------------------------------------------


BLANK_SLOTS = ("start", "event", "command", "view", "hotspot", "rename E1 ->", "scenario")


@settings(max_examples=40, deadline=None)
@given(blank=blank_looking())
def test_a_name_that_shows_nothing_is_refused(blank: str) -> None:
    """White space, zero-width characters and direction marks alone would make an element
    nobody can see or refer to (SPEC §9: hostile input is stored as typed *or refused*)."""
    accepted = {}
    for slot in BLANK_SLOTS:
        line = slack_escape(f"{slot} {blank}")
        if slot == "scenario":
            line = slack_escape(f"scenario {blank}: given nothing when C1 then E1")
        try:
            accepted[slot] = parse(line)
        except GrammarError as refused:
            assert_clear(refused)
    assert not accepted, f"{blank!r} was accepted as a name: {accepted}"

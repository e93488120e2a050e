"""Indented JSON text, as `json.dumps(value, indent=2, ensure_ascii=False)` writes it, fast.

Exports are uploaded indented so that people can read them. With `indent`, `json.dumps` runs
its pure-Python encoder, a chain of generators that passes every piece of text up through
each level of nesting: the JSON export of 10,000 elements took 0.4 s that way. Here every
piece is appended once to one list and joined once at the end, so no text is copied again at
each level.
"""

from __future__ import annotations

import functools
import json
import math
from json.encoder import encode_basestring as _json_string
from typing import Any


class _NotPlainJson(Exception):
    """A value `indented_json` leaves to `json.dumps`."""


def indented_json(value: Any) -> str:
    """Exactly `json.dumps(value, indent=2, ensure_ascii=False)`.

    A `functools.partial` in the document stands for the value it returns, built when its
    place is written and let go once written, so a big document need not be held whole (the
    event model of 10,000 elements holds 80 MB of pieces otherwise). Documents made only of
    dicts with string keys, lists, strings, ints, finite floats, booleans and None are written
    here; anything else goes to `json.dumps` itself.
    """
    pieces: list[str] = []
    try:
        _write(value, "\n", pieces)
    except _NotPlainJson:
        return json.dumps(_built(value), indent=2, ensure_ascii=False)
    return "".join(pieces)


def _built(value: Any) -> Any:
    """The document with every part built, for `json.dumps`."""
    if type(value) is functools.partial:
        return _built(value())
    if isinstance(value, dict):
        return {key: _built(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_built(item) for item in value]
    return value


def _write(value: Any, newline: str, pieces: list[str]) -> None:
    """Append `value` as indented JSON; `newline` is a line break and the current indent."""
    write = pieces.append
    kind = type(value)
    if kind is str:
        write(_json_string(value))
    elif kind is dict:
        if not value:
            write("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlainJson
            write(separator)
            write(_json_string(key))
            write(": ")
            _write(item, inner, pieces)
            separator = "," + inner
        write(newline + "}")
    elif kind is list:
        if not value:
            write("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            write(separator)
            _write(item, inner, pieces)
            separator = "," + inner
        write(newline + "]")
    elif value is None:
        write("null")
    elif value is True:
        write("true")
    elif value is False:
        write("false")
    elif kind is int:
        write(int.__repr__(value))
    elif kind is float and math.isfinite(value):
        write(float.__repr__(value))
    elif kind is functools.partial:
        start = len(pieces)
        _write(value(), newline, pieces)
        pieces[start:] = ["".join(pieces[start:])]
    else:
        raise _NotPlainJson

"""Reading a model file into a `Plan` (SPEC §7.1): one module per format, and this entry point,
which checks what every format shares (size, JSON, which format it is, how many elements).

The limits are Storm's, whatever the format: 5 MB (SPEC §7.1) and 10,000 elements, the size of
workshop the README promises to serve. The bytes limit binds first for Storm's own exports:
its indented storm-model/1 file takes about 0.9 KB per element (a 2,000-element workshop is
1.8 MB), so a workshop of about 5,000 elements is the largest whose export comes back whole.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from bot.core.imports import eventmodel, storm_model
from bot.core.imports.plan import ImportProblem, Plan
from bot.core.text import MAX_NAME_LENGTH

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ELEMENTS = 10_000

__all__ = ["MAX_IMPORT_BYTES", "MAX_IMPORT_ELEMENTS", "ImportProblem", "Plan", "read_model"]


def read_model(data: bytes, filename: str) -> Plan:
    """The plan a file holds, or `ImportProblem` naming the first thing wrong with it."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportProblem(
            f"the file is {_megabytes(len(data))}; Storm imports files of at most "
            f"{_megabytes(MAX_IMPORT_BYTES)}"
        )
    document = _json(data)
    if isinstance(document, dict) and document.get("format") == storm_model.FORMAT:
        plan = storm_model.read(document, filename)
    elif isinstance(document, dict) and "slices" in document:
        plan = eventmodel.read(document, filename)
    else:
        raise ImportProblem(
            f"this JSON is {_shape(document)}, not a model Storm reads: expected a storm-model/1 "
            'export (an object with "format": "storm-model/1") or an Event Modeling model (an '
            'object with a "slices" list)'
        )
    if len(plan.elements) > MAX_IMPORT_ELEMENTS:
        raise ImportProblem(
            f"the file holds {len(plan.elements):,} elements; Storm imports at most "
            f"{MAX_IMPORT_ELEMENTS:,} at a time"
        )
    return plan if plan.title else replace(plan, title=title_from(filename))


def title_from(filename: str) -> str:
    """A workshop title from a file's name, when the file names no model: `orders.json` →
    `orders`, cut to a name's length and cleaned like a typed title."""
    stem = filename.rsplit("/", 1)[-1].removesuffix(".json") or "Imported model"
    shown = " ".join("".join(c if c.isprintable() else " " for c in stem).split())
    return shown[:MAX_NAME_LENGTH].strip() or "Imported model"


def _json(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        if not data.strip():
            raise ImportProblem("the file is empty, not JSON") from None
        raise ImportProblem(f"the file is not JSON ({error})") from None


def _shape(document: Any) -> str:
    """What a JSON document is, in words: `a list`, `an object with keys "a", "b"`."""
    if isinstance(document, dict):
        keys = ", ".join(f'"{key}"' for key in list(document)[:5])
        more = ", …" if len(document) > 5 else ""
        return f"an object with keys {keys}{more}" if document else "an empty object"
    names = {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(document), "a number")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"

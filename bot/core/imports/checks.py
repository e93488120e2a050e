"""What every reader checks, in one place: the shape of each value, names by the rules of a
typed name (`bot.core.text.clean_name`), and that references name elements of the file.

Each problem says where it is, as a path into the file (`slices[3].commands[0].title`), so
that a person can find it in their editor.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.core.imports.plan import ImportProblem, PlanElement, PlanField
from bot.core.model import FIELD_TYPES, normalise
from bot.core.text import MAX_ANSWER_LENGTH, MAX_NAME_LENGTH, TextError, clean_name

_TYPES = {name.casefold(): name for name in FIELD_TYPES}
# Relations a plan element may hold, and the kinds each may name.
RELATIONS: dict[str, tuple[str, ...]] = {
    "causes": ("event",),
    "fed_by": ("event",),
    "issues": ("command",),
    "shows": ("view",),
}


def at(where: str, key: str | int) -> str:
    """The path of a key or index inside `where`: `slices[3]`, `slices[3].title`."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImportProblem(f"{where or 'the file'}: expected an object, found {_kind(value)}")
    return value


def items(value: Any, where: str) -> list[Any]:
    """A list; a missing one (None) is empty."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportProblem(f"{where}: expected a list, found {_kind(value)}")
    return value


def string(value: Any, where: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ImportProblem(f"{where}: expected text, found {_kind(value)}")
    return value


def flag(value: Any, where: str) -> bool:
    """A boolean; missing (None) is false."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ImportProblem(f"{where}: expected true or false, found {_kind(value)}")
    return value


def count(value: Any, where: str) -> int:
    """A count of votes: a whole number from 0; missing is 0."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImportProblem(f"{where}: expected a number of votes, found {_kind(value)}")
    return value


def ident(value: Any, where: str) -> str:
    """An id the file gives an element: text, or a number (written back as text)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise ImportProblem(f"{where}: expected an id, found {_kind(value)}")
    return value


def name(value: Any, where: str, what: str = "a name", *, limit: int = MAX_NAME_LENGTH) -> str:
    """A name by the rules of a typed one: at most `limit` characters, no control characters,
    not empty or invisible; white space collapsed. Markup is kept as text (shown escaped)."""
    text = string(value, where)
    assert text is not None
    try:
        return clean_name(text, what=what, limit=limit)
    except TextError as error:
        raise ImportProblem(f"{where}: {error}") from None


def answer(value: Any, where: str) -> str | None:
    if value is None:
        return None
    return name(value, where, "an answer", limit=MAX_ANSWER_LENGTH)


def field_type(value: Any, where: str) -> tuple[str, bool]:
    """(type, is a list) for `Decimal`, `Decimal[]`; missing is `String`."""
    if value is None:
        return "String", False
    text = string(value, where)
    assert text is not None
    bare = text.strip().removesuffix("[]").strip()
    found = _TYPES.get(bare.casefold())
    if found is None:
        raise ImportProblem(
            f"{where}: “{text[:40]}” is not a field type (one of {', '.join(FIELD_TYPES)})"
        )
    return found, text.strip().endswith("[]")


def distinct_fields(fields: list[PlanField], where: str) -> tuple[PlanField, ...]:
    """An element's fields, refused when two are the same field after normalisation (case,
    spaces, `_` and `-`), as `/storm fields` refuses them."""
    seen: dict[str, int] = {}
    for index, spec in enumerate(fields):
        key = normalise(spec.name)
        if not key:
            raise ImportProblem(
                f"{at(at(where, index), 'name')}: “{spec.name}” is not a field name"
            )
        if key in seen:
            raise ImportProblem(
                f"{at(where, index)}: the field “{spec.name}” is listed twice (as "
                f"{at(where, seen[key])})"
            )
        seen[key] = index
    return tuple(fields)


def check_references(elements: Iterable[PlanElement], where: dict[str, str]) -> None:
    """Every relation names an element of the plan of a kind it may name; `where` says where
    each element is in the file, for the message. A field's origin is not a relation: as
    typed, it may name an element that does not exist (yet), and is kept as written."""
    by_ref = {element.ref: element for element in elements}

    def named(ref: str, owner: PlanElement, kinds: tuple[str, ...], what: str) -> None:
        target = by_ref.get(ref)
        place = where.get(owner.ref, owner.ref)
        if target is None:
            raise ImportProblem(f"{place}: {what} refers to {ref}, which the file does not define")
        if kinds and target.kind not in kinds:
            wanted = " or ".join(kinds)
            raise ImportProblem(
                f"{place}: {what} refers to {ref}, which is {target.kind}, not {wanted}"
            )

    for element in by_ref.values():
        for relation, kinds in RELATIONS.items():
            for ref in getattr(element, relation):
                named(ref, element, kinds, relation.replace("_", " "))
        on_kinds = ("event", "view") if element.kind == "policy" else ()
        for ref in element.on:
            named(ref, element, on_kinds, "on")
        if element.aggregate is not None:
            named(element.aggregate, element, ("aggregate",), "aggregate")
        if element.scenario is not None:
            scenario = element.scenario
            for ref in scenario.given + scenario.then:
                named(ref, element, ("event",), "the scenario")
            if scenario.when is not None:
                named(scenario.when, element, ("command",), "the scenario's when")
            if scenario.view is not None:
                named(scenario.view, element, ("view",), "the scenario's view")


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text “{value[:40]}”"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return f"the number {value}"

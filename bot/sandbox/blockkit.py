"""Read Block Kit the way a person reads Slack: by the labels they see.

Why: tests and the sandbox should say "click Vote on message 12" or "fill in Name", not
"send action_id ``element.vote`` with block_id ``e-17``".  These pure functions walk blocks
(of a message, a modal or the App Home) to find what a person would click by its visible
text, list a form's fields, and build Slack's ``state.values`` for a submission, so the
request builders in :mod:`bot.sandbox.slack_requests` stay about the wire format.

Stdlib only; no Slack calls.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Choice",
    "Field",
    "choices",
    "find_choice",
    "find_field",
    "find_option",
    "form_fields",
    "options_of",
    "state_entry",
    "state_values",
    "text_of",
]

#: Elements a person clicks or picks from outside a form's input blocks.
_CLICKABLE = frozenset(
    {
        "button",
        "overflow",
        "static_select",
        "radio_buttons",
        "checkboxes",
    }
)
#: Where each element keeps its selection in ``state.values`` and in ``actions``.
_SELECTED_KEY = {
    "static_select": "selected_option",
    "external_select": "selected_option",
    "radio_buttons": "selected_option",
    "overflow": "selected_option",
    "multi_static_select": "selected_options",
    "multi_external_select": "selected_options",
    "checkboxes": "selected_options",
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}
#: The attribute holding an element's initial choice, for each state key.
_INITIAL_KEY = {
    "selected_option": "initial_option",
    "selected_options": "initial_options",
    "selected_user": "initial_user",
    "selected_users": "initial_users",
    "selected_conversation": "initial_conversation",
    "selected_conversations": "initial_conversations",
    "selected_channel": "initial_channel",
    "selected_channels": "initial_channels",
    "selected_date": "initial_date",
    "selected_time": "initial_time",
    "selected_date_time": "initial_date_time",
}
_OPTION_ELEMENTS = frozenset(
    {"static_select", "multi_static_select", "overflow", "radio_buttons", "checkboxes"}
)
_EXTERNAL = frozenset({"external_select", "multi_external_select"})


def text_of(obj: Any) -> str:
    """The visible text of a text object (or ``""``)."""
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return str(obj) if isinstance(obj, str) else ""


def synthetic_id(kind: str, where: Any) -> str:
    """A stable stand-in for an id Slack would generate when the app gave none.

    Slack fills in a random ``block_id``/``action_id`` for blocks and elements that lack
    one; the fake keeps blocks as sent, so payloads use this deterministic one instead.
    """
    digest = hashlib.sha1(json.dumps(where, sort_keys=True, default=str).encode()).hexdigest()
    return f"{kind}{digest[:5]}"


def block_id_of(block: dict[str, Any]) -> str:
    return str(block.get("block_id") or synthetic_id("b", block))


def action_id_of(element: dict[str, Any]) -> str:
    return str(element.get("action_id") or synthetic_id("a", element))


def options_of(element: dict[str, Any]) -> list[dict[str, Any]]:
    """An element's options, option groups flattened."""
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return [o for o in options if isinstance(o, dict)]


def _normalise(label: str) -> str:
    return " ".join(label.replace("…", "").replace("...", "").split()).casefold()


def _label_matches(label: str, wanted: str, *, prefix: bool) -> bool:
    have, want = _normalise(label), _normalise(wanted)
    if have == want:
        return True
    # "Fields" starts "Fields, one per line" and "Vote" starts "Vote · 2", not "Voters".
    return prefix and bool(want) and have.startswith(want) and not have[len(want)].isalnum()


@dataclass(frozen=True)
class Choice:
    """Something a person can click: a button, or one option of a menu, select or list.

    ``label`` is what they see (for an option: the option's text; ``menu`` is then the
    element's placeholder or the overflow's "⋯").
    """

    block_id: str
    element: dict[str, Any]
    option: dict[str, Any] | None
    label: str

    @property
    def action_id(self) -> str:
        return action_id_of(self.element)

    @property
    def kind(self) -> str:
        return str(self.element.get("type"))


def _elements(blocks: Sequence[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every interactive element outside input blocks, with its block's id."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "actions":
            for element in block.get("elements") or []:
                if isinstance(element, dict):
                    yield block_id_of(block), element
        elif block.get("type") == "section" and isinstance(block.get("accessory"), dict):
            yield block_id_of(block), block["accessory"]


def choices(blocks: Sequence[Any]) -> list[Choice]:
    """Everything clickable in ``blocks``, in reading order (buttons, then menu options)."""
    found: list[Choice] = []
    for block_id, element in _elements(blocks):
        kind = element.get("type")
        if kind == "button":
            found.append(Choice(block_id, element, None, text_of(element.get("text"))))
        elif kind in _CLICKABLE:
            for option in options_of(element):
                found.append(Choice(block_id, element, option, text_of(option.get("text"))))
    return found


def find_choice(blocks: Sequence[Any], label: str, *, which: int | None = None) -> Choice:
    """The one clickable thing labelled ``label`` (case and a trailing "…" don't matter).

    A label matches exactly or as the start of a longer one ("Vote" finds "Vote · 2"), so
    "Vote" on a message with two elements is ambiguous.  ``which`` (1-based, in reading order) picks
    among several matches, e.g. the second element's Vote button on a message that holds
    two elements.  Raises ``LookupError`` naming what there is.
    """
    everything = choices(blocks)
    matches = [c for c in everything if _label_matches(c.label, label, prefix=True)]
    if which is not None:
        if not 1 <= which <= len(matches):
            raise LookupError(f"there is no {which}. {label!r} (found {len(matches)})")
        return matches[which - 1]
    if len(matches) == 1:
        return matches[0]
    labels = ", ".join(repr(c.label) for c in everything) or "nothing"
    if not matches:
        raise LookupError(f"nothing labelled {label!r} to click; there is: {labels}")
    raise LookupError(f"{len(matches)} things labelled {label!r}; say which (1-{len(matches)})")


def action_payload(choice: Choice, action_ts: str) -> dict[str, Any]:
    """The ``actions[0]`` entry Slack sends when ``choice`` is clicked."""
    element = choice.element
    action: dict[str, Any] = {
        "action_id": choice.action_id,
        "block_id": choice.block_id,
        "type": choice.kind,
        "action_ts": action_ts,
    }
    if choice.kind == "button":
        action["text"] = element.get("text")
        if element.get("value") is not None:
            action["value"] = element["value"]
        if element.get("style") is not None:
            action["style"] = element["style"]
        return action
    if element.get("placeholder") is not None:
        action["placeholder"] = element["placeholder"]
    if choice.kind == "checkboxes":
        chosen = [o for o in element.get("initial_options") or [] if o != choice.option]
        if choice.option not in (element.get("initial_options") or []):
            chosen.append(choice.option)
        action["selected_options"] = chosen
    else:
        action["selected_option"] = choice.option
    return action


@dataclass(frozen=True)
class Field:
    """One input block of a form: what a person fills in."""

    block_id: str
    action_id: str
    label: str
    element: dict[str, Any]
    optional: bool
    hint: str

    @property
    def kind(self) -> str:
        return str(self.element.get("type"))

    @property
    def multiple(self) -> bool:
        return self.kind.startswith("multi_") or self.kind == "checkboxes"


def form_fields(view: Mapping[str, Any]) -> list[Field]:
    """The input blocks of a view, in order."""
    fields = []
    for block in view.get("blocks") or []:
        if not isinstance(block, dict) or block.get("type") != "input":
            continue
        element = block.get("element") or {}
        fields.append(
            Field(
                block_id_of(block),
                action_id_of(element),
                text_of(block.get("label")),
                element,
                bool(block.get("optional", False)),
                text_of(block.get("hint")),
            )
        )
    return fields


def find_field(fields: Sequence[Field], key: str) -> Field:
    """A field by its label (case-insensitive; "Name" finds "Name") or its block_id."""
    for field in fields:
        if field.block_id == key:
            return field
    matches = [f for f in fields if _label_matches(f.label, key, prefix=False)]
    if not matches:
        matches = [f for f in fields if _label_matches(f.label, key, prefix=True)]
    if len(matches) == 1:
        return matches[0]
    labels = ", ".join(repr(f.label) for f in fields) or "no fields"
    if not matches:
        raise LookupError(f"no field {key!r} in this form; it has: {labels}")
    raise LookupError(f"{len(matches)} fields match {key!r}: {labels}")


def find_option(element: Mapping[str, Any], wanted: str) -> dict[str, Any]:
    """An element's option by its label, its value, or the start of one label ("E2" finds
    "E2 Order Shipped")."""
    options = options_of(dict(element))
    for option in options:
        if _label_matches(text_of(option.get("text")), wanted, prefix=False):
            return option
    for option in options:
        if option.get("value") == wanted:
            return option
    starting = [o for o in options if _label_matches(text_of(o.get("text")), wanted, prefix=True)]
    if len(starting) == 1:
        return starting[0]
    labels = ", ".join(repr(text_of(o.get("text"))) for o in options) or "none"
    raise LookupError(f"no option {wanted!r}; the options are: {labels}")


def state_entry(
    element: Mapping[str, Any], value: Any = None, *, given: bool = False
) -> dict[str, Any]:
    """One ``state.values[block_id][action_id]`` entry as Slack builds it.

    ``value`` is what the person entered: text for text inputs; an option (dict), or its
    label or value, for selects and lists (a list of them for multi-selects and
    checkboxes); ids for user/conversation/channel pickers; file objects for a file input.  Without ``given``, the
    element's initial value stands (Slack reports untouched fields as they were shown).
    """
    kind = str(element.get("type"))
    entry: dict[str, Any] = {"type": kind}
    if kind == "file_input":  # the files uploaded into it (file objects); none at first
        files = value if isinstance(value, list) else ([value] if value else [])
        entry["files"] = [dict(f) for f in files] if given else []
        return entry
    key = _SELECTED_KEY.get(kind)
    if key is None:  # text-like inputs
        entry["value"] = value if given else element.get("initial_value")
        if entry["value"] == "":
            entry["value"] = None  # Slack reports an emptied field as null
        return entry
    if not given:
        initial = element.get(_INITIAL_KEY[key])
        entry[key] = initial if initial is not None else ([] if key.endswith("s") else None)
        return entry
    if key in ("selected_option", "selected_options"):
        items = value if isinstance(value, list) else ([] if value in (None, "") else [value])
        resolved = [_as_option(element, item) for item in items]
        entry[key] = resolved if key == "selected_options" else (resolved[0] if resolved else None)
    elif key.endswith("s"):
        entry[key] = list(value) if isinstance(value, list) else ([value] if value else [])
    else:
        entry[key] = value or None
    return entry


def _as_option(element: Mapping[str, Any], item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    if element.get("type") in _EXTERNAL:
        return {"text": {"type": "plain_text", "text": str(item)}, "value": str(item)}
    return find_option(element, str(item))


def state_values(
    view: Mapping[str, Any], values: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """Slack's ``view.state.values`` for a submission of ``view``.

    ``values`` maps ``{block_id: {action_id: what the person entered}}`` (see
    :func:`state_entry`); every input block of the view is reported, as Slack does: the
    untouched ones with what they hold (typed before, in ``view["state"]``, or else their
    initial values).  Entries for other blocks (a select in an
    actions block) are added as given.
    """
    given = {b: dict(a) for b, a in (values or {}).items()}
    out: dict[str, dict[str, Any]] = {}
    elements: dict[tuple[str, str], Mapping[str, Any]] = {}
    typed = (view.get("state") or {}).get("values") or {}
    for field in form_fields(view):
        elements[(field.block_id, field.action_id)] = field.element
        current = typed.get(field.block_id, {}).get(field.action_id)
        entry = dict(current) if current else state_entry(field.element)
        out.setdefault(field.block_id, {})[field.action_id] = entry
    for block_id, other in _elements(view.get("blocks") or []):
        elements.setdefault((block_id, action_id_of(other)), other)
    for block_id, by_action in given.items():
        for action_id, value in by_action.items():
            target = elements.get((block_id, action_id))
            if target is None:
                raise LookupError(f"no element {action_id!r} in block {block_id!r}")
            out.setdefault(block_id, {})[action_id] = state_entry(target, value, given=True)
    return out


def entered(entry: Mapping[str, Any]) -> str:
    """A state entry as a person reads it: the text, or the chosen labels."""
    for key, chosen in entry.items():
        if key == "type":
            continue
        if chosen is None:
            return ""
        if isinstance(chosen, list):  # options by their text, files by their name
            return ", ".join(
                (text_of(c.get("text")) or str(c.get("name") or ""))
                if isinstance(c, dict)
                else str(c)
                for c in chosen
            )
        if isinstance(chosen, dict):
            return text_of(chosen.get("text"))
        return str(chosen)
    return ""

"""The shape an Event Modeling Specification model must have, as this project understands it.

Written from reading the public `eventmodeling.schema.json` (dilgerma/event-modeling-spec):
the keys each object requires, their types and the allowed enum values. It is our own,
smaller formulation for tests, not a copy; the export is also checked by hand against the
published schema.
"""

from __future__ import annotations

from typing import Any


def _array(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


def _strict(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """An object with these properties only, the listed ones required."""
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


_STRING = {"type": "string"}
_BOOLEAN = {"type": "boolean"}
_INTEGER = {"type": "integer"}
_KINDS = ["COMMAND", "EVENT", "READMODEL", "SCREEN", "AUTOMATION"]

FIELD = _strict(
    ["name", "type"],
    {
        "name": _STRING,
        "type": {
            "enum": [
                "String",
                "Boolean",
                "Double",
                "Decimal",
                "Long",
                "Custom",
                "Date",
                "DateTime",
                "UUID",
                "Int",
            ]
        },
        "generated": _BOOLEAN,
        "mapping": _STRING,
        "optional": _BOOLEAN,
        "idAttribute": _BOOLEAN,
        "technicalAttribute": _BOOLEAN,
        "cardinality": {"enum": ["List", "Single"]},
    },
)

DEPENDENCY = _strict(
    ["id", "type", "title", "elementType"],
    {
        "id": _STRING,
        "type": {"enum": ["INBOUND", "OUTBOUND"]},
        "title": _STRING,
        "elementType": {"enum": _KINDS},
    },
)

ELEMENT = _strict(
    ["id", "title", "fields", "type", "dependencies"],
    {
        "id": _STRING,
        "title": _STRING,
        "type": {"enum": _KINDS},
        "fields": _array(FIELD),
        "dependencies": _array(DEPENDENCY),
        "context": {"enum": ["INTERNAL", "EXTERNAL"]},
        "aggregate": _STRING,
        "description": _STRING,
    },
)

SPEC_STEP = _strict(
    ["title", "id", "type"],
    {
        "title": _STRING,
        "id": _STRING,
        "index": _INTEGER,
        "type": {"enum": ["SPEC_EVENT", "SPEC_COMMAND", "SPEC_READMODEL", "SPEC_ERROR"]},
        "fields": _array(FIELD),
        "linkedId": _STRING,
    },
)

SPECIFICATION = _strict(
    ["id", "title", "given", "when", "then", "linkedId"],
    {
        "id": _STRING,
        "title": _STRING,
        "given": _array(SPEC_STEP),
        "when": _array(SPEC_STEP),
        "then": _array(SPEC_STEP),
        "linkedId": _STRING,
    },
)

SLICE = _strict(
    [
        "id",
        "title",
        "sliceType",
        "commands",
        "events",
        "readmodels",
        "screens",
        "processors",
        "tables",
        "specifications",
    ],
    {
        "id": _STRING,
        "title": _STRING,
        "status": {"enum": ["Created", "Done", "InProgress"]},
        "index": _INTEGER,
        "context": _STRING,
        "sliceType": {"enum": ["STATE_CHANGE", "STATE_VIEW", "AUTOMATION"]},
        "commands": _array(ELEMENT),
        "events": _array(ELEMENT),
        "readmodels": _array(ELEMENT),
        "screens": _array(ELEMENT),
        "processors": _array(ELEMENT),
        "tables": {"type": "array"},
        "specifications": _array(SPECIFICATION),
        "actors": _array(
            _strict(["name", "authRequired"], {"name": _STRING, "authRequired": _BOOLEAN})
        ),
        "aggregates": _array(_STRING),
    },
)

EVENT_MODEL: dict[str, Any] = _strict(["slices"], {"slices": _array(SLICE)})

"""What the `json` export (storm-model/1) holds, for assertions on it."""

from __future__ import annotations

from typing import Any

from bot.core.model import code_identifier


def field(
    name: str, generated: bool = False, origin: str | None = None, field_type: str = "String"
) -> dict[str, Any]:
    """A field as the JSON export lists it; its identifier is derived from its name."""
    return {
        "name": name,
        "generated": generated,
        "origin": origin,
        "type": field_type,
        "identifier": code_identifier(name),
    }


def by_id(model: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """One list of the export (`events`, `screens`…) keyed by element ID."""
    return {item["id"]: item for item in model[kind]}

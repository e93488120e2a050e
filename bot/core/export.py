"""The `storm-model/1` JSON export (SPEC §7), built from a snapshot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.model import Snapshot
from bot.core.steps import STEPS

FORMAT = "storm-model/1"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def to_json(snapshot: Snapshot) -> dict[str, Any]:
    """The model for tools: lists in ID order, events in timeline order, dropped ones absent."""
    step = STEPS[snapshot.current_step - 1]
    return {
        "format": FORMAT,
        "workshop": {
            "title": snapshot.title,
            "team": snapshot.team_id,
            "channel": snapshot.channel_id,
            "facilitators": list(snapshot.facilitators),
            "step": {"number": step.number, "name": step.name},
            "started_at": _iso(snapshot.started_at),
            "finished_at": _iso(snapshot.finished_at),
        },
        "events": [
            {
                "id": event.key,
                "name": event.name,
                "position": index,
                "author": event.author,
                "votes": event.votes,
                "aggregate": None,
                "fields": [],
            }
            for index, event in enumerate(snapshot.events, start=1)
        ],
        "commands": [],
        "views": [],
        "aggregates": [],
        "policies": [],
        "actors": [],
        "externals": [],
        "hotspots": [],
        "scenarios": [],
    }

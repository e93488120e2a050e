"""The workshops whose channel canvas Storm keeps current, and a cheap sign of their changes.

The canvas follows the model within seconds, but rendering a workshop's Markdown reads the
whole model. So every second the background worker reads, in one query, a fingerprint per
followed workshop from what every change to the model leaves behind anyway: each change a
person makes is a `change` row (for `/storm undo`; undoing stamps it), each element a new id,
each drop a stamp; the step, the title and the end are the workshop's own columns. Only
when the fingerprint moves is the model read and rendered. Nothing is added to the path that
acknowledges Slack's requests: those rows are written there already.

Votes leave no `change` row, and the canvas does not show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from storage.tables import Change, Element, Workshop


@dataclass(frozen=True)
class Followed:
    """A workshop whose canvas Storm keeps: its canvas state and its model's fingerprint."""

    workshop_id: int
    requested_by: str
    canvas_id: str | None
    problem: str | None
    sent_hash: str | None
    sent_at: datetime | None
    finished: bool
    fingerprint: tuple[Any, ...]


def followed(session: Session) -> list[Followed]:
    """Every workshop with `/storm canvas on`, with the fingerprint of its model now."""
    wid = col(Workshop.id)

    def per_workshop(column: Any, owner: Any) -> Any:
        return select(column).where(owner == wid).scalar_subquery()

    query = select(
        wid,
        col(Workshop.canvas_by),
        col(Workshop.canvas_id),
        col(Workshop.canvas_problem),
        col(Workshop.canvas_hash),
        col(Workshop.canvas_sent_at),
        col(Workshop.finished_at),
        col(Workshop.title),
        col(Workshop.current_step),
        per_workshop(func.max(Change.id), col(Change.workshop_id)),
        per_workshop(func.count(col(Change.undone_at)), col(Change.workshop_id)),
        per_workshop(func.max(Element.id), col(Element.workshop_id)),
        per_workshop(func.count(col(Element.dropped_at)), col(Element.workshop_id)),
    ).where(col(Workshop.canvas_by).is_not(None))
    found = []
    for row in session.connection().execute(query):
        (workshop_id, by, canvas_id, problem, sent_hash, sent_at, finished_at, *model) = row
        found.append(
            Followed(
                workshop_id=workshop_id,
                requested_by=by,
                canvas_id=canvas_id,
                problem=problem,
                sent_hash=sent_hash,
                sent_at=sent_at,
                finished=finished_at is not None,
                fingerprint=(finished_at, *model),
            )
        )
    return found


def record(session: Session, workshop_id: int, **values: Any) -> None:
    """Set canvas columns of a workshop (`canvas_id`, `canvas_hash`, …) as they are given."""
    workshop = session.get(Workshop, workshop_id)
    if workshop is None:
        return
    for name, value in values.items():
        setattr(workshop, name, value)
    session.add(workshop)

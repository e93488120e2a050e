"""What an operator watches (SPEC §8): whether the database answers, and how far behind the
work shared by the instances is. `GET /healthz` answers it as JSON, in either mode, and
`stormbot status --ops` prints it.

The outbox's backlog is the posts due and not sent yet, with how long the oldest has waited:
a backlog that keeps growing, or an oldest post older than a minute or two, means the
instances cannot keep up (or Slack is refusing them). The inbox's backlog is the Slack events
recorded and not applied yet (reactions, App Home visits, imports).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from storage import claims
from storage.db import is_reachable
from storage.unit_of_work import unit_of_work


def health(engine: Engine, now: datetime | None = None) -> tuple[bool, dict[str, Any]]:
    """(healthy, report): healthy when the database answers."""
    if not is_reachable(engine):
        return False, {"database": "unreachable"}
    now = now or datetime.now(UTC)
    try:
        with unit_of_work(engine, read_only=True) as session:
            backlog, oldest = claims.outbox_backlog(session, now=now)
            events = claims.inbox_backlog(session)
    except Exception as error:  # an old schema, a lock: the database answers all the same
        return True, {"database": "ok", "error": type(error).__name__}
    waited = round((now - oldest).total_seconds(), 1) if oldest is not None else 0.0
    return True, {
        "database": "ok",
        "outbox": {"backlog": backlog, "oldest_due_seconds": waited},
        "inbox": {"backlog": events},
    }


def health_body(engine: Engine) -> tuple[bool, bytes]:
    """`health` as the JSON body of `/healthz`."""
    healthy, report = health(engine)
    return healthy, (json.dumps(report, sort_keys=True) + "\n").encode()

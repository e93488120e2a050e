"""The floor Storm is measured against: a bare Bolt app that writes one row and acknowledges.

Served exactly as Storm is (`bot/runtime/server.py`, `serve_asgi` and `served`): uvicorn,
`WEB_CONCURRENCY` worker processes, one request per turn of each worker's event loop with the
start-up objects frozen, Bolt's ASGI adapter (as in `Storm.asgi`) with
`process_before_response=True`, an authorizer that asks Slack nothing, and the same database
settings as Storm's engine (on SQLite: WAL, a busy timeout, `synchronous=NORMAL`; on
PostgreSQL: a pool of the same size per process, checked before use), so that the difference
between the two is what Storm does per request and not how the server or the database is
configured.

`/storm` writes one row with SQLModel and acks with a short ephemeral text; `reaction_added`
writes one row and acks. Run as `python -m bench.bare` with `SLACK_SIGNING_SECRET`,
`DATABASE_URL`, `HOST`, `PORT`, `WEB_CONCURRENCY` in the environment.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from sqlalchemy import Engine, event
from sqlmodel import Field, Session, SQLModel, create_engine

from bot.runtime.app import Asgi
from bot.runtime.server import serve_asgi, served
from bot.runtime.settings import load_settings
from storage.db import POSTGRESQL_POOL_OVERFLOW, POSTGRESQL_POOL_SIZE

ACK_TEXT = "Added 1 event"


class Hit(SQLModel, table=True):
    """One request the bare app took: the one row it writes."""

    # uvicorn's spawned workers run this module twice (as `__mp_main__` and as `bench.bare`)
    __table_args__ = {"extend_existing": True}

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    team_id: str
    channel_id: str
    user_id: str
    text: str
    at: datetime


def make_engine(url: str) -> Engine:
    """SQLModel's engine with Storm's settings for the database (`storage/db.py`): on
    PostgreSQL its pool, on SQLite its pragmas."""
    if not url.startswith("sqlite"):
        engine = create_engine(
            url,
            pool_size=POSTGRESQL_POOL_SIZE,
            max_overflow=POSTGRESQL_POOL_OVERFLOW,
            pool_pre_ping=True,
        )
        SQLModel.metadata.create_all(engine)
        return engine
    engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    SQLModel.metadata.create_all(engine)
    return engine


def build(signing_secret: str, database_url: str) -> Asgi:
    """The ASGI application: Bolt at `/slack/events`, as Storm serves it."""
    engine = make_engine(database_url)

    def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, bot_token="xoxb-bare-bench"
        )

    app = App(
        signing_secret=signing_secret,
        authorize=authorize,
        process_before_response=True,
        logger=logging.getLogger("bare.bolt"),
    )

    def write(kind: str, team_id: str, channel_id: str, user_id: str, text: str) -> None:
        with Session(engine) as session:
            session.add(
                Hit(
                    kind=kind,
                    team_id=team_id,
                    channel_id=channel_id,
                    user_id=user_id,
                    text=text,
                    at=datetime.now(UTC),
                )
            )
            session.commit()

    @app.command("/storm")
    def storm(ack: Ack, command: dict[str, Any]) -> None:
        write(
            "command",
            command["team_id"],
            command["channel_id"],
            command["user_id"],
            command.get("text") or "",
        )
        ack(response_type="ephemeral", text=ACK_TEXT)

    @app.event("reaction_added")
    def reaction(ack: Ack, body: dict[str, Any]) -> None:
        event_ = body["event"]
        write(
            "reaction",
            body.get("team_id", ""),
            event_["item"]["channel"],
            event_["user"],
            body["event_id"],
        )
        ack()

    return SlackRequestHandler(app)


def worker_app() -> Asgi:
    """uvicorn's factory, called in each worker process (as `bot.runtime.server.worker_app` is)."""
    settings = load_settings()
    _configure_logging(settings.log_level)
    assert settings.slack_signing_secret is not None
    return served(build(settings.slack_signing_secret.get_secret_value(), settings.database_url))


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main() -> None:
    settings = load_settings()
    _configure_logging(settings.log_level)
    make_engine(settings.database_url).dispose()  # the table, before the workers race to it
    serve_asgi(settings, "bench.bare:worker_app")


if __name__ == "__main__":
    main()

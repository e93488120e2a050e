"""Serving: uvicorn for HTTP (worker processes, each an event loop running Bolt), or Socket Mode.

uvicorn starts `WEB_CONCURRENCY` web worker processes (spawned, not forked) and restarts any
that dies. Each builds its own Storm in the "web" role when it starts (`worker_app`, which
uvicorn calls in the worker): it acknowledges Slack's requests and records what they ask for,
nothing else. Beside them one background worker (`bot/runtime/background.py`) sends the posts and
applies the reactions they queued, at a lower CPU priority, so that a burst of captures is
acknowledged first and posted as soon as the CPU is free.

Why uvicorn rather than gunicorn's threaded workers: on the benchmark's bare Bolt app (one
SQLite write per slash command) uvicorn with Bolt's ASGI adapter spent about half the CPU per
request, served about twice the requests per second and cut p99 at 50 concurrent connections
several times over; see `Storm.asgi` for what running Bolt on the event loop means.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.runtime.acknowledging import instance_sign
from bot.runtime.app import Asgi, Storm, build_app
from bot.runtime.background import Background
from bot.runtime.logs import configure_logging
from bot.runtime.settings import Settings, load_settings
from storage.migrate import upgrade

log = logging.getLogger(__name__)


class ServeError(RuntimeError):
    """Slack refused to connect us; the message says why in one line."""


def serve_asgi(settings: Settings, factory: str) -> None:
    """uvicorn on `HOST:PORT` with `WEB_CONCURRENCY` workers, each serving what the function
    named by `factory` ("module:function", called in the worker) returns.

    Shared by Storm and the benchmark's bare app (`bench/bare.py`), so both are served alike.
    """
    import uvicorn

    uvicorn.run(
        factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.web_concurrency,
        http="auto",  # httptools and uvloop when installed (they are dependencies), as measured
        loop="auto",
        lifespan="on",
        log_config=None,  # the workers log through the root logger, as `stormbot` set it up
        log_level=settings.log_level.lower(),
        access_log=settings.log_level == "DEBUG",
        timeout_graceful_shutdown=10,
    )


def _exit_on_terminate(signum: int, _frame: object) -> None:
    """SIGTERM for `stormbot serve`: leave through its `finally` blocks. uvicorn, serving in
    this process itself when there is one web worker, stops gracefully on SIGTERM and then
    raises it again for the handler it found, which would otherwise end the process on the
    spot, leaving the background worker and the busy sign behind."""
    raise SystemExit(128 + signum)


def worker_app() -> Asgi:
    """uvicorn's factory for Storm: runs in each worker process, which reads the same settings
    (environment and `.env`) that `stormbot serve` read."""
    settings = load_settings()
    # A spawned worker starts with no logging set up: the same set-up as `stormbot serve`.
    configure_logging(settings, quiet=False)
    storm = build_app(settings, role="web")
    return _bracketed(storm, served(storm.asgi()))


def served(app: Asgi) -> Asgi:
    """How a web worker serves `app` (Storm's, and the benchmark's bare app alike).

    - One request per turn of the event loop, in the order they arrived. Bolt's ASGI adapter
      runs the app synchronously on the loop, and the loop runs every request that became
      ready in one turn before it looks at its sockets again: under load a turn is dozens of
      requests, and a connection that opened meanwhile (accepted in one turn, read in a later
      one) waited several turns, hundreds of milliseconds, for its first answer. Here a
      request holds a FIFO lock until the loop has had a turn of its own (`sleep(0)`), so the
      requests that became ready meanwhile queue behind it, and new connections are accepted
      and read between any two requests. The body is read before queueing, so a slow client
      holds up nobody.
    - The objects made while starting (modules, the app, SQLAlchemy's and Bolt's tables) are
      moved out of the garbage collector's sight (`gc.freeze`): otherwise a full collection
      walks all of them now and then, a pause of about 40 ms in the middle of a burst.
    """
    turn = asyncio.Lock()
    gc.freeze()

    async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        received = [await receive()]
        while received[-1]["type"] == "http.request" and received[-1].get("more_body"):
            received.append(await receive())
        pending = iter(received)

        async def replay() -> dict[str, Any]:
            return next(pending, None) or await receive()

        async with turn:
            await app(scope, replay, send)
            await asyncio.sleep(0)  # let the loop read its sockets before the next request

    return application


def _bracketed(storm: Storm, app: Asgi) -> Asgi:
    """`app`, with Storm started when the worker starts serving and stopped when it exits."""

    async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    storm.start()
                except Exception as error:
                    log.exception("Storm could not start")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    storm.stop()
                finally:
                    await send({"type": "lifespan.shutdown.complete"})
                return

    return application


def serve(settings: Settings) -> None:
    """Connect to Slack: Socket Mode when an app token is set, HTTP otherwise.

    Pending migrations are applied first, here, so that the workers started next find the
    database at head rather than queueing to migrate it.
    """
    settings.require_serving()
    upgrade(settings.database_url)
    if settings.socket_mode:
        from bot.runtime.socket_mode import run_socket_mode

        log.info("Storm is connecting to Slack in Socket Mode")
        try:
            run_socket_mode(settings)
        except SlackApiError as error:
            code = error.response.get("error")
            raise ServeError(
                f"Slack refused the Socket Mode connection ({code}): check SLACK_APP_TOKEN"
            ) from None
        return
    log.info("Storm serves HTTP on port %s (POST /slack/events, GET /healthz)", settings.port)
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    with instance_sign():
        background = Background()
        background.start()
        try:
            serve_asgi(settings, "bot.runtime.server:worker_app")
        finally:
            background.stop()

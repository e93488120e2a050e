"""The composition root: the only place that wires settings, database, Slack and scheduler."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, cast

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.asgi import SlackRequestHandler as AsgiSlackRequestHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import Engine

from bot.core.clock import Clock, SystemClock
from bot.runtime.acknowledging import SIGN_VARIABLE, Acknowledging
from bot.runtime.form_bodies import mend_form_bodies
from bot.runtime.operations import health_body
from bot.runtime.scheduling import PostScheduler
from bot.runtime.settings import Settings
from bot.service.file_imports import IMPORT_EVENT, FileImports
from bot.service.home import EVENT_TYPES as HOME_EVENTS
from bot.service.home import Home
from bot.service.importing import Importing
from bot.service.reactions import ReactionInbox, Reactions
from bot.service.workshops import Workshops
from bot.slack import actions, commands, events, home, shortcuts, views
from bot.slack.canvas import CanvasKeeper
from bot.slack.clicks import CLICK_EVENT, Clicks
from bot.slack.files import SlackFiles
from bot.slack.home import HomeViews
from bot.slack.outbox import Outbox
from bot.slack.people import People
from bot.slack.web import WebApi
from bot.slack.workspaces import Installations, InstalledBot, WorkspaceClient, oauth_settings
from storage.claims import Claimant
from storage.db import Checkpointer
from storage.migrate import ready_engine
from storage.unit_of_work import sqlite_file

log = logging.getLogger(__name__)


def make_client(settings: Settings, installations: Installations | None = None) -> WebClient:
    """The Web API client: `SLACK_API_URL`, and slack_sdk's own retry handlers.

    Rate limits wait for `Retry-After`; connection errors and 5xx answers are retried a few
    times before the failure is reported. Installed into many workspaces (`installations`),
    each call carries the token of the workspace it acts for (`WorkspaceClient`).
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ]
    if installations is not None:
        return WorkspaceClient(
            installations,
            base_url=settings.slack_api_url,
            timeout=10,
            retry_handlers=retry_handlers,
        )
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=retry_handlers,
    )


# What a process does. "all": everything, in one process (Socket Mode, the sandbox, tests).
# "web": acknowledge Slack's requests and record what they ask for (the HTTP workers).
# "background": everything Slack does not wait for: send the outbox's posts on schedule and
# apply recorded reactions (one process beside the web workers, see `bot/runtime/server.py`).
Role = Literal["all", "web", "background"]
# How often the background worker looks for work the web workers queued.
BACKGROUND_POLL_SECONDS = 0.2
# How often the background worker copies the WAL back into the database (web workers never do).
CHECKPOINT_SECONDS = 0.1


@dataclass
class Storm:
    """A wired Storm: the Bolt app and what runs beside it. `start` and `stop` bracket it."""

    identity: _BotIdentity | None  # None in many workspaces: each installation knows its bot
    bolt: App
    engine: Engine
    workshops: Workshops
    scheduler: PostScheduler
    outbox: Outbox
    inbox: ReactionInbox
    acknowledging: Acknowledging
    checkpointer: Checkpointer | None = None
    role: Role = "all"
    canvases: CanvasKeeper | None = None  # not in web workers: the background worker's

    def start(self) -> None:
        """Start sending and scheduling, and finish what a previous run left half done."""
        if self.identity is not None and self.role != "background":
            threading.Thread(target=self.identity.learn, name="storm-identity", daemon=True).start()
        if self.role != "web":
            self.workshops.index_old_names()
            self.outbox.end_leases_of_the_dead()
            self.scheduler.start()
        if self.role == "all":  # the background worker's sender does it on its first wake-up
            self.inbox.process_pending()
        if self.checkpointer is not None:
            self.checkpointer.start()
        if self.canvases is not None:
            self.canvases.start()

    def stop(self) -> None:
        if self.canvases is not None:
            self.canvases.stop()
        if self.checkpointer is not None:
            self.checkpointer.stop()
        if self.role != "web":
            self.scheduler.stop()
            self.outbox.stop()
        self.engine.dispose()

    def wsgi(self) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
        """The HTTP surface: `POST /slack/events` through Bolt, and `GET /healthz`."""
        slack = SlackRequestHandler(self.bolt)

        def application(
            environ: dict[str, Any], start_response: Callable[..., Any]
        ) -> Iterable[bytes]:
            stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
            if stamp is not None and not stamp.isdigit():
                # slack_sdk's verifier would raise on it; this is no request from Slack.
                start_response("401 Unauthorized", [("Content-Type", "text/plain")])
                return [b""]
            if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
                healthy, body = health_body(self.engine)
                start_response(
                    "200 OK" if healthy else "503 Service Unavailable",
                    [("Content-Type", "application/json")],
                )
                return [body]
            return slack(environ, start_response)

        return application

    def asgi(self) -> Asgi:
        """The same HTTP surface as `wsgi`, as an ASGI application for uvicorn.

        Bolt's own ASGI adapter serves `/slack/events`: it runs the synchronous Bolt app on
        the worker's event loop, one request at a time, which costs a worker less per request
        than handing each one to a thread (bench/). That suits Storm because the ack path is
        short work on the database only (answers ride on the ack; posts, uploads and reading a
        reacted-to message are the background worker's, `bot/runtime/background.py`): a request waits
        for the one before it in its worker, and `WEB_CONCURRENCY` workers take requests at
        once. Each request also tells the background worker to hold back (`Acknowledging`).
        """
        slack = AsgiSlackRequestHandler(self.bolt)
        engine = self.engine
        acknowledging = self.acknowledging

        async def application(
            scope: dict[str, Any],
            receive: Callable[[], Awaitable[dict[str, Any]]],
            send: Callable[[dict[str, Any]], Awaitable[None]],
        ) -> None:
            if scope["type"] == "http":
                acknowledging.touch()
                stamp = next(
                    (v for k, v in scope["headers"] if k.lower() == b"x-slack-request-timestamp"),
                    None,
                )
                if stamp is not None and not stamp.isdigit():
                    # slack_sdk's verifier would raise on it; this is no request from Slack.
                    await _respond(send, 401, "text/plain", b"")
                    return
                if scope["path"] == "/healthz" and scope["method"] == "GET":
                    healthy, body = health_body(engine)
                    await _respond(send, 200 if healthy else 503, "application/json", body)
                    return
            await slack(scope, receive, send)

        return application


Asgi = Callable[
    [
        dict[str, Any],
        Callable[[], Awaitable[dict[str, Any]]],
        Callable[[dict[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


async def _respond(
    send: Callable[[dict[str, Any]], Awaitable[None]], status: int, content_type: str, body: bytes
) -> None:
    """One whole HTTP response, as ASGI messages."""
    headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _TokenFromClientFilter(logging.Filter):
    """Bolt warns that `SLACK_BOT_TOKEN` (which it reads from the environment itself) is
    ignored when it is given a client and `authorize`; Storm's client carries that very token,
    so the warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("`token`" in message and ("will be ignored" in message or "unused" in message))


class _BotIdentity:
    """Who the bot is, for Bolt's authorization, without making requests wait for Slack.

    Bolt's single-workspace authorization calls `auth.test` on the first request (and on every
    request until it succeeds), so a Web API outage would fail slash commands that need no Web
    API at all. Storm asks once, in the background at start-up, and answers requests with what
    it knows; until then only the bot's own user id is missing, which Storm does not need.
    """

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._bot_user_id: str | None = None
        self._bot_id: str | None = None

    def learn(self) -> None:
        try:
            found = self._client.auth_test()
        except Exception as error:  # the outbox reports Slack's state; this is a nicety
            log.warning("auth.test failed, will carry on without the bot's user id: %s", error)
            return
        self._bot_user_id, self._bot_id = found.get("user_id"), found.get("bot_id")

    def authorizer(self) -> Callable[..., AuthorizeResult]:
        """Bolt's `authorize` hook (a plain function: Bolt injects arguments by name)."""

        def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
            return AuthorizeResult(
                enterprise_id=enterprise_id,
                team_id=team_id,
                bot_token=self._client.token,
                bot_user_id=self._bot_user_id,
                bot_id=self._bot_id,
            )

        return authorize


def build_app(settings: Settings, *, clock: Clock | None = None, role: Role = "all") -> Storm:
    """Wire everything; nothing starts until `Storm.start`."""
    mend_form_bodies()  # a command naming "payload" must reach its listener
    clock = clock or SystemClock()
    # The background worker copies the WAL into the database; web workers' requests never do.
    engine = ready_engine(settings.database_url, checkpoints=role != "web")
    # Installed into many workspaces (OAuth): each one's bot token is its installation's.
    installations = (
        Installations(settings.slack_client_id, engine)
        if settings.slack_client_id is not None and settings.slack_client_secret is not None
        else None
    )
    client = make_client(settings, installations)
    bolt_logger = logging.getLogger("storm.bolt")
    bolt_logger.addFilter(_TOKEN_FILTER)
    identity: _BotIdentity | None = None
    oauth: OAuthSettings | None = None
    if installations is None:  # one workspace: the bot token of the settings
        identity = _BotIdentity(client)
        authorize = identity.authorizer()
    else:
        assert settings.slack_client_secret is not None
        oauth = oauth_settings(installations, settings.slack_client_secret.get_secret_value())
        # Bolt takes an `Authorize` too, though its annotation names only functions.
        authorize = cast(Callable[..., AuthorizeResult], InstalledBot(installations))
    bolt = App(
        client=client,
        authorize=authorize,
        oauth_settings=oauth,
        signing_secret=(
            settings.slack_signing_secret.get_secret_value()
            if settings.slack_signing_secret
            else None
        ),
        process_before_response=True,
        logger=bolt_logger,
    )
    if oauth is not None:
        # `app_uninstalled` and `tokens_revoked` delete the workspace's installation.
        bolt.enable_token_revocation_listeners()
    # The web workers say they are busy acknowledging, and the background worker of the same
    # instance holds back meanwhile: one process doing everything needs no sign.
    acknowledging = Acknowledging(_busy_sign(engine) if role != "all" else None)
    # This process, as it claims work in the database that other instances share.
    claimant = Claimant(lease=timedelta(seconds=settings.storm_lease_seconds))
    wakeup = threading.Event()
    # A web worker has no sender to wake: the background worker polls for what it queued.
    wake = wakeup.set if role == "all" else _nothing
    workshops = Workshops(engine, clock, wake=wake)
    people = People(engine, client)
    outbox = Outbox(
        engine,
        clock,
        client,
        workshops,
        people,
        wakeup.set,
        hold=acknowledging.hold_while_busy,
        claimant=claimant,
    )
    reactions = Reactions(
        capture=settings.storm_capture_reaction,
        vote=settings.storm_vote_reaction,
        hotspot=settings.storm_hotspot_reaction,
    )
    inbox = ReactionInbox(
        engine,
        clock,
        WebApi(client),
        workshops,
        reactions,
        applies_after_ack=role == "all",
        hold=acknowledging.hold_while_busy,
        claimant=claimant,
        # Each person's App Home is published after the ack, from the inbox like reactions.
        latest_only=dict.fromkeys(
            HOME_EVENTS, Home(engine, clock, HomeViews(client), people.refresh_channel).apply
        ),
        # Imports asked for in Slack are read and stored after the ack, like reactions; so are
        # the clicks that change the model without a form.
        every={
            CLICK_EVENT: Clicks(workshops, WebApi(client)).apply,
            IMPORT_EVENT: FileImports(
                Importing(engine, clock, wake),
                SlackFiles(client, settings.slack_api_url),
                WebApi(client),
            ).apply,
        },
    )
    scheduler = PostScheduler(
        engine,
        clock,
        outbox,
        wakeup,
        poll_seconds=BACKGROUND_POLL_SECONDS if role == "background" else None,
        chores=(inbox.process_pending,) if role == "background" else (),
    )
    commands.register(bolt, workshops=workshops)
    events.register(bolt, inbox=inbox)
    actions.register(bolt, workshops=workshops, inbox=inbox)
    views.register(bolt, workshops=workshops, inbox=inbox)
    home.register(bolt, inbox=inbox)
    shortcuts.register(bolt, workshops=workshops, inbox=inbox)
    bolt.error(_report_error)
    return Storm(
        identity=identity,
        bolt=bolt,
        engine=engine,
        workshops=workshops,
        scheduler=scheduler,
        outbox=outbox,
        inbox=inbox,
        acknowledging=acknowledging,
        checkpointer=Checkpointer(engine, CHECKPOINT_SECONDS) if role == "background" else None,
        role=role,
        canvases=None
        if role == "web"
        else CanvasKeeper(
            engine,
            clock,
            client,
            workshops,
            wakeup.set,
            hold=acknowledging.hold_while_busy,
            claimant=claimant,
        ),
    )


def _nothing() -> None:
    """Wake nobody."""


def _busy_sign(engine: Engine) -> str | None:
    """Where an instance's web workers show they are busy, and its background worker looks.

    On SQLite, beside the database file that they share (and whose write lock a preempted
    background worker would hold up the acknowledgements with). On PostgreSQL an instance's
    processes share the machine's CPU and no file: the sign is the one `stormbot serve` made
    for them all (`instance_sign`); None, and no holding back, in a process it did not start.
    """
    database = sqlite_file(engine)
    if database is not None:
        return f"{database}.acknowledging"
    return os.environ.get(SIGN_VARIABLE)


_TOKEN_FILTER = _TokenFromClientFilter()


def _report_error(error: Exception, body: dict[str, Any], logger: logging.Logger) -> BoltResponse:
    """Log an unexpected failure and tell the person, in words, that nothing was changed."""
    logger.error("unexpected error handling a Slack request", exc_info=error)
    if body.get("command"):
        return BoltResponse(
            status=200,
            body={
                "response_type": "ephemeral",
                "text": "Sorry, something went wrong on Storm's side and nothing was changed. "
                "Please try again; if it keeps happening, tell your Slack admin.",
            },
        )
    return BoltResponse(status=500, body="")

"""Socket Mode: several WebSocket connections to Slack, each reopened on its own, until SIGTERM.

- The client is websocket-client's (Bolt's `adapter.socket_mode.websocket_client`), not
  slack_sdk's builtin one. After Slack's periodic `refresh_requested` disconnect the builtin
  client read the new connection only once the old one's 3 s read had timed out, so the first
  command on it was acknowledged after Slack's 3 s limit; and a connection dropped without a
  close frame left it spinning a core for about a minute before it reconnected. websocket-client
  sees a closed socket at once, and reads a new connection as soon as the old one's reader is
  done. That reader is woken here when its connection is replaced or closed (`_Client`):
  otherwise it could sleep out its 10 s wait, and the new connection with it.
- Several connections (`SOCKET_MODE_CONNECTIONS`): Slack sends each envelope over one of an
  app's open connections, so while one is being refreshed or replaced the others carry the
  commands, and nobody waits for a reconnection.
- A connection that went silent (a network path that died without closing anything) is noticed
  by its pings going unanswered: the client pings every `PING_SECONDS`, and a watch here drops
  a connection whose ping has gone `PONG_TIMEOUT_SECONDS` without a pong, which makes the
  client open a new one. websocket-client has a pong timeout of its own, but Bolt's adapter
  does not set it, and it is only checked when the client's read wakes up (every 10 s).
- SIGTERM and SIGINT close the connections (Slack then sends to no one who is leaving), let the
  commands in progress finish, and stop Storm (its scheduler, its outbox, the database).
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from slack_bolt import App
from slack_bolt.adapter.socket_mode.websocket_client import SocketModeHandler
from slack_sdk.socket_mode.websocket_client import SocketModeClient
from websocket import WebSocketApp, WebSocketException

from bot.runtime.app import build_app
from bot.runtime.health import HealthServer
from bot.runtime.settings import Settings

log = logging.getLogger(__name__)

# How often each connection pings Slack, and how long a ping may go unanswered before the
# connection is taken for dead and replaced: a silent drop is replaced within their sum (plus
# `WATCH_SECONDS`), well inside the quarter of a minute an admin would call an outage.
PING_SECONDS = 5.0
PONG_TIMEOUT_SECONDS = 3.0
WATCH_SECONDS = 1.0
# How long Slack may take to answer a close frame before the client closes the socket itself.
CLOSE_SECONDS = 2.0


def run_socket_mode(settings: Settings) -> None:
    """Serve Slack over Socket Mode, and `/healthz` on `PORT`, until SIGTERM or SIGINT.

    Raises `SlackApiError` when Slack refuses to open a connection (a wrong app token).
    """
    assert settings.slack_app_token is not None
    storm = build_app(settings)
    storm.start()
    try:
        health = HealthServer(storm.engine, settings.host, settings.port).start()
        try:
            with _stop_requested() as stopping:
                connections = Connections(
                    storm.bolt,
                    settings.slack_app_token.get_secret_value(),
                    settings.socket_mode_connections,
                )
                try:
                    connections.open()
                    log.info(
                        "Storm is connected to Slack in Socket Mode (%d connections; "
                        "GET /healthz on port %s)",
                        settings.socket_mode_connections,
                        settings.port,
                    )
                    # The signal may be delivered to any thread, and a main thread blocked for
                    # good would run Python's handler only once something else woke it: wake
                    # up now and then to let it run.
                    while not stopping.wait(WATCH_SECONDS):
                        pass
                    log.info("Stopping: closing the Socket Mode connections")
                finally:
                    connections.close()
        finally:
            health.stop()
    finally:
        storm.stop()
    log.info("Storm stopped")


class Connections:
    """`count` Socket Mode connections for one Bolt app, and the watch over their pongs."""

    def __init__(self, bolt: App, app_token: str, count: int) -> None:
        self._handlers = [_Handler(bolt, app_token) for _ in range(count)]
        self._closing = threading.Event()
        self._watch = threading.Thread(target=self._watch_pongs, name="storm-pongs", daemon=True)

    def open(self) -> None:
        for handler in self._handlers:
            handler.connect()
        self._watch.start()

    def close(self) -> None:
        """Close every connection at once (each waits a moment for Slack's close frame and for
        the commands it is running)."""
        self._closing.set()
        closers = [threading.Thread(target=handler.close) for handler in self._handlers]
        for closer in closers:
            closer.start()
        for closer in closers:
            closer.join()

    def _watch_pongs(self) -> None:
        while not self._closing.wait(WATCH_SECONDS):
            for handler in self._handlers:
                session = handler.client.current_session
                if session is not None and _unanswered(session):
                    log.warning("A Socket Mode connection stopped answering pings; reconnecting")
                    sock = session.sock
                    if sock is not None:
                        sock.abort()  # the client's read sees the connection end, and reconnects


class _Handler(SocketModeHandler):
    """Bolt's websocket-client adapter (it runs the app and sends the acknowledgement), over
    `_Client`."""

    def __init__(self, bolt: App, app_token: str) -> None:
        self.app = bolt
        self.app_token = app_token
        self.client = _Client(
            app_token=app_token,
            logger=bolt.logger,
            web_client=bolt.client,  # apps.connections.open goes to SLACK_API_URL
            ping_interval=PING_SECONDS,
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]


class _Client(SocketModeClient):
    """slack_sdk's websocket-client client, which lets a connection's own reader close it when
    the connection is replaced (a refresh) or closed (stopping).

    The client closes a connection from another thread than the one reading it, and that
    thread may itself read Slack's answering close frame and release the socket: the reader,
    left waiting on a socket nobody writes to, noticed only after its 10 s wait, and only then
    read the new connection. Here the connection is asked to close with a close frame, and the
    reader reads Slack's answer and ends the connection itself, at once.
    """

    def connect(self) -> None:
        _close_from_reader(self.current_session)
        super().connect()

    def disconnect(self) -> None:
        _close_from_reader(self.current_session)
        super().disconnect()


def _close_from_reader(session: WebSocketApp | None) -> None:
    """Send `session` a close frame, wait (a moment at most) until its reader has read Slack's
    answer and finished, then release the socket.

    websocket-client takes a connection whose close frame is sent for closed, and no longer
    closes its socket itself: it is closed here.
    """
    sock = session.sock if session is not None else None
    if session is None or sock is None or not sock.connected or sock.sock is None:
        return
    raw = sock.sock
    with suppress(WebSocketException, OSError):  # already broken: the reader ends anyway
        sock.send_close()
    deadline = time.monotonic() + CLOSE_SECONDS
    while session.sock is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    with suppress(OSError):
        raw.shutdown(socket.SHUT_RDWR)  # wakes the reader if Slack never answered
    sock.shutdown()


def _unanswered(session: WebSocketApp) -> bool:
    """Whether the connection's last ping has gone unanswered for too long."""
    ping, pong = session.last_ping_tm, session.last_pong_tm
    return ping > pong and time.time() - ping > PONG_TIMEOUT_SECONDS


@contextmanager
def _stop_requested() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT while inside; the previous handlers afterwards."""
    stopping = threading.Event()

    def request_stop(_signum: int, _frame: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stopping
    finally:
        for sig, handler in previous.items():
            if handler is not None:
                signal.signal(sig, handler)

"""A fake Slack Socket Mode server on loopback, speaking Slack's protocol over real WebSockets.

What Slack does, as slack_sdk's clients expect it (https://docs.slack.dev/apis/events-api/using-socket-mode/):

- `apps.connections.open` (answered by `FakeSlack`, with the URL from `url()`) hands out a
  WebSocket URL; a client opens it, and the server says `hello` first.
- Each payload goes to one of the app's open connections as an envelope
  `{"envelope_id", "type", "payload", "accepts_response_payload"}`; the client acknowledges
  with `{"envelope_id", "payload"?}`, where a slash command's payload is the ephemeral answer.
- Now and then Slack asks a connection to go away (`{"type": "disconnect", "reason":
  "refresh_requested"}`) and stops sending to it; the client opens a new one.
- And a network may drop a connection without any close frame (`drop`), or go silent and
  stop answering pings (`stall`).

The server runs its own event loop on a thread; tests call it from theirs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

APP_ID = "A0STORM"
APP_TOKEN = f"xapp-1-{APP_ID}-1-e2e"  # the app-level token Storm connects with


@dataclass
class Link:
    """One Socket Mode connection, as the server sees it."""

    id: int
    ticket: str
    connection: ServerConnection = field(repr=False)
    opened_at: float
    refreshing: bool = False  # asked to disconnect: Slack sends it nothing more
    stalled: bool = False
    closed_at: float | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None

    @property
    def live(self) -> bool:
        """Open, and one Slack would send an envelope to."""
        return self.open and not self.refreshing and not self.stalled

    @property
    def close_code(self) -> int | None:
        """1000 when the client closed with a close frame; 1006 when the TCP connection just
        ended."""
        return self.connection.close_code


@dataclass(frozen=True)
class Ack:
    envelope_id: str
    payload: dict[str, Any]
    seconds: float  # from the envelope's send to its acknowledgement's arrival
    link: int


class FakeSocketMode:
    """Accepts Socket Mode connections on `127.0.0.1:<random port>`; see the module docstring."""

    def __init__(self, app_id: str = APP_ID) -> None:
        self.app_id = app_id
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Server | None = None
        self._changed = threading.Condition()
        self._links: list[Link] = []
        self._sent: dict[str, tuple[float, int]] = {}
        self._acks: dict[str, Ack] = {}
        self._tickets = itertools.count(1)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeSocketMode:
        self._thread.start()
        self._server = self._call(self._listen())
        return self

    def stop(self) -> None:
        if self._server is not None:
            for link in self.links(open_only=True):  # a stalled link would hold up the close
                self._loop.call_soon_threadsafe(link.connection.transport.abort)
            self._server.close()
            self._call(self._server.wait_closed())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def url(self) -> str:
        """A new WebSocket URL, as `apps.connections.open` answers."""
        return f"ws://127.0.0.1:{self.port}/link/?ticket={next(self._tickets)}"

    # -- what tests look at ------------------------------------------------------------------
    def links(self, *, open_only: bool = False) -> list[Link]:
        with self._changed:
            return [link for link in self._links if link.open or not open_only]

    def live(self) -> list[Link]:
        with self._changed:
            return [link for link in self._links if link.live]

    def wait_for_live(self, count: int, *, timeout: float = 15.0) -> list[Link]:
        """Wait until `count` connections are live; returns them."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.live()) >= count, timeout=timeout):
                raise AssertionError(f"{count} live connections expected: {self._links}")
            return self.live()

    def wait_for_new(self, after: float, *, timeout: float = 15.0) -> Link:
        """Wait for a live connection opened after `after` (a `time.monotonic()`)."""
        with self._changed:

            def new() -> list[Link]:
                return [link for link in self._links if link.live and link.opened_at > after]

            if not self._changed.wait_for(lambda: bool(new()), timeout=timeout):
                raise AssertionError(f"no new connection within {timeout} s: {self._links}")
            return new()[0]

    def wait_closed(self, link: Link, *, timeout: float = 10.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: not link.open, timeout=timeout):
                raise AssertionError(f"{link} is still open ({link.connection.state!r})")

    # -- what Slack does ---------------------------------------------------------------------
    def send(
        self, payload: dict[str, Any], *, link: Link | None = None, kind: str = "slash_commands"
    ) -> str:
        """Send `payload` in an envelope over `link` (by default the first live connection,
        as Slack picks one); returns its envelope id."""
        target = link or self.live()[0]
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        with self._changed:
            self._sent[envelope_id] = (time.monotonic(), target.id)
        self._call(target.connection.send(json.dumps(envelope)))
        return envelope_id

    def ack(self, envelope_id: str, *, timeout: float = 10.0) -> Ack:
        """Wait for the acknowledgement of an envelope."""
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self._acks, timeout=timeout):
                raise AssertionError(f"envelope {envelope_id} not acknowledged in {timeout} s")
            return self._acks[envelope_id]

    def command(self, payload: dict[str, Any], *, link: Link | None = None) -> Ack:
        return self.ack(self.send(payload, link=link))

    def refresh(self, link: Link) -> None:
        """Ask the client to replace `link`, as Slack does every few hours."""
        with self._changed:
            link.refreshing = True
        message = {
            "type": "disconnect",
            "reason": "refresh_requested",
            "debug_info": {"host": "applink-fake"},
        }
        self._call(link.connection.send(json.dumps(message)))

    def drop(self, link: Link) -> None:
        """End the TCP connection at once, without a close frame."""
        self._loop.call_soon_threadsafe(link.connection.transport.abort)
        self.wait_closed(link)

    def stall(self, link: Link) -> None:
        """Go silent: read nothing more from `link` (so its pings go unanswered), send nothing."""
        with self._changed:
            link.stalled = True
        self._loop.call_soon_threadsafe(link.connection.transport.pause_reading)

    # -- the server --------------------------------------------------------------------------
    async def _listen(self) -> Server:
        # No pings of its own: the client's pings, and whether they are answered, are the test.
        return await serve(self._session, "127.0.0.1", 0, ping_interval=None)

    async def _session(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        hello = {
            "type": "hello",
            "num_connections": len(self.links(open_only=True)) + 1,
            "debug_info": {"host": "applink-fake", "build_number": 1},
            "connection_info": {"app_id": self.app_id},
        }
        try:
            await connection.send(json.dumps(hello))
        except ConnectionClosed:
            return
        with self._changed:
            link = Link(len(self._links) + 1, connection.request.path, connection, time.monotonic())
            self._links.append(link)
            self._changed.notify_all()
        try:
            async for message in connection:
                self._received(link, json.loads(message))
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                link.closed_at = time.monotonic()
                self._changed.notify_all()

    def _received(self, link: Link, message: dict[str, Any]) -> None:
        envelope_id = message.get("envelope_id")
        with self._changed:
            if envelope_id in self._sent and envelope_id not in self._acks:
                sent_at, _ = self._sent[envelope_id]
                self._acks[envelope_id] = Ack(
                    envelope_id, message.get("payload") or {}, time.monotonic() - sent_at, link.id
                )
                self._changed.notify_all()

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

"""`GET /healthz` for Socket Mode, where no web server runs: the container's health check
probes it on `PORT` whichever way Storm talks to Slack."""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy.engine import Engine

from bot.runtime.operations import health_body

log = logging.getLogger(__name__)


class HealthServer:
    """Answers `GET /healthz` on a thread: 200 when the database answers, 503 otherwise, with
    what operators watch as JSON (`bot.runtime.operations`), as HTTP mode does."""

    def __init__(self, engine: Engine, host: str, port: int) -> None:
        self._server = ThreadingHTTPServer((host, port), _handler(engine))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="storm-healthz", daemon=True
        )

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler(engine: Engine) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/healthz":
                self._reply(404, b"not found\n", "text/plain; charset=utf-8")
                return
            healthy, body = health_body(engine)
            self._reply(200 if healthy else 503, body, "application/json")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Probes every few seconds would drown the log; debug level only."""
            log.debug("healthz: " + format, *args)

    return Handler

"""The real app serving real HTTP on loopback, in this process or as a `stormbot serve` process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from bot.core.clock import ManualClock
from bot.runtime.app import Storm, build_app
from bot.runtime.settings import Settings
from bot.sandbox.fake_slack import FakeSlack, Message, UploadedFile
from bot.sandbox.slack_requests import SlackRequests

SIGNING_SECRET = "e2e-signing-secret-0123456789"
BOT_TOKEN = "xoxb-e2e-bot-token"
TEAM = "T0001"
CHANNEL = "C1"


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output for assertions, not access logs."""


def text_of(message: Message) -> str:
    """What a person reads in a message: its blocks' text, or its fallback text."""
    parts: list[str] = []
    for block in message.blocks or []:
        if block.get("type") in ("section", "header"):
            parts.append(block["text"]["text"])
        elif block.get("type") == "context":
            parts.extend(element.get("text", "") for element in block["elements"])
    return "\n".join(parts) if parts else message.text


def json_exports(fake: FakeSlack, channel: str | None = None) -> list[UploadedFile]:
    """The `export json` files uploaded, oldest first: pictures of the board may come between
    them (after a digest, a summary or the final report)."""
    return [f for f in fake.files(channel) if f.filename == "storm-model.json"]


def answer_text(body: dict[str, Any]) -> str:
    """The text of an ephemeral answer carried by an acknowledgement."""
    blocks = body.get("blocks") or []
    texts = [b["text"]["text"] for b in blocks if b.get("type") in ("section", "header")]
    return "\n".join(texts) if texts else body.get("text", "")


@dataclass
class InProcess:
    """Storm built with a movable clock, serving HTTP on an OS-assigned loopback port."""

    storm: Storm
    clock: ManualClock
    fake: FakeSlack
    slack: SlackRequests
    database_url: str
    _server: _ThreadingServer = field(repr=False)

    def run(self, text: str, *, user: str = "U1", channel: str = CHANNEL, team: str = TEAM) -> str:
        """`/storm <text>`; returns the ephemeral answer's text (and checks the ack)."""
        response = self.slack.command(text, user=user, channel=channel, team_id=team)
        assert response.status == 200, response.body
        return answer_text(response.json())

    def export(
        self, fmt: str = "json", *, user: str = "U1", channel: str = CHANNEL
    ) -> UploadedFile:
        """`/storm export <fmt>` and the file it uploads. Pictures of the board that summaries,
        digests and the final report attach may arrive meanwhile: they are told apart by name."""
        wanted = fmt in ("png", "svg")
        before = {f.id for f in self.fake.files(channel)}

        def new(fake: FakeSlack) -> list[UploadedFile]:
            return [
                f
                for f in fake.files(channel)
                if f.id not in before and f.filename.startswith("board") == wanted
            ]

        self.run(f"export {fmt}", user=user, channel=channel)
        self.fake.wait_for(lambda f: bool(new(f)))
        return new(self.fake)[-1]

    def export_json(self, *, user: str = "U1", channel: str = CHANNEL) -> Any:
        """The model as `/storm export json` uploads it, parsed."""
        return json.loads(self.export("json", user=user, channel=channel).text)

    def posts(self, channel: str = CHANNEL) -> list[Message]:
        """Messages Storm posted to the channel (threads included), oldest first."""
        return [m for m in self.fake.messages(channel) if m.user == self.fake.bot_user_id]

    def post_texts(self, channel: str = CHANNEL) -> list[str]:
        return [text_of(m) for m in self.posts(channel)]

    def wait_for_post(self, needle: str, *, count: int = 1, timeout: float = 10.0) -> list[Message]:
        """Wait until `count` posts contain `needle`; returns them."""
        self.fake.wait_for(
            lambda _: sum(needle in text_of(m) for m in self.posts()) >= count, timeout=timeout
        )
        return [m for m in self.posts() if needle in text_of(m)]

    def wait_until_sent(self, timeout: float = 10.0, *, within: timedelta = timedelta(0)) -> None:
        """Wait until the outbox holds nothing that is already due (or due `within` from
        now: an element's message updated a moment ago waits a little before its next
        update), and every reaction or click recorded before its ack has been carried out
        (and queued what it answers)."""
        from storage import repository as repo
        from storage.unit_of_work import unit_of_work

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with unit_of_work(self.storm.engine) as session:
                due = repo.due_posts(session, now=self.clock.now() + within)
                pending = repo.unprocessed_slack_events(session)
            if not due and not pending and self.storm.outbox.idle():
                return
            time.sleep(0.02)
        raise AssertionError("due posts were not sent in time")

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.storm.stop()


def start_in_process(
    fake: FakeSlack, database_url: str, *, clock: ManualClock | None = None, **overrides: Any
) -> InProcess:
    settings = Settings(
        **{
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": fake.api_url,
            "database_url": database_url,
            **overrides,  # `slack_bot_token=None` too: installed into many workspaces
        }
    )
    clock = clock or ManualClock()
    storm = build_app(settings, clock=clock)
    storm.start()
    server = make_server(
        "127.0.0.1", 0, storm.wsgi(), server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    slack = SlackRequests(f"http://127.0.0.1:{server.server_port}/", SIGNING_SECRET, fake=fake)
    return InProcess(storm, clock, fake, slack, database_url, server)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServeProcess:
    """`python -m bot serve` as a child process, as an admin would run it."""

    env: dict[str, str]
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 20.0) -> ServeProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"stormbot exited early:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.base_url + "healthz", timeout=1) as reply:
                    if reply.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise AssertionError(f"stormbot did not become healthy:\n{self.log_path.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the whole process group (uvicorn's supervisor, the web workers and the background
        worker)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        self.process.wait(timeout=20)


def serve_process(fake: FakeSlack, database_url: str, log_path: Path) -> ServeProcess:
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }
    env.pop("SLACK_APP_TOKEN", None)
    return ServeProcess(env=env, port=port, log_path=log_path)

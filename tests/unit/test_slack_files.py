"""Reading a shared file for an import (`bot.slack.files`, `bot.slack.imports`): against the
fake Slack over HTTP, and a loopback server that plays a host that is not Slack's. The bot
token must go to Slack only; a file too large is refused before its bytes are read."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from slack_sdk import WebClient

from bot.core.messages import Post
from bot.sandbox.fake_slack import FakeSlack
from bot.service.ports import FileRefused
from bot.slack.files import SlackFiles
from bot.slack.imports import chosen_file

TOKEN = "xoxb-files-test"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(TOKEN) as running:
        yield running


@pytest.fixture
def files(fake: FakeSlack) -> SlackFiles:
    return SlackFiles(WebClient(token=TOKEN, base_url=fake.api_url), fake.api_url)


class _Elsewhere(BaseHTTPRequestHandler):
    """A host that is not Slack's: it keeps the Authorization header of every request, and
    answers `/redirect` with a redirect to its own `/landing`."""

    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        _Elsewhere.seen.append(self.headers.get("Authorization"))
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/landing")
            self.end_headers()
            return
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def elsewhere() -> Iterator[str]:
    _Elsewhere.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Elsewhere)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_shared_file_is_read_with_files_info_then_its_private_url(
    fake: FakeSlack, files: SlackFiles
) -> None:
    said = fake.share_file("C1", "U1", "model.json", b'{"format": "storm-model/1"}')
    shared = files.fetch_file(said.files[0]["id"], limit=100)
    assert (shared.name, shared.data) == ("model.json", b'{"format": "storm-model/1"}')
    assert [c.method for c in fake.calls] == ["files.info", "file_download"]


def test_a_file_larger_than_asked_for_is_refused_before_its_bytes_are_read(
    fake: FakeSlack, files: SlackFiles
) -> None:
    said = fake.share_file("C1", "U1", "model.json", b"x" * 101)
    with pytest.raises(FileRefused) as refused:
        files.fetch_file(said.files[0]["id"], limit=100)
    assert (refused.value.reason, refused.value.size, refused.value.name) == (
        "too_large",
        101,
        "model.json",
    )
    assert [c.method for c in fake.calls] == ["files.info"]


def test_a_file_slack_does_not_have_is_unavailable(fake: FakeSlack, files: SlackFiles) -> None:
    with pytest.raises(FileRefused) as refused:
        files.fetch_file("F404", limit=100)
    assert (refused.value.reason, refused.value.code) == ("unavailable", "file_not_found")


def test_a_download_slack_refuses_is_unavailable(fake: FakeSlack, files: SlackFiles) -> None:
    said = fake.share_file("C1", "U1", "model.json", b"{}")
    fake.fail("file_download", status=403)
    with pytest.raises(FileRefused) as refused:
        files.fetch_file(said.files[0]["id"], limit=100)
    assert (refused.value.reason, refused.value.code) == ("unavailable", "HTTP 403")


def test_the_token_goes_to_no_host_but_slacks(fake: FakeSlack, elsewhere: str) -> None:
    """Configured for Slack itself, the fake's download address is another host's: refused
    without a request to it."""
    real = SlackFiles(WebClient(token=TOKEN, base_url=fake.api_url), "https://slack.com/api/")
    said = fake.share_file("C1", "U1", "model.json", b"{}")
    with pytest.raises(FileRefused) as refused:
        real.fetch_file(said.files[0]["id"], limit=100)
    assert refused.value.reason == "untrusted"
    assert [c.method for c in fake.calls] == ["files.info"]
    assert real.trusted("https://files.slack.com/files-pri/T1-F1/download/model.json")
    assert not real.trusted("http://files.slack.com/files-pri/T1-F1/download/model.json")
    assert not real.trusted("https://files.slack.com.example.org/model.json")
    assert not real.trusted("https://user@files.slack.com/model.json")
    assert not real.trusted(f"{elsewhere}/model.json")


def test_a_redirect_is_not_followed(elsewhere: str) -> None:
    """Even from a trusted host: a redirect would carry the token to wherever it points."""
    trusting = SlackFiles(WebClient(token=TOKEN), f"{elsewhere}/api/")
    with pytest.raises(FileRefused) as refused:
        trusting._download(f"{elsewhere}/redirect", "model.json", 100)
    assert (refused.value.reason, refused.value.code) == ("unavailable", "HTTP 302")
    assert _Elsewhere.seen == [f"Bearer {TOKEN}"]  # the redirect's own host only


@pytest.mark.parametrize(
    ("names", "taken"),
    [
        (["model.txt"], "model.txt"),  # one file: its reader says what is wrong with it
        (["notes.txt", "model.JSON", "other.json"], "model.JSON"),
    ],
)
def test_of_a_messages_files_the_only_one_or_the_first_json_is_taken(
    names: list[str], taken: str
) -> None:
    chosen = chosen_file([{"id": f"F{n}", "name": name} for n, name in enumerate(names)])
    assert isinstance(chosen, dict) and chosen["name"] == taken


def test_a_message_with_no_file_to_take_says_why() -> None:
    none = chosen_file([])
    several = chosen_file([{"id": "F1", "name": "a.png"}, {"id": "F2", "name": "b.txt"}])
    assert isinstance(none, Post) and "carries no file" in none.sections[0]
    assert isinstance(several, Post) and "2 files and none is a `.json`" in several.sections[0]

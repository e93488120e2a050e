"""On PostgreSQL an instance's web workers tell its background worker that they are busy
through a file of the instance's own in the temporary directory (`instance_sign`): requests
touch the very file the background worker watches, with one web worker as with several, and
the instance removes it when it stops."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest

from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.slack_requests import SlackRequests
from tests.support.postgres import empty
from tests.support.running import SIGNING_SECRET, serve_process


def _sign_of(pid: int) -> Path:
    return Path(tempfile.gettempdir()) / f"storm-{pid}.acknowledging"


@pytest.mark.parametrize("workers", ["1", "2"])
def test_requests_mark_the_instances_own_sign_which_goes_when_it_stops(
    fake_slack: FakeSlack, postgresql_url: str, tmp_path: Path, workers: str
) -> None:
    empty(postgresql_url)
    served = serve_process(fake_slack, postgresql_url, tmp_path / "stormbot.log")
    served.env["WEB_CONCURRENCY"] = workers
    served.start()
    try:
        assert served.process is not None
        sign = _sign_of(served.process.pid)
        slack = SlackRequests(served.base_url, SIGNING_SECRET)
        assert "started" in slack.command("start Checkout").body
        before = time.time()
        time.sleep(0.1)  # past the web worker's touch interval and the file system's clock

        assert "Added 1 event" in slack.command("event Order Placed").body

        assert sign.exists(), f"no sign at {sign}"
        assert sign.stat().st_mtime >= before
    finally:
        served.stop()
    assert not sign.exists()

"""Keeps each followed workshop's channel canvas a live copy of its model (SPEC §4.5).

A thread of the background worker (of the one process, in Socket Mode and the sandbox)
looks every `TICK_SECONDS` (half a second) at the workshops with `/storm canvas on` (`storage.canvases`):

- a workshop without a canvas gets one: the channel canvas
  (`conversations.canvases.create`); when the channel has one already (someone else's:
  `channel_canvas_already_exists`) or the plan gives apps none (free plans), a canvas of
  Storm's own tabbed in the channel (`canvases.create` with `channel_id`), which Storm may
  edit as its creator;
- a workshop whose model moved (its fingerprint) is rendered again, and if the Markdown
  differs from the last sent (its hash), the canvas is rewritten, at most once every
  `EDIT_EVERY_SECONDS`: changes made meanwhile wait for the next edit and go together, so
  a change shows within about ten seconds;
- when Slack refuses (plan, canvases turned off, no permission…), the facilitator who turned
  the canvas on is told once, in words (an ephemeral answer through the outbox), and Storm
  stops trying until `/storm canvas on` again. The workshop goes on regardless.

Why the whole document is replaced (`canvases.edit` with `replace` and no `section_id`)
rather than section by section with `canvases.sections.lookup`: Slack's canvas sections are
single blocks (a heading, a paragraph, a list), and a replace with a `section_id` replaces
that block only: an H2's heading, not the lists below it. The lists under a heading grow and
shrink with the model, and `canvases.edit` takes one operation per call, so rewriting one
part would take a delete per block and an insert, several calls per change against one call
for the whole document, within the same Tier 3 rate. One replace is one edit, atomic for
the people reading, and every part stays under its fixed heading.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.core import messages
from bot.core.canvas import canvas_markdown, refusal
from bot.core.clock import Clock
from bot.service.workshops import Workshops
from bot.slack.web import retry_after, without_waiting
from storage import canvases, claims
from storage import repository as repo
from storage.canvases import Followed
from storage.claims import Claimant
from storage.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5
EDIT_EVERY_SECONDS = 10.0
# No channel canvas for Storm: the channel has one of someone else's, or the plan allows apps
# none (free plans). Storm then makes a canvas of its own, tabbed in the channel.
_NO_CHANNEL_CANVAS = frozenset(
    {"channel_canvas_already_exists", "team_tier_cannot_create_channel_canvases"}
)
# The canvas Storm wrote is gone (deleted in Slack): a new one is made.
_GONE = frozenset({"canvas_not_found", "canvas_deleted"})


class CanvasKeeper:
    """Creates and edits the channel canvases of followed workshops, on its own thread."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        client: WebClient,
        workshops: Workshops,
        wake: Callable[[], None],
        *,
        hold: Callable[[], None] = lambda: None,
        claimant: Claimant | None = None,
    ) -> None:
        """`wake` wakes the outbox (which sends the refusal notices); `hold` lets the web
        workers' acknowledgements go first, as the outbox does. `claimant` is this instance:
        a canvas is written by one instance at a time."""
        self._engine = engine
        self._claimant = claimant or Claimant()
        self._clock = clock
        # A 429 is not slept out on this thread: the workshop waits and the others go on.
        self._client = without_waiting(client)
        self._workshops = workshops
        self._wake = wake
        self._hold = hold
        self._seen: dict[int, tuple[object, ...]] = {}  # fingerprint of the last Markdown sent
        self._not_before: dict[int, float] = {}  # workshop: when Slack lets it try (monotonic)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="storm-canvas", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stopping.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:  # the loop must survive a database hiccup
                log.exception("keeping canvases failed; will try again")

    def tick(self) -> None:
        """Create or bring up to date every followed workshop's canvas that needs it."""
        with unit_of_work(self._engine, read_only=True) as session:
            found = canvases.followed(session)
        for workshop in found:
            if self._stopping.is_set():
                return
            if workshop.problem is not None:
                continue  # told once; `/storm canvas on` clears it
            if time.monotonic() < self._not_before.get(workshop.workshop_id, 0.0):
                continue
            try:
                self._keep(workshop)
            except Exception:  # one workshop's trouble holds up no other
                log.exception("the canvas of workshop %s failed", workshop.workshop_id)
                self._later(workshop.workshop_id, EDIT_EVERY_SECONDS)

    def _keep(self, workshop: Followed) -> None:
        workshop_id = workshop.workshop_id
        if workshop.canvas_id is not None and self._seen.get(workshop_id) == workshop.fingerprint:
            return
        if workshop.sent_at is not None and _since(workshop.sent_at) < EDIT_EVERY_SECONDS:
            return  # the change waits for the next edit (its fingerprint still differs)
        claimed = self._claim(workshop)
        if claimed is None:
            return  # another instance is writing it
        try:
            self._write(claimed)
        finally:
            with unit_of_work(self._engine) as session:
                claims.release_canvas(session, workshop_id=workshop_id, by=self._claimant)

    def _write(self, workshop: Followed) -> None:
        workshop_id = workshop.workshop_id
        markdown = self._render(workshop_id)
        digest = hashlib.sha256(markdown.encode()).hexdigest()
        if workshop.canvas_id is not None and digest == workshop.sent_hash:
            self._seen[workshop_id] = workshop.fingerprint
            self._done_if_finished(workshop)
            return
        self._hold()
        try:
            if workshop.canvas_id is None:
                canvas_id = self._create(workshop, markdown)
            else:
                canvas_id = workshop.canvas_id
                self._client.canvases_edit(
                    canvas_id=canvas_id,
                    changes=[
                        {
                            "operation": "replace",
                            "document_content": {"type": "markdown", "markdown": markdown},
                        }
                    ],
                )
        except SlackApiError as error:
            self._refused(workshop, error)
            return
        with unit_of_work(self._engine) as session:
            canvases.record(
                session,
                workshop_id,
                canvas_id=canvas_id,
                canvas_hash=digest,
                canvas_sent_at=datetime.now(UTC),
            )
        self._seen[workshop_id] = workshop.fingerprint
        self._done_if_finished(workshop)

    def _claim(self, workshop: Followed) -> Followed | None:
        """Take the canvas for this instance, and read what another may have written before
        (a canvas it made is edited, not made again); None when another instance holds it."""
        with unit_of_work(self._engine) as session:
            if not claims.claim_canvas(
                session,
                workshop_id=workshop.workshop_id,
                now=datetime.now(UTC),
                by=self._claimant,
            ):
                return None
            row = repo.workshop_by_id(session, workshop_id=workshop.workshop_id)
            return replace(workshop, canvas_id=row.canvas_id, sent_hash=row.canvas_hash)

    def _create(self, workshop: Followed, markdown: str) -> str:
        """The channel canvas, or, when the channel has someone else's, one of Storm's own
        tabbed in the channel."""
        with unit_of_work(self._engine, read_only=True) as session:
            found = repo.workshop_by_id(session, workshop_id=workshop.workshop_id)
            channel, title = found.channel_id, found.title
        content = {"type": "markdown", "markdown": markdown}
        try:
            answer = self._client.conversations_canvases_create(
                channel_id=channel, document_content=content
            )
        except SlackApiError as error:
            if error.response.get("error") not in _NO_CHANNEL_CANVAS:
                raise
            try:
                answer = self._client.canvases_create(
                    title=f"Storm: {title}"[:255], document_content=content, channel_id=channel
                )
            except SlackApiError as second:
                if second.response.status_code == 429:
                    raise
                log.info("no canvas of Storm's own in %s either: %s", channel, second)
                raise error from second  # what to tell: why there is no channel canvas
        return str(answer["canvas_id"])

    def _refused(self, workshop: Followed, error: SlackApiError) -> None:
        """Wait out a rate limit; make a new canvas for one deleted; otherwise tell the
        facilitator, once, and stop trying."""
        code = str(error.response.get("error"))
        workshop_id = workshop.workshop_id
        if error.response.status_code == 429:
            self._later(workshop_id, retry_after(error))
            return
        if workshop.canvas_id is not None and code in _GONE:
            log.info("the canvas of workshop %s is gone: making a new one", workshop_id)
            with unit_of_work(self._engine) as session:
                canvases.record(session, workshop_id, canvas_id=None, canvas_hash=None)
            return
        log.warning("Slack refused the canvas of workshop %s: %s", workshop_id, code)
        notice = messages.notice(refusal(code))
        with unit_of_work(self._engine) as session:
            canvases.record(session, workshop_id, canvas_problem=code)
            repo.schedule_post(
                session,
                workshop_id=workshop_id,
                kind="ephemeral",
                due_at=self._clock.now(),
                payload={
                    "user": workshop.requested_by,
                    "text": notice.text,
                    "sections": list(notice.sections),
                },
            )
        self._wake()

    def _done_if_finished(self, workshop: Followed) -> None:
        """A finished workshop's canvas shows the final model: nothing will change it again,
        so Storm stops following it."""
        if workshop.finished:
            with unit_of_work(self._engine) as session:
                canvases.record(session, workshop.workshop_id, canvas_by=None)

    def _render(self, workshop_id: int) -> str:
        with unit_of_work(self._engine, read_only=True) as session:
            workshop = repo.workshop_by_id(session, workshop_id=workshop_id)
            snapshot = self._workshops.snapshot(session, workshop)
        return canvas_markdown(snapshot)

    def _later(self, workshop_id: int, seconds: float) -> None:
        self._not_before[workshop_id] = time.monotonic() + seconds


def _since(moment: datetime) -> float:
    """Real seconds since `moment` (Slack's rate counts real time, whatever Storm's clock)."""
    return (datetime.now(UTC) - moment).total_seconds()

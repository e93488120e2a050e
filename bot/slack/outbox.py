"""Sends what the outbox holds: each due post is claimed in the database, then sent once.

The claim is an UPDATE that only one caller can win, in this process or another instance on
the same database, and it carries a lease (`storage.claims`). A post whose instance died
between claim and finish, or whose answer from Slack was lost (a dropped connection, a 5xx:
it may have gone out), is taken over once the lease has run out: before sending it again,
Storm looks in the channel for it by the metadata every post carries (`storm_post`, or the
element message's), and a post found there is recorded as sent, not sent twice. So each
post goes out exactly once (SPEC §5, §8). Posts are never retried blindly (`posting`). A
post Slack refused with a rate limit was not sent: it is given back and goes out when Slack
says, in its place.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import messages, reports
from bot.core.clock import Clock
from bot.core.completeness import check
from bot.core.messages import CHANNEL_PROBLEMS, Post
from bot.core.model import ElementInfo, Snapshot, element_key
from bot.core.text import literal
from bot.core.timeline import (
    DEADLINE,
    DIGEST_STALE_AFTER,
    HALF_TIME,
    LAST_CALL,
    is_late,
)
from bot.service import posts
from bot.service.reactions import ELEMENT_METADATA
from bot.service.snapshots import field_spec
from bot.service.workshops import Workshops
from bot.service.workspace import acting_for
from bot.slack.blocks import MAX_SHARED, SlackMessage, build_messages, build_shared, build_single
from bot.slack.people import People
from bot.slack.uploads import upload_board, upload_export
from bot.slack.web import posting, retry_after
from bot.slack.workspaces import workspace_of
from storage import claims
from storage import repository as repo
from storage.claims import Claimant
from storage.tables import Element, ScheduledPost, StepRun, Workshop
from storage.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

# At most one update of an element's message this often: a burst of votes (or a facilitator
# tidying up) becomes a few `chat.update` calls, well inside Slack's rate limits, and each
# shows the element as it is when sent, so nothing is lost by waiting.
UPDATE_EVERY = timedelta(seconds=1)
# Slack's answers to `chat.update` that no retry can change: the message was deleted, or it
# is not one Storm may edit.
_STALE_MESSAGE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
# Slack lets about one message a second into a channel, after a short burst of about four, and
# answers 429 beyond (SPEC §4.3, §9). Element posts for one thread go out together, several to
# a message, so that none waits behind a queue of single posts: when more have piled up than
# twice that burst (they would meet the limit whatever happens), or several while Slack has
# lately asked the workshop's channel to wait. Otherwise each element keeps a message of its
# own, on which :+1: votes.
PILED_UP = 8
PRESSED_SECONDS = 5.0
# The metadata event type of every other post to a channel: it names the post, so that one
# whose sending was cut short is found in the channel instead of being sent again.
POST_METADATA = "storm_post"
# A post whose answer from Slack is lost is looked for and sent again this soon; after this
# many sends it is given up (Slack keeps failing on it).
AMBIGUOUS_RETRY = timedelta(seconds=2)
# A workshop whose post another sender has on its way is looked at again this soon: that
# sender goes on with the rest when it is done, but it may be dead (its post is then taken
# over once its lease has run out) or between two looks of its own.
IN_FLIGHT_RECHECK_SECONDS = 1.0
MAX_ATTEMPTS = 5
# How far back the channel is read for a post taken over: pages of Slack's newest messages.
LOOKUP_PAGES = 5
# Posts whose claim did all their work: nothing goes to Slack, nothing to look for.
_CLAIM_ONLY = frozenset({DEADLINE, "plan_digest", "members"})
# Posts that are not a channel message with metadata: taken over, they are done again (an
# update or a deletion is the same twice; a private answer cannot be looked up; a file
# upload carries no metadata).
_NOT_LOOKED_UP = frozenset({"ephemeral", "element_update", "delete_message", "export", "board"})
# File uploads take several calls: one that fails is reported to whoever asked, as before.
_UPLOADS = frozenset({"export", "board"})


class _AnswerLost(Exception):
    """Slack's answer to a post was lost (no answer, or a 5xx): it may have gone out."""


def _answer_lost(error: Exception) -> bool:
    if isinstance(error, SlackApiError):
        return error.response.status_code >= 500
    return isinstance(error, OSError | http.client.HTTPException)


class _RateLimited(Exception):
    """Slack answered 429: nothing was posted; try again in `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"rate limited for {seconds:g} s")
        self.seconds = seconds


@dataclass(frozen=True)
class _Posted:
    """An element message that went out: its ts, and the elements it carries with what it
    said of each, recorded with the posts' finish."""

    ts: str
    element_ids: tuple[int, ...]
    bodies: tuple[Post, ...]


class Outbox:
    """Claims due posts and sends them through the Slack Web API, soonest first."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        client: WebClient,
        workshops: Workshops,
        people: People,
        wake: Callable[[], None],
        *,
        senders: int = 4,
        hold: Callable[[], None] = lambda: None,
        claimant: Claimant | None = None,
    ) -> None:
        """`hold` is called before each post: the background worker's way to let the web
        workers' acknowledgements go first (`bot.runtime.acknowledging.Acknowledging`).
        `claimant` is this instance, whose claims carry its lease."""
        self._engine = engine
        self._clock = clock
        self._client = client
        self._claimant = claimant or Claimant()
        # The one call a post takes (or its first), made without sleeping out a rate limit:
        # the post is given back instead and the thread serves other workshops meanwhile.
        # Neither it nor the client of a long post's further pages and of uploads retries a
        # lost answer.
        self._at_once = posting(client)
        self._pages = posting(client, wait_on_rate_limits=True)
        self._workshops = workshops
        self._people = people
        self._wake = wake
        self._hold = hold
        self._stopping = threading.Event()
        self._started_at = clock.now()  # what fell due before this moment was missed while down
        # One drain per workshop at a time keeps each channel's posts in order, while a rate
        # limit or a slow answer in one workspace holds up no other.
        self._pool = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="storm-send")
        self._draining: set[int] = set()
        self._lock = threading.Lock()
        self._reported: set[tuple[int, str]] = set()
        self._updated: dict[int, datetime] = {}  # element id: when its message was last updated
        self._paused: set[int] = set()  # workshops whose channel Slack asked to wait
        self._recheck = False  # whether a wake-up is planned for workshops waiting on another
        self._limited_at: dict[int, float] = {}  # workshop id: when Slack last did (monotonic)

    def end_leases_of_the_dead(self) -> None:
        """As this sender starts: what a crashed or killed process of this host left claimed
        is taken over now, not once its leases have run out (`claims.end_leases_of_the_dead`);
        until then the workshop's later posts would wait behind it."""
        with unit_of_work(self._engine) as session:
            ended = claims.end_leases_of_the_dead(session, now=self._clock.now())
        if ended:
            log.warning("%s claims of a process gone from this host are taken over now", ended)

    def send_due(self) -> None:
        """Take over the posts whose lease ran out, then start draining every workshop that
        has posts due and is not being drained."""
        self.take_over_expired()
        with unit_of_work(self._engine, read_only=True) as session:
            due = repo.workshops_with_due_posts(session, now=self._clock.now())
        for workshop_id in due:
            with self._lock:
                if workshop_id in self._draining or workshop_id in self._paused:
                    continue
                self._draining.add(workshop_id)
            self._pool.submit(self._drain_in_its_workspace, workshop_id)

    def take_over_expired(self) -> None:
        """Finish the posts another instance (or this one, before a lost answer) claimed and
        did not finish within its lease: each is looked for in the channel first, and sent
        only if it is not there."""
        now = self._clock.now()
        with unit_of_work(self._engine, read_only=True) as session:
            expired = claims.expired_posts(session, now=now)
        if not expired:
            return  # the usual case, on every poll: no write taken
        with unit_of_work(self._engine) as session:
            won = [
                post
                for post in expired
                if claims.take_over_post(session, post_id=_pid(post), now=now, by=self._claimant)
            ]
        for post in won:
            if self._stopping.is_set():
                return
            try:
                with acting_for(workspace_of(self._client, self._engine, post.workshop_id)):
                    self._take_over(post, now)
            except Exception:  # its lease runs out again: another look, later
                log.exception("taking over post %s failed", post.id)

    def _take_over(self, post: ScheduledPost, now: datetime) -> None:
        log.warning(
            "taking over %s post %s of workshop %s (claimed by %s)",
            post.kind,
            post.id,
            post.workshop_id,
            post.claimed_by,
        )
        if post.kind in _CLAIM_ONLY:
            self._finish(post, "sent")
            return
        if post.attempts >= MAX_ATTEMPTS:
            log.error("giving up %s post %s after %s sends", post.kind, post.id, post.attempts)
            self._finish(post, "failed", "gave up")
            return
        if post.kind not in _NOT_LOOKED_UP:
            found = self._find_in_channel(post)
            if found is not None:
                log.info("post %s had gone out (ts %s): recorded, not sent again", post.id, found)
                self._found(post, found)
                return
        loaded = None if post.kind in _NO_SNAPSHOT else self._load(post.workshop_id)
        self._send([post], now, loaded)

    def _find_in_channel(self, post: ScheduledPost) -> str | None:
        """The ts of the message that carries `post` in its metadata, if it went out: in the
        channel, or in its step's thread for an element's message."""
        with unit_of_work(self._engine, read_only=True) as session:
            workshop = repo.workshop_by_id(session, workshop_id=post.workshop_id)
            thread = (
                repo.step_run(session, workshop_id=post.workshop_id, number=post.step_number)
                if post.kind == "element" and post.step_number is not None
                else None
            )
        params: dict[str, Any] = {"channel": workshop.channel_id, "include_all_metadata": True}
        method: Callable[..., Any] = self._client.conversations_history
        if thread is not None and thread.prompt_ts is not None:
            method, params["ts"] = self._client.conversations_replies, thread.prompt_ts
        cursor = None
        for _ in range(LOOKUP_PAGES):
            answer = method(**params, limit=200, **({"cursor": cursor} if cursor else {}))
            found: list[dict[str, Any]] = answer.get("messages", [])
            for message in found:
                if _pid(post) in _posts_named(message.get("metadata")):
                    return str(message["ts"])
            cursor = (answer.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        where = f"the thread {params['ts']}" if "ts" in params else "the channel"
        log.info("post %s is not in %s of %s: sent again", post.id, where, workshop.channel_id)
        return None

    def _found(self, post: ScheduledPost, ts: str) -> None:
        """Record a post found in the channel as sent, with what its sending records. A
        digest records its score, which tomorrow's compares with: the model's score now, as
        near as can be told to the one the digest showed."""
        score = check(self._load(post.workshop_id)[1]).score if post.kind == "digest" else None
        with unit_of_work(self._engine) as session:
            if score is not None:
                workshop = repo.workshop_by_id(session, workshop_id=post.workshop_id)
                workshop.last_digest_score = score
                session.add(workshop)
            if post.kind == "element":
                repo.set_message_ts(session, element_id=post.payload["element_id"], message_ts=ts)
            elif post.kind == "prompt" and post.step_number is not None:
                run = repo.step_run(session, workshop_id=post.workshop_id, number=post.step_number)
                run.prompt_ts = run.prompt_ts or ts
                session.add(run)
            repo.finish_post(session, post_id=_pid(post), status="sent")

    def _finish(self, post: ScheduledPost, status: str, error: str | None = None) -> None:
        with unit_of_work(self._engine) as session:
            repo.finish_post(session, post_id=_pid(post), status=status, error=error)

    def idle(self) -> bool:
        """Whether no workshop is being drained right now."""
        with self._lock:
            return not self._draining

    def stop(self) -> None:
        """Finish the posts being sent, and leave the rest pending for the next start."""
        self._stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _drain_in_its_workspace(self, workshop_id: int) -> None:
        """`_drain`, its calls made with the token of the workshop's workspace (installed
        into many workspaces, `bot.slack.workspaces`)."""
        try:
            workspace = workspace_of(self._client, self._engine, workshop_id)
        except Exception:  # like `_drain`'s own trouble: the posts stay pending
            log.exception("the workspace of workshop %s could not be read", workshop_id)
            with self._lock:
                self._draining.discard(workshop_id)
            return
        with acting_for(workspace):
            self._drain(workshop_id)

    def _drain(self, workshop_id: int) -> None:
        """Send one workshop's due posts in order until none is left, or until Slack asks its
        channel to wait (`_pause`), or until another sender has one of its posts on its way:
        that sender goes on with the rest once it is done; this one looks again a little
        later instead of at once (`IN_FLIGHT_RECHECK_SECONDS`)."""
        wake = True
        try:
            while True:
                now = self._clock.now()
                with unit_of_work(self._engine, read_only=True) as session:
                    if repo.post_in_flight(session, workshop_id=workshop_id):
                        wake = False
                        return
                    due = repo.due_posts(session, now=now, limit=50, workshop_id=workshop_id)
                if not due:
                    return
                index = 0
                while index < len(due):
                    if self._stopping.is_set():
                        return
                    self._hold()
                    batch = self._together(due, index)
                    index += len(batch)
                    post = batch[0]
                    if self._too_soon(post, now):
                        continue
                    for each in batch:
                        self._prepare(each)
                    # Read the workshop before the claim too: between claim and Slack only
                    # rendering is left, so a crash there has as little as possible to lose.
                    loaded = None if post.kind in _NO_SNAPSHOT else self._load(post.workshop_id)
                    claimed = self._claim(batch, now)
                    if claimed and not self._send(claimed, now, loaded):
                        return  # rate limited: `_resume` wakes the sender when it is time
        except Exception:  # keep draining other workshops; the posts stay pending
            log.exception("sending the posts of workshop %s failed", workshop_id)
        finally:
            with self._lock:
                self._draining.discard(workshop_id)
            if wake:  # a post queued while this drain was finishing is not left waiting
                self._wake()
            else:
                self._wake_soon()

    def _wake_soon(self) -> None:
        """Wake the sender in `IN_FLIGHT_RECHECK_SECONDS`: one wake-up for however many
        workshops are waiting on another sender meanwhile."""
        with self._lock:
            if self._recheck:
                return
            self._recheck = True
        timer = threading.Timer(IN_FLIGHT_RECHECK_SECONDS, self._recheck_now)
        timer.daemon = True
        timer.start()

    def _recheck_now(self) -> None:
        with self._lock:
            self._recheck = False
        self._wake()

    def _together(self, due: list[ScheduledPost], index: int) -> list[ScheduledPost]:
        """What goes out with `due[index]`: itself, or, when element posts for one thread have
        piled up (more than `PILED_UP`, or several while Slack has lately asked this channel to
        wait), up to `MAX_SHARED` of them in one message, with the ephemeral answers queued
        between them (sent after it)."""
        first = due[index]
        if first.kind != "element":
            return [first]
        run: list[ScheduledPost] = []
        piled = 0  # element posts for its thread, up to the first other post
        for post in due[index:]:
            if post.kind == "element" and post.step_number == first.step_number:
                piled += 1
                if piled <= MAX_SHARED:
                    run.append(post)
            elif post.kind != "ephemeral":
                break
            elif piled < MAX_SHARED:
                run.append(post)
        if piled > PILED_UP or (piled > 1 and self._pressed(first.workshop_id)):
            return run
        return [first]

    def _pressed(self, workshop_id: int) -> bool:
        with self._lock:
            at = self._limited_at.get(workshop_id)
        return at is not None and time.monotonic() - at < PRESSED_SECONDS

    def _pause(self, workshop_id: int, seconds: float) -> None:
        """Slack asked this workshop's channel to wait: send none of its posts until then
        (other workshops' go on meanwhile); what piles up goes out together (`_together`)."""
        log.info("Slack asked workshop %s to wait %.1f s before posting", workshop_id, seconds)
        now = time.monotonic()
        with self._lock:
            self._paused.add(workshop_id)
            if len(self._limited_at) > 1000:
                self._limited_at = {
                    w: at for w, at in self._limited_at.items() if now - at < PRESSED_SECONDS
                }
            self._limited_at[workshop_id] = now
        timer = threading.Timer(seconds, self._resume, args=(workshop_id,))
        timer.daemon = True
        timer.start()

    def _resume(self, workshop_id: int) -> None:
        with self._lock:
            self._paused.discard(workshop_id)
        self._wake()

    def _prepare(self, post: ScheduledPost) -> None:
        """Slow look-ups a post needs, done before the claim so the claim-to-send window that
        a crash could fall into (losing the post) is as short as a render and one API call."""
        if post.kind in ("ephemeral", "notice", "delete_message", "element_update", DEADLINE):
            return  # they name nobody new (an element's author was looked up for its post)
        try:
            with unit_of_work(self._engine, read_only=True) as session:
                workshop = repo.workshop_by_id(session, workshop_id=post.workshop_id)
                first = repo.facilitators(session, workshop_id=post.workshop_id)[0]
                author = (
                    session.get(Element, post.payload["element_id"])
                    if post.kind == "element"
                    else None
                )
            if post.kind in ("members", HALF_TIME, LAST_CALL):
                self._people.refresh_channel(workshop.team_id, workshop.channel_id)
            elif post.kind in ("kickoff", "plan_digest", "digest"):
                self._people.ensure_known(workshop.team_id, [first])  # name and time zone
            elif author is not None:
                self._people.ensure_known(workshop.team_id, [author.author, author.added_by])
        except Exception as error:  # names are a nicety: the post goes out regardless
            log.warning("could not look people up for post %s: %s", post.id, error)

    def _too_soon(self, post: ScheduledPost, now: datetime) -> bool:
        """Put off an update of an element's message that was updated less than
        `UPDATE_EVERY` ago; the changes meanwhile join it (`repo.schedule_element_update`)."""
        if post.kind != "element_update":
            return False
        with self._lock:
            last = self._updated.get(post.payload["element_id"])
        if last is None or now - last >= UPDATE_EVERY:
            return False
        with unit_of_work(self._engine) as session:
            repo.postpone_post(session, post_id=_pid(post), due_at=last + UPDATE_EVERY)
        return True  # the drain's end wakes the scheduler, which plans it

    def _updating(self, element_id: int, now: datetime) -> None:
        """Remember when an element's message was updated, forgetting what is old enough to
        no longer hold anything back."""
        with self._lock:
            if len(self._updated) > 1000:
                self._updated = {
                    e: at for e, at in self._updated.items() if now - at < UPDATE_EVERY
                }
            self._updated[element_id] = now

    def _claim(self, batch: list[ScheduledPost], now: datetime) -> list[ScheduledPost]:
        """Claim the posts of `batch` in their order, in one transaction; the ones won (the
        first ones: each must be the workshop's next post when claimed)."""
        with unit_of_work(self._engine) as session:
            return posts.claim(
                session, batch, now=now, started_at=self._started_at, by=self._claimant
            )

    def _give_back(self, batch: list[ScheduledPost]) -> None:
        with unit_of_work(self._engine) as session:
            for post in batch:
                repo.release_post(session, post_id=_pid(post))

    def _send(
        self,
        batch: list[ScheduledPost],
        now: datetime,
        loaded: tuple[Workshop, Snapshot] | None,
    ) -> bool:
        """Send a claimed post, or element posts claimed together (and the ephemeral answers
        between them, after). False when Slack asked to wait: what was not sent is given back
        (it was not posted) and the workshop pauses; False too when Slack's answer was lost
        (`_answer_lost`)."""
        post = batch[0]
        together = [each for each in batch if each.kind == post.kind]
        status, detail = "sent", None
        statuses: dict[int, str] = {}  # element posts whose element was gone: skipped
        message: _Posted | None = None  # an element message, recorded at the end
        try:
            try:
                if post.kind == "element":
                    statuses, message = self._post_elements(together)
                elif post.kind == "element_update":
                    status = self._update_element(post, now)
                else:
                    status = self._deliver(post, now, loaded)
            except Exception as error:
                if post.kind not in _UPLOADS and _answer_lost(error):
                    raise _AnswerLost from error
                raise
        except _RateLimited as limited:
            self._give_back(batch)
            self._pause(post.workshop_id, limited.seconds)
            return False
        except _AnswerLost as lost:  # it may have gone out
            self._answer_lost(batch, lost.__cause__)
            return False
        except SlackApiError as error:
            status, detail = "failed", str(error.response.get("error"))
            if post.kind == "element_update" and detail in _STALE_MESSAGE:
                # Deleted or not Storm's to edit: nothing to tell anyone, nothing to retry.
                log.warning("element message of post %s cannot be updated: %s", post.id, detail)
            else:
                self._failed(post, detail)
        except Exception as error:  # a post must never take the sender down with it
            log.exception("could not send %s post %s", post.kind, post.id)
            status, detail = "failed", type(error).__name__
            self._tell_requester(post, "Slack could not be reached")
        with unit_of_work(self._engine) as session:
            for each in together:
                repo.finish_post(
                    session,
                    post_id=_pid(each),
                    status=statuses.get(_pid(each), status),
                    error=detail,
                )
            if message is not None:
                self._record_message(session, post, message, now)
        if message is not None:
            self._catch_up(post, message, now)
        answers = [each for each in batch if each.kind != post.kind]
        for n, answer in enumerate(answers):
            if not self._send([answer], now, None):
                self._give_back(answers[n + 1 :])
                return False
        return True

    def _answer_lost(self, batch: list[ScheduledPost], error: BaseException | None) -> None:
        """Slack's answer to a send was lost: the post may have gone out. It stays claimed, its
        lease cut short, and is then taken over like a dead instance's: looked for in the
        channel before it is sent again (`take_over_expired`)."""
        log.warning("Slack's answer to %s post %s was lost: %r", batch[0].kind, batch[0].id, error)
        with unit_of_work(self._engine) as session:
            for each in batch:
                claims.retry_post_soon(
                    session, post_id=_pid(each), at=self._clock.now() + AMBIGUOUS_RETRY
                )
        # Nothing of the workshop's jumps ahead of it: its drain waits until it is taken over
        # (the wake-up at the end of the wait takes it over first, `send_due`).
        workshop_id = batch[0].workshop_id
        with self._lock:
            self._paused.add(workshop_id)
        timer = threading.Timer(
            AMBIGUOUS_RETRY.total_seconds() + 0.5, self._resume, args=(workshop_id,)
        )
        timer.daemon = True
        timer.start()

    def _record_message(
        self, session: Session, post: ScheduledPost, posted: _Posted, now: datetime
    ) -> None:
        """Remember an element message; if all its elements were dropped while it was on its
        way (an undo, a removed :zap:), take the message back."""
        for element_id in posted.element_ids:
            repo.set_message_ts(session, element_id=element_id, message_ts=posted.ts)
        elements = [session.get(Element, element_id) for element_id in posted.element_ids]
        if all(element is not None and element.dropped_at is not None for element in elements):
            repo.schedule_post(
                session,
                workshop_id=post.workshop_id,
                kind="delete_message",
                due_at=now,
                payload={"ts": posted.ts},
            )
            self._wake()

    def _catch_up(self, post: ScheduledPost, posted: _Posted, now: datetime) -> None:
        """An element changed while its message was on its way (a vote, a rename, a drop)
        queued no update, since the message had no ts yet: compare, now that the ts is
        recorded (what changes from here on queues its own update), and update it if it
        differs."""
        with unit_of_work(self._engine, read_only=True) as session:
            workshop = repo.workshop_by_id(session, workshop_id=post.workshop_id)
            elements = [session.get(Element, element_id) for element_id in posted.element_ids]
            if all(element is None or element.dropped_at is not None for element in elements):
                return  # all taken back: `_record_message` takes the message back
            if self._on_message(session, workshop, posted.ts)[1] == list(posted.bodies):
                return
        with unit_of_work(self._engine) as session:
            repo.schedule_element_update(
                session, workshop_id=post.workshop_id, element_id=posted.element_ids[0], now=now
            )
        self._wake()

    def _failed(self, post: ScheduledPost, code: str) -> None:
        """Log a refusal once per workshop and kind of problem, and tell who can fix it."""
        first_time = (post.workshop_id, code) not in self._reported
        self._reported.add((post.workshop_id, code))
        if not first_time:
            log.debug("Slack refused %s post %s again: %s", post.kind, post.id, code)
            return
        log.error(
            "Slack refused %s post %s of workshop %s: %s",
            post.kind,
            post.id,
            post.workshop_id,
            code,
        )
        if code in CHANNEL_PROBLEMS:
            self._report_channel_problem(post.workshop_id, code)
        else:
            self._tell_requester(post, f"Slack answered {code}")

    def _report_channel_problem(self, workshop_id: int, code: str) -> None:
        """The channel cannot take posts: remember it (commands there will say so) and write
        to the first facilitator directly, once."""
        with unit_of_work(self._engine) as session:
            workshop = repo.workshop_by_id(session, workshop_id=workshop_id)
            if workshop.post_problem == code:
                return
            workshop.post_problem = code
            session.add(workshop)
            first = repo.facilitators(session, workshop_id=workshop_id)[0]
        text = (
            f"I cannot post in <#{workshop.channel_id}> for the workshop "
            f"*{literal(workshop.title)}*: {CHANNEL_PROBLEMS[code]}"
        )
        try:
            self._pages.chat_postMessage(channel=first, text=text)
        except SlackApiError as error:
            log.warning("could not tell %s about it: %s", first, error.response.get("error"))

    def _channel_works(self, workshop: Workshop) -> None:
        """A post went through: forget an earlier problem with this channel."""
        workshop_id = _wid(workshop)
        if workshop.post_problem is None and all(r[0] != workshop_id for r in self._reported):
            return
        with unit_of_work(self._engine) as session:
            workshop = repo.workshop_by_id(session, workshop_id=workshop_id)
            if workshop.post_problem is not None:
                workshop.post_problem = None
                session.add(workshop)
        self._reported = {r for r in self._reported if r[0] != workshop_id}

    def _tell_requester(self, post: ScheduledPost, why: str) -> None:
        """Someone asked for this post (an export, a report): tell them it did not go out."""
        user = post.payload.get("user")
        if user is None or post.kind == "ephemeral":
            return
        with unit_of_work(self._engine, read_only=True) as session:
            workshop = repo.workshop_by_id(session, workshop_id=post.workshop_id)
        try:
            self._pages.chat_postEphemeral(
                channel=workshop.channel_id,
                user=user,
                text=f"Sorry, your {post.kind} could not be posted ({why}). Please try again.",
            )
        except Exception as error:  # the channel itself may be the problem
            log.warning("could not tell %s that the %s failed: %s", user, post.kind, error)

    # ---- one method per kind ---------------------------------------------------------

    def _deliver(
        self, post: ScheduledPost, now: datetime, loaded: tuple[Workshop, Snapshot] | None
    ) -> str:
        if post.kind in (DEADLINE, "plan_digest", "members"):
            return "sent"  # the claim did the work (or `_prepare` did, for "members")
        if loaded is None:  # the frequent, small posts need no snapshot of the whole workshop
            return self._deliver_small(post)
        workshop, snapshot = loaded
        late = is_late(post.due_at, self._started_at)
        if post.kind == "kickoff":
            self._post(workshop, post, messages.kickoff(snapshot))
        elif post.kind == "prompt":
            assert post.step_number is not None
            prompt = messages.step_prompt(snapshot, post.step_number, workshop_id=_wid(workshop))
            ts = self._post(workshop, post, prompt)
            run = self._run(post.workshop_id, post.step_number)
            self._save(StepRun, run.id, prompt_ts=ts)
        elif post.kind in (HALF_TIME, LAST_CALL):
            return self._remind(workshop, snapshot, post, now, late)
        elif post.kind == "times_up":
            return self._times_up(workshop, snapshot, post)
        elif post.kind == "summary":
            assert post.step_number is not None
            self._post(workshop, post, reports.step_summary(snapshot, post.step_number))
        elif post.kind in ("report", "final_report"):
            final = post.kind == "final_report"
            self._post(workshop, post, reports.full_report(snapshot, final=final))
        elif post.kind == "check":
            self._check(workshop, snapshot, post)
        elif post.kind == "digest":
            return self._digest(workshop, snapshot, post, now, late)
        elif post.kind == "export":
            fmt, user = post.payload.get("format", "json"), str(post.payload.get("user"))
            upload_export(self._pages, workshop.channel_id, snapshot, fmt, user)
        elif post.kind == "board":
            upload_board(self._pages, workshop.channel_id, snapshot, post.payload, post.step_number)
        else:
            raise ValueError(f"unknown post kind {post.kind}")
        return "sent"

    def _deliver_small(self, post: ScheduledPost) -> str:
        with unit_of_work(self._engine, read_only=True) as session:
            workshop = repo.workshop_by_id(session, workshop_id=post.workshop_id)
        if post.kind == "ephemeral":
            self._ephemeral(workshop, post)
        elif post.kind == "notice":
            # A line for the whole channel (an import: who imported what), as composed.
            body = Post(text=post.payload["text"], sections=tuple(post.payload["sections"]))
            self._post(workshop, post, body)
        else:
            self._call(
                self._at_once.chat_delete, channel=workshop.channel_id, ts=post.payload["ts"]
            )
        return "sent"

    def _post_elements(self, batch: list[ScheduledPost]) -> tuple[dict[int, str], _Posted | None]:
        """Element messages in their step's thread: one element's alone, or several sharing a
        message (SPEC §4.3). Returns the posts of elements gone before their message went out
        (dropped or merged: skipped) and what was posted, which the caller records with the
        posts' finish."""
        skipped: dict[int, str] = {}
        shown: list[Element] = []
        with unit_of_work(self._engine, read_only=True) as session:
            workshop = repo.workshop_by_id(session, workshop_id=batch[0].workshop_id)
            for post in batch:
                element = session.get(Element, post.payload["element_id"])
                assert element is not None
                if element.dropped_at is not None or element.merged_into is not None:
                    skipped[_pid(post)] = "skipped"
                else:
                    shown.append(element)
            if not shown:
                return skipped, None
            shown.sort(key=_eid)  # in the order of their IDs, as every update shows them
            bodies = tuple(
                self._element_body(session, workshop, element, shared=len(shown) > 1)
                for element in shown
            )
            run = repo.step_run(session, workshop_id=_wid(workshop), number=shown[0].step_number)
        keys = [element_key(element.kind, element.number) for element in shown]
        carries = {"element": keys[0]} if len(keys) == 1 else {"elements": keys}
        metadata = {
            "event_type": ELEMENT_METADATA,
            "event_payload": {
                "workshop": _wid(workshop),
                **carries,
                "posts": [_pid(post) for post in batch],
            },
        }
        if len(bodies) == 1:
            ts = self._post(
                workshop, batch[0], bodies[0], thread_ts=run.prompt_ts, metadata=metadata
            )
        else:
            message = build_shared(bodies)
            answer = self._call(
                self._at_once.chat_postMessage,
                channel=workshop.channel_id,
                text=message.text,
                blocks=message.blocks,
                thread_ts=run.prompt_ts,
                metadata=metadata,
            )
            self._channel_works(workshop)
            ts = str(answer["ts"])
        return skipped, _Posted(ts, tuple(_eid(element) for element in shown), bodies)

    def _update_element(self, post: ScheduledPost, now: datetime) -> str:
        """Rewrite an element's message to show its elements as they are now (SPEC §4.3)."""
        with unit_of_work(self._engine, read_only=True) as session:
            workshop = repo.workshop_by_id(session, workshop_id=post.workshop_id)
            element = session.get(Element, post.payload["element_id"])
            if element is None or element.message_ts is None:
                return "skipped"  # its post is still to go, and renders it as it is then
            ts = element.message_ts
            ids, bodies = self._on_message(session, workshop, ts)
        if not bodies:
            return "skipped"  # all its elements were taken back: the message is deleted
        message = build_single(bodies[0]) if len(ids) == 1 else build_shared(bodies)
        for element_id in ids:
            self._updating(element_id, now)
        self._call(
            self._at_once.chat_update,
            channel=workshop.channel_id,
            ts=ts,
            text=message.text,
            blocks=message.blocks,
        )  # Slack keeps the message's metadata when none is given
        self._channel_works(workshop)
        return "sent"

    def _on_message(
        self, session: Session, workshop: Workshop, ts: str
    ) -> tuple[list[int], list[Post]]:
        """The elements a message carries, and what it says of them now: a message of one
        element shows it whatever became of it; a shared one leaves out those taken back."""
        on_message = repo.elements_by_message(session, workshop_id=_wid(workshop), message_ts=ts)
        shown = [e for e in on_message if len(on_message) == 1 or not repo.withdrawn(e)]
        shared = len(shown) > 1
        return [_eid(e) for e in on_message], [
            self._element_body(session, workshop, e, shared=shared) for e in shown
        ]

    @staticmethod
    def _element_body(
        session: Session, workshop: Workshop, element: Element, *, shared: bool = False
    ) -> Post:
        """What an element's message (or its part of a `shared` one) says, from the element
        as it is: the same for its first post and every update, so an update changes only
        what changed."""
        assert element.id is not None
        people = [element.author, element.added_by]
        known = repo.known_users(session, team_id=workshop.team_id, user_ids=people)
        author, adder = (known[p].name if p in known else p for p in people)
        info = ElementInfo(
            key=element_key(element.kind, element.number),
            kind=element.kind,
            name=element.name,
            author=element.author,
            votes=repo.vote_count(session, element_id=element.id),
            step_number=element.step_number,
            fields=tuple(field_spec(f) for f in repo.fields_of(session, element_id=element.id)),
            resolved=element.resolved,
            answer=element.answer,
        )
        survivor = repo.survivor(session, element)
        merged_into = (
            (element_key(survivor.kind, survivor.number), survivor.name)
            if survivor is not element
            else None
        )
        return messages.element_posted(
            info,
            author,
            added_by=adder,
            dropped=element.dropped_at is not None,
            merged_into=merged_into,
            workshop_id=_wid(workshop),
            source_link=(element.details or {}).get("permalink"),
            shared=shared,
        )

    def _remind(
        self, workshop: Workshop, snapshot: Snapshot, post: ScheduledPost, now: datetime, late: bool
    ) -> str:
        assert post.step_number is not None
        deadline = snapshot.steps[post.step_number - 1].deadline_at
        if (
            workshop.finished_at is not None
            or workshop.current_step != post.step_number
            or deadline is None
            or deadline <= now
        ):
            return "skipped"  # moot: its deadline has passed or the step is over
        body = messages.reminder(
            snapshot,
            post.step_number,
            last_call=post.kind == LAST_CALL,
            now=now,
            due_at=post.due_at,
            late=late,
        )
        self._post(workshop, post, body)
        return "sent"

    def _times_up(self, workshop: Workshop, snapshot: Snapshot, post: ScheduledPost) -> str:
        assert post.step_number is not None
        body = messages.times_up(
            snapshot,
            post.step_number,
            due_at=datetime.fromisoformat(post.payload["due_at"]),
            late=bool(post.payload["late"]),
            advancing=bool(post.payload["advancing"]),
            workshop_id=_wid(workshop),
        )
        self._post(workshop, post, body)
        return "sent"

    def _digest(
        self, workshop: Workshop, snapshot: Snapshot, post: ScheduledPost, now: datetime, late: bool
    ) -> str:
        if workshop.finished_at is not None:
            return "skipped"
        if now - post.due_at > DIGEST_STALE_AFTER:
            return "skipped"  # more than an hour late: tomorrow's will do (SPEC §5)
        with unit_of_work(self._engine, read_only=True) as session:
            contributors = repo.contributors_since(
                session, workshop_id=_wid(workshop), since=now - timedelta(days=1)
            )
        body, score = reports.digest(
            snapshot,
            now=now,
            since=now - timedelta(days=1),
            contributors=contributors,
            previous_score=workshop.last_digest_score,
            late_note=messages.late_note(post.due_at) if late else None,
        )
        self._post(workshop, post, body)
        self._save(Workshop, _wid(workshop), last_digest_score=score)
        return "sent"

    def _check(self, workshop: Workshop, snapshot: Snapshot, post: ScheduledPost) -> None:
        """The completeness report, with its Fix buttons. After a Fix it rewrites the report
        that was fixed (`refresh`: its ts) when the new one fits that one message, so the
        finding is seen gone where it was; otherwise, or when that message is gone, it is
        posted anew."""
        body = reports.completeness_report(snapshot, workshop_id=_wid(workshop))
        refresh = post.payload.get("refresh")
        pages = build_messages(body)
        if refresh and len(pages) == 1:
            try:
                self._call(
                    self._at_once.chat_update,
                    channel=workshop.channel_id,
                    ts=refresh,
                    text=pages[0].text,
                    blocks=pages[0].blocks,
                )
                return
            except SlackApiError as error:
                if error.response.get("error") not in _STALE_MESSAGE:
                    raise
        self._post(workshop, post, body)

    def _ephemeral(self, workshop: Workshop, post: ScheduledPost) -> None:
        body = Post(text=post.payload["text"], sections=tuple(post.payload["sections"]))
        message = build_single(body)
        self._call(
            self._at_once.chat_postEphemeral,
            channel=workshop.channel_id,
            user=post.payload["user"],
            text=message.text,
            blocks=message.blocks,
        )

    # ---- helpers ---------------------------------------------------------------------

    def _post(
        self,
        workshop: Workshop,
        post: ScheduledPost,
        body: Post,
        *,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Post a document as one or more messages; returns the ts of the first one. The first
        carries `metadata`, by default the `POST_METADATA` naming `post`.

        A post longer than one message continues in the thread of its first message. Only
        the first may be given back to wait out a rate limit (nothing was posted yet): the
        others wait on this thread, so that the post is never half sent twice.
        """
        pages: list[SlackMessage] = build_messages(body)
        first = self._call(
            self._at_once.chat_postMessage,
            channel=workshop.channel_id,
            text=pages[0].text,
            blocks=pages[0].blocks,
            thread_ts=thread_ts,
            metadata=metadata or _post_metadata(post),
        )
        self._channel_works(workshop)
        first_ts = str(first["ts"])
        for page in pages[1:]:
            self._pages.chat_postMessage(
                channel=workshop.channel_id,
                text=page.text,
                blocks=page.blocks,
                thread_ts=thread_ts or first_ts,
            )
        return first_ts

    @staticmethod
    def _call(method: Callable[..., Any], **params: Any) -> Any:
        """A Web API call of `self._at_once`: Slack's 429 becomes `_RateLimited`."""
        try:
            return method(**params)
        except SlackApiError as error:
            if error.response.status_code == 429:
                raise _RateLimited(retry_after(error)) from error
            raise

    def _load(self, workshop_id: int) -> tuple[Workshop, Snapshot]:
        with unit_of_work(self._engine, read_only=True) as session:
            workshop = repo.workshop_by_id(session, workshop_id=workshop_id)
            return workshop, self._workshops.snapshot(session, workshop)

    def _run(self, workshop_id: int, number: int) -> StepRun:
        with unit_of_work(self._engine, read_only=True) as session:
            return repo.step_run(session, workshop_id=workshop_id, number=number)

    def _save(self, table: type, row_id: int | None, **values: object) -> None:
        with unit_of_work(self._engine) as session:
            row = session.get(table, row_id)
            for name, value in values.items():
                setattr(row, name, value)
            session.add(row)


# Posts that need no snapshot of the whole workshop.
_NO_SNAPSHOT = frozenset(
    {
        DEADLINE,
        "plan_digest",
        "members",
        "element",
        "element_update",
        "ephemeral",
        "notice",
        "delete_message",
    }
)


def _post_metadata(post: ScheduledPost) -> dict[str, Any]:
    return {
        "event_type": POST_METADATA,
        "event_payload": {"workshop": post.workshop_id, "post": _pid(post)},
    }


def _posts_named(metadata: Any) -> list[int]:
    """The posts a message's metadata names: a post's own, or an element message's."""
    if not isinstance(metadata, dict):
        return []
    payload = metadata.get("event_payload") or {}
    if metadata.get("event_type") == POST_METADATA:
        return [int(payload["post"])] if "post" in payload else []
    if metadata.get("event_type") == ELEMENT_METADATA:
        return list(payload.get("posts") or [])
    return []


def _pid(post: ScheduledPost) -> int:
    assert post.id is not None
    return post.id


def _wid(workshop: Workshop) -> int:
    assert workshop.id is not None
    return workshop.id


def _eid(element: Element) -> int:
    assert element.id is not None
    return element.id

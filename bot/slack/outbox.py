"""Sends what the outbox holds: each due post is claimed in the database, then sent once.

The claim is an UPDATE that only one caller can win, in this process or another one on the
same database, so a post is never sent twice; a claim whose send was cut short by a crash is
not retried (at most once, as SPEC §5 requires).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import messages, reports
from bot.core.clock import Clock
from bot.core.exports import FORMATS
from bot.core.messages import CHANNEL_PROBLEMS, Post
from bot.core.model import ElementInfo, FieldSpec, Snapshot, element_key
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
from bot.service.workshops import Workshops
from bot.slack.blocks import SlackMessage, build_messages, build_single
from bot.slack.people import People
from storage import repository as repo
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
    ) -> None:
        """`hold` is called before each post: the background worker's way to let the web
        workers' acknowledgements go first (`bot.runtime.acknowledging.Acknowledging`)."""
        self._engine = engine
        self._clock = clock
        self._client = client
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

    def send_due(self) -> None:
        """Start draining every workshop that has posts due and is not being drained."""
        with unit_of_work(self._engine, read_only=True) as session:
            due = repo.workshops_with_due_posts(session, now=self._clock.now())
        for workshop_id in due:
            with self._lock:
                if workshop_id in self._draining:
                    continue
                self._draining.add(workshop_id)
            self._pool.submit(self._drain, workshop_id)

    def idle(self) -> bool:
        """Whether no workshop is being drained right now."""
        with self._lock:
            return not self._draining

    def stop(self) -> None:
        """Finish the posts being sent, and leave the rest pending for the next start."""
        self._stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _drain(self, workshop_id: int) -> None:
        """Send one workshop's due posts in order until none is left."""
        try:
            while True:
                now = self._clock.now()
                with unit_of_work(self._engine, read_only=True) as session:
                    due = repo.due_posts(session, now=now, limit=50, workshop_id=workshop_id)
                if not due:
                    return
                for post in due:
                    if self._stopping.is_set():
                        return
                    self._hold()
                    if self._too_soon(post, now):
                        continue
                    self._prepare(post)
                    # Read the workshop before the claim too: between claim and Slack only
                    # rendering is left, so a crash there has as little as possible to lose.
                    loaded = None if post.kind in _NO_SNAPSHOT else self._load(post.workshop_id)
                    if self._claim(post, now):
                        self._send(post, now, loaded)
        except Exception:  # keep draining other workshops; the posts stay pending
            log.exception("sending the posts of workshop %s failed", workshop_id)
        finally:
            with self._lock:
                self._draining.discard(workshop_id)
            self._wake()  # a post queued while this drain was finishing is not left waiting

    def _prepare(self, post: ScheduledPost) -> None:
        """Slow look-ups a post needs, done before the claim so the claim-to-send window that
        a crash could fall into (losing the post) is as short as a render and one API call."""
        if post.kind in ("ephemeral", "delete_message", "element_update", DEADLINE):
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

    def _claim(self, post: ScheduledPost, now: datetime) -> bool:
        with unit_of_work(self._engine) as session:
            return posts.claim(session, post, now=now, started_at=self._started_at)

    def _send(
        self, post: ScheduledPost, now: datetime, loaded: tuple[Workshop, Snapshot] | None
    ) -> None:
        detail: str | None = None
        message: tuple[int, str, Post] | None = None  # an element's message, recorded at the end
        try:
            if post.kind == "element":
                status, message = self._post_element(post)
            elif post.kind == "element_update":
                status = self._update_element(post, now)
            else:
                status = self._deliver(post, now, loaded)
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
            repo.finish_post(session, post_id=_pid(post), status=status, error=detail)
            if message is not None:
                self._record_message(session, post, *message[:2], now)
        if message is not None:
            self._catch_up(post, message[0], message[2], now)

    def _record_message(
        self, session: Session, post: ScheduledPost, element_id: int, ts: str, now: datetime
    ) -> None:
        """Remember an element's message; if the element was dropped while its message was on
        its way (an undo, a removed :zap:), take the message back."""
        repo.set_message_ts(session, element_id=element_id, message_ts=ts)
        element = session.get(Element, element_id)
        if element is not None and element.dropped_at is not None:
            repo.schedule_post(
                session,
                workshop_id=post.workshop_id,
                kind="delete_message",
                due_at=now,
                payload={"ts": ts},
            )
            self._wake()

    def _catch_up(self, post: ScheduledPost, element_id: int, posted: Post, now: datetime) -> None:
        """An element changed while its message was on its way (a vote, a rename) queued no
        update, since the message had no ts yet: compare, now that the ts is recorded (what
        changes from here on queues its own update), and update it if it differs."""
        with unit_of_work(self._engine, read_only=True) as session:
            workshop = repo.workshop_by_id(session, workshop_id=post.workshop_id)
            element = session.get(Element, element_id)
            if element is None or element.dropped_at is not None:
                return  # withdrawn: `_record_message` takes the message back
            if self._element_body(session, workshop, element) == posted:
                return
        with unit_of_work(self._engine) as session:
            repo.schedule_element_update(
                session, workshop_id=post.workshop_id, element_id=element_id, now=now
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
            self._client.chat_postMessage(channel=first, text=text)
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
            self._client.chat_postEphemeral(
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
            self._post(workshop, messages.kickoff(snapshot))
        elif post.kind == "prompt":
            assert post.step_number is not None
            ts = self._post(workshop, messages.step_prompt(snapshot, post.step_number))
            run = self._run(post.workshop_id, post.step_number)
            self._save(StepRun, run.id, prompt_ts=ts)
        elif post.kind in (HALF_TIME, LAST_CALL):
            return self._remind(workshop, snapshot, post, now, late)
        elif post.kind == "times_up":
            return self._times_up(workshop, snapshot, post)
        elif post.kind == "summary":
            assert post.step_number is not None
            self._post(workshop, reports.step_summary(snapshot, post.step_number))
        elif post.kind in ("report", "final_report"):
            final = post.kind == "final_report"
            self._post(workshop, reports.full_report(snapshot, final=final))
        elif post.kind == "check":
            self._post(workshop, reports.completeness_report(snapshot))
        elif post.kind == "digest":
            return self._digest(workshop, snapshot, post, now, late)
        elif post.kind == "export":
            self._export(workshop, snapshot, post)
        else:
            raise ValueError(f"unknown post kind {post.kind}")
        return "sent"

    def _deliver_small(self, post: ScheduledPost) -> str:
        with unit_of_work(self._engine, read_only=True) as session:
            workshop = repo.workshop_by_id(session, workshop_id=post.workshop_id)
        if post.kind == "ephemeral":
            self._ephemeral(workshop, post)
        else:
            self._client.chat_delete(channel=workshop.channel_id, ts=post.payload["ts"])
        return "sent"

    def _post_element(self, post: ScheduledPost) -> tuple[str, tuple[int, str, Post] | None]:
        """An element's message in its step's thread; returns the status and (element id,
        message ts, what it says), which the caller records with the post's finish."""
        with unit_of_work(self._engine, read_only=True) as session:
            workshop = repo.workshop_by_id(session, workshop_id=post.workshop_id)
            element = session.get(Element, post.payload["element_id"])
            assert element is not None
            if element.dropped_at is not None or element.merged_into is not None:
                return "skipped", None  # dropped or merged before its message went out
            run = repo.step_run(session, workshop_id=_wid(workshop), number=element.step_number)
            body = self._element_body(session, workshop, element)
        metadata = {
            "event_type": ELEMENT_METADATA,
            "event_payload": {
                "workshop": _wid(workshop),
                "element": element_key(element.kind, element.number),
            },
        }
        ts = self._post(workshop, body, thread_ts=run.prompt_ts, metadata=metadata)
        assert element.id is not None
        return "sent", (element.id, ts, body)

    def _update_element(self, post: ScheduledPost, now: datetime) -> str:
        """Rewrite an element's message to show the element as it is now (SPEC §4.3)."""
        with unit_of_work(self._engine, read_only=True) as session:
            workshop = repo.workshop_by_id(session, workshop_id=post.workshop_id)
            element = session.get(Element, post.payload["element_id"])
            if element is None or element.message_ts is None:
                return "skipped"  # its post is still to go, and renders it as it is then
            body = self._element_body(session, workshop, element)
        message = build_single(body)
        self._updating(post.payload["element_id"], now)
        self._client.chat_update(
            channel=workshop.channel_id,
            ts=element.message_ts,
            text=message.text,
            blocks=message.blocks,
        )  # Slack keeps the message's metadata when none is given
        self._channel_works(workshop)
        return "sent"

    @staticmethod
    def _element_body(session: Session, workshop: Workshop, element: Element) -> Post:
        """What an element's message says, from the element as it is: the same for its first
        post and every update, so an update changes only what changed."""
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
            fields=tuple(
                FieldSpec(f.name, f.generated, f.origin)
                for f in repo.fields_of(session, element_id=element.id)
            ),
            resolved=element.resolved,
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
        self._post(workshop, body)
        return "sent"

    def _times_up(self, workshop: Workshop, snapshot: Snapshot, post: ScheduledPost) -> str:
        assert post.step_number is not None
        body = messages.times_up(
            snapshot,
            post.step_number,
            due_at=datetime.fromisoformat(post.payload["due_at"]),
            late=bool(post.payload["late"]),
            advancing=bool(post.payload["advancing"]),
        )
        self._post(workshop, body)
        return "sent"

    def _export(self, workshop: Workshop, snapshot: Snapshot, post: ScheduledPost) -> None:
        fmt = post.payload.get("format", "json")
        self._client.files_upload_v2(
            channel=workshop.channel_id,
            file_uploads=[
                {"filename": name, "content": text, "title": f"{snapshot.title}: {name}"}
                for name, text in FORMATS[fmt].files(snapshot)
            ],
            initial_comment=f"Model export ({fmt}) requested by <@{post.payload.get('user')}>.",
        )

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
        self._post(workshop, body)
        self._save(Workshop, _wid(workshop), last_digest_score=score)
        return "sent"

    def _ephemeral(self, workshop: Workshop, post: ScheduledPost) -> None:
        body = Post(text=post.payload["text"], sections=tuple(post.payload["sections"]))
        message = build_single(body)
        self._client.chat_postEphemeral(
            channel=workshop.channel_id,
            user=post.payload["user"],
            text=message.text,
            blocks=message.blocks,
        )

    # ---- helpers ---------------------------------------------------------------------

    def _post(
        self,
        workshop: Workshop,
        body: Post,
        *,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Post a document as one or more messages; returns the ts of the first one.

        A post longer than one message continues in the thread of its first message.
        """
        pages: list[SlackMessage] = build_messages(body)
        first = self._client.chat_postMessage(
            channel=workshop.channel_id,
            text=pages[0].text,
            blocks=pages[0].blocks,
            thread_ts=thread_ts,
            metadata=metadata,
        )
        self._channel_works(workshop)
        first_ts = str(first["ts"])
        for page in pages[1:]:
            self._client.chat_postMessage(
                channel=workshop.channel_id,
                text=page.text,
                blocks=page.blocks,
                thread_ts=thread_ts or first_ts,
            )
        return first_ts

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
    {DEADLINE, "plan_digest", "members", "element", "element_update", "ephemeral", "delete_message"}
)


def _pid(post: ScheduledPost) -> int:
    assert post.id is not None
    return post.id


def _wid(workshop: Workshop) -> int:
    assert workshop.id is not None
    return workshop.id

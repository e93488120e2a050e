"""Reactions (SPEC §4.2): :zap: turns a message into an event, :+1: votes, :question: asks.

The inbox also carries what a person's App Home shows them (`bot.service.home`): each such
event is handed to its applier, and only a person's latest one is applied. And the imports
people ask for (`bot.service.file_imports`): each handed to its applier, every one applied.

Each reaction event is stored in the inbox before Slack gets its acknowledgement, keyed by its
`event_id`, so a retried delivery changes nothing and a crash after the ack loses nothing:
left-over events are processed at start-up. The work itself (which reads the reacted-to
message from Slack) runs after the ack: right after it in a single process, or in the
background worker when web workers only acknowledge.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from bot.core import messages
from bot.core.clock import Clock
from bot.core.text import TextError, clean_name, from_slack, literal, with_article
from bot.service.ports import SlackFailure, SlackPort
from bot.service.workshops import Actor, Workshops
from storage import capture, claims
from storage import repository as repo
from storage.claims import Claimant
from storage.unit_of_work import unit_of_work

log = logging.getLogger(__name__)
ELEMENT_METADATA = "storm_element"  # the metadata event type of an element's message


@dataclass(frozen=True)
class Reactions:
    """Which reactions mean what; configurable per deployment."""

    capture: str = "zap"
    vote: str = "+1"
    hotspot: str = "question"


class ReactionInbox:
    """Records reaction events once, then turns them into changes to the model."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        slack: SlackPort,
        workshops: Workshops,
        reactions: Reactions,
        *,
        applies_after_ack: bool = True,
        hold: Callable[[], None] = lambda: None,
        latest_only: Mapping[str, Callable[[dict[str, Any]], None]] | None = None,
        every: Mapping[str, Callable[[dict[str, Any]], None]] | None = None,
        claimant: Claimant | None = None,
    ) -> None:
        """`applies_after_ack`: this process applies the events it records, right after the
        ack; otherwise (a web worker) it only records them and the background worker's
        `process_pending` applies them, calling `hold` before each (see `Outbox`).

        `latest_only` applies other types of events than reactions, by type: events that
        refresh what one person sees, so that of several left to apply from one person
        (the background worker was busy, or down) only the latest is (`process_pending`).
        `every` applies other types of events, by type, each one of them (imports).
        `claimant` is this instance: an event is applied by the one instance that claims it.
        """
        self._claimant = claimant or Claimant()
        self._latest_only = dict(latest_only or {})
        self._every = dict(every or {})
        self.applies_after_ack = applies_after_ack
        self._hold = hold
        self._engine = engine
        self._clock = clock
        self._slack = slack
        self._workshops = workshops
        self._reactions = reactions
        self._fresh: set[str] = set()  # recorded by this process, not yet applied
        self._applying: set[str] = set()  # being applied by one of this process's threads
        self._lock = threading.Lock()

    def record(self, body: dict[str, Any]) -> bool:
        """Keep the event for processing; False for a delivery seen before."""
        with capture.transaction(self._engine) as store:
            new = store.record_slack_event(
                event_id=body["event_id"],
                team_id=body.get("team_id", ""),
                payload={k: v for k, v in body.items() if k != "token"},  # Slack's legacy token
                at=self._clock.now(),
            )
        if new and self.applies_after_ack:
            with self._lock:
                self._fresh.add(body["event_id"])
        return new

    def process_delivery(self, event_id: str) -> None:
        """After the ack: apply the event if this delivery was its first (retries are not)."""
        with self._lock:
            if event_id not in self._fresh:
                return
            self._fresh.discard(event_id)
        self.process(event_id)

    def process(self, event_id: str) -> None:
        """Apply a recorded event, then mark it done.

        Marking it done only afterwards means a crash in between applies it again at the next
        start; that is safe because every reaction's effect is idempotent (a message becomes
        one event, a person's vote counts once). Two instances never apply it at once: it is
        claimed first, for a lease (`storage.claims`). Two threads of this process never apply the
        same event at once (the start-up's `process_pending` and the sender's first wake-up
        can overlap): the second would find it still pending and tell the person twice.
        """
        with self._lock:
            if event_id in self._applying:
                return
            self._applying.add(event_id)
        try:
            # Other instances' threads too: the one that claims it applies it.
            with unit_of_work(self._engine) as session:
                if not claims.claim_slack_event(
                    session, event_id=event_id, now=self._clock.now(), by=self._claimant
                ):
                    return
            with unit_of_work(self._engine, read_only=True) as session:
                row = repo.pending_slack_event(session, event_id=event_id)
            if row is None:
                return
            try:
                self._apply(row.payload)
            except SlackFailure as failure:
                log.error("event %s: Slack answered %s", event_id, failure.code)
            except Exception:  # a reaction that cannot be applied must not come back every start
                log.exception("event %s could not be applied", event_id)
            with unit_of_work(self._engine) as session:
                repo.mark_slack_event_done(session, event_id=event_id, now=self._clock.now())
        finally:
            with self._lock:
                self._applying.discard(event_id)

    def process_pending(self) -> None:
        """Apply every event recorded but not applied yet: the background worker's share, and
        at start-up what a crash left between the ack and its end. A `latest_only` event that
        a later one of the same person's makes moot is marked done without being applied."""
        with unit_of_work(self._engine, read_only=True) as session:
            leftovers = repo.unprocessed_slack_events(session, now=self._clock.now())
            refreshes = (
                repo.unprocessed_people_events(session, types=self._latest_only)
                if self._latest_only
                else []
            )
        latest = {person: event_id for event_id, person in refreshes}
        moot = {event_id for event_id, person in refreshes if latest[person] != event_id}
        for event_id in leftovers:
            if event_id in moot:
                with unit_of_work(self._engine) as session:
                    repo.mark_slack_event_done(session, event_id=event_id, now=self._clock.now())
                continue
            self._hold()
            self.process(event_id)

    def _apply(self, body: dict[str, Any]) -> None:
        event = body["event"]
        kind = event.get("type", "")
        applier = self._latest_only.get(kind) or self._every.get(kind)
        if applier is not None:
            applier(body)
            return
        item = event.get("item") or {}
        if item.get("type") != "message":
            return
        reaction = event.get("reaction", "").split("::", 1)[0]  # drop skin tones
        actor = Actor(body.get("team_id", ""), item["channel"], event["user"])
        added = event["type"] == "reaction_added"
        if reaction == self._reactions.capture:
            if added:
                self._capture(actor, item["ts"], "event")
            else:
                self._workshops.uncapture_message(actor, source_ts=item["ts"])
        elif reaction == self._reactions.hotspot and added:
            self._capture(actor, item["ts"], "hotspot")
        elif reaction == self._reactions.vote:
            ts = item["ts"]
            if not self._workshops.vote_by_message(actor, message_ts=ts, on=added):
                found = self._elements_of_bot_message(body, actor.channel_id, ts)
                if found is not None:
                    self._workshops.vote_by_message(actor, message_ts=ts, on=added, elements=found)

    def _elements_of_bot_message(
        self, body: dict[str, Any], channel: str, ts: str
    ) -> tuple[int, tuple[str, ...]] | None:
        """(workshop id, element IDs) a message of Storm's is about, from its metadata: one
        `element`, or the `elements` that share the message.

        Only asked when Storm has no record of the message, and only for its own messages
        (Slack names the message's author in `item_user`).
        """
        bot = next((a.get("user_id") for a in body.get("authorizations") or []), None)
        if bot is None or body["event"].get("item_user") != bot:
            return None
        message = self._slack.fetch_message(channel, ts)
        metadata = (message or {}).get("metadata") or {}
        if metadata.get("event_type") != ELEMENT_METADATA:
            return None
        payload = metadata.get("event_payload") or {}
        keys = payload.get("elements") or ([payload["element"]] if payload.get("element") else [])
        if not isinstance(payload.get("workshop"), int) or not isinstance(keys, list) or not keys:
            return None
        return payload["workshop"], tuple(str(k) for k in keys)

    def _capture(self, actor: Actor, ts: str, kind: str) -> None:
        """Turn a message into an event (:zap:) or a hotspot (:question:).

        Storm's own messages never become events; a :question: on one of them asks about
        what it says (about the element, for an element's message: `capture_message`).
        """
        message = self._slack.fetch_message(actor.channel_id, ts)
        if message is None:
            return
        from_bot = bool(message.get("bot_id")) or message.get("subtype") == "bot_message"
        if from_bot and kind == "event":
            return
        text = message.get("text") or ""
        if from_bot:
            text = f"Question about {text}"
        try:
            name = clean_name(from_slack(text), what=f"the {kind}'s name")
        except TextError as error:
            self._tell(
                actor,
                f":warning: That message cannot become {with_article(kind)}: {literal(str(error))}.",
            )
            return
        author = actor.user_id if from_bot else message.get("user") or actor.user_id
        self._workshops.capture_message(actor, text=name, author=author, source_ts=ts, kind=kind)

    def _tell(self, actor: Actor, text: str) -> None:
        self._slack.tell(actor.channel_id, actor.user_id, messages.notice(text))

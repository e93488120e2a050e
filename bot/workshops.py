"""The application service: each user action is one transaction over the core and storage.

A change and the posts it causes are committed together (the posts go into the outbox), so a
confirmation always means the change is durable; the dispatcher sends the posts afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import grammar, messages
from bot.core.clock import Clock
from bot.core.durations import format_duration
from bot.core.messages import Post
from bot.core.model import (
    KIND_LETTERS,
    ElementInfo,
    Snapshot,
    StepState,
    element_key,
    parse_element_key,
)
from bot.core.references import Candidate, UnknownReference, resolve_by_name
from bot.core.steps import DEFAULT_TIMEBOX, LAST_STEP, STEPS
from bot.core.text import escape, plural
from bot.core.timeline import TIMELINE_KINDS, step_timeline
from storage import repository as repo
from storage.tables import Element, Facilitator, StepRun, Workshop
from storage.unit_of_work import unit_of_work


@dataclass(frozen=True)
class Actor:
    """Who acted, and where: every action is scoped by workspace and channel."""

    team_id: str
    channel_id: str
    user_id: str


class Refused(Exception):
    """An action Storm will not do; the message is shown to the person as it is (escaped)."""


class Workshops:
    """Runs workshops: facilitation, capture and votes, one transaction per action."""

    def __init__(self, engine: Engine, clock: Clock, wake: Callable[[], None]) -> None:
        self._engine = engine
        self._clock = clock
        self._wake = wake

    # ---- slash commands -------------------------------------------------------------

    def run(self, actor: Actor, command: grammar.Command) -> Post:
        """Carry out one parsed `/storm` line and return the ephemeral answer."""
        if isinstance(command, grammar.Help):
            return messages.help_card(command.topic)
        try:
            with unit_of_work(self._engine) as session:
                answer = self._dispatch(session, actor, command)
        except (Refused, UnknownReference) as refusal:
            return messages.notice(f":no_entry_sign: {refusal}")
        self._wake()
        return answer

    def _dispatch(self, session: Session, actor: Actor, command: grammar.Command) -> Post:
        now = self._clock.now()
        if isinstance(command, grammar.Start):
            return self._start(session, actor, command.title, now)
        workshop = repo.open_workshop(session, team_id=actor.team_id, channel_id=actor.channel_id)
        if workshop is None:
            raise Refused(
                "There is no workshop in this channel. Start one with `/storm start <title>`."
            )
        if isinstance(command, grammar.Status):
            return messages.status(self.snapshot(session, workshop), now)
        if isinstance(command, grammar.AddEvents):
            return self._add_events(session, workshop, actor, command.names, now)
        if isinstance(command, grammar.Vote):
            return self._vote(session, workshop, actor, command.ref, now)
        if isinstance(command, grammar.Export):
            repo.schedule_post(
                session,
                workshop_id=_id(workshop),
                kind="export",
                due_at=now,
                payload={"format": command.format, "user": actor.user_id},
            )
            return messages.notice(
                f"Exporting the model as {command.format}: the file will appear in this channel."
            )
        self._require_facilitator(session, workshop, actor)
        if isinstance(command, grammar.Next):
            if workshop.current_step >= LAST_STEP:
                raise Refused(f"Step {LAST_STEP} is the last step. Finish with `/storm end`.")
            return self._move_to(session, workshop, workshop.current_step + 1, now)
        if isinstance(command, grammar.GoToStep):
            if command.number == workshop.current_step:
                raise Refused(f"Step {command.number} is already open.")
            return self._move_to(session, workshop, command.number, now)
        if isinstance(command, grammar.Extend):
            return self._extend(session, workshop, command.duration, now)
        if isinstance(command, grammar.SetTimebox):
            return self._set_timebox(session, workshop, command, now)
        if isinstance(command, grammar.SetAuto):
            workshop.auto_advance = command.on
            session.add(workshop)
            return messages.notice(
                "Auto-advance is on: each step closes and the next opens when its time is up."
                if command.on
                else "Auto-advance is off: I will ask a facilitator when time is up."
            )
        if isinstance(command, grammar.ChangeFacilitator):
            return self._change_facilitator(session, workshop, command)
        if isinstance(command, grammar.End):
            return self._end(session, workshop, now)
        raise AssertionError(f"unhandled command {command!r}")

    def _require_facilitator(self, session: Session, workshop: Workshop, actor: Actor) -> None:
        if actor.user_id not in repo.facilitators(session, workshop_id=_id(workshop)):
            raise Refused("Only a facilitator of this workshop can do that.")

    # ---- facilitation ---------------------------------------------------------------

    def _start(self, session: Session, actor: Actor, title: str, now: datetime) -> Post:
        if repo.open_workshop(session, team_id=actor.team_id, channel_id=actor.channel_id):
            raise Refused(
                "This channel already has a workshop in progress. Finish it with `/storm end` first."
            )
        workshop = Workshop(
            team_id=actor.team_id,
            channel_id=actor.channel_id,
            title=title,
            created_by=actor.user_id,
            started_at=now,
        )
        session.add(workshop)
        session.flush()
        session.add(Facilitator(workshop_id=_id(workshop), user_id=actor.user_id))
        for step in STEPS:
            session.add(
                StepRun(
                    workshop_id=_id(workshop),
                    number=step.number,
                    timebox_seconds=int(DEFAULT_TIMEBOX.total_seconds()),
                )
            )
        session.flush()
        repo.schedule_post(session, workshop_id=_id(workshop), kind="kickoff", due_at=now)
        self._open_step(session, workshop, 1, now)
        return messages.notice(
            f"Workshop *{escape(title)}* started; you are its facilitator. Step 1 is open."
        )

    def _open_step(self, session: Session, workshop: Workshop, number: int, now: datetime) -> None:
        run = repo.step_run(session, workshop_id=_id(workshop), number=number)
        run.opened_at, run.closed_at, run.prompt_ts = now, None, None
        run.deadline_at = now + timedelta(seconds=run.timebox_seconds)
        workshop.current_step = number
        session.add_all([run, workshop])
        repo.schedule_post(
            session, workshop_id=_id(workshop), kind="prompt", due_at=now, step_number=number
        )
        self._plan_timeline(session, workshop, run, now)

    def _plan_timeline(
        self, session: Session, workshop: Workshop, run: StepRun, now: datetime
    ) -> None:
        repo.cancel_pending_posts(
            session, workshop_id=_id(workshop), kinds=TIMELINE_KINDS, step_number=run.number
        )
        assert run.opened_at is not None and run.deadline_at is not None
        for kind, due_at in step_timeline(run.opened_at, run.deadline_at, now):
            repo.schedule_post(
                session,
                workshop_id=_id(workshop),
                kind=kind,
                due_at=due_at,
                step_number=run.number,
                payload={"deadline_at": run.deadline_at.isoformat()},
            )

    def close_current_step(self, session: Session, workshop: Workshop, now: datetime) -> None:
        run = repo.step_run(session, workshop_id=_id(workshop), number=workshop.current_step)
        run.closed_at = now
        session.add(run)
        repo.cancel_pending_posts(
            session, workshop_id=_id(workshop), kinds=TIMELINE_KINDS, step_number=run.number
        )
        repo.schedule_post(
            session, workshop_id=_id(workshop), kind="summary", due_at=now, step_number=run.number
        )

    def _move_to(self, session: Session, workshop: Workshop, number: int, now: datetime) -> Post:
        closing = workshop.current_step
        self.close_current_step(session, workshop, now)
        self._open_step(session, workshop, number, now)
        return messages.notice(
            f"Step {closing} closed (its summary is on its way); step {number}, "
            f"{STEPS[number - 1].name}, is open."
        )

    def advance_after_deadline(self, workshop_id: int, step_number: int) -> bool:
        """Auto-advance: move on if that step is still the open one; False if nothing moved."""
        with unit_of_work(self._engine) as session:
            workshop = repo.workshop_by_id(session, workshop_id=workshop_id)
            if (
                workshop.finished_at is not None
                or workshop.current_step != step_number
                or step_number >= LAST_STEP
            ):
                return False
            self._move_to(session, workshop, step_number + 1, self._clock.now())
        self._wake()
        return True

    def _extend(
        self, session: Session, workshop: Workshop, duration: timedelta, now: datetime
    ) -> Post:
        run = repo.step_run(session, workshop_id=_id(workshop), number=workshop.current_step)
        assert run.deadline_at is not None
        run.deadline_at = max(run.deadline_at, now) + duration
        run.timebox_seconds = int((run.deadline_at - _aware(run.opened_at)).total_seconds())
        session.add(run)
        self._plan_timeline(session, workshop, run, now)
        return messages.notice(
            f"Step {run.number} extended: it now ends {messages.when(run.deadline_at)}."
        )

    def _set_timebox(
        self, session: Session, workshop: Workshop, command: grammar.SetTimebox, now: datetime
    ) -> Post:
        seconds = int(command.duration.total_seconds())
        if command.target == "all":
            numbers = list(range(1, LAST_STEP + 1))
        elif command.target == "current":
            numbers = [workshop.current_step]
        else:
            numbers = [command.target]
        for run in repo.step_runs(session, workshop_id=_id(workshop)):
            if run.number not in numbers:
                continue
            run.timebox_seconds = seconds
            if run.number == workshop.current_step and run.opened_at is not None:
                run.deadline_at = _aware(run.opened_at) + command.duration
                self._plan_timeline(session, workshop, run, now)
            session.add(run)
        which = "every step" if command.target == "all" else f"step {numbers[0]}"
        return messages.notice(f"Timebox for {which} set to {format_duration(command.duration)}.")

    def _change_facilitator(
        self, session: Session, workshop: Workshop, command: grammar.ChangeFacilitator
    ) -> Post:
        current = repo.facilitators(session, workshop_id=_id(workshop))
        if command.action == "add":
            if command.user_id in current:
                raise Refused(f"<@{command.user_id}> is already a facilitator.")
            session.add(Facilitator(workshop_id=_id(workshop), user_id=command.user_id))
            return messages.notice(f"<@{command.user_id}> is now a facilitator.")
        if command.user_id not in current:
            raise Refused(f"<@{command.user_id}> is not a facilitator.")
        if len(current) == 1:
            raise Refused("The last facilitator cannot be removed: add another one first.")
        repo.remove_facilitator(session, workshop_id=_id(workshop), user_id=command.user_id)
        return messages.notice(f"<@{command.user_id}> is no longer a facilitator.")

    def _end(self, session: Session, workshop: Workshop, now: datetime) -> Post:
        self.close_current_step(session, workshop, now)
        repo.cancel_pending_posts(
            session, workshop_id=_id(workshop), kinds=(*TIMELINE_KINDS, "summary")
        )
        workshop.finished_at = now
        session.add(workshop)
        repo.schedule_post(session, workshop_id=_id(workshop), kind="final_report", due_at=now)
        return messages.notice(
            f"Workshop *{escape(workshop.title)}* finished; the final report is on its way."
        )

    # ---- capture --------------------------------------------------------------------

    def _add_events(
        self,
        session: Session,
        workshop: Workshop,
        actor: Actor,
        names: tuple[str, ...],
        now: datetime,
    ) -> Post:
        added = [
            self._new_event(
                session, workshop, name=name, author=actor.user_id, added_by=actor.user_id, now=now
            )
            for name in names
        ]
        lines = "\n".join(f"*{element_key('event', e.number)}* {escape(e.name)}" for e in added)
        return messages.notice(f"Added {plural(len(added), 'event')}:\n{lines}")

    def _new_event(
        self,
        session: Session,
        workshop: Workshop,
        *,
        name: str,
        author: str,
        added_by: str,
        now: datetime,
        source_ts: str | None = None,
    ) -> Element:
        element = Element(
            workshop_id=_id(workshop),
            kind="event",
            number=repo.next_element_number(session, workshop_id=_id(workshop), kind="event"),
            name=name,
            author=author,
            added_by=added_by,
            created_at=now,
            step_number=workshop.current_step,
            position=repo.next_event_position(session, workshop_id=_id(workshop)),
            source_ts=source_ts,
        )
        session.add(element)
        session.flush()
        repo.add_contribution(
            session,
            workshop_id=_id(workshop),
            step_number=workshop.current_step,
            user_id=added_by,
            at=now,
        )
        repo.schedule_post(
            session,
            workshop_id=_id(workshop),
            kind="element",
            due_at=now,
            step_number=workshop.current_step,
            payload={"element_id": element.id},
        )
        return element

    def capture_message(
        self, actor: Actor, *, text: str, author: str, source_ts: str
    ) -> Post | None:
        """A :zap: on a message: make it an event once; None when there is no workshop here."""
        now = self._clock.now()
        with unit_of_work(self._engine) as session:
            workshop = repo.open_workshop(
                session, team_id=actor.team_id, channel_id=actor.channel_id
            )
            if workshop is None:
                return None
            existing = repo.event_from_source(
                session, workshop_id=_id(workshop), source_ts=source_ts
            )
            if existing is not None:
                answer = messages.notice(
                    f"That message is already event *{element_key('event', existing.number)}*."
                )
            else:
                element = self._new_event(
                    session,
                    workshop,
                    name=text,
                    author=author,
                    added_by=actor.user_id,
                    now=now,
                    source_ts=source_ts,
                )
                answer = messages.notice(
                    f"Added *{element_key('event', element.number)}* {escape(element.name)} "
                    "from that message."
                )
            self._queue_ephemeral(session, workshop, actor.user_id, answer, now)
        self._wake()
        return answer

    def uncapture_message(self, actor: Actor, *, source_ts: str) -> None:
        """:zap: removed: during step 1, take the event back if nobody has touched it."""
        now = self._clock.now()
        with unit_of_work(self._engine) as session:
            workshop = repo.open_workshop(
                session, team_id=actor.team_id, channel_id=actor.channel_id
            )
            if workshop is None:
                return
            element = repo.event_from_source(
                session, workshop_id=_id(workshop), source_ts=source_ts
            )
            if element is None or element.dropped_at is not None:
                return
            key = element_key("event", element.number)
            reason = self._why_event_stays(session, workshop, element)
            if reason:
                answer = messages.notice(f"*{key}* stays: {reason}.")
            else:
                element.dropped_at = now
                session.add(element)
                if element.message_ts:
                    repo.schedule_post(
                        session,
                        workshop_id=_id(workshop),
                        kind="delete_message",
                        due_at=now,
                        payload={"ts": element.message_ts},
                    )
                answer = messages.notice(f"Removed *{key}* {escape(element.name)}.")
            self._queue_ephemeral(session, workshop, actor.user_id, answer, now)
        self._wake()

    def _why_event_stays(
        self, session: Session, workshop: Workshop, element: Element
    ) -> str | None:
        if workshop.current_step != 1:
            return "the workshop is past step 1, so events made by :zap: are kept"
        if repo.vote_count(session, element_id=_id(element)):
            return "it has votes"
        if element.renamed:
            return "it was renamed"
        if repo.has_live_links(session, element_id=_id(element)):
            return "it is linked to other elements"
        return None

    def _queue_ephemeral(
        self, session: Session, workshop: Workshop, user_id: str, post: Post, now: datetime
    ) -> None:
        repo.schedule_post(
            session,
            workshop_id=_id(workshop),
            kind="ephemeral",
            due_at=now,
            payload={"user": user_id, "text": post.text, "sections": list(post.sections)},
        )

    # ---- votes ----------------------------------------------------------------------

    def _vote(
        self, session: Session, workshop: Workshop, actor: Actor, ref: str, now: datetime
    ) -> Post:
        element = self._resolve(session, workshop, ref)
        key = element_key(element.kind, element.number)
        if not repo.add_vote(
            session,
            workshop_id=_id(workshop),
            element_id=_id(element),
            user_id=actor.user_id,
            at=now,
        ):
            return messages.notice(f"You already voted for *{key}*.")
        repo.add_contribution(
            session,
            workshop_id=_id(workshop),
            step_number=workshop.current_step,
            user_id=actor.user_id,
            at=now,
        )
        votes = repo.vote_count(session, element_id=_id(element))
        return messages.notice(
            f"Voted for *{key}* {escape(element.name)} ({plural(votes, 'vote')})."
        )

    def vote_by_message(self, actor: Actor, *, message_ts: str, on: bool) -> None:
        """:+1: added to (or removed from) an element's message."""
        now = self._clock.now()
        with unit_of_work(self._engine) as session:
            workshop = repo.open_workshop(
                session, team_id=actor.team_id, channel_id=actor.channel_id
            )
            if workshop is None:
                return
            element = repo.element_by_message(
                session, workshop_id=_id(workshop), message_ts=message_ts
            )
            if element is None or element.dropped_at is not None:
                return
            element = self._survivor(session, element)
            if on:
                if repo.add_vote(
                    session,
                    workshop_id=_id(workshop),
                    element_id=_id(element),
                    user_id=actor.user_id,
                    at=now,
                ):
                    repo.add_contribution(
                        session,
                        workshop_id=_id(workshop),
                        step_number=workshop.current_step,
                        user_id=actor.user_id,
                        at=now,
                    )
            else:
                repo.remove_vote(session, element_id=_id(element), user_id=actor.user_id)

    def _resolve(self, session: Session, workshop: Workshop, ref: str) -> Element:
        parsed = parse_element_key(ref)
        if parsed is not None:
            element = repo.element_by_key(
                session, workshop_id=_id(workshop), kind=parsed[0], number=parsed[1]
            )
            if element is None:
                raise UnknownReference(f"There is no {ref.upper()} in this workshop.")
            element = self._survivor(session, element)
            if element.dropped_at is not None:
                raise UnknownReference(f"{ref.upper()} was dropped.")
            return element
        elements = repo.elements_named(session, workshop_id=_id(workshop), kinds=KIND_LETTERS)
        by_key = {element_key(e.kind, e.number): e for e in elements}
        chosen = resolve_by_name(ref, [Candidate(key, e.name, e.kind) for key, e in by_key.items()])
        return by_key[chosen.key]

    def _survivor(self, session: Session, element: Element) -> Element:
        """Follow merges, so a merged element's ID still resolves (SPEC §3)."""
        seen = set()
        while element.merged_into is not None and element.id not in seen:
            seen.add(element.id)
            survivor = session.get(Element, element.merged_into)
            if survivor is None:
                break
            element = survivor
        return element

    # ---- reading --------------------------------------------------------------------

    def snapshot(self, session: Session, workshop: Workshop) -> Snapshot:
        """The workshop as the core reads it, in a constant number of queries."""
        workshop_id = _id(workshop)
        elements = tuple(
            ElementInfo(
                key=element_key(e.kind, e.number),
                kind=e.kind,
                name=e.name,
                author=e.author,
                votes=votes,
                step_number=e.step_number,
                position=e.position,
            )
            for e, votes in repo.live_elements(session, workshop_id=workshop_id)
            if e.merged_into is None
        )
        steps = tuple(
            StepState(
                number=run.number,
                timebox=timedelta(seconds=run.timebox_seconds),
                opened_at=run.opened_at,
                deadline_at=run.deadline_at,
                closed_at=run.closed_at,
            )
            for run in repo.step_runs(session, workshop_id=workshop_id)
        )
        return Snapshot(
            team_id=workshop.team_id,
            title=workshop.title,
            channel_id=workshop.channel_id,
            facilitators=tuple(repo.facilitators(session, workshop_id=workshop_id)),
            current_step=workshop.current_step,
            steps=steps,
            auto_advance=workshop.auto_advance,
            started_at=workshop.started_at,
            finished_at=workshop.finished_at,
            elements=elements,
            contributors_by_step=repo.contributors_by_step(session, workshop_id=workshop_id),
            members=tuple(
                repo.channel_members(
                    session, team_id=workshop.team_id, channel_id=workshop.channel_id
                )
            ),
            names=repo.user_names(session, team_id=workshop.team_id),
        )


def _id(row: Workshop | Element) -> int:
    assert row.id is not None, "rows are flushed before their id is used"
    return row.id


def _aware(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment

"""The application service: each user action is one transaction over the core and storage.

A change and the posts it causes are committed together (the posts go into the outbox), so a
confirmation always means the change is durable; the outbox sends the posts afterwards. Every
change to the model is journaled so that its author can undo it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import completeness, grammar, messages, naming
from bot.core.clock import Clock
from bot.core.durations import format_duration
from bot.core.messages import CHANNEL_PROBLEMS, Post
from bot.core.model import Snapshot, element_key
from bot.core.references import UnknownReference
from bot.core.steps import DEFAULT_TIMEBOX, LAST_STEP, STEPS
from bot.core.text import escape, plural
from bot.core.timeline import TIMELINE_KINDS, step_timeline
from bot.service import modelling
from bot.service.modelling import Action, Actor, Refused, key, label
from bot.service.snapshots import load_snapshot, load_status
from storage import capture, journal
from storage import repository as repo
from storage.tables import Element, Facilitator, StepRun, Workshop
from storage.unit_of_work import unit_of_work

__all__ = ["Actor", "Refused", "Workshops"]

_Handler = Callable[[Action, Any], Post]

# Modelling sub-commands: each changes the model, is journaled, and can be undone.
_MODELLING: dict[type, _Handler] = {
    grammar.AddHotspot: modelling.add_hotspot,
    grammar.Resolve: modelling.resolve_hotspot,
    grammar.Rename: modelling.rename,
    grammar.Merge: modelling.merge,
    grammar.Drop: modelling.drop,
    grammar.Order: modelling.order,
    grammar.Move: modelling.move,
    grammar.AddCommand: modelling.add_command,
    grammar.AddView: modelling.add_view,
    grammar.AddPolicy: modelling.add_policy,
    grammar.AddActor: modelling.add_actor,
    grammar.AddExternal: modelling.add_external,
    grammar.Group: modelling.group,
    grammar.SetFields: modelling.set_fields,
    grammar.AddScenario: modelling.add_scenario,
}
# Sub-commands only facilitators may run (SPEC §4.1).
_FACILITATION = (
    grammar.Next,
    grammar.GoToStep,
    grammar.Extend,
    grammar.SetTimebox,
    grammar.SetAuto,
    grammar.ChangeFacilitator,
    grammar.Digest,
    grammar.End,
)


NO_WORKSHOP = "There is no workshop in this channel. Start one with `/storm start <title>`."

# What still works on a channel's last workshop once it has ended.
_AFTERWARDS = (grammar.Export, grammar.Report, grammar.Check, grammar.Trace)


class Workshops:
    """Runs workshops: facilitation, modelling, capture and votes, one transaction each."""

    def __init__(self, engine: Engine, clock: Clock, wake: Callable[[], None]) -> None:
        self._engine = engine
        self._clock = clock
        self._wake = wake

    def index_old_names(self) -> None:
        """Index the names of elements made before names were indexed (a database from an
        earlier version), so that naming help finds their twins too. Nothing to do after."""
        with unit_of_work(self._engine) as session:
            store = capture.in_session(session)
            for element in repo.unindexed_elements(session):
                assert element.id is not None
                store.index_name(
                    workshop_id=element.workshop_id,
                    kind=element.kind,
                    element_id=element.id,
                    keys=naming.name_keys(element.name),
                )

    # ---- slash commands -------------------------------------------------------------

    def run(self, actor: Actor, command: grammar.Command) -> Post:
        """Carry out one parsed `/storm` line and return the ephemeral answer."""
        if isinstance(command, grammar.Help):
            return messages.help_card(command.topic)
        try:
            if isinstance(command, grammar.AddEvents):
                answer = self._add_events(actor, command.names)
            else:
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
        if workshop is None and isinstance(command, _AFTERWARDS):
            # The team afterwards still reads and exports the channel's last workshop.
            workshop = repo.last_workshop(
                session, team_id=actor.team_id, channel_id=actor.channel_id
            )
        if workshop is None:
            raise Refused(NO_WORKSHOP)
        facilitators = repo.facilitators(session, workshop_id=_id(workshop))
        action = Action(session, workshop, actor, now, actor.user_id in facilitators)
        handler = _MODELLING.get(type(command))
        if handler is not None:
            answer = self._journaled(action, handler, command)
        elif isinstance(command, _FACILITATION) and not action.is_facilitator:
            raise Refused("Only a facilitator of this workshop can do that.")
        else:
            answer = self._other(action, command)
        return _with_post_problem(answer, workshop.post_problem)

    def _add_events(self, actor: Actor, names: tuple[str, ...]) -> Post:
        """`/storm event`: the command a whole department runs at once, so it runs as a few
        prepared statements in one short transaction of its own (`storage.capture`).

        The naming help is looked up after the commit, outside the writers' lock: it only
        reads, and under a burst every moment spent holding that lock is a moment the other
        web workers wait. It then also sees a twin added a moment later by someone else.
        """
        now = self._clock.now()
        heading = f"Added {plural(len(names), 'event')}:"
        with capture.connected(self._engine) as connection:
            with connection.writing() as store:
                workshop = store.open_workshop(team_id=actor.team_id, channel_id=actor.channel_id)
                if workshop is None:
                    raise Refused(NO_WORKSHOP)
                added, entries = [], []
                for name in names:
                    element_id, number = store.add_element(
                        workshop_id=workshop.id,
                        kind="event",
                        name=name,
                        keys=naming.name_keys(name),
                        author=actor.user_id,
                        added_by=actor.user_id,
                        step_number=workshop.current_step,
                        now=now,
                    )
                    store.schedule_post(
                        workshop_id=workshop.id,
                        kind="element",
                        due_at=now,
                        step_number=workshop.current_step,
                        payload={"element_id": element_id},
                    )
                    entries.append({"table": "element", "op": "insert", "id": element_id})
                    added.append((element_id, element_key("event", number), name))
                store.add_contribution(
                    workshop_id=workshop.id,
                    step_number=workshop.current_step,
                    user_id=actor.user_id,
                    at=now,
                )
                store.add_change(
                    workshop_id=workshop.id,
                    user_id=actor.user_id,
                    at=now,
                    summary=heading,  # what `/storm undo` will say it undid
                    entries=entries,
                )
            lines = [
                f"*{event}* {escape(name)}"
                + modelling.naming_notes(connection, workshop.id, element_id, "event", name, event)
                for element_id, event, name in added
            ]
        answer = messages.notice(f"{heading}\n" + "\n".join(lines))
        return _with_post_problem(answer, workshop.post_problem)

    def _journaled(self, action: Action, handler: _Handler, command: Any) -> Post:
        journal.start(action.session)
        answer = handler(action, command)
        entries = journal.entries(action.session)
        if entries:
            repo.add_change(
                action.session,
                workshop_id=action.workshop_id,
                user_id=action.actor.user_id,
                at=action.now,
                summary=_summary(answer),
                entries=entries,
            )
        return answer

    def _other(self, action: Action, command: grammar.Command) -> Post:
        session, workshop, now = action.session, action.workshop, action.now
        if isinstance(command, grammar.Status):
            snapshot, counts = load_status(session, workshop)
            return messages.status(snapshot, now, counts)
        if isinstance(command, grammar.Vote):
            return self._journaled(action, _vote, command)
        if isinstance(command, grammar.Undo):
            return _undo(action)
        if isinstance(command, grammar.Trace):
            return _trace(action, command)
        if isinstance(command, grammar.Check | grammar.Report):
            kind = "check" if isinstance(command, grammar.Check) else "report"
            action.schedule(kind, {"user": action.actor.user_id})
            return messages.notice(f"Posting the {kind} to the channel.")
        if isinstance(command, grammar.Export):
            action.schedule("export", {"format": command.format, "user": action.actor.user_id})
            return messages.notice(
                f"Exporting the model as {command.format}: the file will appear in this channel."
            )
        if isinstance(command, grammar.Digest):
            return self._digest(action, command.setting)
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

    def _digest(self, action: Action, setting: str) -> Post:
        workshop = action.workshop
        if setting == "now":
            action.schedule("digest", {"once": True})
            return messages.notice("Posting a digest to the channel now.")
        repo.cancel_pending_posts(
            action.session, workshop_id=action.workshop_id, kinds=("digest", "plan_digest")
        )
        workshop.digest_time = None if setting == "off" else setting
        action.session.add(workshop)
        if setting == "off":
            return messages.notice("Daily digests are off. `/storm digest 09:00` turns them on.")
        action.schedule("plan_digest")
        return messages.notice(
            f"The daily digest will be posted at {setting} in the first facilitator's time zone."
        )

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
        # After the first posts: who is in the channel (for status and reminders), and when
        # the first digest is due.
        repo.schedule_post(session, workshop_id=_id(workshop), kind="members", due_at=now)
        repo.schedule_post(session, workshop_id=_id(workshop), kind="plan_digest", due_at=now)
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

    def _close_current_step(
        self, session: Session, workshop: Workshop, now: datetime, *, summary: bool = True
    ) -> None:
        """Close the open step and cancel its reminders; post its deliverable unless the
        workshop is ending (the final report carries every deliverable)."""
        run = repo.step_run(session, workshop_id=_id(workshop), number=workshop.current_step)
        run.closed_at = now
        session.add(run)
        repo.cancel_pending_posts(
            session, workshop_id=_id(workshop), kinds=TIMELINE_KINDS, step_number=run.number
        )
        if summary:
            repo.schedule_post(
                session,
                workshop_id=_id(workshop),
                kind="summary",
                due_at=now,
                step_number=run.number,
            )

    def _move_to(self, session: Session, workshop: Workshop, number: int, now: datetime) -> Post:
        closing = workshop.current_step
        self._close_current_step(session, workshop, now)
        self._open_step(session, workshop, number, now)
        return messages.notice(
            f"Step {closing} closed (its summary is on its way); step {number}, "
            f"{STEPS[number - 1].name}, is open."
        )

    def advance(self, session: Session, workshop: Workshop, now: datetime) -> None:
        """Auto-advance at a deadline, inside the caller's transaction."""
        self._move_to(session, workshop, workshop.current_step + 1, now)

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
        self._close_current_step(session, workshop, now, summary=False)
        repo.cancel_pending_posts(
            session, workshop_id=_id(workshop), kinds=("digest", "plan_digest")
        )
        workshop.finished_at = now
        session.add(workshop)
        repo.schedule_post(session, workshop_id=_id(workshop), kind="final_report", due_at=now)
        return messages.notice(
            f"Workshop *{escape(workshop.title)}* finished; the final report is on its way."
        )

    # ---- capture and votes from reactions ------------------------------------------

    @contextmanager
    def _reaction(self, actor: Actor) -> Iterator[Action | None]:
        """One reaction's transaction on the channel's workshop (None when there is none)."""
        with unit_of_work(self._engine) as session:
            workshop = repo.open_workshop(
                session, team_id=actor.team_id, channel_id=actor.channel_id
            )
            if workshop is None:
                yield None
                return
            facilitators = repo.facilitators(session, workshop_id=_id(workshop))
            yield Action(session, workshop, actor, self._clock.now(), actor.user_id in facilitators)
        self._wake()

    def capture_message(
        self, actor: Actor, *, text: str, author: str, source_ts: str, kind: str = "event"
    ) -> Post | None:
        """A :zap: (event) or :question: (hotspot) on a message: capture it once.

        None when the channel has no workshop. A hotspot made from an element's own message
        is attached to that element.
        """
        with self._reaction(actor) as action:
            if action is None:
                return None
            existing = repo.element_from_source(
                action.session, workshop_id=action.workshop_id, kind=kind, source_ts=source_ts
            )
            if existing is not None:
                answer = messages.notice(
                    f"That message is already {existing.kind} {label(existing)}."
                )
            else:
                answer = self._journaled(
                    action, lambda a, _: _capture(a, kind, text, author, source_ts), None
                )
            action.schedule("ephemeral", _ephemeral(actor.user_id, answer))
        return answer

    def uncapture_message(self, actor: Actor, *, source_ts: str) -> None:
        """:zap: removed: during step 1, take the event back if nobody has touched it."""
        with self._reaction(actor) as action:
            if action is None:
                return
            element = repo.element_from_source(
                action.session, workshop_id=action.workshop_id, kind="event", source_ts=source_ts
            )
            if element is None or element.dropped_at is not None:
                return
            reason = _why_event_stays(action.session, action.workshop, element)
            if reason:
                answer = messages.notice(f"*{key(element)}* stays: {reason}.")
            else:
                element.dropped_at = action.now
                action.session.add(element)
                if element.message_ts:
                    action.schedule("delete_message", {"ts": element.message_ts})
                answer = messages.notice(f"Removed {label(element)}.")
            action.schedule("ephemeral", _ephemeral(actor.user_id, answer))

    def vote_by_message(
        self,
        actor: Actor,
        *,
        message_ts: str,
        on: bool,
        element: tuple[int, str] | None = None,
    ) -> bool:
        """:+1: added to (or removed from) an element's message.

        False when Storm has no record of that message. `element` (workshop id and element
        ID, read from the message's metadata) names it when the record is missing, because
        the message went out just before a crash or is not recorded yet; it is recorded then.
        """
        with self._reaction(actor) as action:
            if action is None:
                return True
            target = repo.element_by_message(
                action.session, workshop_id=action.workshop_id, message_ts=message_ts
            )
            if target is None and element is not None and element[0] == action.workshop_id:
                target = action.resolve(element[1])
                if target.message_ts is None:
                    target.message_ts = message_ts
                    action.session.add(target)
            if target is None:
                return False
            if target.dropped_at is not None:
                return True
            element_id = _id(action.survivor(target))
            if not on:
                repo.remove_vote(action.session, element_id=element_id, user_id=actor.user_id)
            elif repo.add_vote(
                action.session,
                workshop_id=action.workshop_id,
                element_id=element_id,
                user_id=actor.user_id,
                at=action.now,
            ):
                action.contribute()
        return True

    def snapshot(self, session: Session, workshop: Workshop) -> Snapshot:
        """The workshop as the core reads it."""
        return load_snapshot(session, workshop)


def _capture(action: Action, kind: str, text: str, author: str, source_ts: str) -> Post:
    if kind == "event":
        element = action.new_element("event", text, author=author, source_ts=source_ts)
        return messages.notice(
            f"Added {label(element)} from that message.{action.naming_notes(element)}"
        )
    about = repo.element_by_message(
        action.session, workshop_id=action.workshop_id, message_ts=source_ts
    )
    hotspot = action.new_element(
        "hotspot",
        text,
        author=author,
        source_ts=source_ts,
        on_element=action.survivor(about).id if about else None,
    )
    on = f" on {label(action.survivor(about))}" if about else ""
    return messages.notice(f"Added hotspot {label(hotspot)}{on} from that message.")


def _vote(action: Action, command: grammar.Vote) -> Post:
    element = action.resolve(command.ref)
    if not repo.add_vote(
        action.session,
        workshop_id=action.workshop_id,
        element_id=_id(element),
        user_id=action.actor.user_id,
        at=action.now,
    ):
        return messages.notice(f"You already voted for *{key(element)}*.")
    action.contribute()
    votes = repo.vote_count(action.session, element_id=_id(element))
    return messages.notice(f"Voted for {label(element)} ({plural(votes, 'vote')}).")


def _undo(action: Action) -> Post:
    change = repo.last_change(
        action.session, workshop_id=action.workshop_id, user_id=action.actor.user_id
    )
    if change is None:
        raise Refused("You have no change in this workshop to undo.")
    for element in journal.revert(action.session, change.entries, now=action.now):
        if element.message_ts:
            action.schedule("delete_message", {"ts": element.message_ts})
    change.undone_at = action.now
    action.session.add(change)
    return messages.notice(f"Undone: {escape(change.summary)}")


def _trace(action: Action, command: grammar.Trace) -> Post:
    element = action.resolve(command.ref, "command", "event", "view")
    snapshot = load_snapshot(action.session, action.workshop)
    try:
        found = completeness.trace(snapshot, key(element), command.field)
    except KeyError as missing:
        raise Refused(escape(str(missing.args[0])) if missing.args else "No such field.") from None
    origins = "\n".join(f"• {escape(line)}" for line in found.origins) or "• none"
    destinations = "\n".join(f"• {escape(line)}" for line in found.destinations) or "• none"
    return Post(
        text=f"Trace of {key(element)}.{command.field}",
        sections=(
            f"*{key(element)}.{escape(found.field)}* ({escape(element.name)})",
            f"*Comes from*\n{origins}",
            f"*Goes to*\n{destinations}",
        ),
    )


def _why_event_stays(session: Session, workshop: Workshop, element: Element) -> str | None:
    if workshop.current_step != 1:
        return "the workshop is past step 1, so events made by :zap: are kept"
    if repo.vote_count(session, element_id=_id(element)):
        return "it has votes"
    if element.renamed:
        return "it was renamed"
    if repo.has_live_links(session, element_id=_id(element)):
        return "it is linked to other elements"
    return None


def _summary(answer: Post) -> str:
    """What `/storm undo` will say it undid: the confirmation's first line."""
    return answer.text.splitlines()[0][:200]


def _with_post_problem(answer: Post, post_problem: str | None) -> Post:
    """Commands in a channel that refuses Storm's posts say so until a post goes through."""
    if post_problem not in CHANNEL_PROBLEMS:
        return answer
    problem = f":warning: My posts to this channel fail: {CHANNEL_PROBLEMS[post_problem]}"
    return Post(answer.text, answer.heading, (*answer.sections, problem), answer.context)


def _ephemeral(user_id: str, post: Post) -> dict[str, Any]:
    return {"user": user_id, "text": post.text, "sections": list(post.sections)}


def _id(row: Workshop | Element) -> int:
    assert row.id is not None, "rows are flushed before their id is used"
    return row.id


def _aware(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment

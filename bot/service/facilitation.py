"""Facilitation (SPEC §4.1, §5): starting, moving through the steps, timeboxes and ending.

Each handler runs inside the caller's transaction. Moving between steps plans the posts that
follow (prompt, reminders, deadline, summary) in the outbox, in that same transaction, so a
confirmed step change always has its posts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.core import commands, messages
from bot.core.durations import format_duration
from bot.core.messages import Post
from bot.core.steps import DEFAULT_TIMEBOX, LAST_STEP, STEPS
from bot.core.text import literal
from bot.core.timeline import TIMELINE_KINDS, next_digest, step_timeline
from bot.service.context import Action, Context, Refused, row_id
from storage import repository as repo
from storage.tables import Facilitator, StepRun, Workshop

# Summaries carry the board from the step that links commands and views to events on (SPEC
# §4.5); before it the board is one lane of events, which the summary lists anyway.
BOARD_FROM_STEP = 3


def start(context: Context, command: commands.Start) -> Post:
    """A new workshop in this channel, its caller the facilitator; step 1 opens at once."""
    session, actor, now = context.session, context.actor, context.now
    repo.lock_channel(session, team_id=actor.team_id, channel_id=actor.channel_id)
    if repo.open_workshop(session, team_id=actor.team_id, channel_id=actor.channel_id):
        raise Refused(
            "This channel already has a workshop in progress. Finish it with `/storm end` first."
        )
    workshop = Workshop(
        team_id=actor.team_id,
        channel_id=actor.channel_id,
        title=command.title,
        created_by=actor.user_id,
        started_at=now,
    )
    session.add(workshop)
    session.flush()
    workshop_id = row_id(workshop)
    session.add(Facilitator(workshop_id=workshop_id, user_id=actor.user_id))
    for step in STEPS:
        session.add(
            StepRun(
                workshop_id=workshop_id,
                number=step.number,
                timebox_seconds=int(DEFAULT_TIMEBOX.total_seconds()),
            )
        )
    session.flush()
    repo.schedule_post(session, workshop_id=workshop_id, kind="kickoff", due_at=now)
    _open_step(session, workshop, 1, now)
    # After the first posts: who is in the channel (for status and reminders), and when the
    # first digest is due.
    repo.schedule_post(session, workshop_id=workshop_id, kind="members", due_at=now)
    repo.schedule_post(session, workshop_id=workshop_id, kind="plan_digest", due_at=now)
    return messages.notice(
        f"Workshop *{literal(command.title)}* started; you are its facilitator. Step 1 is open."
    )


def next_step(action: Action, command: commands.Next) -> Post:
    workshop = action.workshop
    _still_open(workshop, command.step)
    if workshop.current_step >= LAST_STEP:
        raise Refused(f"Step {LAST_STEP} is the last step. Finish with `/storm end`.")
    return _move_to(action.session, workshop, workshop.current_step + 1, action.now)


def go_to_step(action: Action, command: commands.GoToStep) -> Post:
    if command.number == action.workshop.current_step:
        raise Refused(f"Step {command.number} is already open.")
    return _move_to(action.session, action.workshop, command.number, action.now)


def advance(session: Session, workshop: Workshop, now: datetime) -> None:
    """Auto-advance at a deadline, inside the caller's transaction."""
    _move_to(session, workshop, workshop.current_step + 1, now)


def extend(action: Action, command: commands.Extend) -> Post:
    session, workshop, now = action.session, action.workshop, action.now
    _still_open(workshop, command.step)
    run = repo.step_run(session, workshop_id=row_id(workshop), number=workshop.current_step)
    assert run.deadline_at is not None and run.opened_at is not None
    run.deadline_at = max(run.deadline_at, now) + command.duration
    run.timebox_seconds = int((run.deadline_at - run.opened_at).total_seconds())
    session.add(run)
    _plan_timeline(session, workshop, run, now)
    return messages.notice(
        f"Step {run.number} extended: it now ends {messages.when(run.deadline_at)}."
    )


def set_timebox(action: Action, command: commands.SetTimebox) -> Post:
    session, workshop = action.session, action.workshop
    seconds = int(command.duration.total_seconds())
    if command.target == "all":
        numbers = list(range(1, LAST_STEP + 1))
    elif command.target == "current":
        numbers = [workshop.current_step]
    else:
        numbers = [command.target]
    for run in repo.step_runs(session, workshop_id=row_id(workshop)):
        if run.number not in numbers:
            continue
        run.timebox_seconds = seconds
        if run.number == workshop.current_step and run.opened_at is not None:
            run.deadline_at = run.opened_at + command.duration
            _plan_timeline(session, workshop, run, action.now)
        session.add(run)
    which = "every step" if command.target == "all" else f"step {numbers[0]}"
    return messages.notice(f"Timebox for {which} set to {format_duration(command.duration)}.")


def set_auto(action: Action, command: commands.SetAuto) -> Post:
    action.workshop.auto_advance = command.on
    action.session.add(action.workshop)
    return messages.notice(
        "Auto-advance is on: each step closes and the next opens when its time is up."
        if command.on
        else "Auto-advance is off: I will ask a facilitator when time is up."
    )


def change_facilitator(action: Action, command: commands.ChangeFacilitator) -> Post:
    session, workshop_id = action.session, action.workshop_id
    current = repo.facilitators(session, workshop_id=workshop_id)
    if command.action == "add":
        if command.user_id in current:
            raise Refused(f"<@{command.user_id}> is already a facilitator.")
        session.add(Facilitator(workshop_id=workshop_id, user_id=command.user_id))
        return messages.notice(f"<@{command.user_id}> is now a facilitator.")
    if command.user_id not in current:
        raise Refused(f"<@{command.user_id}> is not a facilitator.")
    if len(current) == 1:
        raise Refused("The last facilitator cannot be removed: add another one first.")
    repo.remove_facilitator(session, workshop_id=workshop_id, user_id=command.user_id)
    return messages.notice(f"<@{command.user_id}> is no longer a facilitator.")


def digest(action: Action, command: commands.Digest) -> Post:
    setting = command.setting
    if setting == "now":
        action.schedule("digest", {"once": True})
        return messages.notice("Posting a digest to the channel now.")
    repo.cancel_pending_posts(
        action.session, workshop_id=action.workshop_id, kinds=("plan_digest",)
    )
    repo.cancel_daily_digests(action.session, workshop_id=action.workshop_id)
    action.workshop.digest_time = None if setting == "off" else setting
    action.session.add(action.workshop)
    if setting == "off":
        return messages.notice("Daily digests are off. `/storm digest 09:00` turns them on.")
    action.schedule("plan_digest")
    # The setting is a time of day in the first facilitator's zone; what each reader sees is
    # the next digest's moment in their own (SPEC §4.3), as `plan_digest` will schedule it.
    first = repo.facilitators(action.session, workshop_id=action.workshop_id)[0]
    known = repo.known_users(action.session, team_id=action.workshop.team_id, user_ids=[first])
    zone = known[first].tz if first in known else None
    upcoming = next_digest(action.now, setting, zone)
    return messages.notice(
        f"The daily digest is set: the next one comes {messages.when(upcoming)}, then every "
        "day at that time in the first facilitator's time zone."
    )


def end(action: Action, _: commands.End) -> Post:
    session, workshop, now = action.session, action.workshop, action.now
    _close_current_step(session, workshop, now, summary=False)
    repo.cancel_pending_posts(
        session, workshop_id=row_id(workshop), kinds=("digest", "plan_digest")
    )
    workshop.finished_at = now
    session.add(workshop)
    repo.schedule_post(session, workshop_id=row_id(workshop), kind="final_report", due_at=now)
    schedule_board(session, row_id(workshop), after="final_report", now=now)
    return messages.notice(
        f"Workshop *{literal(workshop.title)}* finished; the final report is on its way."
    )


def _still_open(workshop: Workshop, step: int | None) -> None:
    """A Next step or Extend button made for a step that has closed since does nothing: the
    facilitator meant that step, not the one open now."""
    if step is not None and step != workshop.current_step:
        current = STEPS[workshop.current_step - 1]
        raise Refused(
            f"That button is for step {step}, which is not open any more: the workshop is at "
            f"step {current.number}, {current.name}. Use the buttons of its prompt."
        )


def _open_step(session: Session, workshop: Workshop, number: int, now: datetime) -> None:
    run = repo.step_run(session, workshop_id=row_id(workshop), number=number)
    run.opened_at, run.closed_at, run.prompt_ts = now, None, None
    run.deadline_at = now + timedelta(seconds=run.timebox_seconds)
    workshop.current_step = number
    session.add_all([run, workshop])
    repo.schedule_post(
        session, workshop_id=row_id(workshop), kind="prompt", due_at=now, step_number=number
    )
    _plan_timeline(session, workshop, run, now)


def _plan_timeline(session: Session, workshop: Workshop, run: StepRun, now: datetime) -> None:
    """(Re)plan the step's reminders and deadline from its opening and deadline."""
    repo.cancel_pending_posts(
        session, workshop_id=row_id(workshop), kinds=TIMELINE_KINDS, step_number=run.number
    )
    assert run.opened_at is not None and run.deadline_at is not None
    for kind, due_at in step_timeline(run.opened_at, run.deadline_at, now):
        repo.schedule_post(
            session,
            workshop_id=row_id(workshop),
            kind=kind,
            due_at=due_at,
            step_number=run.number,
            payload={"deadline_at": run.deadline_at.isoformat()},
        )


def _close_current_step(
    session: Session, workshop: Workshop, now: datetime, *, summary: bool = True
) -> None:
    """Close the open step and cancel its reminders; post its deliverable unless the workshop
    is ending (the final report carries every deliverable)."""
    run = repo.step_run(session, workshop_id=row_id(workshop), number=workshop.current_step)
    run.closed_at = now
    session.add(run)
    repo.cancel_pending_posts(
        session, workshop_id=row_id(workshop), kinds=TIMELINE_KINDS, step_number=run.number
    )
    if summary:
        repo.schedule_post(
            session,
            workshop_id=row_id(workshop),
            kind="summary",
            due_at=now,
            step_number=run.number,
        )
        if run.number >= BOARD_FROM_STEP:
            schedule_board(session, row_id(workshop), after="summary", now=now, step=run.number)


def schedule_board(
    session: Session, workshop_id: int, *, after: str, now: datetime, step: int | None = None
) -> None:
    """The board as a picture, right after the post it illustrates (`after`: its kind), as a
    post of its own: an upload that fails is retried or reported without sending that post
    again."""
    repo.schedule_post(
        session,
        workshop_id=workshop_id,
        kind="board",
        due_at=now,
        step_number=step,
        payload={"after": after},
    )


def _move_to(session: Session, workshop: Workshop, number: int, now: datetime) -> Post:
    closing = workshop.current_step
    _close_current_step(session, workshop, now)
    _open_step(session, workshop, number, now)
    return messages.notice(
        f"Step {closing} closed (its summary is on its way); step {number}, "
        f"{STEPS[number - 1].name}, is open."
    )

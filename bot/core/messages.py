"""What Storm says: prompts, reminders, summaries, status and help, as plain documents.

A `Post` is a heading, mrkdwn sections and a footnote; the Slack adapter turns it into Block
Kit (and splits it to Slack's limits). Everything a user typed is escaped here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core import controls
from bot.core.controls import Button, Control, Menu
from bot.core.durations import format_duration
from bot.core.grammar import USAGES, Usage
from bot.core.model import KIND_EMOJI, WITH_FIELDS, ElementInfo, Snapshot
from bot.core.steps import LAST_STEP, STEPS
from bot.core.text import code, escape, literal, plural, unescape

# Slack's answers that mean a channel cannot take posts, and what a facilitator can do.
CHANNEL_PROBLEMS = {
    "not_in_channel": "I am not in that channel. Invite me with `/invite @Storm`.",
    "channel_not_found": "the channel was not found (deleted, or private without me in it).",
    "is_archived": "the channel is archived. Unarchive it, or start the workshop elsewhere.",
}


@dataclass(frozen=True)
class Post:
    """A message for people.

    `text` is plain text (the notification fallback; the renderer escapes it); `heading` is
    plain text too; `sections` and `context` are mrkdwn, already escaped where they quote users;
    `controls` are the buttons and menus it offers, shown after the sections.
    """

    text: str
    heading: str | None = None
    sections: tuple[str, ...] = ()
    context: str | None = None
    controls: tuple[Control, ...] = ()


def when(moment: datetime) -> str:
    """A time Slack shows in each reader's own time zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _names(
    snapshot: Snapshot, users: list[str] | frozenset[str], *, none: str = "nobody yet"
) -> str:
    names = sorted(literal(snapshot.name_of(u)) for u in users)
    return ", ".join(names) if names else none


def _element_line(element: ElementInfo, *, with_votes: bool = True) -> str:
    votes = f" · {plural(element.votes, 'vote')}" if with_votes and element.votes else ""
    return f"{KIND_EMOJI[element.kind]} *{element.key}* {literal(element.name)}{votes}"


def _time_left(snapshot: Snapshot, now: datetime, *, plain: bool = False) -> str:
    deadline = snapshot.current.deadline_at
    if deadline is None:
        return "no deadline"
    if deadline <= now:
        return "time is up"
    left = f"{format_duration(deadline - now)} left"
    return left if plain else f"{left} (until {when(deadline)})"


def late_note(due_at: datetime) -> str:
    """The footnote of a post sent after the bot was down when it fell due."""
    return f":hourglass: Late: this was due {when(due_at)}, while Storm was offline."


def _late_note(due_at: datetime, late: bool) -> str | None:
    return late_note(due_at) if late else None


def kickoff(snapshot: Snapshot) -> Post:
    lines = [
        f"{number}. *{s.step.name}* ({s.step.method}) · {format_duration(s.timebox)}"
        for number, s in enumerate(snapshot.steps, start=1)
    ]
    return Post(
        text=f"Workshop started: {snapshot.title}",
        heading=f"Workshop: {snapshot.title}",
        sections=(
            "We are storming this business process together, at our own pace, right here. "
            "Eight timeboxed steps take us from domain events to a complete model.",
            f"*{LAST_STEP} steps*\n" + "\n".join(lines),
            "Add what you know with `/storm …` or react :zap: to any message to make it a "
            "domain event. `/storm help` shows every command.",
        ),
        context=f"Facilitated by {_names(snapshot, list(snapshot.facilitators))}",
    )


def _examples(snapshot: Snapshot, number: int) -> tuple[str, ...]:
    """A step's command examples on the workshop's own elements (its first events, commands
    and views, by ID), so that they make sense in its domain; the step's generic examples
    when it has nothing yet to point at."""
    events = snapshot.events
    commands = snapshot.of_kind("command")
    views = snapshot.of_kind("view")
    if not events or number == 1:
        return STEPS[number - 1].examples
    e1 = events[0].key
    e2 = events[1].key if len(events) > 1 else e1
    c1 = commands[0] if commands else None
    command = c1.key if c1 else "<command>"
    if number == 2:
        found = [f"/storm rename {e1} <better name>"]
        if len(events) > 1:
            found += [f"/storm move {e2} before {e1}", f"/storm merge {e2} into {e1}"]
        return (*found, f"/storm hotspot Who decides this? on {e1}")
    if number == 3:
        return (
            f"/storm command <command name> -> {e1}",
            f"/storm view <view name> <- {e1}, {e2}"
            if e2 != e1
            else f"/storm view <view name> <- {e1}",
            f"/storm policy <policy name>: {e2} -> {command}",
            f"/storm actor <role> -> {command}",
            f"/storm external <system> -> {e2}",
        )
    if number == 4:
        members = " ".join(([command] if c1 else []) + [e.key for e in events[:2]])
        return (f"/storm aggregate <name>: {members}",)
    if number == 5:
        return (f"/storm fields {command}: <field>, <field>, <id>*",)
    if number == 6:
        field = next((f.name for e in [c1] if e for f in e.fields), "<field>")
        view = views[0].key if views else "V1"
        return (
            f"/storm view <view name> <- {e1}",
            f"/storm fields {e1}: {field}, <id>*",
            f"/storm fields {view}: {field}, <total> <- {e1}.{field}",
        )
    if number == 7:
        then = c1.causes[0] if c1 and c1.causes else e1
        found = [
            f"/storm scenario <title>: given nothing when {command} then {then}",
            f"/storm scenario <title>: given nothing when {command} then error <why>",
        ]
        if views:
            found.append(f"/storm scenario <title>: given {e1} then {views[0].key}")
        return tuple(found)
    with_fields = next((e for e in [*commands, *events] if e.fields), None)
    trace = f"{with_fields.key}.{with_fields.fields[0].name}" if with_fields else f"{e1}.<field>"
    return ("/storm check", f"/storm trace {trace}")


def step_controls(workshop_id: int, number: int, *, add: bool = False) -> tuple[Control, ...]:
    """Add… (when `add`), then Next step (before the last step) and the Extend menu, made for
    step `number`. Everyone sees them where everyone sees the post: the click is checked."""
    step = controls.step_target(workshop_id, number)
    found: list[Control] = []
    if add:
        found.append(Button("Add…", controls.ADD, controls.target(workshop_id), style="primary"))
    if number < LAST_STEP:
        found.append(Button("Next step", controls.NEXT, step))
    found.append(
        Menu(
            controls.EXTEND,
            tuple((label, f"{value} {step}") for label, value in controls.EXTENSIONS),
        )
    )
    return tuple(found)


def step_prompt(snapshot: Snapshot, number: int, *, workshop_id: int | None = None) -> Post:
    """A step's opening prompt; made for `workshop_id`, it carries Add…, Next step and Extend
    (SPEC §4.4)."""
    state = snapshot.steps[number - 1]
    step = state.step
    examples = "\n".join(f"`{code(example)}`" for example in _examples(snapshot, number))
    deadline = f"until {when(state.deadline_at)}" if state.deadline_at else ""
    return Post(
        text=f"{step.title} is open",
        heading=step.title,
        sections=(
            f"*What to do:* {step.focus}",
            f"*How:* {step.how}\n{examples}",
            f"*Who:* {step.who} · *Time box:* {format_duration(state.timebox)} {deadline}".rstrip(),
            f"*When this step closes* I post {step.deliverable}. New elements appear in this "
            "thread.",
        ),
        context=f"{step.method} · step {number} of {LAST_STEP}"
        + (" · *Next step* and *Extend* are for facilitators" if workshop_id is not None else ""),
        controls=step_controls(workshop_id, number, add=True) if workshop_id is not None else (),
    )


def element_posted(
    element: ElementInfo,
    author_name: str,
    *,
    added_by: str | None = None,
    dropped: bool = False,
    merged_into: tuple[str, str] | None = None,
    workshop_id: int | None = None,
    source_link: str | None = None,
    shared: bool = False,
) -> Post:
    """The thread reply that carries an element's ID, so reactions on it find the element.

    It is updated in place whenever the element changes (SPEC §4.3), so it shows the element
    as it is now: its votes, fields and whether it is resolved; once `dropped` or merged
    (`merged_into` is the survivor's key and name) it says so and no longer asks for votes.
    An element captured from someone's message by a reaction names both its author and who
    `added_by` it (SPEC §4.2). A live element's message carries its Vote button and menu
    (SPEC §4.4), made for `workshop_id`. One made from a message with the Add to Storm
    shortcut links back to it (`source_link`, a permalink Storm made itself). In a message
    `shared` with other elements only its button votes: a reaction there could be for any
    of them (SPEC §4.3).
    """
    line = f"{_element_line(element, with_votes=False)} · {element.kind}"
    added = f"added by {literal(author_name)}"
    if added_by is not None and added_by != author_name:
        added = f"by {literal(author_name)} · added by {literal(added_by)}"
    if source_link is not None:
        added += f" · <{source_link}|from this message>"
    if merged_into is not None:
        survivor, name = merged_into
        return Post(
            text=f"{element.key} {element.name} (merged into {survivor})",
            sections=(
                f"{line} · :twisted_rightwards_arrows: merged into *{survivor}* {literal(name)}",
            ),
            context=f"{added} · its votes count for {survivor}",
        )
    if dropped:
        return Post(
            text=f"{element.key} {element.name} (dropped)",
            sections=(f"{line} · :wastebasket: dropped",),
            context=f"{added} · it takes no votes",
        )
    if element.votes:
        line += f" · {plural(element.votes, 'vote')}"
    if element.resolved:
        line += " · :white_check_mark: resolved"
        if element.answer:
            line += f"\n*Answer:* {literal(element.answer)}"
    if element.fields:
        line += "\nFields: " + ", ".join(escape(str(f)) for f in element.fields)
    return Post(
        text=f"{element.key} {element.name}",
        sections=(line,),
        context=f"{added} · vote with the button" + ("" if shared else " or :+1:"),
        controls=element_controls(element, workshop_id) if workshop_id is not None else (),
    )


# What an element's menu offers, by kind: fields belong to commands, events, views, policies
# and screens; a
# command is specified by scenarios; a hotspot is resolved rather than questioned (SPEC §3,
# §4.4).
_WITH_FIELDS = frozenset(WITH_FIELDS)


def element_controls(element: ElementInfo, workshop_id: int) -> tuple[Control, ...]:
    """The Vote button (showing the count) and the menu of a live element's message."""
    target = controls.target(workshop_id, element.key)
    vote = f"Vote · {element.votes}" if element.votes else "Vote"
    choices = [("Rename…", "rename")]
    if element.kind in _WITH_FIELDS:
        choices.append(("Fields…", "fields"))
    if element.kind == "command":
        choices.append(("Scenario…", "scenario"))
    choices += [("Merge into…", "merge"), ("Drop", "drop")]
    if element.kind == "hotspot":
        if not element.resolved:
            choices.append(("Resolve…", "resolve"))
    else:
        choices.append(("Hotspot on this…", "hotspot"))
    return (
        Button(vote, controls.VOTE, target),
        Menu(
            controls.ELEMENT_MENU, tuple((label, f"{choice} {target}") for label, choice in choices)
        ),
    )


def reminder(
    snapshot: Snapshot, number: int, *, last_call: bool, now: datetime, due_at: datetime, late: bool
) -> Post:
    step = STEPS[number - 1]
    added = snapshot.added_in_step(number)
    missing = snapshot.not_contributed(number)
    label = "Last call" if last_call else "Half time"
    added_text = (
        "\n".join(_element_line(e) for e in added[:15])
        + (f"\n…and {len(added) - 15} more" if len(added) > 15 else "")
        if added
        else "Nothing yet."
    )
    return Post(
        text=f"{label}: {step.title}",
        heading=f"{label} · {step.name}",
        sections=(
            f":alarm_clock: {_time_left(snapshot, now)}.",
            f"*Added in this step ({len(added)})*\n{added_text}",
            f"*Not contributed yet:* {_names(snapshot, missing, none='none, everyone has')}",
        ),
        context=_late_note(due_at, late),
    )


def times_up(
    snapshot: Snapshot,
    number: int,
    *,
    due_at: datetime,
    late: bool,
    advancing: bool,
    workshop_id: int | None = None,
) -> Post:
    """Time's up for a step; unless the workshop advances by itself, it asks the facilitators
    to move on or extend, and (made for `workshop_id`) offers them the buttons to."""
    step = STEPS[number - 1]
    added = snapshot.added_in_step(number)
    contributors = snapshot.contributors(number)
    if advancing:
        ask = "Auto-advance is on: moving to the next step."
    else:
        mentions = " ".join(f"<@{user}>" for user in snapshot.facilitators)
        move = (
            "`/storm end` to finish the workshop"
            if number == LAST_STEP
            else "`/storm next` to move on"
        )
        buttons = " (or the buttons below)" if workshop_id is not None else ""
        ask = f"{mentions}: run {move} or `/storm extend 1h` for more time{buttons}."
    progress = (
        f"{plural(len(added), 'element')} added by "
        f"{plural(len(contributors), 'person', 'people')} in this step."
        if added
        else "Nothing was added in this step."
    )
    return Post(
        text=f"Time's up: {step.title}",
        heading=f"Time's up · {step.name}",
        sections=(progress, ask),
        context=_late_note(due_at, late),
        controls=step_controls(workshop_id, number)
        if workshop_id is not None and not advancing
        else (),
    )


def status(
    snapshot: Snapshot, now: datetime, counts: dict[str, int], *, controls_for: int | None = None
) -> Post:
    """Where the workshop stands; `counts` are its live elements by kind (the snapshot may
    leave the elements out: status only needs how many there are). Only its reader sees it,
    so a facilitator's carries Next step and Extend, made for workshop `controls_for`."""
    state = snapshot.current
    count_text = (
        ", ".join(plural(n, kind) for kind, n in sorted(counts.items()))
        if counts
        else "nothing yet"
    )
    missing = snapshot.not_contributed(state.number)
    return Post(
        text=f"{state.step.title}: {_time_left(snapshot, now, plain=True)}",
        heading=f"{snapshot.title} · {state.step.title}",
        sections=(
            f":alarm_clock: {_time_left(snapshot, now)} · auto-advance "
            f"{'on' if snapshot.auto_advance else 'off'}",
            f"*Model:* {count_text}",
            f"*Contributed this step:* {_names(snapshot, snapshot.contributors(state.number))}",
            f"*Not yet:* {_names(snapshot, missing, none='none, everyone has')}",
        ),
        controls=step_controls(controls_for, state.number) if controls_for is not None else (),
    )


def _usage_line(usage: Usage) -> str:
    lock = " :lock:" if usage.facilitator_only else ""
    return f"`{code(usage.syntax)}`{lock} {escape(usage.summary)}"


def help_card(topic: str | None = None) -> Post:
    if topic is not None:
        usage = USAGES[topic]
        who = "facilitators only" if usage.facilitator_only else "anyone in the channel"
        return Post(
            text=usage.syntax,
            sections=(
                f"`{code(usage.syntax)}`\n{escape(usage.summary)} ({who}).\n"
                f"Example: `{code(usage.example)}`",
            ),
        )
    facilitation = [
        u
        for u in USAGES.values()
        if u.facilitator_only or u.syntax.startswith(("/storm start", "/storm status"))
    ]
    modelling = [u for u in USAGES.values() if u not in facilitation]
    return Post(
        text="How to use /storm",
        sections=(
            "*Storm* runs an Event Storming + Event Modeling workshop in this channel.",
            "*Facilitation*\n" + "\n".join(_usage_line(u) for u in facilitation),
            "*Modelling*\n" + "\n".join(_usage_line(u) for u in modelling),
            "React :zap: to any message to make it a domain event, :question: to raise a "
            "hotspot, :+1: on an element to vote.",
        ),
        context=":lock: facilitators only · `/storm help &lt;sub-command&gt;` for details",
    )


def usage_error(problem: str, usage: Usage | None) -> Post:
    """An ephemeral error that quotes the problem and shows the right usage."""
    right = (
        f"\nUsage: `{code(usage.syntax)}` (e.g. `{code(usage.example)}`)"
        if usage
        else ("\nSee `/storm help` for every sub-command.")
    )
    return Post(text=f"Sorry: {problem}", sections=(f":warning: {escape(problem)}{right}",))


def notice(text: str) -> Post:
    """A short ephemeral answer. `text` is mrkdwn, already escaped where it quotes users."""
    return Post(text=unescape(text), sections=(text,))

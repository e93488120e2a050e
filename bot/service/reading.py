"""Reading the model (SPEC §4.1): status, trace, and the reports and exports posted later."""

from __future__ import annotations

from bot.core import commands, completeness, messages
from bot.core.messages import Post
from bot.core.model import WITH_FIELDS
from bot.core.text import literal, plural
from bot.service.context import Action, Refused, key
from bot.service.snapshots import load_snapshot, load_status


def help_card(_: object, command: commands.Help) -> Post:
    return messages.help_card(command.topic)


def status(action: Action, _: commands.Status) -> Post:
    snapshot, counts = load_status(action.session, action.workshop)
    controls_for = action.workshop_id if action.is_facilitator else None
    return messages.status(snapshot, action.now, counts, controls_for=controls_for)


def trace(action: Action, command: commands.Trace) -> Post:
    element = action.resolve(command.ref, *WITH_FIELDS)
    snapshot = load_snapshot(action.session, action.workshop)
    try:
        found = completeness.trace(snapshot, key(element), command.field)
    except KeyError as missing:
        raise Refused(literal(str(missing.args[0])) if missing.args else "No such field.") from None
    origins = "\n".join(f"• {literal(line)}" for line in found.origins) or "• none"
    destinations = "\n".join(f"• {literal(line)}" for line in found.destinations) or "• none"
    return Post(
        text=f"Trace of {key(element)}.{command.field}",
        sections=(
            f"*{key(element)}.{literal(found.field)}* ({literal(element.name)})",
            f"*Comes from*\n{origins}",
            f"*Goes to*\n{destinations}",
        ),
    )


def check(action: Action, command: commands.Check) -> Post:
    """Post the check; after a Fix, rewrite the report that was fixed in place and tell the
    person what is left (a small model's check costs less than the fix's own transaction)."""
    if command.refresh is None:
        action.schedule("check", {"user": action.actor.user_id})
        return messages.notice("Posting the check to the channel.")
    action.schedule("check", {"user": action.actor.user_id, "refresh": command.refresh})
    report = completeness.check(load_snapshot(action.session, action.workshop))
    left = (
        f"{plural(len(report.findings), 'finding')} left"
        if report.findings
        else "nothing left to fix"
    )
    return messages.notice(
        f"Re-checked: completeness {round(report.score * 100)}%, {left}. The report shows it."
    )


def report(action: Action, _: commands.Report) -> Post:
    action.schedule("report", {"user": action.actor.user_id})
    return messages.notice("Posting the report to the channel.")


def export(action: Action, command: commands.Export) -> Post:
    action.schedule("export", {"format": command.format, "user": action.actor.user_id})
    return messages.notice(
        f"Exporting the model as {command.format}: the file will appear in this channel."
    )


def board(action: Action, _: commands.Board) -> Post:
    """Drawing takes longer than an answer may: the outbox paints and uploads it."""
    action.schedule("board", {"user": action.actor.user_id})
    return messages.notice("Drawing the board: it will appear in this channel.")

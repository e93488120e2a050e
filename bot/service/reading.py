"""Reading the model (SPEC §4.1): status, trace, and the reports and exports posted later."""

from __future__ import annotations

from bot.core import commands, completeness, messages
from bot.core.messages import Post
from bot.core.text import literal
from bot.service.context import Action, Refused, key
from bot.service.snapshots import load_snapshot, load_status


def help_card(_: object, command: commands.Help) -> Post:
    return messages.help_card(command.topic)


def status(action: Action, _: commands.Status) -> Post:
    snapshot, counts = load_status(action.session, action.workshop)
    return messages.status(snapshot, action.now, counts)


def trace(action: Action, command: commands.Trace) -> Post:
    element = action.resolve(command.ref, "command", "event", "view")
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


def check(action: Action, _: commands.Check) -> Post:
    action.schedule("check", {"user": action.actor.user_id})
    return messages.notice("Posting the check to the channel.")


def report(action: Action, _: commands.Report) -> Post:
    action.schedule("report", {"user": action.actor.user_id})
    return messages.notice("Posting the report to the channel.")


def export(action: Action, command: commands.Export) -> Post:
    action.schedule("export", {"format": command.format, "user": action.actor.user_id})
    return messages.notice(
        f"Exporting the model as {command.format}: the file will appear in this channel."
    )

"""`/storm canvas on|off` (SPEC §4.5): whether Storm keeps the channel's canvas current.

The command only records the wish, in the command's transaction: the background worker
creates the canvas and keeps it current (`bot.slack.canvas`), so the acknowledgement never
waits for Slack. Turning it on again after a refusal tries again, and tells again if refused.
"""

from __future__ import annotations

from bot.core import commands, messages
from bot.core.messages import Post
from bot.service.context import Action


def set_canvas(action: Action, command: commands.SetCanvas) -> Post:
    workshop = action.workshop
    if not command.on:
        if workshop.canvas_by is None:
            return messages.notice(
                "The canvas is not following the model. `/storm canvas on` makes it."
            )
        workshop.canvas_by = None
        workshop.canvas_problem = None
        action.session.add(workshop)
        return messages.notice(
            "The canvas stops following the model; it stays in the channel as it is now."
        )
    following = workshop.canvas_by is not None and workshop.canvas_problem is None
    workshop.canvas_by = action.actor.user_id
    workshop.canvas_problem = None
    action.session.add(workshop)
    if following:
        return messages.notice("The channel's canvas already follows the model.")
    return messages.notice(
        "The channel's canvas will show the model and follow its changes within about ten "
        "seconds. If Slack refuses the canvas, I will tell you why. `/storm canvas off` stops."
    )

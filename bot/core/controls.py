"""What a person can click on a post: buttons and menus, as plain descriptions.

The core says which controls a message offers and what each one means; the Slack adapter
turns them into Block Kit (`bot.slack.blocks`) and routes the clicks (`bot.slack.actions`).
A control's `value` names what it acts on (`target`: the workshop's id and an element's ID);
it is never trusted for permissions: a click is checked again when it arrives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# What each action does when clicked, by the name the adapter routes on.
VOTE = "vote"  # toggle the clicker's vote for an element
ELEMENT_MENU = "element"  # an element's menu: rename, fields, merge, drop, hotspot, resolve
ADD = "add"  # open the Add… form of a step
NEXT = "next"  # close the step and open the next one
EXTEND = "extend"  # add time to the current step
FIX = "fix"  # apply a completeness finding's mechanical fix
IMPORT = "import"  # import a model file into a workshop that has elements, after all
IMPORT_CANCEL = "import_cancel"  # leave the workshop as it is: import nothing

# What the Extend menu offers: (what it says, the duration as `/storm extend` takes it).
EXTENSIONS = (("Extend 30 min", "30m"), ("Extend 1 hour", "1h"), ("Extend 1 day", "1d"))


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    value: str
    style: Literal["primary", "danger"] | None = None


@dataclass(frozen=True)
class Menu:
    """A compact menu (`…`) of choices; each choice's value is `<choice> <target>`."""

    action: str
    choices: tuple[tuple[str, str], ...]  # (what it says, the choice's value)


Control = Button | Menu


def target(workshop_id: int, element_key: str | None = None) -> str:
    """A control's value: the workshop it was made for, and the element it acts on."""
    return f"{workshop_id}:{element_key}" if element_key else str(workshop_id)


def parse_target(value: str) -> tuple[int, str | None] | None:
    """The workshop id and element ID of a control's value; None for anything else."""
    workshop, _, element = value.partition(":")
    if not workshop.isdigit() or len(element) > 20:
        return None
    return int(workshop), element or None


def step_target(workshop_id: int, step: int) -> str:
    """A step control's value: the workshop, and the step it was made for (its prompt's)."""
    return f"{workshop_id}:step {step}"


def parse_step_target(value: str) -> tuple[int, int] | None:
    """The workshop id and step number of a step control's value; None for anything else."""
    workshop, _, step = value.partition(":step ")
    if not workshop.isdigit() or not step.isdigit() or len(step) > 2:
        return None
    return int(workshop), int(step)


# A Slack file id, as an import's buttons carry it (`F` and upper-case letters and digits).
_FILE_ID = re.compile(r"F[A-Z0-9]{2,40}")


def parse_file(value: str) -> str | None:
    """The file id an import's button carries; None for anything else."""
    return value if _FILE_ID.fullmatch(value) else None

"""Storm's forms (Slack modals): how each one looks, and how a submission is read back.

A form is opened from a click and carries, in `private_metadata`, the workshop it was made
for, the channel and the element it acts on; that tells the submission where it belongs, and
is checked again when it arrives (`Workshops.attempt`), never trusted for permissions.
Each input's block id names the field, so a refusal can be shown beside the field it is about
(`response_action: errors`), and Slack keeps what was typed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.fixes import ChooseAggregate, ChooseOrigin
from bot.core.model import parse_element_key
from bot.core.steps import STEPS
from bot.core.text import MAX_NAME_LENGTH, escape, from_slack
from bot.service.forms import (
    ADDED_KINDS,
    MAX_OPTIONS,
    AddChoices,
    Choices,
    FormElement,
    ScenarioForm,
)

log = logging.getLogger(__name__)

MAX_TITLE = 24
MAX_INPUT = 3000
MAX_RADIO = 10  # options radio buttons take
VALUE = "value"  # the action id of every input: the block id says which field it is
FIELDS_HINT = (
    "order id · total:Decimal with its type (String when none; Int, Long, Double, Boolean, "
    "UUID, Date, DateTime, Custom; items:String[] for a list) · order id:UUID* when the system "
    "makes it · total <- E3.amount when it comes from another element's field."
)
PICK = "storm.pick"  # a searchable picker's action id: its choices come from `block_suggestion`


@dataclass(frozen=True)
class Source:
    """The message a form makes an element from (the Add to Storm shortcut): its ts, its
    author and its permalink."""

    ts: str
    author: str
    permalink: str | None = None


@dataclass(frozen=True)
class Origin:
    """Where a form was opened: the workshop it was made for, its channel, and the element
    it acts on or the message it started from (if any). A Fix form also names the `field`
    it fixes and the report message it was opened from (`report_ts`), which is re-checked
    in place once the fix is made."""

    workshop_id: int
    channel_id: str
    element: str | None = None
    field: str | None = None
    report_ts: str | None = None
    source: Source | None = None

    def dump(self) -> str:
        data: dict[str, Any] = {"w": self.workshop_id, "c": self.channel_id, "e": self.element}
        if self.field is not None:
            data["f"] = self.field
        if self.report_ts is not None:
            data["r"] = self.report_ts
        if self.source is not None:
            data["s"] = [self.source.ts, self.source.author, self.source.permalink]
        return json.dumps(data)

    @staticmethod
    def load(raw: str) -> Origin | None:
        try:
            data = json.loads(raw or "{}")
            workshop, channel, element = data["w"], data["c"], data.get("e")
            field, report = data.get("f"), data.get("r")
            ts, author, link = data.get("s") or (None, None, None)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if not isinstance(workshop, int) or not isinstance(channel, str):
            return None
        source = (
            Source(ts, author, link if isinstance(link, str) else None)
            if isinstance(ts, str) and isinstance(author, str)
            else None
        )
        return Origin(
            workshop,
            channel,
            element if isinstance(element, str) else None,
            field if isinstance(field, str) else None,
            report if isinstance(report, str) else None,
            source,
        )


def open_form(client: WebClient, trigger_id: str, view: dict[str, Any]) -> bool:
    """Open a form for a click (or typed line) before its ack: its `trigger_id` expires
    three seconds after the click. False when Slack refused (logged): the person can
    click again."""
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        log.warning(
            "could not open the %s form: %s", view["callback_id"], error.response.get("error")
        )
        return False
    return True


def modal(
    callback_id: str, title: str, blocks: list[dict[str, Any]], origin: Origin, *, submit: str
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": _plain(title, MAX_TITLE),
        "submit": _plain(submit, MAX_TITLE),
        "close": _plain("Cancel", MAX_TITLE),
        "private_metadata": origin.dump(),
        "blocks": blocks,
    }


def _plain(text: str, limit: int) -> dict[str, Any]:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return {"type": "plain_text", "text": shown, "emoji": True}


def text_input(
    block_id: str,
    label: str,
    *,
    initial: str = "",
    multiline: bool = False,
    optional: bool = False,
    hint: str | None = None,
    placeholder: str | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": VALUE,
        "multiline": multiline,
        "max_length": MAX_INPUT,
    }
    if initial:
        element["initial_value"] = initial[:MAX_INPUT]
    if placeholder:
        element["placeholder"] = _plain(placeholder, 150)
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label, 2000),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint, 2000)
    return block


def option(key: str, name: str) -> dict[str, Any]:
    """One element as a picker's option: its ID and name (plain text, so nothing to escape)."""
    return {"text": _plain(f"{key} {name}", 75), "value": key}


def picker(
    block_id: str,
    label: str,
    choices: list[tuple[str, str]],
    *,
    searched: bool,
    placeholder: str = "Choose…",
    optional: bool = False,
    initial: tuple[str, str] | None = None,
    hint: str | None = None,
) -> dict[str, Any]:
    """A menu of elements: a plain list when it fits Slack's 100 options, searched as the
    person types (`external_select`) when the model has more. `initial` is chosen already."""
    element: dict[str, Any]
    if searched:
        element = {"type": "external_select", "action_id": PICK, "min_query_length": 0}
    else:
        element = {
            "type": "static_select",
            "action_id": VALUE,
            "options": [option(key, name) for key, name in choices],
        }
    if initial is not None and (searched or initial in choices):
        element["initial_option"] = option(*initial)
    element["placeholder"] = _plain(placeholder, 150)
    return _input(block_id, label, element, optional=optional, hint=hint)


def multi_picker(
    block_id: str,
    label: str,
    choices: list[tuple[str, str]],
    *,
    searched: bool,
    initial: tuple[tuple[str, str], ...] = (),
    hint: str | None = None,
) -> dict[str, Any]:
    """Several elements at once, optional: listed or searched as `picker`, a listed one
    grouped by kind when it holds several. Slack wants a listed menu's initial options among
    its options (an external one takes any); neither can choose one element twice."""
    element: dict[str, Any]
    if searched:
        element = {"type": "multi_external_select", "action_id": PICK, "min_query_length": 0}
    else:
        element = {"type": "multi_static_select", "action_id": VALUE, **_listed(choices)}
        initial = tuple(pair for pair in initial if pair in choices)
    if initial:
        element["initial_options"] = [option(*pair) for pair in initial[:MAX_OPTIONS]]
    element["placeholder"] = _plain("Choose…", 150)
    return _input(block_id, label, element, optional=True, hint=hint)


def _listed(choices: list[tuple[str, str]]) -> dict[str, Any]:
    """A listed menu's options, in groups by kind when there are several kinds."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for key, name in choices:
        parsed = parse_element_key(key)
        groups.setdefault(parsed[0] if parsed else "element", []).append(option(key, name))
    if len(groups) <= 1:
        return {"options": [option(key, name) for key, name in choices]}
    return {
        "option_groups": [
            {"label": _plain(f"{kind.capitalize()}s", 75), "options": options}
            for kind, options in groups.items()
        ]
    }


def choice(
    block_id: str, label: str, choices: list[tuple[str, str]], *, initial: str | None = None
) -> dict[str, Any]:
    """One of a few choices (value, what it says): radio buttons, a menu beyond Slack's ten."""
    options = [{"text": _plain(text, 75), "value": value} for value, text in choices]
    kind = "radio_buttons" if len(options) <= MAX_RADIO else "static_select"
    element: dict[str, Any] = {"type": kind, "action_id": VALUE, "options": options[:MAX_OPTIONS]}
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return _input(block_id, label, element, optional=False)


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool, hint: str | None = None
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label, 2000),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint, 2000)
    return block


def note(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_INPUT]}]}


def values(view: dict[str, Any]) -> dict[str, str]:
    """What was entered, by block id: text as typed (stripped), a choice as its value, the
    choices of a multi-select as their values joined by commas (element IDs hold none)."""
    found: dict[str, str] = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        for entered in actions.values():
            if entered.get("selected_option"):
                found[block_id] = str(entered["selected_option"].get("value", ""))
            elif entered.get("selected_options") is not None:
                chosen = entered["selected_options"]
                found[block_id] = ",".join(str(o.get("value", "")) for o in chosen)
            elif entered.get("value") is not None:
                found[block_id] = str(entered["value"]).strip()
    return found


# ---- the element's menu ------------------------------------------------------------------


def _about(element: FormElement) -> dict[str, Any]:
    return note(f"*{element.key}* {escape(element.name)} · {element.kind}")


def rename_form(element: FormElement, origin: Origin) -> dict[str, Any]:
    return modal(
        "storm.rename",
        f"Rename {element.key}",
        [_about(element), text_input("name", "New name", initial=element.name)],
        origin,
        submit="Rename",
    )


def fields_form(element: FormElement, origin: Origin) -> dict[str, Any]:
    return modal(
        "storm.fields",
        f"Fields of {element.key}",
        [
            _about(element),
            text_input(
                "fields",
                "Fields, one per line",
                initial="\n".join(str(field) for field in element.fields),
                multiline=True,
                optional=True,
                hint=f"{FIELDS_HINT} Leave empty to clear.",
            ),
        ],
        origin,
        submit="Save",
    )


def merge_form(
    element: FormElement, origin: Origin, choices: list[tuple[str, str]], searched: bool
) -> dict[str, Any]:
    blocks = [
        _about(element),
        picker("into", f"Merge {element.key} into", choices, searched=searched),
        note(
            "Its votes, links, fields and hotspots move to the one you choose; its ID still works."
        ),
    ]
    return modal("storm.merge", f"Merge {element.key}", blocks, origin, submit="Merge")


def hotspot_form(element: FormElement, origin: Origin) -> dict[str, Any]:
    return modal(
        "storm.hotspot",
        f"Hotspot on {element.key}",
        [_about(element), text_input("question", "Question, risk or disagreement", multiline=True)],
        origin,
        submit="Add hotspot",
    )


def resolve_form(element: FormElement, origin: Origin) -> dict[str, Any]:
    return modal(
        "storm.resolve",
        f"Resolve {element.key}",
        [
            _about(element),
            text_input("answer", "Answer", multiline=True, optional=True),
        ],
        origin,
        submit="Resolve",
    )


def no_choices_note(kind: str) -> str:
    return f"There is no other {kind} to merge it into."


# ---- the scenario form (SPEC §4.4): from a command's menu, a Fix button, `/storm scenario` ----

# Its fields' block ids; pickers' ids say what they pick (`bot.slack.views.PICKED_KINDS`).
SCENARIO_TITLE = "title"
GIVEN = "scenario_given"
WHEN = "scenario_when"
THEN = "scenario_then"
ERROR = "scenario_error"
VIEW = "scenario_view"


def _pairs(elements: tuple[Any, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((e.key, e.name) for e in elements)


def scenario_form(form: ScenarioForm, origin: Origin) -> dict[str, Any]:
    """Given/when/then with pickers limited to the right kinds, drafted from the command's
    links when there is one. Fields are optional and checked together on submission (a
    command scenario: when, and then events or an error; a view scenario: given and a view);
    a form drafted for a command leaves the view out. A field with nothing to pick from is
    left out too (Slack wants options to choose from)."""
    draft = form.draft
    events, searched_events = form.events
    commands, searched_commands = form.commands
    views, searched_views = form.views
    has_events = bool(events) or searched_events
    has_commands = bool(commands) or searched_commands
    has_views = (bool(views) or searched_views) and draft.command is None
    blocks: list[dict[str, Any]] = []
    if draft.command is not None:
        about = f"*{draft.command.key}* {escape(draft.command.name)} · command"
        blocks.append(note(f"{about}\n{escape(draft.note)}" if draft.note else about))
    blocks.append(text_input(SCENARIO_TITLE, "Title", placeholder="e.g. Happy path"))
    if has_events:
        blocks.append(
            multi_picker(
                GIVEN,
                "Given: the events that happened before",
                events,
                searched=searched_events,
                initial=_pairs(draft.given),
                hint="Leave it empty for “given nothing”. A picker names each event once: "
                "to say one twice, type the scenario (given E1, E1).",
            )
        )
    if has_commands:
        command = (draft.command.key, draft.command.name) if draft.command else None
        blocks.append(
            picker(
                WHEN,
                "When: the command",
                commands,
                searched=searched_commands,
                initial=command,
                optional=has_views,
            )
        )
        if has_events:
            blocks.append(
                multi_picker(
                    THEN,
                    "Then: the events it causes",
                    events,
                    searched=searched_events,
                    initial=_pairs(draft.then),
                )
            )
        blocks.append(
            text_input(
                ERROR,
                "…or then error: why it is refused",
                optional=True,
                hint="A rejection scenario: write the error instead of choosing events.",
            )
        )
    if has_views:
        blocks.append(
            picker(
                VIEW,
                "Or, for a view: then this view shows",
                views,
                searched=searched_views,
                optional=has_commands,
                hint="A view scenario has given events and a view, and no command.",
            )
        )
    title = f"Scenario for {draft.command.key}" if draft.command else "New scenario"
    return modal("storm.scenario", title, blocks, origin, submit="Add scenario")


# ---- the Fix forms of a completeness report ------------------------------------------------

ORIGIN_CHOICE = "origin_choice"
GENERATED = "generated"
AGGREGATE_PICK = "aggregate_pick"
AGGREGATE_NEW = "aggregate_new"


def origin_form(remedy: ChooseOrigin, origin: Origin) -> dict[str, Any]:
    """Give a field an origin: add it to a command causing the event (a source event of the
    view), or mark it generated where it is."""
    element, field = remedy.element, remedy.field
    target = "command" if element.kind == "event" else "event"
    options = [(f"add {e.key}", f"Add it to {e.key} {e.name}") for e in remedy.sources]
    options.append((GENERATED, f"Mark it generated on {element.key} (made by the system)"))
    blocks = [
        note(
            f"*{element.key}* {escape(element.name)} · {element.kind}: field "
            f"“{escape(field)}” has no origin: no {target} "
            f"{'causing' if target == 'command' else 'feeding'} it carries it."
        ),
        choice(ORIGIN_CHOICE, f"Where does “{field}” come from?", options, initial=options[0][0]),
    ]
    return modal("storm.origin", "Origin of a field", blocks, origin, submit="Fix")


def aggregate_form(remedy: ChooseAggregate, aggregates: Choices, origin: Origin) -> dict[str, Any]:
    """Put a command or event in an aggregate: an existing one (the likely one chosen) or a
    new one named here."""
    element = remedy.element
    listed, searched = aggregates
    blocks = [note(f"*{element.key}* {escape(element.name)} · {element.kind}: in no aggregate.")]
    if listed or searched:
        draft = (remedy.draft.key, remedy.draft.name) if remedy.draft else None
        blocks.append(
            picker(
                AGGREGATE_PICK,
                "Aggregate",
                listed,
                searched=searched,
                initial=draft,
                optional=True,
            )
        )
    blocks.append(
        text_input(
            AGGREGATE_NEW,
            "…or a new aggregate" if listed or searched else "New aggregate",
            optional=bool(listed or searched),
            placeholder="e.g. Order",
        )
    )
    return modal("storm.aggregate", f"Group {element.key}", blocks, origin, submit="Group")


# ---- a step's Add… form ---------------------------------------------------------------

_KIND_LABELS = {
    "event": "Domain event",
    "command": "Command",
    "view": "View (read model)",
    "policy": "Policy",
    "actor": "Actor",
    "external": "External system",
    "screen": "Screen",
    "hotspot": "Hotspot",
}
LINKS_HINT = (
    "A command: the events it causes. A view: the events that feed it. An event: the "
    "commands that cause it and the views it feeds. A policy: the event or view that triggers "
    "it and the command it issues. An actor: the commands it issues. An external system: the "
    "events it causes. A screen: the commands it issues and the views it shows. A hotspot: the "
    "element it is about."
)


def kind_option(kind: str) -> dict[str, Any]:
    return {"text": _plain(_KIND_LABELS[kind], 75), "value": kind}


def kind_picker(block_id: str, kinds: tuple[str, ...], initial: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": _plain("What to add", 2000),
        "element": {
            "type": "static_select",
            "action_id": VALUE,
            "options": [kind_option(kind) for kind in kinds],
            "initial_option": kind_option(initial),
        },
    }


def add_form(choices: AddChoices, origin: Origin) -> dict[str, Any]:
    """Add one element or several (one name per line) of one kind, with fields and links
    chosen from the model; the links menu is left out while there is nothing to link to."""
    step = STEPS[choices.step - 1]
    blocks = [
        note(f"*{escape(choices.title)}* · step {step.number}, {step.name}"),
        kind_picker("kind", ADDED_KINDS, choices.kind),
        text_input(
            "names",
            "Names, one per line",
            multiline=True,
            hint="Events in the past tense (Order Placed). For a hotspot, its question.",
        ),
        text_input(
            "fields",
            "Fields (commands, events, views), one per line",
            multiline=True,
            optional=True,
            hint=f"Given to each name: {FIELDS_HINT}",
        ),
    ]
    if choices.links:
        blocks.append(
            multi_picker(
                "links", "Links", choices.links, searched=choices.searched, hint=LINKS_HINT
            )
        )
    return modal("storm.add", "Add to the model", blocks, origin, submit="Add")


# ---- the Add to Storm shortcut ------------------------------------------------------------

CAPTURED_KINDS = ("event", "hotspot", "command", "view")


def capture_form(text: str, origin: Origin) -> dict[str, Any]:
    """Make an element of a message: its text (mrkdwn as Slack sends it) prefilled as the
    plain text people read, cut to a name's length, and a kind picker (SPEC §4.2)."""
    plain = " ".join(from_slack(text).split())[:MAX_NAME_LENGTH]
    blocks = [
        note(
            "From a message"
            + (
                f" · <{origin.source.permalink}|open it>"
                if origin.source and origin.source.permalink
                else ""
            )
        ),
        kind_picker("kind", CAPTURED_KINDS, "event"),
        text_input(
            "name",
            "Name",
            initial=plain,
            hint="Events in the past tense (Order Placed). For a hotspot, its question.",
        ),
    ]
    return modal("storm.capture", "Add to Storm", blocks, origin, submit="Add")

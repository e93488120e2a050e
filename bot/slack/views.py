"""Submitted forms (`view_submission`) and the searched pickers inside them (`block_suggestion`).

A submission is read into a command of the vocabulary and carried out as a typed one would
be (`Workshops.attempt`): checked again where it arrives, all or nothing. What is wrong is
shown beside the field it is about (`response_action: errors`), the form stays open with what
the person typed, and nothing is stored; otherwise the form closes and the confirmation comes
ephemerally in the channel. Elements picked in a form are checked to be there still, and of
the picker's kind, beside their field; a form opened by a completeness report's Fix button
re-checks that report once its fix is made.

The import form is another matter: its submission closes the form at once and is recorded in
the inbox, and the file is read and imported after the ack (`bot.service.file_imports`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.core import commands, grammar
from bot.core.model import WITH_FIELDS, normalise, parse_element_key
from bot.core.text import MAX_ANSWER_LENGTH, TextError, clean_name, unescape, with_article
from bot.service import forms as readers
from bot.service.context import Actor, Refused
from bot.service.reactions import ReactionInbox
from bot.service.workshops import Workshops
from bot.slack import forms, imports

# What a form's fields hold: a wrong entry, shown beside its field.
Errors = dict[str, str]
# Reads a form into a command, or says which fields are wrong.
Reader = Callable[[forms.Origin, dict[str, str]], "commands.Command | Errors"]


def plain(text: str) -> str:
    """A refusal (mrkdwn) as the plain text Slack shows under a field."""
    return re.sub(r"[*`]", "", unescape(text))


def _name(entered: dict[str, str], block_id: str, what: str) -> str | Errors:
    try:
        return clean_name(entered.get(block_id, ""), what=what)
    except TextError as error:
        return {block_id: plain(str(error)).capitalize()}


def rename(origin: forms.Origin, entered: dict[str, str]) -> commands.Command | Errors:
    name = _name(entered, "name", "the new name")
    return name if isinstance(name, dict) else commands.Rename(origin.element or "", name)


def set_fields(origin: forms.Origin, entered: dict[str, str]) -> commands.Command | Errors:
    lines = [line.strip() for line in entered.get("fields", "").splitlines() if line.strip()]
    try:
        return grammar.parse(f"fields {origin.element}: " + ", ".join(lines))
    except grammar.GrammarError as error:
        return {"fields": plain(error.problem).capitalize()}


def merge(origin: forms.Origin, entered: dict[str, str]) -> commands.Command | Errors:
    if not entered.get("into"):
        return {"into": "Choose the element to merge it into."}
    return commands.Merge(origin.element or "", entered["into"])


def hotspot(origin: forms.Origin, entered: dict[str, str]) -> commands.Command | Errors:
    text = _name(entered, "question", "the question")
    return text if isinstance(text, dict) else commands.AddHotspot(text, on=origin.element)


def resolve(origin: forms.Origin, entered: dict[str, str]) -> commands.Command | Errors:
    """The answer is optional: an empty one resolves the hotspot without an answer."""
    if not entered.get("answer"):
        return commands.Resolve(origin.element or "")
    try:
        answer = clean_name(entered["answer"], what="the answer", limit=MAX_ANSWER_LENGTH)
    except TextError as error:
        return {"answer": plain(str(error)).capitalize()}
    return commands.Resolve(origin.element or "", answer)


def add(origin: forms.Origin, entered: dict[str, str]) -> commands.Command | Errors:
    """The Add… form: one kind, names one per line (each a new element, or for commands,
    views, policies, actors and external systems an existing one of that name, linked anew),
    fields given to each, and links whose kinds must fit the kind added. Every wrong field is
    said at once."""
    kind = entered.get("kind", "")
    errors: Errors = {}
    if kind not in readers.ADDED_KINDS:
        errors["kind"] = "Choose what to add."
    names = _names(
        entered.get("names", ""), "a hotspot's question" if kind == "hotspot" else "a name"
    )
    if isinstance(names, str):
        errors["names"] = names
    fields = _fields(kind, entered.get("fields", ""))
    if isinstance(fields, str):
        errors["fields"] = fields
    links = _links(kind, [ref for ref in entered.get("links", "").split(",") if ref])
    if isinstance(links, str):
        errors["links"] = links
    if errors or kind not in readers.ADDED_KINDS:
        return errors
    assert not isinstance(names, str) and not isinstance(fields, str)
    assert not isinstance(links, str)
    return _added(kind, names, fields, links)


def _names(text: str, what: str) -> tuple[str, ...] | str:
    """The names typed one per line: none, an empty-looking one or the same one twice is
    refused."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            name = clean_name(line, what=what)
        except TextError as error:
            return plain(str(error)).capitalize()
        if normalise(name) in found:
            return f"“{name}” is listed twice."
        found[normalise(name)] = name
    return tuple(found.values()) or "Give at least one name."


def _fields(kind: str, text: str) -> tuple[commands.FieldInput, ...] | str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ()
    if kind not in _WITH_FIELDS:
        return "Only commands, events, views, policies and screens have fields: leave this empty."
    try:
        parsed = grammar.parse("fields E1: " + ", ".join(lines))
    except grammar.GrammarError as error:
        return plain(error.problem).capitalize()
    assert isinstance(parsed, commands.SetFields)
    return parsed.fields


# The kinds of element each kind added may be linked to, and what the link means.
_WITH_FIELDS = frozenset(WITH_FIELDS)
_LINKS = {
    "event": ("command", "view"),
    "command": ("event",),
    "view": ("event",),
    "external": ("event",),
    "actor": ("command",),
    "policy": ("event", "view", "command"),
    "screen": ("command", "view"),
    "hotspot": ("event", "command", "view"),
}
_LINK_RULES = {
    "event": "an event is linked to the commands that cause it and the views it feeds",
    "command": "a command is linked to the events it causes",
    "view": "a view is linked to the events that feed it",
    "external": "an external system is linked to the events it causes",
    "actor": "an actor is linked to the commands it issues",
    "policy": "a policy is linked to the event or view that triggers it and the command it issues",
    "screen": "a screen is linked to the commands it issues and the views it shows",
    "hotspot": "a hotspot is about one element",
}


def _links(kind: str, keys: list[str]) -> dict[str, tuple[str, ...]] | str:
    """The chosen links by kind; refused when one is of a kind that `kind` cannot link to,
    or a policy lacks its one event and one command, or a hotspot is on more than one."""
    by_kind: dict[str, tuple[str, ...]] = {}
    for key in dict.fromkeys(keys):
        parsed = parse_element_key(key)
        if parsed is None:
            return f"{key} is not an element: choose from the list."
        if kind in _LINKS and parsed[0] not in _LINKS[kind]:
            return f"{key} is {with_article(parsed[0])}: {_LINK_RULES[kind]}."
        by_kind[parsed[0]] = (*by_kind.get(parsed[0], ()), key)
    triggers = by_kind.get("event", ()) + by_kind.get("view", ())
    if kind == "policy" and (len(triggers) != 1 or len(by_kind.get("command", ())) != 1):
        return f"Choose one event or view and one command: {_LINK_RULES['policy']}."
    if kind == "hotspot" and sum(len(v) for v in by_kind.values()) > 1:
        return "Choose one element at most: a hotspot is about one element."
    return by_kind


def _added(
    kind: str,
    names: tuple[str, ...],
    fields: tuple[commands.FieldInput, ...],
    links: dict[str, tuple[str, ...]],
) -> commands.Command:
    """The commands that add `names` of `kind` with their fields and links, as one."""
    events, issued = links.get("event", ()), links.get("command", ())
    found: list[commands.Command] = []
    if kind == "event":
        found.append(commands.AddEvents(names))
        found += [commands.AddCommand(command, names) for command in issued]
        found += [commands.AddView(view, names) for view in links.get("view", ())]
    for name in names:
        if kind == "command":
            found.append(commands.AddCommand(name, events))
        elif kind == "view":
            found.append(commands.AddView(name, events))
        elif kind == "external":
            found.append(commands.AddExternal(name, events))
        elif kind == "actor":
            found.append(commands.AddActor(name, issued))
        elif kind == "policy":
            trigger = (*events, *links.get("view", ()))[0]
            found.append(commands.AddPolicy(name, trigger, issued[0]))
        elif kind == "screen":
            found.append(commands.AddScreen(name, issued, links.get("view", ())))
        elif kind == "hotspot":
            on = next(iter(v[0] for v in links.values()), None)
            found.append(commands.AddHotspot(name, on))
        if fields:
            found.append(commands.SetFields(name, fields))
    return found[0] if len(found) == 1 else commands.Several(tuple(found))


def capture(origin: forms.Origin, entered: dict[str, str]) -> commands.Command | Errors:
    """The Add to Storm shortcut's form: one element of the chosen kind from the message."""
    kind = entered.get("kind", "")
    if kind not in forms.CAPTURED_KINDS or origin.source is None:
        return {"kind": "Choose what to add."}
    what = "the question" if kind == "hotspot" else "the name"
    name = _name(entered, "name", what)
    if isinstance(name, dict):
        return name
    source = origin.source
    return commands.AddFromMessage(
        kind,  # type: ignore[arg-type]  # one of CAPTURED_KINDS, checked above
        name,
        author=source.author,
        source_ts=source.ts,
        permalink=source.permalink,
    )


def _picked(entered: dict[str, str], block_id: str) -> tuple[str, ...]:
    return tuple(ref for ref in entered.get(block_id, "").split(",") if ref)


def scenario(origin: forms.Origin, entered: dict[str, str]) -> commands.Command | Errors:
    """A command scenario (when, then events or an error) or a view one (given, a view),
    every wrong field told at once."""
    errors: Errors = {}
    title = _name(entered, forms.SCENARIO_TITLE, "the title")
    if isinstance(title, dict):
        errors.update(title)
    given, then = _picked(entered, forms.GIVEN), _picked(entered, forms.THEN)
    when, view = entered.get(forms.WHEN) or None, entered.get(forms.VIEW) or None
    error = _name(entered, forms.ERROR, "the error") if entered.get(forms.ERROR) else None
    if isinstance(error, dict):
        errors.update(error)
    if view and when:
        errors[forms.VIEW] = "A view scenario has no command: clear the command or the view."
    elif view:
        if then:
            errors[forms.THEN] = "A view scenario ends with its view: leave the events empty."
        if error:
            errors[forms.ERROR] = "A view scenario ends with its view: leave the error empty."
    elif when:
        if then and error:
            errors[forms.ERROR] = "Either the events it causes or an error, not both."
        elif not then and not error:
            errors[forms.ERROR] = "Choose the events it causes above, or write why it is refused."
    else:
        errors[forms.WHEN] = "Choose the command this scenario is about."
    if errors or isinstance(title, dict) or isinstance(error, dict):
        return errors
    if view:
        return commands.AddScenario(title, given, view=view)
    return commands.AddScenario(title, given, when, then=then, error=error)


def give_origin(origin: forms.Origin, entered: dict[str, str]) -> commands.Command | Errors:
    chosen, field = entered.get(forms.ORIGIN_CHOICE, ""), origin.field or ""
    if chosen == forms.GENERATED:
        return commands.AddField(origin.element or "", commands.FieldInput(field, generated=True))
    if chosen.startswith("add "):
        return commands.AddField(chosen.removeprefix("add "), commands.FieldInput(field))
    return {forms.ORIGIN_CHOICE: "Choose where the field comes from."}


def group_into(origin: forms.Origin, entered: dict[str, str]) -> commands.Command | Errors:
    picked, typed = entered.get(forms.AGGREGATE_PICK), entered.get(forms.AGGREGATE_NEW)
    if picked and typed:
        return {forms.AGGREGATE_NEW: "Choose an aggregate or name a new one, not both."}
    if not picked:
        name = _name(entered, forms.AGGREGATE_NEW, "the aggregate's name")
        if isinstance(name, dict):
            return {forms.AGGREGATE_NEW: "Choose an aggregate, or name a new one."}
        picked = name
    return commands.Group(picked, (origin.element or "",))


# Each form's reader, and the field a refusal of the whole command is shown beside.
FORMS: dict[str, tuple[Reader, str]] = {
    "storm.rename": (rename, "name"),
    "storm.fields": (set_fields, "fields"),
    "storm.merge": (merge, "into"),
    "storm.hotspot": (hotspot, "question"),
    "storm.resolve": (resolve, "answer"),
    "storm.scenario": (scenario, forms.SCENARIO_TITLE),
    "storm.origin": (give_origin, forms.ORIGIN_CHOICE),
    "storm.aggregate": (group_into, forms.AGGREGATE_NEW),
    "storm.add": (add, "names"),
    "storm.capture": (capture, "name"),
}

# The kinds a picker offers, by its block id: searched ones are answered with these, and
# what was picked is checked to be a live element of these kinds beside its field. "into"
# offers the element's own kind.
PICKED_KINDS: dict[str, tuple[str, ...]] = {
    forms.GIVEN: ("event",),
    forms.THEN: ("event",),
    forms.WHEN: ("command",),
    forms.VIEW: ("view",),
    forms.AGGREGATE_PICK: ("aggregate",),
    "links": readers.LINKED_KINDS,
}


def _actor(body: dict[str, Any], origin: forms.Origin) -> Actor:
    team = (body.get("team") or {}).get("id") or body["user"].get("team_id", "")
    return Actor(team, origin.channel_id, body["user"]["id"])


def register(app: App, *, workshops: Workshops, inbox: ReactionInbox) -> None:
    def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        read, main_field = FORMS[view["callback_id"]]
        origin = forms.Origin.load(view.get("private_metadata", ""))
        if origin is None:
            ack(response_action="errors", errors={main_field: "This form is broken: close it."})
            return
        entered = forms.values(view)
        command = read(origin, entered)
        actor = _actor(body, origin)
        picked = {
            block_id: (_picked(entered, block_id), PICKED_KINDS[block_id])
            for block_id in entered
            if block_id in PICKED_KINDS and entered[block_id]
        }
        try:
            wrong = (
                workshops.look(actor, origin.workshop_id, readers.wrong_refs(picked))
                if picked
                else {}
            )
        except Refused as refusal:
            wrong = {main_field: str(refusal)}
        errors = {
            **(command if isinstance(command, dict) else {}),
            **{block_id: plain(refusal) for block_id, refusal in wrong.items()},
        }
        if errors:
            ack(response_action="errors", errors=errors)
            return
        assert not isinstance(command, dict)
        outcome = workshops.attempt(actor, command, made_for=origin.workshop_id)
        if outcome.refused is not None:
            ack(response_action="errors", errors={main_field: plain(outcome.refused)})
            return
        ack()
        if origin.report_ts is not None:  # a Fix form: the report it came from shows the fix
            workshops.attempt(
                actor, commands.Check(refresh=origin.report_ts), made_for=origin.workshop_id
            )

    def suggest(ack: Ack, body: dict[str, Any]) -> None:
        origin = forms.Origin.load((body.get("view") or {}).get("private_metadata", ""))
        block_id = body.get("block_id", "")
        kinds = PICKED_KINDS.get(block_id)
        if origin is not None and kinds is None and origin.element:
            parsed = parse_element_key(origin.element)
            kinds = (parsed[0],) if parsed else None
        if origin is None or kinds is None:
            ack(options=[])
            return
        try:
            found, _ = workshops.look(
                _actor(body, origin),
                origin.workshop_id,
                readers.choices(kinds, query=body.get("value", ""), leave_out=origin.element),
            )
        except Refused:
            found = []
        ack(options=[forms.option(key, name) for key, name in found])

    def record_import(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        errors = imports.form_errors(view)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        inbox.record(imports.form_event(body))
        ack()

    def import_after_ack(body: dict[str, Any], view: dict[str, Any]) -> None:
        if not imports.form_errors(view):
            inbox.process_delivery(imports.form_event(body)["event_id"])

    for callback_id in FORMS:
        app.view(callback_id)(submit)
    app.options(forms.PICK)(suggest)
    if inbox.applies_after_ack:
        app.view(imports.IMPORT_FORM)(ack=record_import, lazy=[import_after_ack])
    else:
        app.view(imports.IMPORT_FORM)(record_import)

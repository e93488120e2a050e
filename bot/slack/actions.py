"""Clicks on Storm's buttons and menus in messages (`block_actions`).

A click that changes the model without a form (Vote, the menu's Drop, Next step, Extend) is
recorded in the inbox before the ack and carried out after it (`bot.slack.clicks`). A click
that needs input opens a form with `views.open` before the ack, because the click's
`trigger_id` expires three seconds after the click; what it reads for the form is checked as
a typed command is (`Workshops.look`). A completeness report's Fix is carried out on the
request path: it reads the finding again to decide between a fix and a form.

An import's confirmation is answered otherwise: Import is recorded in the inbox and the file
read and imported after the ack (`bot.service.file_imports`), whose answer takes the place of
the confirmation; Cancel changes nothing and says so in its place.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core import commands, controls, fixes
from bot.core.messages import Post, notice
from bot.core.text import literal
from bot.service import file_imports
from bot.service import forms as readers
from bot.service.context import Actor, Refused
from bot.service.reactions import ReactionInbox
from bot.service.workshops import Workshops
from bot.slack import clicks, forms, imports
from bot.slack.blocks import action_id, action_pattern, build_single
from bot.slack.clicks import actor_of


def answer(workshops: Workshops, actor: Actor, post: Post, respond: Respond) -> None:
    """Show `post` to the person: through the outbox where the channel has a workshop, else
    at once through the click's `response_url` (a channel Storm knows nothing of)."""
    if not workshops.tell(actor, post):
        message = build_single(post)
        respond(text=message.text, blocks=message.blocks, response_type="ephemeral")


def register(app: App, *, workshops: Workshops, inbox: ReactionInbox) -> None:
    def record_click(ack: Ack, body: dict[str, Any]) -> None:
        inbox.record(clicks.click_event(body))
        ack()

    def apply_click(body: dict[str, Any]) -> None:
        inbox.process_delivery(clicks.click_event(body)["event_id"])

    def element_menu(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        choice, _, value = (action.get("selected_option") or {}).get("value", "").partition(" ")
        target = controls.parse_target(value)
        actor = actor_of(body)
        workshop_id, ref = target or (0, None)
        if ref is None or choice not in _MENU:
            ack()
            return
        if choice == "scenario":
            try:
                form = workshops.look(actor, workshop_id, readers.scenario_form(ref))
            except Refused as refusal:
                ack()
                answer(workshops, actor, notice(f":no_entry_sign: {refusal}"), respond)
                return
            view = forms.scenario_form(form, forms.Origin(workshop_id, actor.channel_id))
            forms.open_form(client, body.get("trigger_id", ""), view)
            ack()
            return
        try:
            element = workshops.look(actor, workshop_id, readers.element(ref))
            origin = forms.Origin(workshop_id, actor.channel_id, element.key)
            if choice == "merge":
                found, more = workshops.look(
                    actor, workshop_id, readers.choices((element.kind,), leave_out=element.key)
                )
                if not found:
                    raise Refused(forms.no_choices_note(element.kind))
                view = forms.merge_form(element, origin, found, searched=more)
            else:
                view = _FORMS[choice](element, origin)
        except Refused as refusal:
            ack()
            answer(workshops, actor, notice(f":no_entry_sign: {refusal}"), respond)
            return
        forms.open_form(client, body.get("trigger_id", ""), view)
        ack()

    def fix(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        """A completeness report's Fix button: the finding is looked for again on the model
        as it is now; a fix with nothing to choose is applied at once, the others ask in a
        form first. Either way the report is re-checked once the fix is made."""
        actor = actor_of(body)
        target = fixes.FixTarget.parse(action.get("value", ""))
        if target is None:
            ack()
            return
        report = _report_ts(body)
        try:
            plan = workshops.look(actor, target.workshop_id, readers.fix(target))
        except Refused as refusal:
            ack()
            answer(workshops, actor, notice(f":no_entry_sign: {refusal}"), respond)
            return
        if isinstance(plan.remedy, fixes.Apply):
            ack()
            outcome = workshops.attempt(actor, plan.remedy.command, made_for=target.workshop_id)
            if not outcome.told:
                answer(workshops, actor, outcome.answer, respond)
            if outcome.refused is None:
                workshops.attempt(
                    actor, commands.Check(refresh=report), made_for=target.workshop_id
                )
            return
        origin = forms.Origin(
            target.workshop_id, actor.channel_id, target.element, target.field, report
        )
        view = _fix_view(plan, origin)
        if isinstance(view, Post):
            ack()
            answer(workshops, actor, view, respond)
            return
        forms.open_form(client, body.get("trigger_id", ""), view)
        ack()

    def add(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        target = controls.parse_target(action.get("value", ""))
        actor = actor_of(body)
        if target is None:
            ack()
            return
        try:
            choices = workshops.look(actor, target[0], readers.add_choices)
        except Refused as refusal:
            ack()
            answer(workshops, actor, notice(f":no_entry_sign: {refusal}"), respond)
            return
        view = forms.add_form(choices, forms.Origin(target[0], actor.channel_id))
        forms.open_form(client, body["trigger_id"], view)
        ack()

    def record_import(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        file_id = controls.parse_file(action.get("value", ""))
        if file_id is not None:
            inbox.record(imports.confirmed_event(body, file_id))
        ack()

    def import_after_ack(body: dict[str, Any], action: dict[str, Any]) -> None:
        file_id = controls.parse_file(action.get("value", ""))
        if file_id is not None:
            inbox.process_delivery(imports.confirmed_event(body, file_id)["event_id"])

    def cancel_import(ack: Ack, respond: Respond) -> None:
        ack()
        message = build_single(file_imports.cancelled())
        respond(text=message.text, blocks=message.blocks, replace_original=True)

    def drop_or_form(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        if clicks.is_drop(action):
            record_click(ack, body)
        else:
            element_menu(ack, body, action, client, respond)

    def apply_drop(body: dict[str, Any], action: dict[str, Any]) -> None:
        if clicks.is_drop(action):
            apply_click(body)

    app.action(action_pattern(controls.FIX))(fix)
    app.action(action_id(controls.ADD))(add)
    if inbox.applies_after_ack:
        for kept in (controls.VOTE, controls.NEXT, controls.EXTEND):
            app.action(action_id(kept))(ack=record_click, lazy=[apply_click])
        app.action(action_id(controls.ELEMENT_MENU))(ack=drop_or_form, lazy=[apply_drop])
        app.action(action_id(controls.IMPORT))(ack=record_import, lazy=[import_after_ack])
    else:
        for kept in (controls.VOTE, controls.NEXT, controls.EXTEND):
            app.action(action_id(kept))(record_click)
        app.action(action_id(controls.ELEMENT_MENU))(drop_or_form)
        app.action(action_id(controls.IMPORT))(record_import)
    app.action(action_id(controls.IMPORT_CANCEL))(cancel_import)


def _report_ts(body: dict[str, Any]) -> str | None:
    """The clicked message, when it holds a whole completeness report (it starts with the
    report's heading): the fix rewrites it in place. A later page of a long report cannot be
    rewritten alone, so then a fresh report is posted instead."""
    message = body.get("message") or {}
    blocks = message.get("blocks") or []
    ts = (body.get("container") or {}).get("message_ts") or message.get("ts")
    if blocks and blocks[0].get("type") == "header" and isinstance(ts, str):
        return ts
    return None


def _fix_view(plan: readers.FixPlan, origin: forms.Origin) -> dict[str, Any] | Post:
    """The form a Fix asks in first, or why the button does nothing now."""
    about = literal(plan.target.about())
    found = plan.remedy
    if plan.finding is None:
        return notice(
            f":white_check_mark: Nothing to fix: {about} is no longer a finding. "
            "`/storm check` posts a fresh report."
        )
    if found is None:
        return notice(
            f"{about} has no one-click fix any more: the report says what to do, and "
            "`/storm check` posts a fresh one."
        )
    if isinstance(found, fixes.ChooseOrigin):
        return forms.origin_form(found, origin)
    if isinstance(found, fixes.ChooseAggregate):
        return forms.aggregate_form(found, plan.aggregates, origin)
    assert isinstance(found, fixes.WriteScenario) and plan.scenario is not None
    scenario_origin = forms.Origin(
        origin.workshop_id, origin.channel_id, report_ts=origin.report_ts
    )
    return forms.scenario_form(plan.scenario, scenario_origin)


# The element menu's choices that open a form of the element alone; "merge" opens one with
# the candidates too, "scenario" one drafted from the command's links. "drop" needs no form
# (`/storm undo` takes it back): it is a kept click (`bot.slack.clicks`).
_FORMS = {
    "rename": forms.rename_form,
    "fields": forms.fields_form,
    "hotspot": forms.hotspot_form,
    "resolve": forms.resolve_form,
}
_MENU = frozenset({*_FORMS, "merge", "scenario"})

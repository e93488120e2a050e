"""The scenario form and the Fix forms as Slack sees them, and how a submission is read back:
pure builders and readers, no Slack (SPEC §4.4: one message per wrong field)."""

from __future__ import annotations

from typing import Any

from bot.core import commands
from bot.core.fixes import ChooseAggregate, ChooseOrigin, draft_scenario
from bot.service.forms import MAX_OPTIONS, ScenarioForm
from bot.slack import forms, views
from tests.unit.test_completeness import el
from tests.unit.test_fixes import shop

ORIGIN = forms.Origin(5, "C1")


def form_of(
    command: str | None, *, events: int | None = None, views_too: bool = True
) -> ScenarioForm:
    """The form `shop()` opens for `command`; `events` makes the model that many events."""
    snapshot = shop()
    rows = [(e.key, e.name) for e in snapshot.events]
    if events is not None:
        rows = [(f"E{n}", f"Event {n}") for n in range(1, events + 1)]
    searched = len(rows) > MAX_OPTIONS
    return ScenarioForm(
        5,
        draft_scenario(snapshot, command),
        ([] if searched else rows, searched),
        ([(c.key, c.name) for c in snapshot.of_kind("command")], False),
        ([("V1", "Orders")] if views_too else [], False),
    )


def blocks_by_id(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def test_a_drafted_form_starts_with_the_draft_among_its_options() -> None:
    view = forms.scenario_form(form_of("C1"), ORIGIN)
    assert view["callback_id"] == "storm.scenario" and view["title"]["text"] == "Scenario for C1"
    fields = blocks_by_id(view)
    assert list(fields) == [forms.SCENARIO_TITLE, forms.GIVEN, forms.WHEN, forms.THEN, forms.ERROR]
    given, then = fields[forms.GIVEN]["element"], fields[forms.THEN]["element"]
    assert given["type"] == then["type"] == "multi_static_select"
    assert [o["value"] for o in given["initial_options"]] == ["E5", "E1"]
    assert [o["value"] for o in then["initial_options"]] == ["E3", "E4"]
    for element in (given, then):  # Slack wants initial options among the options
        assert all(o in element["options"] for o in element["initial_options"])
    when = fields[forms.WHEN]
    assert when["element"]["initial_option"]["value"] == "C1"
    assert when["optional"] is False  # no view scenario here: the command is needed
    assert "Ship Order" in view["blocks"][0]["elements"][0]["text"]  # what it is drafted for


def test_a_blank_form_offers_a_view_scenario_too() -> None:
    view = forms.scenario_form(form_of(None), ORIGIN)
    fields = blocks_by_id(view)
    assert forms.VIEW in fields and fields[forms.WHEN]["optional"] is True
    assert "initial_options" not in fields[forms.GIVEN]["element"]
    assert view["title"]["text"] == "New scenario"


def test_a_model_with_many_events_is_searched_and_keeps_its_draft() -> None:
    view = forms.scenario_form(form_of("C1", events=400), ORIGIN)
    given = blocks_by_id(view)[forms.GIVEN]["element"]
    assert given["type"] == "multi_external_select" and given["action_id"] == forms.PICK
    assert "options" not in given
    assert [o["value"] for o in given["initial_options"]] == ["E5", "E1"]
    assert views.PICKED_KINDS[forms.GIVEN] == ("event",)


def test_pickers_with_nothing_to_pick_are_left_out() -> None:
    view = forms.scenario_form(form_of(None, events=0, views_too=False), ORIGIN)
    assert list(blocks_by_id(view)) == [forms.SCENARIO_TITLE, forms.WHEN, forms.ERROR]


def entered(**fields: str) -> dict[str, str]:
    ids = {"title": forms.SCENARIO_TITLE, "given": forms.GIVEN, "when": forms.WHEN}
    ids |= {"then": forms.THEN, "error": forms.ERROR, "view": forms.VIEW}
    return {ids[name]: value for name, value in fields.items()}


def test_a_valid_submission_becomes_the_scenario_command() -> None:
    read = views.scenario
    assert read(ORIGIN, entered(title="Ship it", given="E5,E1", when="C1", then="E3,E4")) == (
        commands.AddScenario("Ship it", ("E5", "E1"), "C1", then=("E3", "E4"))
    )
    assert read(ORIGIN, entered(title="Too late", when="C1", then="", error="Already shipped")) == (
        commands.AddScenario("Too late", (), "C1", error="Already shipped")
    )
    assert read(ORIGIN, entered(title="Listed", given="E1", view="V1")) == (
        commands.AddScenario("Listed", ("E1",), view="V1")
    )


def test_every_wrong_field_is_told_at_once_beside_itself() -> None:
    read = views.scenario
    assert set(read(ORIGIN, entered(title="  "))) == {forms.SCENARIO_TITLE, forms.WHEN}  # type: ignore[arg-type]
    neither = read(ORIGIN, entered(title="T", when="C1", given="E1"))
    assert isinstance(neither, dict) and list(neither) == [forms.ERROR]
    assert "events it causes" in neither[forms.ERROR]
    both = read(ORIGIN, entered(title="T", when="C1", then="E3", error="No"))
    assert isinstance(both, dict) and "not both" in both[forms.ERROR]
    mixed = read(ORIGIN, entered(title="T", when="C1", view="V1"))
    assert isinstance(mixed, dict) and list(mixed) == [forms.VIEW]
    view_with_events = read(ORIGIN, entered(title="T", view="V1", then="E1", error="x"))
    assert isinstance(view_with_events, dict)
    assert set(view_with_events) == {forms.THEN, forms.ERROR}


def test_picked_choices_are_read_from_multi_selects() -> None:
    state = {
        "values": {
            forms.GIVEN: {
                "value": {
                    "type": "multi_static_select",
                    "selected_options": [{"value": "E2"}, {"value": "E1"}],
                }
            },
            forms.THEN: {"value": {"type": "multi_static_select", "selected_options": []}},
            forms.WHEN: {
                "storm.pick": {"type": "external_select", "selected_option": {"value": "C1"}}
            },
        }
    }
    assert forms.values({"state": state}) == {
        forms.GIVEN: "E2,E1",
        forms.THEN: "",
        forms.WHEN: "C1",
    }


def test_the_origin_form_adds_the_field_to_a_source_or_marks_it_generated() -> None:
    event = el("E1", "Order Placed", "placed at")
    sources = (el("C1", "Place Order"), el("C2", "Import Order"))
    view = forms.origin_form(ChooseOrigin(event, "placed at", sources), ORIGIN)
    radio = blocks_by_id(view)[forms.ORIGIN_CHOICE]["element"]
    assert radio["type"] == "radio_buttons"
    assert [o["value"] for o in radio["options"]] == ["add C1", "add C2", forms.GENERATED]
    assert radio["initial_option"] == radio["options"][0]
    origin = forms.Origin(5, "C1", "E1", "placed at")
    assert views.give_origin(origin, {forms.ORIGIN_CHOICE: "add C2"}) == commands.AddField(
        "C2", commands.FieldInput("placed at")
    )
    assert views.give_origin(origin, {forms.ORIGIN_CHOICE: forms.GENERATED}) == (
        commands.AddField("E1", commands.FieldInput("placed at", generated=True))
    )
    assert forms.ORIGIN_CHOICE in views.give_origin(origin, {})  # type: ignore[operator]


def test_the_aggregate_form_picks_one_or_names_a_new_one() -> None:
    command = el("C2", "Reserve Stock")
    draft = el("A2", "Stock")
    view = forms.aggregate_form(
        ChooseAggregate(command, draft), ([("A1", "Order"), ("A2", "Stock")], False), ORIGIN
    )
    pick = blocks_by_id(view)[forms.AGGREGATE_PICK]["element"]
    assert pick["initial_option"]["value"] == "A2"
    origin = forms.Origin(5, "C1", "C2")
    read = views.group_into
    assert read(origin, {forms.AGGREGATE_PICK: "A2"}) == commands.Group("A2", ("C2",))
    assert read(origin, {forms.AGGREGATE_NEW: " Stock  Keeping "}) == commands.Group(
        "Stock Keeping", ("C2",)
    )
    assert forms.AGGREGATE_NEW in read(origin, {})  # type: ignore[operator]
    both = read(origin, {forms.AGGREGATE_PICK: "A2", forms.AGGREGATE_NEW: "Stock"})
    assert isinstance(both, dict) and "not both" in both[forms.AGGREGATE_NEW]
    # With no aggregate yet, only the name is asked for, and it is required.
    alone = forms.aggregate_form(ChooseAggregate(command, None), ([], False), ORIGIN)
    assert list(blocks_by_id(alone)) == [forms.AGGREGATE_NEW]
    assert blocks_by_id(alone)[forms.AGGREGATE_NEW]["optional"] is False


def test_a_fix_form_remembers_its_field_and_report() -> None:
    origin = forms.Origin(5, "C9", "E1", "placed “at”", "1700000000.000100")
    assert forms.Origin.load(origin.dump()) == origin
    plain = forms.Origin(5, "C9", "E1")
    assert plain.dump() == '{"w": 5, "c": "C9", "e": "E1"}'  # as before: no new keys
    assert forms.Origin.load('["not", "an", "object"]') is None

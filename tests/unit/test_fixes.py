"""One-click fixes of completeness findings and the scenario form's draft, on models built
by hand (SPEC §4.4, §6)."""

from __future__ import annotations

from dataclasses import replace

from bot.core import controls
from bot.core.commands import AddField, FieldInput
from bot.core.completeness import Finding, check
from bot.core.fixes import (
    MAX_FIXES,
    Apply,
    ChooseAggregate,
    ChooseOrigin,
    FixTarget,
    WriteScenario,
    draft_scenario,
    find,
    fix_buttons,
    remedy,
)
from bot.core.model import ElementInfo, FieldSpec, Snapshot
from bot.core.reports import completeness_report
from tests.unit.test_completeness import el, model


def keys(elements: tuple[ElementInfo, ...]) -> list[str]:
    return [e.key for e in elements]


def shop() -> Snapshot:
    """Two aggregates on one timeline, whose order is not the IDs' order: E5 happens first.

    Timeline: E5 Cart Opened (A1), E1 Order Placed (A1), E2 Stock Reserved (A2),
    E3 Payment Taken (A1), E4 Order Shipped (A1). C1 Ship Order causes E4 and E3 (in that
    order of links); C2 has no aggregate; C3 causes nothing.
    """
    return model(
        el("E1", "Order Placed", position=2, aggregate="A1"),
        el("E2", "Stock Reserved", position=3, aggregate="A2"),
        el("E3", "Payment Taken", position=4, aggregate="A1"),
        el("E4", "Order Shipped", position=5, aggregate="A1"),
        el("E5", "Cart Opened", position=1, aggregate="A1"),
        el("C1", "Ship Order", causes=("E4", "E3"), aggregate="A1"),
        el("C2", "Reserve Stock", causes=("E2",)),
        el("C3", "Cancel Order"),
        el("A1", "Order", members=("E1", "E3", "E4", "E5", "C1")),
        el("A2", "Stock", members=("E2",)),
    )


# ---- the scenario form's draft -------------------------------------------------------


def test_given_is_what_came_before_in_the_aggregate_then_is_what_it_causes() -> None:
    draft = draft_scenario(shop(), "C1")
    assert draft.command is not None and draft.command.key == "C1"
    # Before E3 (its first caused event on the timeline), in A1: E5 then E1, not E2 (A2).
    assert keys(draft.given) == ["E5", "E1"]
    assert keys(draft.then) == ["E3", "E4"]  # timeline order, not the order of the links
    assert "Order" in draft.note and "E3 Payment Taken" in draft.note


def test_a_command_in_no_aggregate_drafts_then_only() -> None:
    draft = draft_scenario(shop(), "c2")  # IDs are case-insensitive
    assert keys(draft.given) == [] and keys(draft.then) == ["E2"]
    assert "no aggregate" in draft.note


def test_a_command_that_causes_nothing_drafts_nothing() -> None:
    draft = draft_scenario(shop(), "C3")
    assert draft.command is not None
    assert draft.given == () and draft.then == ()
    assert "causes no event" in draft.note


def test_no_command_or_a_gone_one_is_a_blank_form() -> None:
    assert draft_scenario(shop(), None).command is None
    assert draft_scenario(shop(), "C9").command is None
    assert draft_scenario(shop(), "E1").command is None  # not a command


def test_a_merged_command_id_drafts_its_survivor() -> None:
    snapshot = shop()
    merged = replace(snapshot.by_key()["C1"], aliases=("C7",))
    snapshot = model(*(merged if e.key == "C1" else e for e in snapshot.elements))
    draft = draft_scenario(snapshot, "C7")
    assert draft.command is not None and draft.command.key == "C1"
    assert keys(draft.then) == ["E3", "E4"]


# ---- remedies ------------------------------------------------------------------------


def finding(snapshot: Snapshot, code: str, element: str, field: str | None = None) -> Finding:
    found = find(check(snapshot).findings, FixTarget(1, code, element, field))
    assert found is not None, [f for f in check(snapshot).findings if f.element == element]
    return found


def test_a_lost_input_is_carried_on_the_first_event_the_command_causes() -> None:
    snapshot = model(
        el("C1", "Place Order", "order id", "Total Amount", causes=("E2", "E1")),
        el("E1", "Order Placed", "order id"),
        el("E2", "Order Logged"),
    )
    found = remedy(snapshot, finding(snapshot, "input-lost", "C1", "total amount"))
    assert found == Apply(AddField("E1", FieldInput("Total Amount")))
    lost = model(el("C1", "Place Order", "total"))  # causes nothing: command-no-event first
    assert remedy(lost, finding(lost, "input-lost", "C1", "total")) is None


def test_a_lost_input_is_carried_with_its_type() -> None:
    command = el("C1", "Place Order", causes=("E1",))
    command = replace(command, fields=(FieldSpec("lines", type="Decimal", is_list=True),))
    snapshot = model(command, el("E1", "Order Placed"))
    found = remedy(snapshot, finding(snapshot, "input-lost", "C1", "lines"))
    assert found == Apply(AddField("E1", FieldInput("lines", type="Decimal", is_list=True)))


def test_an_event_field_without_origin_chooses_a_command_or_generated() -> None:
    snapshot = model(
        el("C1", "Place Order", causes=("E1",)),
        el("C2", "Import Order", causes=("E1",)),
        el("E1", "Order Placed", "placed at"),
        el("E2", "Order Archived", "archived at"),  # nothing causes it
        el("E3", "Order Noted", "note <- E9.text", causes=()),
    )
    chosen = remedy(snapshot, finding(snapshot, "field-no-origin", "E1", "placed at"))
    assert isinstance(chosen, ChooseOrigin)
    assert (chosen.field, keys(chosen.sources)) == ("placed at", ["C1", "C2"])
    marked = remedy(snapshot, finding(snapshot, "field-no-origin", "E2", "archived at"))
    assert marked == Apply(AddField("E2", FieldInput("archived at", generated=True)))
    # A broken explicit origin needs a person: which origin was meant?
    assert remedy(snapshot, finding(snapshot, "field-no-origin", "E3", "note")) is None


def test_a_view_field_without_origin_chooses_a_source_event() -> None:
    snapshot = model(
        el("E1", "Order Placed"),
        el("V1", "Orders", "total", fed_by=("E1",)),
        el("V2", "Lonely", "total"),
    )
    chosen = remedy(snapshot, finding(snapshot, "field-no-origin", "V1", "total"))
    assert isinstance(chosen, ChooseOrigin) and keys(chosen.sources) == ["E1"]
    assert remedy(snapshot, finding(snapshot, "field-no-origin", "V2", "total")) is None


def test_grouping_proposes_the_aggregate_of_the_neighbours() -> None:
    snapshot = shop()
    c2 = remedy(snapshot, finding(snapshot, "not-aggregated", "C2"))
    assert isinstance(c2, ChooseAggregate)
    assert c2.draft is not None and c2.draft.key == "A2"  # where E2, which it causes, is
    c3 = remedy(snapshot, finding(snapshot, "not-aggregated", "C3"))
    assert isinstance(c3, ChooseAggregate) and c3.draft is None


def test_a_command_without_scenario_opens_the_scenario_form() -> None:
    snapshot = shop()
    found = remedy(snapshot, finding(snapshot, "command-no-scenario", "C1"))
    assert isinstance(found, WriteScenario) and found.command.key == "C1"


def test_findings_without_a_mechanical_fix_have_none() -> None:
    snapshot = shop()
    for code in ("command-no-event", "element-no-fields", "event-no-cause"):
        found = next(f for f in check(snapshot).findings if f.code == code)
        assert remedy(snapshot, found) is None, code


# ---- buttons -------------------------------------------------------------------------


def test_each_fixable_finding_has_a_button_that_names_it() -> None:
    snapshot = model(
        el("C1", "Place Order", "total", causes=("E1",)),
        el("E1", "Order Placed", "placed at"),
    )
    findings = check(snapshot).findings
    buttons, fixable = fix_buttons(snapshot, findings, workshop_id=7)
    labels = [b.label for b in buttons]
    assert labels == [  # the report's order: errors first, then by element
        "E1: origin of “placed at”…",
        "C1: carry “total” on E1",
        "E1: put in an aggregate…",
        "C1: write a scenario…",
        "C1: put in an aggregate…",
    ]
    assert fixable == len(buttons)
    assert {b.action for b in buttons} == {controls.FIX}
    targets = [FixTarget.parse(b.value) for b in buttons]
    assert targets[1] == FixTarget(7, "input-lost", "C1", "total")
    assert all(t is not None and find(findings, t) is not None for t in targets)


def test_a_long_report_carries_the_first_buttons_and_counts_the_rest() -> None:
    commands = [el(f"C{n}", f"Command {n}", causes=("E1",)) for n in range(1, 61)]
    snapshot = model(el("E1", "Happened", aggregate="A1"), el("A1", "All"), *commands)
    buttons, fixable = fix_buttons(snapshot, check(snapshot).findings, workshop_id=1)
    assert len(buttons) == MAX_FIXES and fixable == 120  # no aggregate, no scenario, each


def test_a_fixed_finding_is_no_longer_found() -> None:
    snapshot = model(
        el("C1", "Place Order", "total", causes=("E1",)),
        el("E1", "Order Placed"),
    )
    target = FixTarget(1, "input-lost", "C1", "TOTAL")  # fields match when normalised
    assert find(check(snapshot).findings, target) is not None
    fixed = model(
        el("C1", "Place Order", "total", causes=("E1",)),
        el("E1", "Order Placed", "total"),
    )
    assert find(check(fixed).findings, target) is None


def test_a_button_value_is_read_back_or_refused() -> None:
    target = FixTarget(3, "field-no-origin", "E1", "naïve “name”, with , commas")
    assert FixTarget.parse(target.value()) == target
    assert FixTarget.parse(FixTarget(3, "not-aggregated", "C1", None).value()) is not None
    for garbage in ("", "3:C1", "[1,2]", '["1","a","b",null]', '[1,"a","b",5]', "{}"):
        assert FixTarget.parse(garbage) is None, garbage


def test_the_report_carries_the_buttons_while_the_workshop_is_open() -> None:
    snapshot = model(el("C1", "Place Order", "total", causes=("E1",)), el("E1", "Order Placed"))
    report = completeness_report(snapshot, workshop_id=4)
    assert report.controls and "*Fix in one click (4)*" in report.sections[-1]
    assert completeness_report(snapshot).controls == ()  # made for no workshop
    ended = replace(snapshot, finished_at=snapshot.started_at)
    assert completeness_report(ended, workshop_id=4).controls == ()
    early = replace(snapshot, current_step=3)  # fields are not listed before step 5
    labels = [b.label for b in completeness_report(early, workshop_id=4).controls]
    assert labels == [
        "E1: put in an aggregate…",
        "C1: write a scenario…",
        "C1: put in an aggregate…",
    ]

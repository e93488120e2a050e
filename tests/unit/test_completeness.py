"""The completeness check of SPEC §6 and `/storm trace`, on models built by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.completeness import CLEAN, Finding, Report, check, trace
from bot.core.model import (
    KINDS_BY_LETTER,
    ElementInfo,
    FieldSpec,
    Scenario,
    Snapshot,
    StepState,
)
from bot.core.steps import STEPS

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def el(key: str, name: str, *fields: str, **relations: object) -> ElementInfo:
    """An element of the kind its key says, with fields written as people type them."""
    return ElementInfo(
        key=key,
        kind=KINDS_BY_LETTER[key[0]],
        name=name,
        author="U1",
        votes=0,
        step_number=1,
        fields=tuple(spec(text) for text in fields),
        **relations,  # type: ignore[arg-type]
    )


def spec(text: str) -> FieldSpec:
    """`total`, `placed at*` (generated) or `total <- E1.amount` (explicit origin)."""
    name, arrow, origin = text.partition(" <- ")
    if arrow:
        return FieldSpec(name, origin=origin)
    return FieldSpec(name.rstrip("*"), generated=name.endswith("*"))


def model(*elements: ElementInfo) -> Snapshot:
    steps = tuple(StepState(s.number, timedelta(hours=24), None, None, None) for s in STEPS)
    return Snapshot(
        team_id="T1",
        title="Checkout",
        channel_id="C1",
        facilitators=("U1",),
        current_step=8,
        steps=steps,
        auto_advance=False,
        started_at=T0,
        finished_at=None,
        elements=elements,
    )


def complete() -> dict[str, ElementInfo]:
    """The smallest model with nothing to report: a command, its event, a view, an
    aggregate and a scenario, with field names written three ways."""
    return {
        "C1": el("C1", "Place Order", "order id", "total", causes=("E1",), aggregate="A1"),
        "E1": el("E1", "Order Placed", "orderId", "total", "placed at*", aggregate="A1"),
        "V1": el("V1", "Order Summary", "order_id", "Total", "Placed At", fed_by=("E1",)),
        "A1": el("A1", "Orders", members=("C1", "E1")),
        "S1": el("S1", "Place an order", scenario=Scenario(when="C1", then=("E1",))),
    }


def run(parts: dict[str, ElementInfo], **changes: ElementInfo | None) -> Report:
    """Check `parts` with some elements replaced, added, or (None) dropped."""
    merged = {**parts, **changes}
    return check(model(*(e for e in merged.values() if e is not None)))


def codes(report: Report) -> set[str]:
    return {f.code for f in report.findings}


def only(report: Report, code: str) -> Finding:
    found = [f for f in report.findings if f.code == code]
    assert len(found) == 1, report.findings
    return found[0]


def test_a_complete_model_passes_with_full_score() -> None:
    report = check(model(*complete().values()))
    assert report.findings == ()
    assert report.checks == 21
    assert report.passed_checks == 21
    assert report.score == 1.0
    assert report.passed
    assert report.next_step == CLEAN


def test_an_empty_model_scores_one() -> None:
    report = check(model())
    assert (report.checks, report.score, report.passed) == (0, 1.0, True)
    assert report.next_step.startswith("Nothing to check yet: add events")


# field-no-origin


def test_an_event_field_no_causing_command_carries_has_no_origin() -> None:
    m = complete()
    report = run(m, C1=replace(m["C1"], fields=(FieldSpec("order id"),)))
    finding = only(report, "field-no-origin")
    assert (finding.severity, finding.element, finding.field) == ("error", "E1", "total")
    assert "E1 Order Placed" in finding.message and "“total”" in finding.message


def test_one_causing_command_carrying_the_field_is_enough() -> None:
    m = complete()
    other = el("C2", "Reorder", "total", causes=("E1",), aggregate="A1")
    scenario = el("S2", "Reorder", scenario=Scenario(when="C2", then=("E1",)))
    report = run(m, C1=replace(m["C1"], fields=(FieldSpec("order id"),)), C2=other, S2=scenario)
    assert report.findings == ()


def test_a_view_field_no_feeding_event_carries_has_no_origin() -> None:
    m = complete()
    report = run(m, V1=el("V1", "Order Summary", "order id", "total", "discount", fed_by=("E1",)))
    finding = only(report, "field-no-origin")
    assert (finding.severity, finding.element, finding.field) == ("error", "V1", "discount")


@pytest.mark.parametrize("discount", ["discount*", "discount <- E1.total", "discount <- C1.total"])
def test_generated_and_explicit_origins_are_origins_wherever_they_stand(discount: str) -> None:
    m = complete()
    view = el("V1", "Order Summary", "order id", "total", "placed at", discount, fed_by=("E1",))
    assert run(m, V1=view).findings == ()


@pytest.mark.parametrize(
    ("origin", "why"),
    [
        ("E9.total", "names no element any more"),
        ("E1.discount", "E1 Order Placed has no field “discount”"),
        ("V1.discount", "is the field itself"),
    ],
)
def test_an_explicit_origin_to_a_missing_element_or_field_is_no_origin(
    origin: str, why: str
) -> None:
    m = complete()
    view = el("V1", "Order Summary", "order id", "total", f"discount <- {origin}", fed_by=("E1",))
    finding = only(run(m, V1=view), "field-no-origin")
    assert (finding.element, finding.field) == ("V1", "discount")
    assert why in finding.message


def test_a_broken_explicit_origin_is_no_origin_even_when_a_command_carries_the_field() -> None:
    m = complete()
    order_id, _, placed_at = m["E1"].fields
    event = replace(m["E1"], fields=(order_id, FieldSpec("total", origin="X9.total"), placed_at))
    report = run(m, E1=event)
    finding = only(report, "field-no-origin")
    assert (finding.element, finding.field) == ("E1", "total")
    assert report.next_step.endswith("`/storm fields E1: orderId, total, placed at*`.")


def test_fields_of_an_event_an_external_system_causes_have_that_system_as_origin() -> None:
    m = complete()
    gateway = el("X1", "Payment Gateway", causes=("E2",))
    paid = el("E2", "Payment Received", "amount", "reference", aggregate="A1")
    view = el("V2", "Payments", "amount", "reference", fed_by=("E2",))
    report = run(m, X1=gateway, E2=paid, V2=view)
    assert report.findings == ()
    assert trace(model(gateway, paid, view), "E2", "amount").origins == (
        "external system X1 Payment Gateway",
    )


def test_command_fields_are_not_checked_for_origin() -> None:
    m = complete()
    command = replace(m["C1"], fields=(FieldSpec("order id"), FieldSpec("total", origin="E9.x")))
    assert run(m, C1=command).findings == ()


def test_field_names_match_after_normalisation() -> None:
    m = complete()
    command = el("C1", "Place Order", "ORDER-ID", "total", causes=("E1",), aggregate="A1")
    assert run(m, C1=command).findings == ()
    renamed = replace(m["V1"], fields=(FieldSpec("order number"), *m["V1"].fields[1:]))
    assert only(run(m, V1=renamed), "field-no-origin").field == "order number"


# field-no-destination


def test_an_event_field_no_view_carries_and_no_policy_reads_goes_nowhere() -> None:
    m = complete()
    report = run(m, V1=el("V1", "Order Summary", "order id", "placed at", fed_by=("E1",)))
    finding = only(report, "field-no-destination")
    assert (finding.severity, finding.element, finding.field) == ("warning", "E1", "total")


def test_a_view_of_another_event_is_no_destination() -> None:
    m = complete()
    other = el("E2", "Order Cancelled", "order id", aggregate="A1")
    view = el("V1", "Order Summary", "order id", "total", "placed at", fed_by=("E2",))
    report = run(m, V1=view, E2=other)
    assert {(f.code, f.element, f.field) for f in report.findings} >= {
        ("field-no-destination", "E1", "orderId"),
        ("field-no-destination", "E1", "total"),
        ("field-no-destination", "E1", "placed at"),
    }


def test_generated_event_fields_need_a_destination_too() -> None:
    m = complete()
    report = run(m, V1=el("V1", "Order Summary", "order id", "total", fed_by=("E1",)))
    finding = only(report, "field-no-destination")
    assert (finding.element, finding.field) == ("E1", "placed at")


def test_a_policy_reads_exactly_the_event_fields_its_command_carries() -> None:
    m = complete()
    policy = el("P1", "Bill when placed", on="E1", issues=("C2",))
    bill = el("C2", "Bill Order", "total", causes=("E2",), aggregate="A1")
    billed = el("E2", "Order Billed", "total", aggregate="A1")
    billing = el("V2", "Bills", "total", fed_by=("E2",))
    scenario = el("S2", "Bill", scenario=Scenario(given=("E1",), when="C2", then=("E2",)))
    narrow = el("V1", "Order Summary", "order id", "placed at", fed_by=("E1",))
    parts = dict(P1=policy, C2=bill, E2=billed, V2=billing, S2=scenario, V1=narrow)
    assert run(m, **parts).findings == ()
    without_total = el("C2", "Bill Order", "order id", causes=("E2",), aggregate="A1")
    report = run(m, **{**parts, "C2": without_total})
    assert ("field-no-destination", "E1", "total") in {
        (f.code, f.element, f.field) for f in report.findings
    }


# input-lost


def test_a_command_field_no_caused_event_carries_is_lost() -> None:
    m = complete()
    command = el("C1", "Place Order", "order id", "total", "card number", causes=("E1",))
    finding = only(run(m, C1=replace(command, aggregate="A1")), "input-lost")
    assert (finding.severity, finding.element, finding.field) == ("error", "C1", "card number")
    assert finding.message.startswith("C1 Place Order: field “card number” is lost")


def test_a_command_field_carried_by_any_caused_event_is_not_lost() -> None:
    m = complete()
    command = el("C1", "Place Order", "order id", "total", "card", causes=("E1", "E2"))
    charged = el("E2", "Card Charged", "card", aggregate="A1")
    view = el("V2", "Charges", "card", fed_by=("E2",))
    scenario = el("S1", "Place", scenario=Scenario(when="C1", then=("E1", "E2")))
    report = run(m, C1=replace(command, aggregate="A1"), E2=charged, V2=view, S1=scenario)
    assert report.findings == ()


# command-no-event, event-no-cause, view-no-source


def test_a_command_causing_no_live_event_is_an_error() -> None:
    m = complete()
    report = run(m, C1=replace(m["C1"], causes=("E9",)))
    finding = only(report, "command-no-event")
    assert (finding.severity, finding.element, finding.field) == ("error", "C1", None)
    assert only(report, "event-no-cause").element == "E1"


def test_a_command_linked_through_an_alias_causes_its_event() -> None:
    m = complete()
    report = run(m, C1=replace(m["C1"], causes=("e7",)), E1=replace(m["E1"], aliases=("E7",)))
    assert report.findings == ()


def test_an_event_nothing_causes_is_a_warning() -> None:
    m = complete()
    lonely = el("E2", "Order Archived", "order id", aggregate="A1")
    view = el("V2", "Archive", "order id", fed_by=("E2",))
    report = run(m, E2=lonely, V2=view)
    finding = only(report, "event-no-cause")
    assert (finding.severity, finding.element, finding.field) == ("warning", "E2", None)
    assert only(report, "field-no-origin").element == "E2"


def test_a_policy_alone_does_not_cause_an_event_an_external_system_does() -> None:
    m = complete()
    lonely = el("E2", "Order Archived", "order id", aggregate="A1")
    view = el("V2", "Archive", "order id", fed_by=("E2",))
    policy = el("P1", "Archive when placed", on="E1", issues=("C1",))
    assert "event-no-cause" in codes(run(m, E2=lonely, V2=view, P1=policy))
    archiver = el("X1", "Archiver", causes=("E2",))
    assert run(m, E2=lonely, V2=view, X1=archiver).findings == ()


def test_a_view_no_event_feeds_is_an_error() -> None:
    m = complete()
    report = run(m, V1=replace(m["V1"], fed_by=()))
    finding = only(report, "view-no-source")
    assert (finding.severity, finding.element, finding.field) == ("error", "V1", None)


def test_a_view_fed_through_an_alias_has_a_source() -> None:
    m = complete()
    report = run(m, V1=replace(m["V1"], fed_by=("E4",)), E1=replace(m["E1"], aliases=("E4",)))
    assert report.findings == ()


# element-no-fields, not-aggregated


@pytest.mark.parametrize("key", ["C1", "E1", "V1"])
def test_a_command_event_or_view_without_fields_is_a_warning(key: str) -> None:
    m = complete()
    finding = only(run(m, **{key: replace(m[key], fields=())}), "element-no-fields")
    assert (finding.severity, finding.element, finding.field) == ("warning", key, None)


def test_other_kinds_need_no_fields() -> None:
    m = complete()
    hotspot = el("H1", "Who pays shipping?", resolved=True)
    actor = el("R1", "Customer", issues=("C1",))
    assert run(m, H1=hotspot, R1=actor).findings == ()


def test_a_command_in_no_aggregate_is_a_warning() -> None:
    m = complete()
    report = run(m, C1=replace(m["C1"], aggregate=None), A1=replace(m["A1"], members=("E1",)))
    finding = only(report, "not-aggregated")
    assert (finding.severity, finding.element, finding.field) == ("warning", "C1", None)


def test_either_side_of_the_aggregate_link_is_enough() -> None:
    m = complete()
    assert run(m, A1=replace(m["A1"], members=())).findings == ()
    unlinked = {k: replace(m[k], aggregate=None) for k in ("C1", "E1")}
    assert run(m, **unlinked).findings == ()


def test_a_dropped_aggregate_groups_nothing() -> None:
    report = run(complete(), A1=None)
    assert {(f.code, f.element) for f in report.findings} == {
        ("not-aggregated", "C1"),
        ("not-aggregated", "E1"),
    }


# command-no-scenario, scenario-mismatch


def test_a_command_no_scenario_exercises_is_a_warning() -> None:
    finding = only(run(complete(), S1=None), "command-no-scenario")
    assert (finding.severity, finding.element, finding.field) == ("warning", "C1", None)


def test_a_scenario_through_an_alias_exercises_the_command() -> None:
    m = complete()
    scenario = el("S1", "Place", scenario=Scenario(when="C5", error="out of stock"))
    report = run(m, S1=scenario, C1=replace(m["C1"], aliases=("C5",)))
    assert report.findings == ()


@pytest.mark.parametrize(
    ("scenario", "why"),
    [
        (Scenario(when="C1", then=("E2",)), "then E2 Order Cancelled is not caused by C1"),
        (
            Scenario(given=("C1",), when="C1", then=("E1",)),
            "given C1 Place Order is a command, not an event",
        ),
        (Scenario(given=("E9",), when="C1", then=("E1",)), "given E9 no longer exists"),
        (Scenario(when="C9", then=("E1",)), "when C9 no longer exists"),
        (Scenario(when="E1", then=("E1",)), "when E1 Order Placed is an event, not a command"),
        (Scenario(given=("V1",), view="V1"), "given V1 Order Summary is a view"),
        (Scenario(given=("E1",), view="V9"), "V9 is not a view"),
        (Scenario(given=("E1",)), "neither a command nor a view"),
    ],
)
def test_a_scenario_that_does_not_hold_is_a_mismatch_on_the_scenario(
    scenario: Scenario, why: str
) -> None:
    m = complete()
    cancelled = el("E2", "Order Cancelled", "order id", aggregate="A1")
    cancel = el("C2", "Cancel Order", "order id", causes=("E2",), aggregate="A1")
    extra = el("S2", "Cancel", scenario=Scenario(given=("E1",), when="C2", then=("E2",)))
    view = replace(m["V1"], fed_by=("E1", "E2"))
    report = run(
        m, E2=cancelled, C2=cancel, S2=extra, V1=view, S3=el("S3", "Odd", scenario=scenario)
    )
    finding = only(report, "scenario-mismatch")
    assert (finding.severity, finding.element, finding.field) == ("error", "S3", None)
    assert why in finding.message


def test_scenarios_that_hold_are_no_mismatch() -> None:
    m = complete()
    again = el("S2", "Again", scenario=Scenario(given=("E1",), when="C1", then=("E1",)))
    shown = el("S3", "Shown", scenario=Scenario(given=("E1",), view="V1"))
    assert run(m, S2=again, S3=shown).findings == ()


# hotspot-open


def test_an_open_hotspot_is_info_on_the_hotspot_itself() -> None:
    report = run(complete(), H1=el("H1", "Who pays shipping?", on="E1"))
    finding = only(report, "hotspot-open")
    assert (finding.severity, finding.element, finding.field) == ("info", "H1", None)
    assert "(on E1 Order Placed)" in finding.message
    assert report.passed
    assert "/storm resolve H1" in report.next_step


def test_a_resolved_hotspot_is_no_finding() -> None:
    assert run(complete(), H1=el("H1", "Who pays?", on="E1", resolved=True)).findings == ()


# dropped elements


def test_dropped_elements_neither_raise_nor_satisfy() -> None:
    m = complete()
    # C2 was dropped: it no longer carries `total` into E1, and its own gaps are not reported.
    command = replace(m["C1"], fields=(FieldSpec("order id"),), causes=("E1", "E9"))
    view = replace(m["V1"], fed_by=("E1", "E8"))
    report = run(m, C1=command, V1=view, A1=replace(m["A1"], members=("C1", "E1", "C2")))
    assert [(f.code, f.element, f.field) for f in report.findings] == [
        ("field-no-origin", "E1", "total")
    ]


# score, passed, order, next step


def test_score_is_the_share_of_checks_that_pass() -> None:
    m = complete()
    report = run(m, S1=None, H1=el("H1", "Who pays?"))
    assert (report.checks, report.passed_checks) == (21, 19)
    assert report.score == pytest.approx(19 / 21)


def test_passed_is_false_exactly_when_an_error_remains() -> None:
    m = complete()
    assert run(m, S1=None).passed
    assert not run(m, V1=replace(m["V1"], fed_by=())).passed


def test_findings_come_by_severity_then_id_order_then_field() -> None:
    m = complete()
    report = run(
        m,
        H1=el("H1", "Who pays?"),
        C1=replace(m["C1"], aggregate=None, causes=("E1", "E2")),
        A1=replace(m["A1"], members=("E1",)),
        E1=replace(m["E1"], fields=(*m["E1"].fields, FieldSpec("b"), FieldSpec("a"))),
        E2=el("E2", "Order Split", "order id", aggregate="A1"),
        V10=el("V10", "Empty", fed_by=("E2",)),
        V2=el("V2", "Splits", fed_by=("E9",)),
        S1=el("S1", "Place", scenario=Scenario(when="C1", then=("E1",))),
    )
    assert [(f.severity, f.code, f.element, f.field) for f in report.findings] == [
        ("error", "field-no-origin", "E1", "a"),
        ("error", "field-no-origin", "E1", "b"),
        ("error", "view-no-source", "V2", None),
        ("warning", "field-no-destination", "E1", "a"),
        ("warning", "field-no-destination", "E1", "b"),
        ("warning", "field-no-destination", "E2", "order id"),
        ("warning", "not-aggregated", "C1", None),
        ("warning", "element-no-fields", "V2", None),
        ("warning", "element-no-fields", "V10", None),
        ("info", "hotspot-open", "H1", None),
    ]


def test_next_step_names_the_most_important_fix_with_a_storm_line() -> None:
    m = complete()
    report = run(m, V1=replace(m["V1"], fed_by=()), S1=None)
    assert report.next_step.startswith("Next: say which events feed V1 Order Summary")
    assert "`/storm view Order Summary <- <event>`" in report.next_step
    lost = run(m, C1=el("C1", "Place Order", "order id", "total", "card", causes=("E1",)))
    assert "`/storm fields E1: orderId, total, placed at*, card`" in lost.next_step


# trace


def traced() -> Snapshot:
    m = complete()
    return model(
        *m.values(),
        el("R1", "Customer", issues=("C1",)),
        el("P1", "Bill when placed", on="E1", issues=("C2",)),
        el("C2", "Bill Order", "total", causes=("E2",)),
        el("E2", "Order Billed", "amount <- C2.total"),
        el("V2", "Bills", "TOTAL", fed_by=("E2",)),
    )


def test_trace_of_a_command_field_follows_it_to_events_views_and_policies() -> None:
    result = trace(traced(), "c1", "Total")
    assert (result.element, result.field) == ("C1", "total")
    assert result.origins == ("R1 Customer (actor) issues it",)
    assert result.destinations == (
        "E1 Order Placed (event)",
        "V1 Order Summary (view)",
        "policy P1 Bill when placed → C2 Bill Order",
    )


def test_trace_of_an_event_field_shows_causing_commands_views_and_policies() -> None:
    result = trace(traced(), "E1", "total")
    assert result.origins == ("C1 Place Order (command) carries it",)
    assert result.destinations == (
        "V1 Order Summary (view)",
        "policy P1 Bill when placed → C2 Bill Order",
    )
    generated = trace(traced(), "E1", "placed_at")
    assert generated.origins == ("generated by the system",)
    assert trace(traced(), "E2", "amount").origins == ("explicit origin C2.total",)


def test_trace_of_a_view_field_shows_the_events_feeding_it() -> None:
    result = trace(traced(), "V1", "orderId")
    assert (result.field, result.origins) == ("order_id", ("E1 Order Placed (event) carries it",))
    assert result.destinations == ()
    assert trace(traced(), "V2", "total").origins == ()


def test_trace_of_an_unknown_field_or_element_is_a_clear_key_error() -> None:
    with pytest.raises(KeyError, match="E1 Order Placed has no field “discount”"):
        trace(traced(), "E1", "discount")
    with pytest.raises(KeyError, match="no element E9"):
        trace(traced(), "E9", "total")


# A policy triggered by a view (SPEC §3's to-do list; §6)


def to_do_list() -> dict[str, ElementInfo]:
    """The complete model with a to-do list: orders to ship (V2, fed by E1), read by a policy
    whose command carries the order id and the address, but not the total."""
    m = complete()
    return {
        **m,
        "C1": replace(m["C1"], fields=(*m["C1"].fields, spec("address"))),
        "E1": replace(m["E1"], fields=(*m["E1"].fields, spec("address"))),
        "V2": el("V2", "Orders to Ship", "order id", "total", "address", fed_by=("E1",)),
        "P1": el("P1", "Ship each order", on="V2", issues=("C2",)),
        "C2": el("C2", "Ship Order", "order id", "address", causes=("E2",), aggregate="A1"),
        "E2": el("E2", "Order Shipped", "order id", "address", aggregate="A1"),
        "V3": el("V3", "Shipments", "order id", "address", fed_by=("E2",)),
        "S2": el("S2", "Ship", scenario=Scenario(given=("E1",), when="C2", then=("E2",))),
    }


READS = "policy P1 Ship each order → C2 Ship Order (for each item of V2 Orders to Ship)"


def test_a_policy_triggered_by_a_view_reads_the_view_fields_its_command_carries() -> None:
    snapshot = model(*to_do_list().values())
    assert check(snapshot).findings == ()
    assert trace(snapshot, "V2", "order_id").destinations == (READS,)
    assert trace(snapshot, "V2", "Address").destinations == (READS,)
    # The command does not carry the total: the policy does not read it.
    assert trace(snapshot, "V2", "total").destinations == ()
    # The event's field reaches the policy through the view that shows it.
    assert READS in trace(snapshot, "E1", "address").destinations


def test_a_view_triggered_policy_reads_nothing_of_the_events_feeding_the_view() -> None:
    """The policy reads the view, not its events: an event field that no view carries goes
    nowhere, even when the command of a policy on a view it feeds carries it."""
    m = to_do_list()
    narrow = el("V2", "Orders to Ship", "order id", fed_by=("E1",))
    finding = only(run(m, V2=narrow), "field-no-destination")
    assert (finding.element, finding.field) == ("E1", "address")
    assert trace(model(*{**m, "V2": narrow}.values()), "V2", "order id").destinations == (READS,)


def test_fields_of_policies_and_screens_are_traced_and_raise_no_finding() -> None:
    m = to_do_list()
    policy = replace(m["P1"], fields=(spec("order id"), spec("note")))
    screen = el("U1", "Checkout", "order id", "coupon", issues=("C1",), shows=("V1",))
    parts = {**m, "P1": policy, "U1": screen}
    assert run(parts).findings == ()
    snapshot = model(*parts.values())
    read = trace(snapshot, "P1", "order id")
    assert read.origins == ("V2 Orders to Ship (view) triggers it and carries it",)
    assert read.destinations == ("C2 Ship Order (command)",)
    assert trace(snapshot, "P1", "note").destinations == ()
    shown = trace(snapshot, "U1", "orderId")
    assert shown.origins == ("V1 Order Summary (view) shows it",)
    assert shown.destinations == ("C1 Place Order (command)",)
    typed = trace(snapshot, "U1", "coupon")
    assert typed.origins == ("an input: the person using the screen gives it",)
    assert typed.destinations == ()
    assert "U1 Checkout (screen) issues it" in trace(snapshot, "C1", "total").origins
    # A dropped to-do list triggers nothing: the policy's fields come from nowhere.
    gone = model(*(e for k, e in parts.items() if k != "V2"))
    assert trace(gone, "P1", "order id").origins == ()

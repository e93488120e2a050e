"""Reading model files into a plan (`bot.core.imports`): what each format gives, and the first
problem of a bad file, named where it is."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from bot.core.imports import ImportProblem, Plan, read_model
from bot.core.imports.plan import PlanElement


def read(document: Any, filename: str = "model.json") -> Plan:
    return read_model(orjson.dumps(document), filename)


def problem(document: Any) -> str:
    with pytest.raises(ImportProblem) as refused:
        read(document)
    return str(refused.value)


def by_name(plan: Plan) -> dict[str, PlanElement]:
    return {element.name: element for element in plan.elements}


def em_element(
    element_id: str, title: str, kind: str, *dependencies: tuple[str, str, str], **more: Any
) -> dict[str, Any]:
    return {
        "id": element_id,
        "title": title,
        "type": kind,
        "fields": more.pop("fields", []),
        "dependencies": [
            {"id": d, "type": direction, "title": "", "elementType": t}
            for d, direction, t in dependencies
        ],
        **more,
    }


def em_slice(slice_id: str, **lists: Any) -> dict[str, Any]:
    return {
        "id": slice_id,
        "title": f"slice: {slice_id}",
        "sliceType": lists.pop("sliceType", "STATE_CHANGE"),
        **{
            name: lists.get(name, [])
            for name in (
                "commands",
                "events",
                "readmodels",
                "screens",
                "processors",
                "tables",
                "specifications",
            )
        },
        **{key: value for key, value in lists.items() if key not in ("commands", "events")},
    }


PLACE = em_element("c1", "Place Order", "COMMAND", ("e1", "OUTBOUND", "EVENT"))
PLACED = em_element("e1", "Order Placed", "EVENT", ("c1", "INBOUND", "COMMAND"))


# ---- Event Modeling ---------------------------------------------------------------------------


def test_an_event_model_reads_links_from_either_side_and_ignores_extra_keys() -> None:
    todo = em_element(
        "v1", "Orders To Ship", "READMODEL", ("e1", "INBOUND", "EVENT"), elementContext="INTERNAL"
    )
    processor = em_element(
        "p1",
        "Shipper",
        "AUTOMATION",
        ("v1", "INBOUND", "READMODEL"),
        ("c2", "OUTBOUND", "COMMAND"),
        fields=[{"name": "orderId", "type": "UUID", "mapping": "orderId"}],
    )
    ship = em_element("c2", "Ship Order", "COMMAND")
    screen = em_element("u1", "Checkout", "SCREEN", ("c1", "OUTBOUND", "COMMAND"))
    plan = read(
        {
            "slices": [
                em_slice("s1", commands=[PLACE], events=[PLACED], screens=[screen]),
                em_slice("s2", sliceType="STATE_VIEW", readmodels=[todo], screenLayouts=[]),
                em_slice("s3", commands=[ship], processors=[processor]),
            ],
            "flows": [],
            "codeGen": {"application": "x"},
            "context": "Shop",
        }
    )
    assert plan.title == "Shop" and plan.source == "Event Modeling"
    named = by_name(plan)
    assert named["Place Order"].causes == ("e1",)
    assert named["Orders To Ship"].fed_by == ("e1",)
    assert named["Checkout"].issues == ("c1",)
    assert named["Shipper"].on == ("v1",) and named["Shipper"].issues == ("c2",)
    # The processor's mapping names a field of none of its sources: kept as written.
    assert named["Shipper"].fields[0].mapping == "orderId"
    assert [e.kind for e in plan.elements][:1] == ["event"]  # events first: the timeline


def test_a_mapping_naming_a_source_field_becomes_an_origin() -> None:
    placed = {**PLACED, "fields": [{"name": "total", "type": "Decimal"}]}
    view = em_element(
        "v1",
        "Revenue",
        "READMODEL",
        ("e1", "INBOUND", "EVENT"),
        fields=[{"name": "sum", "type": "Decimal", "mapping": "total", "cardinality": "List"}],
    )
    plan = read({"slices": [em_slice("s1", commands=[PLACE], events=[placed], readmodels=[view])]})
    (field,) = by_name(plan)["Revenue"].fields
    assert (field.origin, field.mapping, field.type, field.is_list) == (
        ("e1", "total"),
        None,
        "Decimal",
        True,
    )


def test_a_specification_reads_given_when_then_repeated_givens_and_error_cases() -> None:
    spec = {
        "id": "sp1",
        "title": "spec: twice",
        "given": [
            {"id": "g0", "title": "Order Placed", "type": "SPEC_EVENT", "linkedId": "e1"},
            {"id": "g1", "title": "Order Placed", "type": "SPEC_EVENT", "linkedId": "e1"},
        ],
        "when": [{"id": "w0", "title": "Place Order", "type": "SPEC_COMMAND"}],
        "then": [
            {
                "id": "t0",
                "title": "Error-Case",
                "type": "SPEC_ERROR",
                "examples": [{"message": "already placed"}],
            }
        ],
        "comments": [{"description": "already placed"}],
        "linkedId": "s1",
    }
    plan = read(
        {"slices": [em_slice("s1", commands=[PLACE], events=[PLACED], specifications=[spec])]}
    )
    scenario = by_name(plan)["spec: twice"].scenario
    assert scenario is not None
    assert (scenario.given, scenario.when, scenario.then, scenario.error) == (
        ("e1", "e1"),
        "c1",  # found by its title: the step had no linkedId
        (),
        "already placed",
    )
    assert scenario.comments == ()  # the message is the error, not a comment of its own
    assert [(s.part, s.index, s.step_id) for s in scenario.data] == [
        ("given", 0, "g0"),
        ("given", 1, "g1"),
        ("when", 0, "w0"),
        ("then", 0, "t0"),
    ]


def test_an_external_event_and_a_status_the_schema_lacks_are_kept() -> None:
    external = em_element("e9", "Rate Changed", "EVENT", context="EXTERNAL")
    view = em_element("v1", "Rates", "READMODEL", tags=["status:Informational"])
    plan = read(
        {
            "slices": [
                em_slice("s1", events=[external]),
                em_slice("s2", sliceType="STATE_VIEW", readmodels=[view], status="Created"),
            ]
        }
    )
    named = by_name(plan)
    assert named["Rate Changed"].external_context
    assert named["Rates"].slice is not None and named["Rates"].slice.status == "Informational"


BAD_EVENT_MODELS: list[tuple[Any, str]] = [
    ({"slices": {}}, "slices: expected a list, found an object"),
    ({"slices": [7]}, "slices[0]: expected an object, found the number 7"),
    (
        {"slices": [em_slice("s1", commands=[{**PLACE, "type": "TABLE"}])]},
        "slices[0].commands[0].type: “TABLE” is not an element type",
    ),
    (
        {"slices": [em_slice("s1", commands=[PLACE], events=[{**PLACED, "id": "c1"}])]},
        "slices[0].events[0].id: the id c1 is used twice, for two different elements (also by "
        "slices[0].commands[0])",
    ),
    (
        {"slices": [em_slice("s1", commands=[PLACE], events=[PLACED]), em_slice("s1")]},
        "slices[1].id: the slice id s1 is used twice (also by slices[0])",
    ),
    (
        {"slices": [em_slice("s1", commands=[{**PLACE, "title": "   "}], events=[PLACED])]},
        "slices[0].commands[0].title: a name cannot be empty",
    ),
    (
        {
            "slices": [
                em_slice(
                    "s1",
                    commands=[
                        {
                            **PLACE,
                            "fields": [
                                {"name": "id", "type": "UUID"},
                                {"name": "ID", "type": "UUID"},
                            ],
                        }
                    ],
                    events=[PLACED],
                )
            ]
        },
        "slices[0].commands[0].fields[1]: the field “ID” is listed twice (as "
        "slices[0].commands[0].fields[0])",
    ),
    (
        {
            "slices": [
                em_slice(
                    "s1",
                    commands=[{**PLACE, "fields": [{"name": "id", "type": "Money"}]}],
                    events=[PLACED],
                )
            ]
        },
        "slices[0].commands[0].fields[0].type: “Money” is not a field type",
    ),
    (
        {
            "slices": [
                em_slice(
                    "s1",
                    commands=[PLACE],
                    events=[PLACED],
                    specifications=[
                        {
                            "id": "x",
                            "title": "t",
                            "given": [
                                {"id": "g", "title": "g", "type": "SPEC_EVENT", "linkedId": "nope"}
                            ],
                            "when": [],
                            "then": [],
                            "linkedId": "s1",
                        }
                    ],
                )
            ]
        },
        "slices[0].specifications[0].given[0].linkedId: refers to nope, which the file does not "
        "define",
    ),
    (
        {
            "slices": [
                em_slice(
                    "s1",
                    commands=[PLACE],
                    events=[PLACED],
                    specifications=[
                        {
                            "id": "x",
                            "title": "t",
                            "given": [
                                {"id": "g", "title": "g", "type": "SPEC_COMMAND", "linkedId": "c1"}
                            ],
                            "when": [],
                            "then": [],
                            "linkedId": "s1",
                        }
                    ],
                )
            ]
        },
        "slices[0].specifications[0].given: a specification's given lists events",
    ),
]


SPEC = {"id": "x", "title": "t", "given": [], "when": [], "then": [], "linkedId": "s1"}
BAD_EVENT_MODELS.append(
    (
        {
            "slices": [
                em_slice("s1", commands=[PLACE], events=[PLACED], specifications=[SPEC, SPEC])
            ]
        },
        "slices[0].specifications[1]: the id x is used twice (also by slices[0].specifications[0])",
    )
)
BAD_EVENT_MODELS.append(
    (
        {
            "slices": [
                em_slice(
                    "s1", commands=[PLACE], events=[PLACED], specifications=[{**SPEC, "id": "c1"}]
                )
            ]
        },
        "slices[0].specifications[0]: the id c1 is used twice (also by slices[0].commands[0])",
    )
)


@pytest.mark.parametrize(("document", "expected"), BAD_EVENT_MODELS)
def test_a_bad_event_model_names_its_first_problem_and_where(document: Any, expected: str) -> None:
    assert problem(document).startswith(expected)


# ---- storm-model/1 ------------------------------------------------------------------------------


def test_a_storm_model_keeps_its_ids_when_every_id_is_storms() -> None:
    plan = read(
        {
            "format": "storm-model/1",
            "workshop": {"title": "Shop", "team": "T1"},
            "events": [
                {"id": "E3", "name": "Order Paid", "position": 2, "votes": 2},
                {"id": "E1", "name": "Order Placed", "position": 1},
            ],
            "commands": [{"id": "C1", "name": "Pay", "causes": ["E3"], "actors": ["R1"]}],
            "actors": [{"id": "R1", "name": "Customer", "issues": []}],
            "aggregates": [{"id": "A1", "name": "Order", "members": ["C1", "E3"]}],
        }
    )
    assert plan.keep_numbers and plan.team == "T1" and plan.title == "Shop"
    named = by_name(plan)
    assert [e.ref for e in plan.elements if e.kind == "event"] == ["E1", "E3"]  # by position
    assert (named["Order Paid"].number, named["Order Paid"].votes) == (3, 2)
    assert named["Customer"].issues == ("C1",)  # written on the command's side
    assert named["Pay"].aggregate == named["Order Paid"].aggregate == "A1"


def test_ids_that_are_not_storms_are_numbered_afresh() -> None:
    plan = read({"format": "storm-model/1", "events": [{"id": "placed", "name": "Order Placed"}]})
    assert not plan.keep_numbers and plan.elements[0].number is None


def test_a_reference_to_the_wrong_kind_is_refused() -> None:
    assert (
        problem(
            {
                "format": "storm-model/1",
                "commands": [
                    {"id": "C1", "name": "Pay", "causes": ["C2"]},
                    {"id": "C2", "name": "Refund"},
                ],
            }
        )
        == "commands[0]: causes refers to C2, which is command, not event"
    )


def test_names_keep_markup_as_text_and_the_title_comes_from_the_file_name() -> None:
    plan = read(
        {"format": "storm-model/1", "events": [{"id": "E1", "name": "<!channel>   *paid*"}]},
        filename="dir/\u0007orders\nq3.json",
    )
    assert plan.elements[0].name == "<!channel> *paid*"  # white space collapsed, as typed
    assert plan.title == "orders q3"


def test_a_file_name_of_any_length_gives_a_title_of_a_names_length() -> None:
    plan = read({"format": "storm-model/1"}, filename="x" * 5000 + ".json")
    assert plan.title == "x" * 200

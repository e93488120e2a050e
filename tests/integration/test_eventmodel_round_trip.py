"""The two real Event Modeling files (Nebulit's tooling, `shared/schemas/examples/`) imported
into a workshop and exported again as `eventmodel`: compared element by element, nothing of
what the issue lists is lost, and the export has no schema error."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from sqlalchemy import Engine

from bot.core.clock import ManualClock
from bot.core.exports.eventmodel import STATUS_TAG, to_eventmodel
from bot.service.importing import Importing, ImportRequest
from bot.service.snapshots import load_snapshot
from storage import repository as repo
from storage.unit_of_work import unit_of_work
from tests.support.shared import EVENT_MODEL, SHARED

FILES = ["cool-customer-demo.config.json", "socraft-client-portal.config.json"]
LISTS = ("commands", "events", "readmodels", "screens", "processors")


def exported_again(
    engine: Engine, clock: ManualClock, name: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the real file, Storm's export of it once imported into an empty channel)."""
    data = (SHARED / "schemas" / "examples" / name).read_bytes()
    outcome = Importing(engine, clock, wake=lambda: None).run(
        ImportRequest("T1", "C1", "U1", data, name)
    )
    assert outcome.status == "imported"
    with unit_of_work(engine, read_only=True) as session:
        workshop = repo.open_workshop(session, team_id="T1", channel_id="C1")
        assert workshop is not None
        document = json.loads(to_eventmodel(load_snapshot(session, workshop)))
    return json.loads(data), document


def field(entry: dict[str, Any]) -> tuple[Any, ...]:
    """What a field says, with the schema's defaults filled in (a missing `generated` is
    false): name, type, cardinality, generated, mapping, idAttribute, example, subfields."""
    return (
        entry["name"],
        entry["type"],
        entry.get("cardinality", "Single"),
        entry.get("generated", False),
        entry.get("mapping"),
        entry.get("idAttribute", False),
        entry.get("example"),
        tuple(field(sub) for sub in entry.get("subfields", [])),
    )


def element(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": entry["title"],
        "type": entry["type"],
        "fields": [field(f) for f in entry["fields"]],
        "dependencies": sorted(
            (d["id"], d["type"], d["elementType"]) for d in entry["dependencies"]
        ),
        "aggregate": entry.get("aggregate"),
        "context": entry.get("context", "INTERNAL") if entry["type"] == "EVENT" else None,
        "description": entry.get("description") or None,
    }


def elements(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every element as each slice shows it, by (slice id, element id): an element shared by
    slices keeps its id, and a shared screen shows each slice's aggregate."""
    return {
        (each["id"], entry["id"]): element(entry)
        for each in document["slices"]
        for list_name in LISTS
        for entry in each[list_name]
    }


def status(each: dict[str, Any]) -> str:
    """A slice's status; one the schema has no word for is in its element's tag."""
    for list_name in LISTS:
        for entry in each[list_name]:
            for tag in entry.get("tags", []):
                if tag.startswith(STATUS_TAG):
                    return tag.removeprefix(STATUS_TAG)
    return each["status"]


def step(entry: dict[str, Any]) -> tuple[Any, ...]:
    assert entry.get("examples", []) == [] or entry["type"] == "SPEC_ERROR"
    return (
        entry["id"],
        entry["title"],
        entry["type"],
        entry.get("linkedId"),
        tuple(field(f) for f in entry.get("fields", [])),
        tuple(json.dumps(e, sort_keys=True) for e in entry.get("examples", [])),
    )


def specification(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": entry["title"],
        "given": [step(s) for s in entry["given"]],
        "when": [step(s) for s in entry["when"]],
        "then": [step(s) for s in entry["then"]],
        "comments": entry.get("comments", []),
        "linkedId": entry["linkedId"],
    }


@pytest.mark.parametrize("name", FILES)
def test_a_real_event_model_imported_and_exported_keeps_every_element(
    db_engine: Engine, clock: ManualClock, name: str
) -> None:
    real, again = exported_again(db_engine, clock, name)
    jsonschema.validate(again, EVENT_MODEL)  # strict: the export has no schema error
    assert list(jsonschema.Draft7Validator(EVENT_MODEL).iter_errors(again)) == []

    # Every command, event, read model, screen and processor: title, type, fields (name, type,
    # generated, mapping, idAttribute, example), links, aggregate, context, description.
    before, after = elements(real), elements(again)
    assert set(after) == set(before)
    for where, expected in before.items():
        assert after[where] == expected, where

    # Every slice: its id, title, type and status, and the same elements in it.
    slices = {s["id"]: s for s in again["slices"]}
    assert set(slices) == {s["id"] for s in real["slices"]}
    for each in real["slices"]:
        kept = slices[each["id"]]
        assert (kept["title"], kept["sliceType"], status(kept)) == (
            each["title"],
            each["sliceType"],
            each["status"],
        )
        for list_name in LISTS:
            assert {e["id"] for e in kept[list_name]} == {e["id"] for e in each[list_name]}
        assert sorted(kept["aggregates"]) == sorted(each["aggregates"])
        # Every specification: given/when/then step by step with their data, error cases,
        # comments, and the slice it belongs to.
        assert [specification(s) for s in kept["specifications"]] == [
            specification(s) for s in each["specifications"]
        ]


def test_the_socraft_model_keeps_its_todo_list_processor_and_informational_slices(
    db_engine: Engine, clock: ManualClock
) -> None:
    """What today's model lost before: a processor fed by two read models, its fields, the
    statuses the schema has no word for, repeated elements shared by slices."""
    _, again = exported_again(db_engine, clock, "socraft-client-portal.config.json")
    (processor,) = [p for s in again["slices"] for p in s["processors"]]
    inbound = [d["title"] for d in processor["dependencies"] if d["type"] == "INBOUND"]
    assert inbound == ["CompanyListToFetch", "Boond Companies Data"]
    assert [f["name"] for f in processor["fields"]] == [
        "settingsId",
        "invoiceId",
        "ListOfCompanies",
    ]
    informational = {s["title"] for s in again["slices"] if status(s) == "Informational"}
    assert informational == {
        "slice: SettingsView",
        "slice: CompanyListToFetch",
        "slice: Adapter Boond Companies Data",
    }
    assert all(s["status"] in ("Created", "Done", "InProgress") for s in again["slices"])


def test_an_imported_export_reads_back_the_same(db_engine: Engine, clock: ManualClock) -> None:
    """Storm's own export of an imported file is itself a file Storm imports to the same
    export: ids, statuses in tags and step data all read back."""
    _, first = exported_again(db_engine, clock, "socraft-client-portal.config.json")
    data = json.dumps(first).encode()
    outcome = Importing(db_engine, clock, wake=lambda: None).run(
        ImportRequest("T1", "C2", "U1", data, "again.json")
    )
    assert outcome.status == "imported"
    with unit_of_work(db_engine, read_only=True) as session:
        workshop = repo.open_workshop(session, team_id="T1", channel_id="C2")
        assert workshop is not None
        second = json.loads(to_eventmodel(load_snapshot(session, workshop)))
    assert elements(second) == elements(first)
    assert {s["id"]: (s["title"], status(s)) for s in second["slices"]} == {
        s["id"]: (s["title"], status(s)) for s in first["slices"]
    }

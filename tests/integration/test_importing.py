"""Importing a model file (SPEC §7.1) through `Importing.run` on a real SQLite file: what is
stored, what people are told, and that round trips lose nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, func, select

from bench import model as workshops
from bot.core.clock import ManualClock
from bot.core.exports.storm_model import to_json, to_json_text
from bot.core.model import FieldSpec, Snapshot
from bot.service.importing import Importing, ImportOutcome, ImportRequest
from bot.service.snapshots import load_snapshot
from storage import repository as repo
from storage.tables import (
    Contribution,
    Element,
    ElementField,
    Facilitator,
    Link,
    NameKey,
    ScheduledPost,
    StepRun,
    Vote,
    Workshop,
)
from storage.unit_of_work import unit_of_work
from tests.integration.conftest import Driver, shown
from tests.support.shared import SHARED

EXAMPLES = SHARED / "schemas" / "examples"
MODEL_TABLES = (
    Workshop,
    Facilitator,
    StepRun,
    Element,
    ElementField,
    Link,
    NameKey,
    Vote,
    Contribution,
    ScheduledPost,
)


@pytest.fixture
def importing(db_engine: Engine, clock: ManualClock) -> Importing:
    return Importing(db_engine, clock, wake=lambda: None)


def run(
    importing: Importing,
    data: bytes | dict[str, Any],
    *,
    channel: str = "C9",
    filename: str = "model.json",
    confirmed: bool = False,
    team: str = "T1",
    user: str = "U7",
) -> ImportOutcome:
    raw = data if isinstance(data, bytes) else orjson.dumps(data)
    return importing.run(ImportRequest(team, channel, user, raw, filename, confirmed))


def snapshot(engine: Engine, channel: str, team: str = "T1") -> Snapshot:
    with unit_of_work(engine, read_only=True) as session:
        workshop = repo.last_workshop(session, team_id=team, channel_id=channel)
        assert workshop is not None
        return load_snapshot(session, workshop)


def rows(engine: Engine) -> dict[str, int]:
    """How many rows each table of the model holds."""
    with unit_of_work(engine, read_only=True) as session:
        return {
            table.__name__: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in MODEL_TABLES
        }


def posts(engine: Engine, kind: str) -> list[ScheduledPost]:
    with unit_of_work(engine, read_only=True) as session:
        return list(session.scalars(select(ScheduledPost).where(ScheduledPost.kind == kind)))


def model_of(document: dict[str, Any]) -> dict[str, Any]:
    """A storm-model/1 document without what belongs to the workshop rather than the model
    (channel, facilitators, step, dates)."""
    return {key: value for key, value in document.items() if key != "workshop"}


# ---- into an empty channel -------------------------------------------------------------------


def test_an_import_into_a_channel_without_a_workshop_starts_one_led_by_the_importer(
    importing: Importing, db_engine: Engine
) -> None:
    data = (EXAMPLES / "cool-customer-demo.config.json").read_bytes()
    outcome = run(importing, data, filename="cool-customer-demo.config.json")
    assert outcome.status == "imported"
    assert shown(outcome.post) == (
        ":inbox_tray: Imported *cool-customer-demo.config.json* into the new workshop *Cool "
        "Customer demo*; you are its facilitator: added 2 events, 2 commands, 1 view and 2 "
        "screens."
    )
    model = snapshot(db_engine, "C9")
    assert model.title == "Cool Customer demo"
    assert model.facilitators == ("U7",)
    assert model.current_step == 1
    assert [e.name for e in model.events] == ["Customer registered", "Customer removed"]
    # Started as /storm start starts one: its kickoff and step 1's prompt are on their way,
    # and the channel is told who imported what.
    assert len(posts(db_engine, "kickoff")) == 1
    assert len(posts(db_engine, "prompt")) == 1
    (notice,) = posts(db_engine, "notice")
    assert notice.payload["sections"] == [
        ":inbox_tray: <@U7> imported *cool-customer-demo.config.json*: 2 events, 2 commands, "
        "1 view and 2 screens added to the workshop."
    ]
    # One message for the import, none per element (a model would flood the channel).
    assert posts(db_engine, "element") == []


def test_a_file_naming_no_model_gives_the_workshop_its_file_name(
    importing: Importing, db_engine: Engine
) -> None:
    data = {"format": "storm-model/1", "events": [{"id": "E1", "name": "Order Placed"}]}
    assert run(importing, data, filename="orders.json").status == "imported"
    assert snapshot(db_engine, "C9").title == "orders"


def test_an_ended_workshop_does_not_take_the_import_a_new_one_does(
    importing: Importing, driver: Driver, db_engine: Engine
) -> None:
    driver.run("start Old one", channel="C9", user="U7")
    driver.run("event Something Happened", channel="C9", user="U7")
    driver.run("end", channel="C9", user="U7")
    data = {"format": "storm-model/1", "workshop": {"title": "New one"}, "events": []}
    outcome = run(importing, data)
    assert outcome.status == "imported"
    assert snapshot(db_engine, "C9").title == "New one"


# ---- into a workshop with elements: confirmation ---------------------------------------------


ORDERS = {
    "format": "storm-model/1",
    "events": [
        {"id": "E1", "name": "Order Placed"},
        {"id": "E2", "name": "Order Paid"},
    ],
    "commands": [{"id": "C1", "name": "place order", "causes": ["E1"]}],
    "views": [{"id": "V1", "name": "Open Orders", "fed_by": ["E1", "E2"]}],
}


def test_adding_to_a_workshop_with_elements_asks_first_and_stores_nothing(
    importing: Importing, checkout: Driver, db_engine: Engine
) -> None:
    before = rows(db_engine)
    outcome = run(importing, ORDERS, channel="C1", filename="orders.json")
    assert outcome.status == "confirm"
    assert shown(outcome.post) == (
        ":inbox_tray: *orders.json* (storm-model/1) holds 2 events, 1 command and 1 view. Add "
        "them to the workshop *Checkout*? Nothing is overwritten.\n"
        "1 name matches an element the workshop has already, which is kept, not duplicated: "
        "*E1* Order Placed."
    )
    assert rows(db_engine) == before


def test_confirmed_it_adds_and_reports_matching_names_instead_of_duplicating_them(
    importing: Importing, checkout: Driver, db_engine: Engine
) -> None:
    outcome = run(importing, ORDERS, channel="C1", filename="orders.json", confirmed=True)
    assert outcome.status == "imported"
    assert shown(outcome.post) == (
        ":inbox_tray: Imported *orders.json* into the workshop *Checkout*: added 1 event, 1 "
        "command and 1 view.\nAlready there, so not added again: *E1* Order Placed."
    )
    elements = checkout.elements()
    # E1-E3 were typed; the file's E1 is the workshop's E1, its E2 becomes E4.
    assert [(e.key, e.name) for e in checkout.snapshot().events] == [
        ("E1", "Order Placed"),
        ("E2", "Payment Received"),
        ("E3", "Order Shipped"),
        ("E4", "Order Paid"),
    ]
    assert elements["C1"].causes == ("E1",)
    assert elements["V1"].fed_by == ("E1", "E4")
    # The matching element is left as it was: still U1's, as typed.
    assert elements["E1"].author == "U1"


def test_a_workshop_without_live_elements_takes_the_import_without_asking(
    importing: Importing, driver: Driver, db_engine: Engine
) -> None:
    driver.run("start Empty", channel="C9", user="U7")
    outcome = run(importing, ORDERS)
    assert outcome.status == "imported"
    assert "the workshop *Empty*" in shown(outcome.post)


# ---- bad files: a clear message, nothing stored ----------------------------------------------


def too_many() -> dict[str, Any]:
    events = [{"id": f"E{n}", "name": f"Thing {n} Happened"} for n in range(1, 20_001)]
    return {"format": "storm-model/1", "events": events}


BAD: list[tuple[str, bytes | dict[str, Any], str]] = [
    ("not json", b"order placed, order paid", "the file is not JSON (unexpected character"),
    ("empty", b"", "the file is empty, not JSON"),
    (
        "another shape",
        {"nodes": [], "edges": []},
        'this JSON is an object with keys "nodes", "edges", not a model Storm reads: expected '
        'a storm-model/1 export (an object with "format": "storm-model/1") or an Event '
        'Modeling model (an object with a "slices" list)',
    ),
    ("a list", [1, 2], "this JSON is a list, not a model Storm reads"),  # type: ignore[list-item]
    (
        "undefined reference",
        {**ORDERS, "commands": [{"id": "C1", "name": "place", "causes": ["E9"]}]},
        "commands[0]: causes refers to E9, which the file does not define",
    ),
    (
        "duplicate ids",
        {
            "format": "storm-model/1",
            "events": [{"id": "E1", "name": "A"}, {"id": "E1", "name": "B"}],
        },
        "events[1].id: the id E1 is used twice (also by events[0])",
    ),
    (
        "too large",
        b" " * (5 * 1024 * 1024 + 1),
        "the file is 5.0 MB; Storm imports files of at most 5.0 MB",
    ),
    (
        "too many elements",
        too_many(),
        "the file holds 20,000 elements; Storm imports at most 10,000 at a time",
    ),
    (
        "a 10,000-character title",
        {"format": "storm-model/1", "events": [{"id": "E1", "name": "x" * 10_000}]},
        "events[0].name: a name can be at most 200 characters (this one has 10000)",
    ),
    (
        "control characters",
        {"format": "storm-model/1", "events": [{"id": "E1", "name": "Order\u0007Placed"}]},
        "events[0].name: a name cannot contain control characters",
    ),
    (
        "an event model with an undefined dependency",
        {
            "slices": [
                {
                    "id": "s1",
                    "title": "slice: Place",
                    "sliceType": "STATE_CHANGE",
                    "commands": [
                        {
                            "id": "c1",
                            "title": "Place",
                            "type": "COMMAND",
                            "fields": [],
                            "dependencies": [
                                {
                                    "id": "4f2a",
                                    "type": "OUTBOUND",
                                    "title": "x",
                                    "elementType": "EVENT",
                                }
                            ],
                        }
                    ],
                }
            ]
        },
        "slices[0].commands[0].dependencies[0]: refers to 4f2a, which the file does not define",
    ),
]


@pytest.mark.parametrize(("case", "data", "problem"), BAD, ids=[case for case, _, _ in BAD])
def test_a_bad_file_is_refused_naming_its_first_problem_and_nothing_is_stored(
    importing: Importing,
    checkout: Driver,
    db_engine: Engine,
    case: str,
    data: bytes | dict[str, Any],
    problem: str,
) -> None:
    for channel in ("C1", "C9"):  # into a workshop, and where it would start one
        before = rows(db_engine)
        raw = data if isinstance(data, bytes) else orjson.dumps(data)
        outcome = run(importing, raw, channel=channel, filename="bad.json", confirmed=True)
        assert outcome.status == "refused"
        said = shown(outcome.post)
        assert said.startswith(":no_entry_sign: I could not import *bad.json*: "), said
        assert problem in said, said
        assert said.endswith("Nothing was stored.")
        assert rows(db_engine) == before


# What Slack would turn into a mention or a link if it reached a message unescaped.
MENTIONS = ("<!channel", "<!here", "<!everyone", "<@U999", "<https")


def test_hostile_names_are_stored_as_text_and_never_become_mentions(
    importing: Importing, db_engine: Engine
) -> None:
    data = {
        "format": "storm-model/1",
        "workshop": {"title": "<!channel> *Ops*"},
        "events": [{"id": "E1", "name": "<!here> paid <@U999> &amp; <https://x.io|done>"}],
    }
    outcome = run(importing, data, filename="<!everyone>.json")
    assert outcome.status == "imported"
    said = shown(outcome.post)
    assert "&lt;!everyone&gt;.json" in said and "&lt;!channel&gt;" in said
    assert not any(mention in said for mention in MENTIONS)
    model = snapshot(db_engine, "C9")
    assert model.title == "<!channel> *Ops*"
    assert model.events[0].name == "<!here> paid <@U999> &amp; <https://x.io|done>"
    (notice,) = posts(db_engine, "notice")
    told = "".join(notice.payload["sections"])
    assert "&lt;!everyone&gt;.json" in told
    assert not any(mention in told for mention in MENTIONS)


# ---- round trips --------------------------------------------------------------------------------


def test_a_generated_model_of_2000_elements_round_trips_through_storm_model_1(
    importing: Importing, db_engine: Engine
) -> None:
    """Export → import into a new channel → export gives the same model: ids, names, links,
    fields, scenarios, votes (as counts), aggregates, hotspots.

    Its completeness check differs in one way only: this model's scenarios name events that
    were dropped since, which the check points out (“E53 no longer exists”); a dropped element
    is absent from the export (SPEC §7), so the imported scenario simply lists one event less.
    """
    plan = workshops.plan(2000, seed=3)
    workshop_id = workshops.seed(db_engine, plan, team_id="T1", channel_id="CGEN")
    with unit_of_work(db_engine, read_only=True) as session:
        workshop = session.get(Workshop, workshop_id)
        assert workshop is not None
        exported = to_json(load_snapshot(session, workshop))
    outcome = run(importing, to_json_text_of(exported), channel="CNEW")
    assert outcome.status == "imported", shown(outcome.post)
    again = to_json(snapshot(db_engine, "CNEW"))
    assert without_check(again) == without_check(exported)
    assert again["workshop"]["title"] == exported["workshop"]["title"]
    before = {finding["message"] for finding in exported["completeness"]["findings"]}
    after = {finding["message"] for finding in again["completeness"]["findings"]}
    gone = "; ".join(sorted(before - after))
    assert "no longer exists" in gone and after - before <= {
        m for m in after if "is not caused by" in m
    }
    assert sum(e["votes"] for e in again["events"]) > 0  # votes came, as counts


def without_check(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in model_of(document).items() if key != "completeness"}


def to_json_text_of(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def test_authors_come_along_only_from_a_file_of_the_same_workspace(
    importing: Importing, driver: Driver, db_engine: Engine
) -> None:
    driver.run("start Shop", channel="C1", user="U1")
    driver.run("event Order Placed", channel="C1", user="U2")
    exported = to_json(snapshot(db_engine, "C1"))
    run(importing, exported, channel="C2")
    run(importing, exported, channel="C3", team="T2")
    assert snapshot(db_engine, "C2").events[0].author == "U2"
    assert snapshot(db_engine, "C3", team="T2").events[0].author == "U7"


def test_a_json_export_written_by_storm_reads_back_as_it_was_written(
    importing: Importing, driver: Driver, db_engine: Engine
) -> None:
    """What the other helpers' commands make (types, screens, to-do lists, answers, repeated
    givens) survives the round trip too."""
    for line in (
        "start Shop",
        "event Order Placed; Order Paid",
        "command Place Order -> Order Placed",
        "view Unpaid Orders <- Order Placed",
        "policy Chase: V1 -> Send Reminder",
        "screen Checkout -> C1 <- V1",
        "fields C1: order id:UUID*, total:Decimal, items:String[]",
        "fields V1: total:Decimal <- E1.total",
        "fields P1: order id:UUID",
        "aggregate Orders: C1 E1 V1",
        "hotspot Who pays shipping? on C1",
        "resolve H1 the customer",
        "scenario Twice: given E1, E1 when C1 then E1",
        "vote E1",
    ):
        answer = driver.run(line)
        assert ":no_entry_sign:" not in answer, (line, answer)
    exported = to_json(snapshot(db_engine, "C1"))
    run(importing, exported, channel="C2")
    assert model_of(to_json(snapshot(db_engine, "C2"))) == model_of(exported)


def test_the_demo_workshop_round_trips_through_storm_model_1(
    importing: Importing, db_engine: Engine, demo_model: Path
) -> None:
    exported = json.loads(demo_model.read_text())
    outcome = run(
        importing, demo_model.read_bytes(), channel="CDEMO", team=exported["workshop"]["team"]
    )
    assert outcome.status == "imported", shown(outcome.post)
    again = to_json(snapshot(db_engine, "CDEMO", team=exported["workshop"]["team"]))
    assert model_of(again) == model_of(exported)


@pytest.fixture(scope="module")
def demo_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workshop's storm-model/1 export, as `stormbot demo` writes it."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    folder = tmp_path_factory.mktemp("demo")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
        "NO_COLOR": "1",
        "PYTHONPATH": str(root),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--out", str(folder / "out")],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return folder / "out" / "storm-model.json"


def test_to_json_text_is_what_import_reads(
    importing: Importing, driver: Driver, db_engine: Engine
) -> None:
    """The uploaded text (indented, UTF-8) imports as its document does."""
    driver.run("start Café")
    driver.run("event Crème Brûlée Served")
    text = to_json_text(snapshot(db_engine, "C1"))
    assert run(importing, text.encode(), channel="C2").status == "imported"
    assert snapshot(db_engine, "C2").events[0].name == "Crème Brûlée Served"


def test_retyping_an_imported_elements_fields_keeps_what_the_file_said_of_them(
    importing: Importing, driver: Driver, db_engine: Engine
) -> None:
    data = (EXAMPLES / "socraft-client-portal.config.json").read_bytes()
    assert run(importing, data, channel="C1", user="U1").status == "imported"
    before = {e.name: e for e in driver.snapshot().elements}["Create Settings"]
    settings_id = before.fields[0]
    assert (settings_id.name, settings_id.id_attribute, settings_id.example) == (
        "settingsId",
        True,
        '"\\"00000000-0000-0000-0000-000000000001\\""',
    )
    answer = driver.run(f"fields {before.key}: settingsId:UUID*, connectionId:UUID, note")
    assert ":no_entry_sign:" not in answer
    after = driver.elements()[before.key]
    assert after.fields[0] == FieldSpec(
        "settingsId",
        generated=True,
        type="UUID",
        id_attribute=True,
        example=settings_id.example,
    )
    assert [f.name for f in after.fields] == ["settingsId", "connectionId", "note"]

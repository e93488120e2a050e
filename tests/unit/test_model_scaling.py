"""The shortcuts that keep reports, exports and the snapshot linear in the model's size say
exactly what the plain versions say (issue "benchmarks", item 3)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from typing import Any

from sqlalchemy import event
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from bench import model as workshops
from bot.core.completeness import check
from bot.core.exports.eventmodel import to_eventmodel
from bot.core.exports.links import indented_json
from bot.core.exports.markdown import _MD_ESCAPES, _md
from bot.core.exports.storm_model import to_json, to_json_text
from bot.core.model import ElementInfo
from bot.service.snapshots import load_snapshot
from storage.tables import Workshop

_SPECIAL = "\\`*_[]|~<>&;#:\"' aZé\u2028\n\r\t\x00😀"


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(_SPECIAL) for _ in range(rng.randint(0, 14)))


def test_markdown_escaping_is_the_character_by_character_mapping() -> None:
    rng = random.Random(3)
    for _ in range(20_000):
        text = _text(rng)
        expected = "".join(_MD_ESCAPES.get(c, c) for c in " ".join(text.splitlines()))
        assert _md(text) == expected, text


def _document(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(8 if depth < 4 else 5)
    if choice == 0:
        return _text(rng)
    if choice == 1:
        return rng.choice([None, True, False, 0.5, -1e-9, 1e300, 0.1 + 0.2, 3.0])
    if choice == 2:
        return rng.randint(-(10**12), 10**12)
    if choice == 3:
        return {}
    if choice == 4:
        return []
    if choice in (5, 6):
        return {_text(rng): _document(rng, depth + 1) for _ in range(rng.randint(1, 4))}
    return [_document(rng, depth + 1) for _ in range(rng.randint(1, 4))]


def written(document: Any) -> str:
    return indented_json(lambda: document)


def _indents(text: str) -> list[int]:
    return [len(line) - len(line.lstrip(" ")) for line in text.split("\n")]


def assert_written_as_json_dumps_would(text: str, document: Any) -> None:
    """The same value, laid out on the same lines with the same indents as
    `json.dumps(indent=2, ensure_ascii=False)` (number spellings such as `1e+300` may differ)."""
    assert json.loads(text) == document
    assert _indents(text) == _indents(json.dumps(document, indent=2, ensure_ascii=False))


def test_the_json_writer_writes_the_value_indented_as_json_dumps_does() -> None:
    rng = random.Random(5)
    for _ in range(3_000):
        document = _document(rng)
        assert_written_as_json_dumps_would(written(document), document)


def test_the_json_writer_keeps_text_as_typed_and_escapes_what_json_must() -> None:
    document = {"name": 'Café "Zoë" 😀\u2028', "notes": ["a\nb", "\x00\t\\"]}
    text = written(document)
    assert text == (
        "{\n"
        '  "name": "Café \\"Zoë\\" 😀\u2028",\n'
        '  "notes": [\n'
        '    "a\\nb",\n'
        '    "\\u0000\\t\\\\"\n'
        "  ]\n"
        "}"
    )


def test_the_event_model_of_a_generated_workshop_is_its_slices_as_json() -> None:
    from bot.core.exports.eventmodel import _EventModel

    snapshot = workshops.snapshot(workshops.plan(300, seed=2))
    document = {"slices": _EventModel(snapshot).slices()}
    assert_written_as_json_dumps_would(to_eventmodel(snapshot), document)


def test_the_json_export_is_the_model_as_json() -> None:
    snapshot = workshops.snapshot(workshops.plan(300, seed=3))
    assert_written_as_json_dumps_would(to_json_text(snapshot), to_json(snapshot))


def test_kinds_and_the_timeline_are_sorted_once_but_handed_out_as_new_lists() -> None:
    snapshot = workshops.snapshot(workshops.plan(100, seed=4))
    events = snapshot.events
    assert [e.key for e in events] == [
        e.key
        for e in sorted(
            (e for e in snapshot.elements if e.kind == "event"),
            key=lambda e: (e.position or 0, int(e.key[1:])),
        )
    ]
    for kind in ("command", "view", "scenario", "hotspot"):
        listed = snapshot.of_kind(kind)
        plain = sorted(
            (e for e in snapshot.elements if e.kind == kind), key=lambda e: int(e.key[1:])
        )
        assert listed == plain
        listed.clear()
        assert snapshot.of_kind(kind) == plain
    events.clear()
    assert snapshot.events and snapshot.of_kind("event") == snapshot.events
    assert snapshot.of_kind("nothing") == []


def test_the_check_normalises_field_names_as_people_write_them() -> None:
    snapshot = workshops.snapshot(workshops.plan(100, seed=9))
    report = check(snapshot)

    # The same model with every field name spelt differently (case, spaces, `_`, `-`) finds
    # the same problems: names match after normalisation.
    def respell(element: ElementInfo) -> ElementInfo:
        fields = tuple(replace(spec, name="-".join(spec.name.upper())) for spec in element.fields)
        return replace(element, fields=fields)

    respelt = replace(snapshot, elements=tuple(respell(e) for e in snapshot.elements))
    again = check(respelt)
    assert (again.checks, again.passed_checks) == (report.checks, report.passed_checks)
    assert [(f.code, f.element) for f in again.findings] == [
        (f.code, f.element) for f in report.findings
    ]


def _engine() -> Any:
    engine = create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    SQLModel.metadata.create_all(engine)
    return engine


def test_the_snapshot_read_from_the_database_is_the_workshop_in_constant_statements() -> None:
    engine = _engine()
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    counts = []
    for size, seed in ((100, 1), (400, 2)):
        plan = workshops.plan(size, seed=seed)
        workshop_id = workshops.seed(engine, plan, team_id="T1", channel_id=f"C{size}")
        with Session(engine) as session:
            workshop = session.get(Workshop, workshop_id)
            assert workshop is not None
            statements.clear()
            loaded = load_snapshot(session, workshop)
            counts.append(len(statements))
        built = workshops.snapshot(plan)
        assert loaded.elements == built.elements
        assert loaded.dropped == built.dropped
        assert loaded.steps == built.steps
    assert counts[0] == counts[1]

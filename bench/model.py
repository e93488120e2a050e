"""Synthetic workshops of any size, as core snapshots and as rows in a real database.

Why synthetic and not typed in through Slack: a workshop of 10,000 elements would take hours
to build through the bot, and the point is to time the core's reading of a model, not its
capture. The proportions follow a workshop that went through all eight steps: per 100
elements about 36 events, 14 commands, 8 views, 4 policies, 3 actors, 2 external systems,
3 aggregates, 10 hotspots and 20 scenarios; commands cause one to three events, views are fed
by one to three, actors issue a few commands, most commands and events sit in an aggregate,
fields mostly flow from commands into their events and on into views (with some gaps, some
generated fields and explicit origins, so the completeness check has findings to report),
and 3% of the events were dropped or merged. One seed gives one workshop, so two runs compare.
"""

from __future__ import annotations

import functools
import gc
import itertools
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from bot.core.model import KIND_LETTERS, ElementInfo, FieldSpec, Scenario, Snapshot, StepState
from storage.sequences import advance_sequences
from storage.tables import (
    ChannelMember,
    Contribution,
    Element,
    ElementField,
    Facilitator,
    Link,
    SlackUser,
    StepRun,
    Vote,
    Workshop,
)

SHARES = {
    "event": 36,
    "command": 14,
    "view": 8,
    "policy": 4,
    "actor": 3,
    "external": 2,
    "aggregate": 3,
    "hotspot": 10,
    "scenario": 20,
}
LETTERS = KIND_LETTERS  # the core's IDs, so the benchmark names elements as Storm does
STEP_OF_KIND = {
    "event": 1,
    "hotspot": 2,
    "command": 3,
    "view": 3,
    "policy": 3,
    "actor": 3,
    "external": 3,
    "aggregate": 4,
    "scenario": 7,
}
PEOPLE = [f"U{n:03d}" for n in range(1, 13)]
_NOUNS = [
    "Order",
    "Basket",
    "Parcel",
    "Invoice",
    "Refund",
    "Ticket",
    "Voucher",
    "Payment",
    "Account",
    "Booking",
    "Shipment",
    "Return",
    "Review",
    "Quote",
    "Contract",
    "Subscription",
    "Delivery",
    "Claim",
    "Coupon",
    "Wishlist",
]
_VERBS = [
    "Placed",
    "Shipped",
    "Sent",
    "Approved",
    "Cancelled",
    "Received",
    "Booked",
    "Closed",
    "Opened",
    "Paid",
    "Refunded",
    "Issued",
    "Accepted",
    "Rejected",
    "Scheduled",
    "Delivered",
    "Renewed",
    "Expired",
    "Confirmed",
    "Archived",
]
_COMMAND_VERBS = [
    "Place",
    "Ship",
    "Send",
    "Approve",
    "Cancel",
    "Receive",
    "Book",
    "Close",
    "Open",
    "Pay",
    "Refund",
    "Issue",
    "Accept",
    "Reject",
]
_FIELDS = [
    "order id",
    "customer id",
    "amount",
    "currency",
    "status",
    "sku",
    "quantity",
    "address",
    "email",
    "reason",
    "total",
    "discount",
    "payment id",
    "invoice number",
    "due date",
    "carrier",
    "tracking code",
    "note",
    "rating",
    "plan",
]
_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "nu",
    "pe",
    "ri",
    "so",
    "tu",
    "va",
    "xe",
    "zo",
    "be",
    "di",
    "fu",
    "ga",
]


@dataclass
class Spec:
    """One element of a synthetic workshop, with its relations as element IDs."""

    kind: str
    number: int
    name: str
    author: str
    position: int | None = None
    fields: list[FieldSpec] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)
    fed_by: list[str] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    on: str | None = None
    aggregate: str | None = None
    resolved: bool = False
    scenario: Scenario | None = None
    votes: int = 0
    dropped: bool = False
    merged_into: str | None = None

    @property
    def key(self) -> str:
        return f"{LETTERS[self.kind]}{self.number}"


@dataclass
class Plan:
    """A synthetic workshop: its elements, in ID order within each kind."""

    size: int
    specs: list[Spec]
    title: str
    started_at: datetime

    def live(self) -> list[Spec]:
        return [s for s in self.specs if not s.dropped and s.merged_into is None]

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = defaultdict(int)
        for spec in self.live():
            found[spec.kind] += 1
        return dict(found)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize()


def _counts(size: int) -> dict[str, int]:
    counts = {kind: size * share // 100 for kind, share in SHARES.items()}
    counts["event"] += size - sum(counts.values())
    return counts


def plan(size: int, *, seed: int = 7, title: str | None = None) -> Plan:
    """A workshop of `size` elements (dropped and merged ones included) in realistic shape."""
    rng = random.Random(seed * 1_000_003 + size)
    counts = _counts(size)
    specs: dict[str, list[Spec]] = {kind: [] for kind in SHARES}

    def new(kind: str, name: str, **values: Any) -> Spec:
        spec = Spec(kind, len(specs[kind]) + 1, name, rng.choice(PEOPLE), **values)
        specs[kind].append(spec)
        return spec

    events = [
        new(
            "event",
            f"{rng.choice(_NOUNS)} {_word(rng)} {rng.choice(_VERBS)}",
            position=n + 1,
            votes=rng.choice((0, 0, 0, 1, 1, 2, 3, 5)),
        )
        for n in range(counts["event"])
    ]
    cursor = 0

    def take(count: int) -> list[Spec]:
        nonlocal cursor
        chunk = [events[(cursor + i) % len(events)] for i in range(count)] if events else []
        cursor += count
        return chunk

    for _ in range(counts["command"]):
        caused = take(rng.choice((1, 1, 2, 2, 3)))
        inputs = rng.sample(_FIELDS, rng.randint(2, 4))
        fields = [FieldSpec(name) for name in inputs]
        if rng.random() < 0.15:
            fields.append(FieldSpec("requested at", generated=True))
        new(
            "command",
            f"{rng.choice(_COMMAND_VERBS)} {rng.choice(_NOUNS)} {_word(rng)}",
            fields=fields,
            causes=[e.key for e in caused],
            votes=rng.choice((0, 0, 1, 2)),
        )
        for event in caused:
            carried = [f for f in inputs if rng.random() < 0.92]  # some inputs get lost
            event.fields = [
                FieldSpec(n) for n in dict.fromkeys([*(f.name for f in event.fields), *carried])
            ]
            event.fields.append(FieldSpec("occurred at", generated=True))
    for _ in range(counts["external"]):
        caused = take(2)
        new("external", f"{_word(rng)} Gateway", causes=[e.key for e in caused])
        for event in caused:
            event.fields = event.fields or [FieldSpec(n) for n in rng.sample(_FIELDS, 2)]
    for event in events:
        if not event.fields and rng.random() < 0.5:
            event.fields = [FieldSpec(n) for n in rng.sample(_FIELDS, rng.randint(1, 2))]
    for _ in range(counts["view"]):
        sources = rng.sample(events, min(len(events), rng.randint(1, 3)))
        offered = list(dict.fromkeys(f.name for e in sources for f in e.fields if not f.generated))
        shown = [FieldSpec(n) for n in rng.sample(offered, min(len(offered), rng.randint(2, 4)))]
        if rng.random() < 0.1:
            shown.append(FieldSpec("remarks"))  # no origin: a finding
        if rng.random() < 0.1 and sources and sources[0].fields:
            origin = f"{sources[0].key}.{sources[0].fields[0].name}"
            shown.append(FieldSpec("copied value", origin=origin))
        new(
            "view",
            f"{rng.choice(_NOUNS)} {_word(rng)} Board",
            fields=shown,
            fed_by=[e.key for e in sources],
        )
    commands = specs["command"]
    for _ in range(counts["policy"]):
        trigger, issued = rng.choice(events), rng.choice(commands) if commands else None
        new(
            "policy",
            f"When {trigger.name}",
            on=trigger.key,
            issues=[issued.key] if issued else [],
        )
    for _ in range(counts["actor"]):
        issued = rng.sample(commands, min(len(commands), rng.randint(2, 5)))
        new("actor", f"{_word(rng)} Clerk", issues=[c.key for c in issued])
    if counts["aggregate"]:
        per = max(1, len(commands) // counts["aggregate"])
        for n in range(counts["aggregate"]):
            aggregate = new("aggregate", f"{rng.choice(_NOUNS)} {_word(rng)}")
            for command in commands[n * per : (n + 1) * per]:
                if rng.random() < 0.85:
                    command.aggregate = aggregate.key
                    for key in command.causes:
                        event = events[int(key[1:]) - 1]
                        event.aggregate = event.aggregate or aggregate.key
    targets = events + commands
    for _ in range(counts["hotspot"]):
        about = rng.choice(targets) if targets and rng.random() < 0.6 else None
        new(
            "hotspot",
            f"Who decides on {_word(rng)}?",
            on=about.key if about else None,
            resolved=rng.random() < 0.4,
        )
    views = specs["view"]
    for _ in range(counts["scenario"]):
        roll = rng.random()
        if roll < 0.15 and views:
            view = rng.choice(views)
            scenario = Scenario(given=tuple(view.fed_by), view=view.key)
        elif commands:
            command = rng.choice(commands)
            given = tuple(e.key for e in rng.sample(events, min(len(events), rng.randint(0, 2))))
            if roll < 0.3:
                scenario = Scenario(given=given, when=command.key, error="not allowed")
            elif roll < 0.38:
                scenario = Scenario(given=given, when=command.key, then=(rng.choice(events).key,))
            else:
                scenario = Scenario(given=given, when=command.key, then=tuple(command.causes))
        else:
            scenario = Scenario()
        new("scenario", f"{_word(rng)} case", scenario=scenario)
    # A refined workshop has dropped and merged some events (3%), never the linked ones.
    loose = [e for e in events if e.votes == 0 and e.aggregate is None]
    kept = [e for e in events if e.votes > 0]
    for n, event in enumerate(loose[: len(events) * 3 // 100]):
        if n % 3 == 2 and kept:
            event.merged_into = kept[n % len(kept)].key
        else:
            event.dropped = True
    ordered = [spec for kind in SHARES for spec in specs[kind]]
    started = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    return Plan(size, ordered, title or f"Synthetic {size}", started)


# ---- as a snapshot -----------------------------------------------------------------------


def snapshot(workshop: Plan) -> Snapshot:
    """The core's view of a synthetic workshop, built directly from the dataclasses."""
    live = {s.key: s for s in sorted(workshop.live(), key=lambda s: (s.kind, s.number))}
    members: dict[str, list[str]] = defaultdict(list)
    aliases: dict[str, list[str]] = defaultdict(list)
    for spec in live.values():
        if spec.aggregate in live:
            members[spec.aggregate].append(spec.key)
    for spec in workshop.specs:
        if spec.merged_into is not None and not spec.dropped:
            aliases[spec.merged_into].append(spec.key)

    def alive(keys: list[str]) -> tuple[str, ...]:
        return tuple(k for k in keys if k in live)

    survivor = {s.key: s.merged_into for s in workshop.specs if s.merged_into is not None}

    def as_shown(scenario: Scenario | None) -> Scenario | None:
        """References as `load_snapshot` shows them: a merged ID as its survivor's."""
        if scenario is None:
            return None
        keys = lambda refs: tuple(survivor.get(k, k) for k in refs)  # noqa: E731
        return Scenario(
            given=keys(scenario.given),
            when=survivor.get(scenario.when, scenario.when) if scenario.when else None,
            then=keys(scenario.then),
            error=scenario.error,
            view=survivor.get(scenario.view, scenario.view) if scenario.view else None,
        )

    elements = tuple(
        ElementInfo(
            key=spec.key,
            kind=spec.kind,
            name=spec.name,
            author=spec.author,
            votes=spec.votes,
            step_number=STEP_OF_KIND[spec.kind],
            position=spec.position,
            fields=tuple(spec.fields),
            causes=alive(spec.causes),
            fed_by=alive(spec.fed_by),
            issues=alive(spec.issues),
            on=spec.on if spec.on in live else None,
            triggers=(spec.on,) if spec.kind == "policy" and spec.on in live else (),
            members=tuple(members[spec.key]),
            aggregate=spec.aggregate if spec.aggregate in live else None,
            resolved=spec.resolved,
            scenario=as_shown(spec.scenario),
            created_at=_created(workshop.started_at, spec.kind),
            aliases=tuple(aliases[spec.key]),
        )
        for spec in live.values()
    )
    return Snapshot(
        team_id="T0001",
        title=workshop.title,
        channel_id="CSYNTH",
        facilitators=(PEOPLE[0],),
        current_step=8,
        steps=tuple(_steps(workshop.started_at)),
        auto_advance=False,
        started_at=workshop.started_at,
        finished_at=None,
        elements=elements,
        contributors_by_step={n: frozenset(PEOPLE[: 4 + n]) for n in range(1, 9)},
        members=tuple(PEOPLE),
        names={user: f"Person {user[1:]}" for user in PEOPLE},
        dropped=tuple((s.key, s.name) for s in workshop.specs if s.dropped),
    )


def _created(started: datetime, kind: str) -> datetime:
    return started + timedelta(days=STEP_OF_KIND[kind] - 1)


def _steps(started: datetime) -> Iterator[StepState]:
    for number in range(1, 9):
        opened = started + timedelta(days=number - 1)
        yield StepState(
            number=number,
            timebox=timedelta(days=1),
            opened_at=opened,
            deadline_at=opened + timedelta(days=1),
            closed_at=None if number == 8 else opened + timedelta(days=1),
        )


# ---- as rows in a database ------------------------------------------------------------------


def seed(engine: Engine, workshop: Plan, *, team_id: str, channel_id: str) -> int:
    """Write the workshop into Storm's tables (one transaction, bulk inserts); its id."""
    started = workshop.started_at
    with Session(engine) as session:
        row = Workshop(
            team_id=team_id,
            channel_id=channel_id,
            title=workshop.title,
            created_by=PEOPLE[0],
            started_at=started,
            current_step=8,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        workshop_id = row.id
        session.add(Facilitator(workshop_id=workshop_id, user_id=PEOPLE[0]))
        for state in _steps(started):
            session.add(
                StepRun(
                    workshop_id=workshop_id,
                    number=state.number,
                    timebox_seconds=86_400,
                    opened_at=state.opened_at,
                    deadline_at=state.deadline_at,
                    closed_at=state.closed_at,
                )
            )
        first = (session.execute(select(func.max(Element.id))).scalar() or 0) + 1
        ids = {spec.key: first + n for n, spec in enumerate(workshop.specs)}
        elements, links, fields, votes = [], [], [], []
        for spec in workshop.specs:
            element_id = ids[spec.key]
            details = None
            if spec.scenario is not None:
                s = spec.scenario
                details = {
                    "given": [ids[k] for k in s.given if k in ids],
                    "when": ids.get(s.when) if s.when else None,
                    "then": [ids[k] for k in s.then if k in ids],
                    "error": s.error,
                    "view": ids.get(s.view) if s.view else None,
                }
            elements.append(
                {
                    "id": element_id,
                    "workshop_id": workshop_id,
                    "kind": spec.kind,
                    "number": spec.number,
                    "name": spec.name,
                    "author": spec.author,
                    "added_by": spec.author,
                    "created_at": _created(started, spec.kind),
                    "step_number": STEP_OF_KIND[spec.kind],
                    "position": spec.position,
                    "source_ts": None,
                    "message_ts": f"{1_700_000_000 + element_id}.000100",
                    "dropped_at": started + timedelta(days=2) if spec.dropped else None,
                    "merged_into": ids[spec.merged_into] if spec.merged_into else None,
                    "renamed": False,
                    "resolved": spec.resolved,
                    "on_element": ids[spec.on] if spec.kind == "hotspot" and spec.on else None,
                    "aggregate_id": ids[spec.aggregate] if spec.aggregate else None,
                    "details": details,
                }
            )
            relations = [("causes", element_id, ids[k]) for k in spec.causes]
            relations += [("feeds", ids[k], element_id) for k in spec.fed_by]
            relations += [("issues", element_id, ids[k]) for k in spec.issues]
            if spec.kind == "policy" and spec.on:
                relations.append(("on", element_id, ids[spec.on]))
            links += [
                {"workshop_id": workshop_id, "kind": kind, "source_id": s, "target_id": t}
                for kind, s, t in relations
            ]
            fields += [
                {
                    "element_id": element_id,
                    "position": n,
                    "name": f.name,
                    "generated": f.generated,
                    "origin": f.origin,
                    "type": f.type,
                    "is_list": f.is_list,
                    "identifier": f.identifier,
                }
                for n, f in enumerate(spec.fields)
            ]
            votes += [
                {
                    "workshop_id": workshop_id,
                    "element_id": element_id,
                    "user_id": PEOPLE[v],
                    "created_at": started,
                }
                for v in range(spec.votes)
            ]
        # Referenced rows first (aggregates, merge survivors), so no foreign key waits.
        elements.sort(key=_insert_rank)
        for table, rows in (
            (Element, elements),
            (Link, links),
            (ElementField, fields),
            (Vote, votes),
        ):
            if rows:  # Core, so rows go in the order given, in one executemany
                session.execute(insert(table.__table__), rows)  # type: ignore[attr-defined]
        contributions = [
            {"workshop_id": workshop_id, "step_number": n, "user_id": user, "at": started}
            for n in range(1, 9)
            for user in PEOPLE[: 4 + n]
        ]
        session.execute(insert(Contribution.__table__), contributions)  # type: ignore[attr-defined]
        known = set(
            session.execute(select(SlackUser.user_id).where(SlackUser.team_id == team_id)).scalars()
        )
        people = [
            {
                "team_id": team_id,
                "user_id": u,
                "name": f"person{u[1:]}",
                "tz": "UTC",
                "is_bot": False,
            }
            for u in PEOPLE
            if u not in known
        ]
        if people:
            session.execute(insert(SlackUser), people)
        session.execute(
            insert(ChannelMember),
            [{"team_id": team_id, "channel_id": channel_id, "user_id": u} for u in PEOPLE],
        )
        # Elements were given their ids here: PostgreSQL's next one must come after them.
        advance_sequences(session.connection(), SQLModel.metadata)
        session.commit()
    return workshop_id


def _insert_rank(row: dict[str, Any]) -> int:
    """Aggregates, then survivors, then merged events, then what points at any of those."""
    if row["kind"] == "aggregate":
        return 0
    if row["kind"] in ("event", "command"):
        return 2 if row["merged_into"] is not None else 1
    return 3


# ---- timing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the median of `reps` calls, the fastest and slowest, and every call in
    the order of the rounds that timed it (`rounds[i]` of two sizes ran in the same round)."""

    median: float
    low: float
    high: float
    reps: int
    rounds: tuple[float, ...] = ()


def growth(smaller: Timing, larger: Timing) -> float:
    """How many times longer the larger size's calls take: the median over the rounds of the
    two calls' ratio in each round.

    A ratio of two medians would set the larger size's calls against the smaller's taken
    minutes apart, and this VM's speed drifts by a third over minutes; the two calls of one
    round ran within a second of each other, so the drift cancels out of their ratio.
    """
    paired = [
        big / small for small, big in zip(smaller.rounds, larger.rounds, strict=True) if small > 0
    ]
    if not paired:
        return larger.median / smaller.median
    return statistics.median(paired)


def time_sizes(
    calls: dict[int, Callable[[], object]],
    *,
    min_reps: int,
    budget: float,
    patience: float = 10.0,
) -> dict[int, Timing]:
    """Time one operation at every size in rounds: each round calls every size once, smallest
    first in one round and largest first in the next.

    Rounds are what make the ratio between two sizes mean something on a shared machine: its
    speed drifts by a third from one minute to the next (other tenants, the memory they share
    with us), and timing all of one size before the other would put that drift into the ratio
    (`growth` sets the calls of one round against each other). Taking turns also means no call
    runs with the caches warmed by the same call on the same model just before, which a server
    rendering a freshly read workshop never has either.

    Rounds go on until the size that costs the most has spent `budget` seconds (at most 50
    rounds), and at least `min_reps` rounds unless that size's calls so far took `patience`
    seconds (one 12-second call is figure enough). The first call of each size is not timed:
    it is also the one that grows the process's heap to the model's size (fresh pages from the
    kernel, slow on a VM), which a server that has rendered a report before has done already.
    Before each timed call the garbage collector runs and what exists is frozen (`gc.freeze`),
    so a collection during the call walks only the objects the call made. Otherwise one full
    collection of the whole process (its modules, the workshops under test) lands in a call or
    not depending on how many objects the call makes compared with all the others, and that
    threshold, not the model's size, decides a ratio between two sizes.
    """
    for call in calls.values():
        call()  # once untimed: the first call also grows the process's heap, as a server's did
    samples: dict[int, list[float]] = {size: [] for size in calls}
    spent = dict.fromkeys(calls, 0.0)

    def another_round() -> bool:
        taken, most = len(samples[min(calls)]), max(spent.values())
        return (taken < min_reps and most < patience) or (most < budget and taken < 50)

    ascending = sorted(calls)
    turn = 0
    while another_round():
        for size in ascending if turn % 2 == 0 else ascending[::-1]:
            gc.collect()
            gc.freeze()
            try:
                started = time.perf_counter()
                calls[size]()
                elapsed = time.perf_counter() - started
            finally:
                gc.unfreeze()
            samples[size].append(elapsed)
            spent[size] += elapsed
        turn += 1
    return {
        size: Timing(statistics.median(taken), min(taken), max(taken), len(taken), tuple(taken))
        for size, taken in samples.items()
    }


def operations() -> list[tuple[str, Callable[[Snapshot], object]]]:
    """What a big model costs: the check, each step's summary, the report, every export."""
    from bot.core import completeness, reports
    from bot.core.exports import gherkin_features, to_eventmodel, to_markdown, to_mermaid
    from bot.core.exports.slices import slices_zip
    from bot.core.exports.storm_model import to_json_text

    def summary(number: int) -> Callable[[Snapshot], object]:
        return lambda s: reports.step_summary(s, number)

    return [
        ("completeness.check", completeness.check),
        *((f"reports.step_summary {n}", summary(n)) for n in range(1, 9)),
        ("reports.full_report", reports.full_report),
        ("export.to_json_text", to_json_text),
        ("exports.to_markdown", to_markdown),
        ("exports.to_mermaid", to_mermaid),
        ("exports.to_eventmodel", to_eventmodel),
        ("exports.gherkin_features", gherkin_features),
        ("exports.slices_zip", slices_zip),
    ]


@dataclass
class ModelResult:
    """Seconds per operation per size (a size's figure is None when it was skipped), and the
    hand-off's figures at one size: importing a model and exporting its slices."""

    sizes: list[int]
    times: dict[str, dict[int, Timing]]
    counts: dict[int, dict[str, int]]
    handoff_size: int | None = None
    handoff: dict[str, Timing] = field(default_factory=dict)


# The hand-off's names in the report and the goals.
IMPORT = "import of a storm-model/1 file"
SLICES = "exports.slices_zip"


def measure_handoff(
    engine: Engine, size: int, *, min_reps: int, budget: float
) -> dict[str, Timing]:
    """A team brings a model of `size` elements in (`Importing.run` on the storm-model/1 text
    Storm uploads: read, checked, stored in one transaction, into a new channel each time) and
    hands its slices to builders (`slices_zip`)."""
    from bot.core.clock import SystemClock
    from bot.core.exports.slices import slices_zip
    from bot.core.exports.storm_model import to_json_text
    from bot.service.importing import Importing, ImportRequest

    built = snapshot(plan(size))
    text = to_json_text(built).encode()
    importing = Importing(engine, SystemClock(), wake=lambda: None)
    channels = itertools.count()

    def bring_in() -> None:
        channel = f"CIMPORT{size}x{next(channels)}"
        request = ImportRequest("TIMPORT", channel, PEOPLE[0], text, "model.json")
        outcome = importing.run(request)
        assert outcome.status == "imported", outcome.post.text

    return {
        IMPORT: time_sizes({size: bring_in}, min_reps=min_reps, budget=budget)[size],
        SLICES: time_sizes(
            {size: functools.partial(slices_zip, built)}, min_reps=min_reps, budget=budget
        )[size],
    }


def measure(
    sizes: list[int],
    *,
    database_url: str,
    min_reps: int,
    budget: float,
    handoff_size: int | None = None,
) -> ModelResult:
    """Time every operation at every size, and `load_snapshot` from a real SQLite file; all
    the workshops are built (and stored) first, so that the sizes can take turns. Then the
    hand-off at `handoff_size`, when given."""
    from storage.migrate import ready_engine

    engine = ready_engine(database_url)
    counts: dict[int, dict[str, int]] = {}
    built: dict[int, Snapshot] = {}
    stored: dict[int, int] = {}
    for size in sizes:
        workshop = plan(size)
        counts[size] = workshop.counts()
        built[size] = snapshot(workshop)
        stored[size] = seed(engine, workshop, team_id="TMODEL", channel_id=f"CMODEL{size}")
    times: dict[str, dict[int, Timing]] = {}
    for name, operation in operations():
        calls = {size: functools.partial(operation, built[size]) for size in sizes}
        times[name] = time_sizes(calls, min_reps=min_reps, budget=budget)
    loads = {size: functools.partial(_load, engine, stored[size]) for size in sizes}
    times["snapshots.load_snapshot (SQLite)"] = time_sizes(loads, min_reps=min_reps, budget=budget)
    handoff = (
        measure_handoff(engine, handoff_size, min_reps=min_reps, budget=budget)
        if handoff_size
        else {}
    )
    engine.dispose()
    return ModelResult(sizes, dict(times), counts, handoff_size, handoff)


def _load(engine: Engine, workshop_id: int) -> Snapshot:
    from bot.service.snapshots import load_snapshot
    from storage.unit_of_work import unit_of_work

    with unit_of_work(engine) as session:
        workshop = session.get(Workshop, workshop_id)
        assert workshop is not None
        return load_snapshot(session, workshop)

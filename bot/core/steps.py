"""The unified process: eight timeboxed steps, from Event Storming into Event Modeling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

DEFAULT_TIMEBOX = timedelta(hours=24)


@dataclass(frozen=True)
class Step:
    """One step of the workshop: what people do in it and what it delivers."""

    number: int
    name: str
    method: str
    who: str
    focus: str
    how: str
    examples: tuple[str, ...]
    deliverable: str

    @property
    def title(self) -> str:
        return f"Step {self.number} of {len(STEPS)}: {self.name}"


STEPS: tuple[Step, ...] = (
    Step(
        1,
        "Collect Domain Events",
        "Event Storming",
        "everyone",
        "Add every domain event you know: business facts, in the past tense (“Order Placed”).",
        "Type them, several at once separated by `;` or new lines, or react :zap: to any "
        "message in this channel to turn it into an event. Vote with :+1: on an event's "
        "message.",
        ("/storm event Order Placed", "/storm event Payment Received; Order Shipped"),
        "all events, with author and votes, and who contributed",
    ),
    Step(
        2,
        "Refine Domain Events",
        "Event Storming",
        "everyone",
        "Tidy the timeline: rename, merge duplicates, drop what is not an event, put them in "
        "order, vote, and raise hotspots where you disagree.",
        "Refer to events by ID (E3) or by name.",
        (
            "/storm rename E3 Order Placed",
            "/storm merge E7 into E2",
            "/storm move E5 after E2",
            "/storm hotspot Who approves refunds? on E9",
        ),
        "the ordered timeline, merges and drops, and open hotspots",
    ),
    Step(
        3,
        "Track Causes",
        "Event Storming",
        "everyone",
        "For each event, say what causes it: commands people issue, policies that react to "
        "events, actors and external systems; and the views that inform people.",
        "A command names the events it causes; a view names the events that feed it.",
        (
            "/storm command Place Order -> E1",
            "/storm policy Ship when paid: E2 -> Ship Order",
            "/storm actor Customer -> C1",
            "/storm external Payment Gateway -> E2",
        ),
        "a cause table: what triggers each event",
    ),
    Step(
        4,
        "Aggregation",
        "Event Storming",
        "everyone",
        "Group commands and events into aggregates: the sub-systems that own them.",
        "An element belongs to one aggregate at most; grouping it again moves it.",
        ("/storm aggregate Order: C1 E1 E3", "/storm aggregate Payment: C2 E2"),
        "aggregates with their members, and what is still ungrouped",
    ),
    Step(
        5,
        "Identify Inputs",
        "Event Modeling",
        "development team and product owner",
        "Give every command its fields: the information a person or system supplies.",
        "Mark generated fields with `*`; give an explicit origin with `<-`.",
        ("/storm fields C1: customer id, items, delivery address",),
        "every command with its fields",
    ),
    Step(
        6,
        "Identify Outputs",
        "Event Modeling",
        "development team and product owner",
        "Describe the views people read, with their fields and the events that feed them, "
        "and the fields every event carries.",
        "A view's fields must come from the events that feed it.",
        (
            "/storm view Order Summary <- E1, E2",
            "/storm fields E1: order id*, customer id, items",
            "/storm fields V1: order id, total <- E2.amount",
        ),
        "every view with its fields and source events",
    ),
    Step(
        7,
        "Elaborate Scenarios",
        "Event Modeling",
        "development team and product owner",
        "Specify each workflow step as given / when / then.",
        "Scenarios exercise commands (events or an error) and views.",
        (
            "/storm scenario Happy path: given nothing when C1 then E1",
            "/storm scenario Empty cart: given nothing when C1 then error cart is empty",
            "/storm scenario Summary shows payment: given E1, E2 then V1",
        ),
        "scenarios per command and view",
    ),
    Step(
        8,
        "Completeness Check",
        "Event Modeling",
        "development team and product owner",
        "Fix what the completeness check reports until every field has an origin and a "
        "destination.",
        "Run the check whenever you like; it lists findings with what to do next.",
        ("/storm check", "/storm trace C1.customer id"),
        "the completeness report",
    ),
)

LAST_STEP = len(STEPS)


def step(number: int) -> Step:
    """The step with this number (1-based); raises ValueError for anything else."""
    if not 1 <= number <= LAST_STEP:
        raise ValueError(f"there is no step {number}: steps run from 1 to {LAST_STEP}")
    return STEPS[number - 1]

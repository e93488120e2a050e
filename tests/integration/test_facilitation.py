"""Moving through the steps and their timeboxes, as the stored workshop shows them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.core.model import StepState
from tests.integration.conftest import Driver

DAY = timedelta(hours=24)
FACILITATOR_ONLY = ":no_entry_sign: Only a facilitator of this workshop can do that."


def timed(driver: Driver, line: str, user: str = "U1") -> tuple[str, datetime, datetime]:
    """Run `line`, returning its answer and the clock's time just before and after it."""
    before = driver.clock.now()
    answer = driver.run(line, user=user)
    return answer, before, driver.clock.now()


def step(driver: Driver, number: int) -> StepState:
    return driver.snapshot().steps[number - 1]


def test_start_opens_step_one_with_a_day_to_go(driver: Driver) -> None:
    answer, before, after = timed(driver, "start Checkout")
    assert answer == "Workshop *Checkout* started; you are its facilitator. Step 1 is open."
    snapshot = driver.snapshot()
    assert snapshot.current_step == 1
    assert snapshot.facilitators == ("U1",)
    assert snapshot.finished_at is None
    first = snapshot.steps[0]
    assert first.opened_at is not None and before <= first.opened_at <= after
    assert first.deadline_at == first.opened_at + DAY
    assert first.closed_at is None
    assert [(s.timebox, s.opened_at) for s in snapshot.steps[1:]] == [(DAY, None)] * 7


def test_a_second_start_in_the_channel_is_refused(checkout: Driver) -> None:
    assert checkout.run("start Again", user="U2") == (
        ":no_entry_sign: This channel already has a workshop in progress. "
        "Finish it with `/storm end` first."
    )
    assert checkout.snapshot().title == "Checkout"


def test_next_and_step_close_one_step_and_open_another(checkout: Driver) -> None:
    checkout.clock.advance(timedelta(hours=3))
    answer, before, after = timed(checkout, "next")
    assert answer == (
        "Step 1 closed (its summary is on its way); step 2, Refine Domain Events, is open."
    )
    snapshot = checkout.snapshot()
    assert snapshot.current_step == 2
    first, second = snapshot.steps[0], snapshot.steps[1]
    assert first.closed_at is not None and before <= first.closed_at <= after
    assert second.opened_at is not None and before <= second.opened_at <= after
    assert second.deadline_at == second.opened_at + DAY
    assert checkout.run("step 6") == (
        "Step 2 closed (its summary is on its way); step 6, Identify Outputs, is open."
    )
    assert checkout.snapshot().current_step == 6
    assert step(checkout, 2).closed_at is not None
    assert checkout.run("step 6") == ":no_entry_sign: Step 6 is already open."
    checkout.run("step 8")
    assert checkout.run("next") == (
        ":no_entry_sign: Step 8 is the last step. Finish with `/storm end`."
    )
    assert checkout.snapshot().current_step == 8


def test_timebox_sets_the_current_deadline_and_later_steps(checkout: Driver) -> None:
    opened = step(checkout, 1).opened_at
    assert opened is not None
    assert checkout.run("timebox current 2h") == "Timebox for step 1 set to 2h."
    assert step(checkout, 1).deadline_at == opened + timedelta(hours=2)
    assert checkout.run("timebox 3 30m") == "Timebox for step 3 set to 30m."
    assert checkout.run("timebox all 90m").startswith("Timebox for every step set to")
    snapshot = checkout.snapshot()
    assert [s.timebox for s in snapshot.steps] == [timedelta(minutes=90)] * 8
    assert snapshot.steps[0].deadline_at == opened + timedelta(minutes=90)
    # A later step's deadline counts from when it opens.
    _, before, after = timed(checkout, "next")
    second = step(checkout, 2)
    assert second.opened_at is not None and before <= second.opened_at <= after
    assert second.deadline_at == second.opened_at + timedelta(minutes=90)


def test_extend_adds_time_from_the_deadline_or_from_now_once_it_passed(
    checkout: Driver,
) -> None:
    first = step(checkout, 1)
    assert first.deadline_at is not None and first.opened_at is not None
    assert checkout.run("extend 2h").startswith("Step 1 extended: it now ends <!date^")
    extended = step(checkout, 1)
    assert extended.deadline_at == first.deadline_at + timedelta(hours=2)
    assert extended.timebox == DAY + timedelta(hours=2)
    checkout.clock.advance(timedelta(hours=30))
    assert "time is up" in checkout.run("status")
    _, before, after = timed(checkout, "extend 1h")
    late = step(checkout, 1)
    assert late.deadline_at is not None
    assert before + timedelta(hours=1) <= late.deadline_at <= after + timedelta(hours=1)
    # The timebox is kept in whole seconds.
    assert (
        timedelta(0) <= (late.deadline_at - first.opened_at) - late.timebox < timedelta(seconds=1)
    )
    assert "time is up" not in checkout.run("status")


@pytest.mark.parametrize(
    "line", ["next", "step 3", "extend 1h", "timebox all 2h", "auto on", "end", "digest off"]
)
def test_facilitation_is_refused_to_others(checkout: Driver, line: str) -> None:
    before = checkout.snapshot()
    assert checkout.run(line, user="U2") == FACILITATOR_ONLY
    after = checkout.snapshot()
    assert (after.current_step, after.steps, after.auto_advance, after.finished_at) == (
        before.current_step,
        before.steps,
        before.auto_advance,
        before.finished_at,
    )


def test_a_facilitator_shares_facilitation(checkout: Driver) -> None:
    assert checkout.run("facilitator add <@U2|bob>") == "<@U2> is now a facilitator."
    assert checkout.snapshot().facilitators == ("U1", "U2")
    assert "step 2, Refine Domain Events, is open" in checkout.run("next", user="U2")
    checkout.run("facilitator remove <@U1>", user="U2")
    assert checkout.run("next") == FACILITATOR_ONLY
    assert checkout.run("facilitator remove <@U2|bob>", user="U2") == (
        ":no_entry_sign: The last facilitator cannot be removed: add another one first."
    )
    assert checkout.snapshot().facilitators == ("U2",)


def test_auto_advance_is_stored(checkout: Driver) -> None:
    assert checkout.run("auto on").startswith("Auto-advance is on")
    assert checkout.snapshot().auto_advance is True
    checkout.run("auto off")
    assert checkout.snapshot().auto_advance is False


def test_an_ended_workshop_refuses_changes_but_still_reads(checkout: Driver) -> None:
    checkout.run("next")
    answer, before, after = timed(checkout, "end")
    assert answer == "Workshop *Checkout* finished; the final report is on its way."
    snapshot = checkout.snapshot()
    assert snapshot.finished_at is not None and before <= snapshot.finished_at <= after
    assert snapshot.steps[1].closed_at == snapshot.finished_at
    ended = (
        ":no_entry_sign: The workshop *Checkout* in this channel has ended. `/storm report`, "
        "`check`, `export` and `trace` still work on it; `/storm start <title>` begins a new one."
    )
    for line in ["next", "event Refund Issued", "vote E1", "rename E1 X", "undo", "status"]:
        assert checkout.run(line) == ended, line
    assert checkout.run("end") == ended
    assert checkout.run("report", user="U2") == "Posting the report to the channel."
    assert checkout.timeline() == ["E1", "E2", "E3"]
    assert checkout.elements()["E1"].name == "Order Placed"


def test_without_a_workshop_commands_say_how_to_start_one(driver: Driver) -> None:
    no_workshop = (
        ":no_entry_sign: There is no workshop in this channel. "
        "Start one with `/storm start <title>`."
    )
    for line in ["next", "event Order Placed", "status", "report", "undo"]:
        assert driver.run(line) == no_workshop, line

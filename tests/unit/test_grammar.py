"""The `/storm` grammar: every line becomes one command or a clear error with its usage."""

from datetime import timedelta

import pytest

from bot.core import grammar
from bot.core.grammar import GrammarError, parse


def test_empty_line_and_help_show_the_usage_card() -> None:
    assert parse("") == grammar.Help()
    assert parse("   ") == grammar.Help()
    assert parse("help") == grammar.Help()
    assert parse("help timebox") == grammar.Help("timebox")


def test_unknown_sub_command_is_refused_with_its_name() -> None:
    with pytest.raises(GrammarError) as error:
        parse("frobnicate now")
    assert "frobnicate" in error.value.problem
    assert error.value.usage is None


def test_help_for_an_unknown_topic_is_refused() -> None:
    with pytest.raises(GrammarError, match="no sub-command"):
        parse("help nothing")


def test_start_takes_the_title_as_typed() -> None:
    assert parse("start Checkout &amp; Payment") == grammar.Start("Checkout & Payment")


def test_start_without_a_title_shows_the_start_usage() -> None:
    with pytest.raises(GrammarError) as error:
        parse("start")
    assert error.value.usage is grammar.USAGES["start"]


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("event Order Placed", ("Order Placed",)),
        ("event Order Placed; Payment Received", ("Order Placed", "Payment Received")),
        ("event Order Placed\nPayment Received\n\n", ("Order Placed", "Payment Received")),
        ("event\nOrder Placed\nOrder Shipped", ("Order Placed", "Order Shipped")),
        ("EVENT   spaced    out  ", ("spaced out",)),
        ("event &lt;!channel&gt; happened", ("<!channel> happened",)),
        ("event Paid by <@U123|dana>", ("Paid by @dana",)),
    ],
)
def test_events_several_per_line(line: str, names: tuple[str, ...]) -> None:
    assert parse(line) == grammar.AddEvents(names)


@pytest.mark.parametrize("line", ["event", "event ;;", "event \n \n"])
def test_event_without_a_name_is_refused(line: str) -> None:
    with pytest.raises(GrammarError) as error:
        parse(line)
    assert error.value.usage is grammar.USAGES["event"]


def test_event_name_with_control_characters_or_too_long_is_refused() -> None:
    with pytest.raises(GrammarError, match="control characters"):
        parse("event Order\x07Placed")
    with pytest.raises(GrammarError, match="at most 200"):
        parse("event " + "x" * 201)


def test_step_numbers_are_checked() -> None:
    assert parse("step 3") == grammar.GoToStep(3)
    for bad in ("step 0", "step 9", "step three", "step"):
        with pytest.raises(GrammarError, match="1 to 8"):
            parse(bad)


def test_extend_and_timebox_read_durations() -> None:
    assert parse("extend 1h30m") == grammar.Extend(timedelta(hours=1, minutes=30))
    assert parse("timebox all 2h") == grammar.SetTimebox("all", timedelta(hours=2))
    assert parse("timebox current 90s") == grammar.SetTimebox("current", timedelta(seconds=90))
    assert parse("timebox 5 1d") == grammar.SetTimebox(5, timedelta(days=1))
    with pytest.raises(GrammarError, match="not a duration"):
        parse("extend soon")
    with pytest.raises(GrammarError, match="current or all"):
        parse("timebox 12 1h")


def test_auto_on_off() -> None:
    assert parse("auto on") == grammar.SetAuto(True)
    assert parse("auto OFF") == grammar.SetAuto(False)
    with pytest.raises(GrammarError, match="on or off"):
        parse("auto maybe")


def test_facilitator_needs_exactly_one_mention() -> None:
    assert parse("facilitator add <@U2|bob>") == grammar.ChangeFacilitator("add", "U2")
    assert parse("facilitator remove <@U2>") == grammar.ChangeFacilitator("remove", "U2")
    for bad in ("facilitator add bob", "facilitator add <@U2> <@U3>", "facilitator make <@U2>"):
        with pytest.raises(GrammarError):
            parse(bad)


def test_commands_without_arguments_refuse_trailing_text() -> None:
    assert parse("status") == grammar.Status()
    assert parse("next") == grammar.Next()
    assert parse("end") == grammar.End()
    with pytest.raises(GrammarError, match="nothing after"):
        parse("next please")


def test_vote_and_export() -> None:
    assert parse("vote e3") == grammar.Vote("e3")
    assert parse("vote Order Placed") == grammar.Vote("Order Placed")
    assert parse("export JSON") == grammar.Export("json")
    with pytest.raises(GrammarError, match="export one of"):
        parse("export pdf")

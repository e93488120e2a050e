"""The `/storm` grammar: every line becomes one command or a clear error with its usage."""

from datetime import timedelta

import pytest

from bot.core import commands, grammar
from bot.core.grammar import GrammarError, parse
from bot.core.model import FIELD_TYPES, FieldSpec, code_identifier


def test_empty_line_and_help_show_the_usage_card() -> None:
    assert parse("") == commands.Help()
    assert parse("   ") == commands.Help()
    assert parse("help") == commands.Help()
    assert parse("help timebox") == commands.Help("timebox")


def test_unknown_sub_command_is_refused_with_its_name() -> None:
    with pytest.raises(GrammarError) as error:
        parse("frobnicate now")
    assert "frobnicate" in error.value.problem
    assert error.value.usage is None


def test_help_for_an_unknown_topic_is_refused() -> None:
    with pytest.raises(GrammarError, match="no sub-command"):
        parse("help nothing")


def test_start_takes_the_title_as_typed() -> None:
    assert parse("start Checkout &amp; Payment") == commands.Start("Checkout & Payment")


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
    assert parse(line) == commands.AddEvents(names)


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
    assert parse("step 3") == commands.GoToStep(3)
    for bad in ("step 0", "step 9", "step three", "step"):
        with pytest.raises(GrammarError, match="1 to 8"):
            parse(bad)


def test_extend_and_timebox_read_durations() -> None:
    assert parse("extend 1h30m") == commands.Extend(timedelta(hours=1, minutes=30))
    assert parse("timebox all 2h") == commands.SetTimebox("all", timedelta(hours=2))
    assert parse("timebox current 90s") == commands.SetTimebox("current", timedelta(seconds=90))
    assert parse("timebox 5 1d") == commands.SetTimebox(5, timedelta(days=1))
    with pytest.raises(GrammarError, match="not a duration"):
        parse("extend soon")
    with pytest.raises(GrammarError, match="current or all"):
        parse("timebox 12 1h")


def test_auto_on_off() -> None:
    assert parse("auto on") == commands.SetAuto(True)
    assert parse("auto OFF") == commands.SetAuto(False)
    with pytest.raises(GrammarError, match="on or off"):
        parse("auto maybe")


def test_facilitator_needs_exactly_one_mention() -> None:
    assert parse("facilitator add <@U2|bob>") == commands.ChangeFacilitator("add", "U2")
    assert parse("facilitator remove <@U2>") == commands.ChangeFacilitator("remove", "U2")
    for bad in ("facilitator add bob", "facilitator add <@U2> <@U3>", "facilitator make <@U2>"):
        with pytest.raises(GrammarError):
            parse(bad)


def test_commands_without_arguments_refuse_trailing_text() -> None:
    assert parse("status") == commands.Status()
    assert parse("next") == commands.Next()
    assert parse("end") == commands.End()
    with pytest.raises(GrammarError, match="nothing after"):
        parse("next please")


def test_vote_and_export() -> None:
    assert parse("vote e3") == commands.Vote("e3")
    assert parse("vote Order Placed") == commands.Vote("Order Placed")
    assert parse("export JSON") == commands.Export("json")
    with pytest.raises(GrammarError, match="export one of"):
        parse("export pdf")


def test_canvas_on_and_off() -> None:
    assert parse("canvas on") == commands.SetCanvas(True)
    assert parse("canvas OFF") == commands.SetCanvas(False)
    assert "say on or off" in _refused("canvas please", "canvas")


def _refused(line: str, sub_command: str) -> str:
    """The problem a malformed line is refused with, checking it shows its own usage."""
    with pytest.raises(GrammarError) as error:
        parse(line)
    assert error.value.usage is grammar.USAGES[sub_command]
    return error.value.problem


def test_usages_list_facilitation_then_modelling_then_help() -> None:
    names = list(grammar.USAGES)
    assert names[:11] == [
        "start",
        "status",
        "next",
        "step",
        "extend",
        "timebox",
        "auto",
        "facilitator",
        "digest",
        "canvas",
        "end",
    ]
    assert names[11:14] == ["event", "hotspot", "resolve"]
    assert names[-2:] == ["export", "help"]
    assert set(names) == set(grammar._PARSERS)
    assert grammar.USAGES["digest"].facilitator_only
    assert grammar.USAGES["canvas"].facilitator_only
    modelling = names[11:-1]
    assert not any(grammar.USAGES[name].facilitator_only for name in modelling)


@pytest.mark.parametrize("name", list(grammar.USAGES))
def test_every_usage_example_parses(name: str) -> None:
    example = grammar.USAGES[name].example
    assert example.startswith(f"/storm {name}")
    parse(example.removeprefix("/storm ").replace("@dana", "<@U9|dana>"))


@pytest.mark.parametrize(
    ("line", "setting"),
    [
        ("digest 09:00", "09:00"),
        ("digest 9:05", "09:05"),
        ("digest 23:59", "23:59"),
        ("digest 00:00", "00:00"),
        ("digest OFF", "off"),
        ("digest now", "now"),
    ],
)
def test_digest_time_off_or_now(line: str, setting: str) -> None:
    assert parse(line) == commands.Digest(setting)


@pytest.mark.parametrize(
    "line", ["digest", "digest 24:00", "digest 12:60", "digest 9", "digest 9:5", "digest soon"]
)
def test_digest_refuses_other_times(line: str) -> None:
    assert "00:00 to 23:59" in _refused(line, "digest")


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("hotspot Who pays the shipping?", commands.AddHotspot("Who pays the shipping?")),
        ("hotspot Who pays? on E3", commands.AddHotspot("Who pays?", "E3")),
        ("hotspot Who pays? ON c12", commands.AddHotspot("Who pays?", "c12")),
        ('hotspot Who pays? on "Order Placed"', commands.AddHotspot("Who pays?", "Order Placed")),
        ("hotspot Who pays? on “Order Placed”", commands.AddHotspot("Who pays?", "Order Placed")),
        # ` on ` followed by anything else is part of the text.
        ("hotspot What happens on a refund?", commands.AddHotspot("What happens on a refund?")),
        ("hotspot Rely on B2 partners", commands.AddHotspot("Rely on B2 partners")),
        ("hotspot Act on it on E1", commands.AddHotspot("Act on it", "E1")),
        ("hotspot Tax &amp; &lt;VAT&gt;? on E2", commands.AddHotspot("Tax & <VAT>?", "E2")),
        ("hotspot Ask <@U1|dana> on E2", commands.AddHotspot("Ask @dana", "E2")),
        (
            "hotspot See <https://wiki.example.com/on E3|the wiki>",
            commands.AddHotspot("See the wiki"),
        ),
    ],
)
def test_hotspot_text_and_optional_element(line: str, command: commands.AddHotspot) -> None:
    assert parse(line) == command


def test_hotspot_needs_a_text() -> None:
    assert "cannot be empty" in _refused("hotspot", "hotspot")
    assert "before on" in _refused("hotspot on E3", "hotspot")
    assert "cannot be empty" in _refused('hotspot Why? on ""', "hotspot")


def test_resolve_and_drop_take_one_ref() -> None:
    assert parse("resolve h2") == commands.Resolve("h2")
    assert parse("drop Order   Placed") == commands.Drop("Order Placed")
    assert parse("drop Tax &amp; Fees") == commands.Drop("Tax & Fees")
    assert "cannot be empty" in _refused("resolve", "resolve")
    assert "cannot be empty" in _refused("drop", "drop")


def test_resolve_takes_an_answer_after_the_hotspots_id() -> None:
    assert parse("resolve H2 Finance   approves &lt;100&gt;") == commands.Resolve(
        "H2", "Finance approves <100>"
    )
    assert parse("resolve h2 Ask <@U1|dana>") == commands.Resolve("h2", "Ask @dana")
    # A hotspot named by its text takes no answer: its text may hold anything.
    assert parse("resolve Who pays shipping?") == commands.Resolve("Who pays shipping?")
    assert "at most 1000 characters" in _refused("resolve H2 " + "x" * 1001, "resolve")


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("rename E3 Order Placed", commands.Rename("E3", "Order Placed")),
        ("rename e3   Order  Placed", commands.Rename("e3", "Order Placed")),
        ("rename Order placed -&gt; Order Placed", commands.Rename("Order placed", "Order Placed")),
        ("rename Order placed -> Order Placed", commands.Rename("Order placed", "Order Placed")),
        ("rename E3 → Paid", commands.Rename("E3", "Paid")),
        ("rename E3 -&gt; In -&gt; Out", commands.Rename("E3", "In -> Out")),
        ("rename E3 Tax &amp; Fees Paid", commands.Rename("E3", "Tax & Fees Paid")),
    ],
)
def test_rename_by_id_or_with_an_arrow(line: str, command: commands.Rename) -> None:
    assert parse(line) == command


def test_rename_errors() -> None:
    assert "say which element" in _refused("rename", "rename")
    assert "by its ID" in _refused("rename Order placed Order Placed", "rename")
    assert "new name after E3" in _refused("rename E3", "rename")
    assert "cannot be empty" in _refused("rename E3 -&gt;", "rename")
    assert "cannot be empty" in _refused("rename -&gt; Paid", "rename")


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("merge E7 into E3", commands.Merge("E7", "E3")),
        (
            "merge Order was placed INTO Order Placed",
            commands.Merge("Order was placed", "Order Placed"),
        ),
        ("merge Money Paid Into Account into E4", commands.Merge("Money Paid Into Account", "E4")),
        ("merge E3 into Money Paid Into Account", commands.Merge("E3", "Money Paid Into Account")),
        ("merge Tax &amp; Fees into E1", commands.Merge("Tax & Fees", "E1")),
    ],
)
def test_merge(line: str, command: commands.Merge) -> None:
    assert parse(line) == command


def test_merge_errors() -> None:
    assert "merge E7 into E3" in _refused("merge E7", "merge")
    assert "merge E7 into E3" in _refused("merge into E3", "merge")
    assert "merge E7 into E3" in _refused("merge E7 into", "merge")
    assert "more than one way" in _refused("merge Paid Into Bank into Paid Into Card", "merge")
    assert "into itself" in _refused("merge E3 into e3", "merge")


@pytest.mark.parametrize(
    ("line", "refs"),
    [
        ("order E2 E1 E3", ("E2", "E1", "E3")),
        ("order E2,E1", ("E2", "E1")),
        ("order Placed Paid Shipped", ("Placed", "Paid", "Shipped")),
        ("order Order Placed, Payment Received", ("Order Placed", "Payment Received")),
        ("order E1 E2, Order Shipped, E4", ("E1", "E2", "Order Shipped", "E4")),
        ("order Tax &amp; Fees Paid, E2,", ("Tax & Fees Paid", "E2")),
    ],
)
def test_order_spaces_or_commas(line: str, refs: tuple[str, ...]) -> None:
    assert parse(line) == commands.Order(refs)


def test_order_errors() -> None:
    assert "at least two" in _refused("order", "order")
    assert "at least two" in _refused("order E1", "order")
    assert "at least two" in _refused("order Order Placed,", "order")
    assert "“e1” is named more than once" in _refused("order E1 E2 e1", "order")


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("move E4 after E1", commands.Move("E4", "after", "E1")),
        ("move e4 BEFORE e1", commands.Move("e4", "before", "e1")),
        (
            "move Order Shipped before Payment Received",
            commands.Move("Order Shipped", "before", "Payment Received"),
        ),
        (
            "move Paid After Deadline before E2",
            commands.Move("Paid After Deadline", "before", "E2"),
        ),
        (
            "move E2 after Paid Before Deadline",
            commands.Move("E2", "after", "Paid Before Deadline"),
        ),
    ],
)
def test_move(line: str, command: commands.Move) -> None:
    assert parse(line) == command


def test_move_errors() -> None:
    assert "after or before" in _refused("move E4 E1", "move")
    assert "after or before" in _refused("move E4 after", "move")
    assert "after or before" in _refused("move", "move")
    assert "more than one way" in _refused("move A after B before C", "move")
    assert "next to itself" in _refused("move E4 after e4", "move")


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("command Place Order -&gt; E1", commands.AddCommand("Place Order", ("E1",))),
        ("command Place Order -&gt; E1, E2", commands.AddCommand("Place Order", ("E1", "E2"))),
        ("command Place Order -> E1,E2", commands.AddCommand("Place Order", ("E1", "E2"))),
        ("command Place Order → E1 E2", commands.AddCommand("Place Order", ("E1", "E2"))),
        (
            "command Place Order --&gt; Order Placed",
            commands.AddCommand("Place Order", ("Order Placed",)),
        ),
        (
            "command Pay &amp; Ship -&gt; Paid &amp; Shipped, E4",
            commands.AddCommand("Pay & Ship", ("Paid & Shipped", "E4")),
        ),
        ("command Place Order", commands.AddCommand("Place Order")),
    ],
)
def test_command_and_the_events_it_causes(line: str, command: commands.AddCommand) -> None:
    assert parse(line) == command


def test_command_errors() -> None:
    assert "cannot be empty" in _refused("command", "command")
    assert "cannot be empty" in _refused("command -&gt; E1", "command")
    assert "at least one event after the arrow" in _refused("command Pay -&gt; , ", "command")
    assert "arrow points the other way" in _refused("command Pay &lt;- E1", "command")


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("view Order Summary &lt;- E1", commands.AddView("Order Summary", ("E1",))),
        (
            "view Order Summary &lt;- E1, Order Placed",
            commands.AddView("Order Summary", ("E1", "Order Placed")),
        ),
        ("view Order Summary <- E1 E3", commands.AddView("Order Summary", ("E1", "E3"))),
        ("view Order Summary ← E1", commands.AddView("Order Summary", ("E1",))),
        ("view Stock &amp; Prices", commands.AddView("Stock & Prices")),
    ],
)
def test_view_and_the_events_that_feed_it(line: str, command: commands.AddView) -> None:
    assert parse(line) == command


def test_view_errors() -> None:
    assert "cannot be empty" in _refused("view &lt;- E1", "view")
    assert "at least one event after the arrow" in _refused("view Summary &lt;-", "view")
    assert "arrow points the other way" in _refused("view Summary -&gt; E1", "view")


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("policy Ship when paid: E2 -&gt; C3", commands.AddPolicy("Ship when paid", "E2", "C3")),
        ("policy Ship:E2->C3", commands.AddPolicy("Ship", "E2", "C3")),
        ("policy Remind at 09:00: E1 -&gt; C1", commands.AddPolicy("Remind at 09:00", "E1", "C1")),
        (
            "policy Refund &amp; notify: Order Cancelled -&gt; Refund Payment",
            commands.AddPolicy("Refund & notify", "Order Cancelled", "Refund Payment"),
        ),
    ],
)
def test_policy(line: str, command: commands.AddPolicy) -> None:
    assert parse(line) == command


def test_policy_errors() -> None:
    assert "policy name, a colon" in _refused("policy Ship E2 -&gt; C3", "policy")
    assert "then the command" in _refused("policy Ship: E2", "policy")
    assert "one event or view to one command" in _refused("policy Ship: E1, E2 -&gt; C3", "policy")
    assert "one event or view to one command" in _refused("policy Ship: E1 -&gt; C3, C4", "policy")
    assert "cannot be empty" in _refused("policy : E1 -&gt; C3", "policy")
    assert "cannot be empty" in _refused("policy Ship: -&gt; C3", "policy")
    assert "cannot be empty" in _refused("policy Ship: E1 -&gt;", "policy")


def test_actor_and_external() -> None:
    assert parse("actor Customer -&gt; C1, C2") == commands.AddActor("Customer", ("C1", "C2"))
    assert parse("actor <@U1|dana> -&gt; Place Order") == commands.AddActor(
        "@dana", ("Place Order",)
    )
    assert parse("actor Clerk") == commands.AddActor("Clerk")
    assert parse("external Payment Provider -&gt; E2") == commands.AddExternal(
        "Payment Provider", ("E2",)
    )
    assert parse("external Bank &amp; Co -> E2 E3") == commands.AddExternal(
        "Bank & Co", ("E2", "E3")
    )
    assert "at least one command" in _refused("actor Customer -&gt;", "actor")
    assert "arrow points the other way" in _refused("actor Customer &lt;- C1", "actor")
    assert "cannot be empty" in _refused("external -&gt; E1", "external")
    assert "at least one event" in _refused("external Bank -&gt;", "external")


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("aggregate Order: C1 E1 E2", commands.Group("Order", ("C1", "E1", "E2"))),
        ("aggregate Order:C1,E1", commands.Group("Order", ("C1", "E1"))),
        ("aggregate Order: Place Order, E1", commands.Group("Order", ("Place Order", "E1"))),
        ("aggregate Order &amp; Payment: C1", commands.Group("Order & Payment", ("C1",))),
        ("aggregate :package: Orders: C1", commands.Group(":package: Orders", ("C1",))),
    ],
)
def test_aggregate(line: str, command: commands.Group) -> None:
    assert parse(line) == command


def test_aggregate_errors() -> None:
    assert "a colon" in _refused("aggregate Order C1 E1", "aggregate")
    assert "at least one command, event or view" in _refused("aggregate Order:", "aggregate")
    assert "cannot be empty" in _refused("aggregate : C1", "aggregate")


def test_fields_plain_generated_and_with_origin() -> None:
    assert parse("fields C1: order_id*, customer, total &lt;- E3.amount") == commands.SetFields(
        "C1",
        (
            commands.FieldInput("order_id", generated=True),
            commands.FieldInput("customer"),
            commands.FieldInput("total", origin_ref="E3", origin_field="amount"),
        ),
    )


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("fields C1:", commands.SetFields("C1", ())),
        ("fields C1:  ", commands.SetFields("C1", ())),
        ("fields e3:id *", commands.SetFields("e3", (commands.FieldInput("id", generated=True),))),
        (
            "fields Order Placed: total <- Payment Received.amount.value",
            commands.SetFields(
                "Order Placed",
                (
                    commands.FieldInput(
                        "total", origin_ref="Payment Received", origin_field="amount.value"
                    ),
                ),
            ),
        ),
        (
            "fields V1: total ← E3 . amount, sent at*",
            commands.SetFields(
                "V1",
                (
                    commands.FieldInput("total", origin_ref="E3", origin_field="amount"),
                    commands.FieldInput("sent at", generated=True),
                ),
            ),
        ),
        (
            "fields Tax &amp; Fees: a&amp;b, c &lt;- E1.d,",
            commands.SetFields(
                "Tax & Fees",
                (
                    commands.FieldInput("a&b"),
                    commands.FieldInput("c", origin_ref="E1", origin_field="d"),
                ),
            ),
        ),
    ],
)
def test_fields_forms(line: str, command: commands.SetFields) -> None:
    assert parse(line) == command


@pytest.mark.parametrize("field_type", FIELD_TYPES)
def test_a_field_takes_each_type_in_any_case(field_type: str) -> None:
    for written in (field_type, field_type.lower(), field_type.upper()):
        assert parse(f"fields C1: amount:{written}") == commands.SetFields(
            "C1", (commands.FieldInput("amount", type=field_type),)
        )


def test_typed_fields_combine_with_lists_and_marks() -> None:
    line = (
        "fields C1: order id:uuid*, total : Decimal &lt;- E1.amount, items:String[], "
        "dates:date [], sent at*:DateTime, plain"
    )
    assert parse(line) == commands.SetFields(
        "C1",
        (
            commands.FieldInput("order id", generated=True, type="UUID"),
            commands.FieldInput("total", origin_ref="E1", origin_field="amount", type="Decimal"),
            commands.FieldInput("items", is_list=True),
            commands.FieldInput("dates", type="Date", is_list=True),
            commands.FieldInput("sent at", generated=True, type="DateTime"),
            commands.FieldInput("plain"),
        ),
    )


def test_an_unknown_field_type_is_refused_with_the_types() -> None:
    problem = _refused("fields C1: amount:Money", "fields")
    assert "“Money” is not a field type" in problem
    assert "String, Int, Long, Double, Decimal, Boolean, UUID, Date, DateTime, Custom" in problem
    assert "did you mean Int?" in _refused("fields C1: count:Integer", "fields")
    assert "write the type of “amount” after the colon" in _refused("fields C1: amount:", "fields")
    assert "write the type" in _refused("fields C1: amount:[]", "fields")
    assert "cannot be empty" in _refused("fields C1: :Int", "fields")
    assert "the same field" in _refused("fields C1: order id:UUID, orderId", "fields")


def test_a_typed_field_is_written_back_as_typed() -> None:
    line = "fields C1: order id:UUID*, total:Decimal &lt;- E1.amount, items:String[], note"
    parsed = parse(line)
    assert isinstance(parsed, commands.SetFields)
    written = [
        str(
            FieldSpec(
                f.name,
                f.generated,
                f"{f.origin_ref}.{f.origin_field}" if f.origin_ref else None,
                f.type,
                f.is_list,
            )
        )
        for f in parsed.fields
    ]
    assert written == ["order id:UUID*", "total:Decimal <- E1.amount", "items:String[]", "note"]
    assert parse("fields C1: " + ", ".join(written).replace("<-", "&lt;-")) == parsed


@pytest.mark.parametrize(
    ("name", "identifier"),
    [
        ("order id", "orderId"),
        ("order_id", "orderId"),
        ("Order ID", "orderId"),
        ("orderId", "orderId"),
        ("order-id", "orderId"),
        ("  total  amount ", "totalAmount"),
        ("URL", "url"),
        ("customer's name", "customersName"),
        ("2fa code", "_2faCode"),
        ("prix TTC €", "prixTtc"),
        ("€", "field"),
        ("Café total", "caféTotal"),
        ("💰", "field"),
    ],
)
def test_a_field_identifier_is_derived_in_camel_case(name: str, identifier: str) -> None:
    assert code_identifier(name) == identifier
    assert FieldSpec(name).code_name == identifier
    assert FieldSpec(name, identifier="order_ref").code_name == "order_ref"


def test_fields_errors() -> None:
    assert "a colon" in _refused("fields C1 order_id", "fields")
    assert "the same field" in _refused("fields C1: orderId, Order ID", "fields")
    assert "“a” is listed twice" in _refused("fields C1: a, a*", "fields")
    assert "either generated" in _refused("fields C1: a* &lt;- E1.a", "fields")
    assert "<ref>.<field>" in _refused("fields C1: a &lt;- E1", "fields")
    assert "<ref>.<field>" in _refused("fields C1: a &lt;- .a", "fields")
    assert "<ref>.<field>" in _refused("fields C1: a &lt;- E1.", "fields")
    assert "not a field name" in _refused("fields C1: _", "fields")
    assert "cannot be empty" in _refused("fields C1: *", "fields")
    assert "cannot be empty" in _refused("fields C1: &lt;- E1.a", "fields")
    assert "cannot be empty" in _refused("fields : a", "fields")
    assert "control characters" in _refused("fields C1: a\x07b", "fields")


@pytest.mark.parametrize(
    ("line", "command"),
    [
        (
            "scenario Happy path: given E1 when C2 then E2, E3",
            commands.AddScenario("Happy path", ("E1",), "C2", ("E2", "E3")),
        ),
        (
            "scenario First order: Given nothing When Place Order Then Order Placed and E2",
            commands.AddScenario("First order", (), "Place Order", ("Order Placed", "E2")),
        ),
        (
            "scenario Twice: given E1, E1 and E2 when C1 then E3",
            commands.AddScenario("Twice", ("E1", "E1", "E2"), "C1", ("E3",)),
        ),
        (
            "scenario Declined: given E1 when C1 then error card declined when expired, then retry",
            commands.AddScenario(
                "Declined", ("E1",), "C1", error="card declined when expired, then retry"
            ),
        ),
        (
            "scenario Declined: given nothing when C1 then ERROR: &lt;no&gt; &amp; stop",
            commands.AddScenario("Declined", (), "C1", error="<no> & stop"),
        ),
        (
            "scenario Idempotent: given E1 when C1 then nothing",
            commands.AddScenario("Idempotent", ("E1",), "C1", ()),
        ),
        (
            "scenario Summary: given E1, E2 then Order Summary",
            commands.AddScenario("Summary", ("E1", "E2"), view="Order Summary"),
        ),
        (
            "scenario Empty list: given nothing then V1",
            commands.AddScenario("Empty list", (), view="V1"),
        ),
        (
            "scenario Cut-off: 17:00: given E1 when C1 then E2",
            commands.AddScenario("Cut-off: 17:00", ("E1",), "C1", ("E2",)),
        ),
        (
            "scenario Tax &amp; fees:given E1 when C1 then E2 E3",
            commands.AddScenario("Tax & fees", ("E1",), "C1", ("E2", "E3")),
        ),
    ],
)
def test_scenario_forms(line: str, command: commands.AddScenario) -> None:
    assert parse(line) == command


def test_scenario_alone_asks_for_the_form() -> None:
    assert parse("scenario") == commands.OpenForm("scenario")
    assert parse("  SCENARIO \n ") == commands.OpenForm("scenario")
    assert "title, a colon" in _refused("scenario Happy", "scenario")  # a title alone is not


def test_import_alone_asks_for_its_form_and_takes_nothing_after_it() -> None:
    assert parse("import") == commands.OpenForm("import")
    assert parse(" IMPORT ") == commands.OpenForm("import")
    assert "takes nothing after it" in _refused("import model.json", "import")


def test_scenario_errors() -> None:
    assert "title, a colon, then given" in _refused("scenario Happy given E1 then V1", "scenario")
    assert "title, a colon, then given" in _refused("scenario Happy: when C1 then E1", "scenario")
    assert "cannot be empty" in _refused("scenario : given E1 then V1", "scenario")
    assert "with then" in _refused("scenario Happy: given E1 when C1", "scenario")
    assert "after then" in _refused("scenario Happy: given E1 when C1 then", "scenario")
    assert "given nothing" in _refused("scenario Happy: given when C1 then E1", "scenario")
    assert "after when" in _refused("scenario Happy: given E1 when then E2", "scenario")
    assert "one command" in _refused("scenario Happy: given E1 when C1, C2 then E2", "scenario")
    assert "cannot be empty" in _refused("scenario No: given E1 when C1 then error", "scenario")
    assert "needs when" in _refused("scenario No: given E1 then error nope", "scenario")
    assert "one view" in _refused("scenario V: given E1 then V1, V2", "scenario")
    assert "one view" in _refused("scenario V: given E1 then nothing", "scenario")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            "scenario X: given E1 then E3",
            "E3 is an event: the then of a view scenario names a view",
        ),
        ("scenario X: given E1 when E3 then E4", "E3 is an event: when names a command"),
        ("scenario X: given nothing when V1 then E1", "V1 is a view: when names a command"),
        ("scenario X: given C1 when C2 then E1", "C1 is a command: the given of a scenario"),
        ("scenario X: given E1 when C2 then V1", "V1 is a view: the then of a scenario lists"),
        ("scenario X: given E1, h2 then V1", "H2 is a hotspot: the given of a scenario lists"),
        ("scenario X: given E1 when c1 then E2 and V4", "V4 is a view"),
    ],
)
def test_scenario_ids_of_the_wrong_kind_are_refused(line: str, problem: str) -> None:
    assert problem in _refused(line, "scenario")


def test_trace() -> None:
    assert parse("trace C1.order_id") == commands.Trace("C1", "order_id")
    assert parse("trace Order Placed . customer.id") == commands.Trace(
        "Order Placed", "customer.id"
    )
    assert parse("trace Tax &amp; Fees.total") == commands.Trace("Tax & Fees", "total")
    for bad in ("trace", "trace C1", "trace .order_id", "trace C1."):
        assert "<ref>.<field>" in _refused(bad, "trace")


def test_undo_check_report_take_nothing() -> None:
    assert parse("undo") == commands.Undo()
    assert parse("check") == commands.Check()
    assert parse("REPORT") == commands.Report()
    for name in ("undo", "check", "report"):
        assert "nothing after" in _refused(f"{name} now", name)


@pytest.mark.parametrize("fmt", ["md", "json", "mermaid", "eventmodel", "gherkin", "slices"])
def test_every_export_format(fmt: str) -> None:
    assert parse(f"export {fmt.upper()}") == commands.Export(fmt)


def test_export_markdown_is_md_and_others_are_refused() -> None:
    assert parse("export markdown") == commands.Export("md")
    assert "md, json, mermaid, eventmodel, gherkin, slices, png, svg" in _refused(
        "export", "export"
    )


@pytest.mark.parametrize(
    ("line", "command"),
    [
        (
            "screen Checkout -&gt; C1, C2 &lt;- V1",
            commands.AddScreen("Checkout", ("C1", "C2"), ("V1",)),
        ),
        (
            "screen Checkout &lt;- V1, V2 -&gt; C1",
            commands.AddScreen("Checkout", ("C1",), ("V1", "V2")),
        ),
        (
            "screen Cart → Place Order ← Cart Summary",
            commands.AddScreen("Cart", ("Place Order",), ("Cart Summary",)),
        ),
        ("screen Checkout -&gt; C1", commands.AddScreen("Checkout", ("C1",))),
        ("screen Orders &lt;- V1", commands.AddScreen("Orders", (), ("V1",))),
        ("screen Sign-in &amp; Sign-up", commands.AddScreen("Sign-in & Sign-up")),
        ("screen U1 -&gt; C3", commands.AddScreen("U1", ("C3",))),
    ],
)
def test_screen(line: str, command: commands.AddScreen) -> None:
    assert parse(line) == command


def test_screen_errors() -> None:
    assert "once each" in _refused("screen A -&gt; C1 -&gt; C2", "screen")
    assert "once each" in _refused("screen A &lt;- V1 &lt;- V2", "screen")
    assert "at least one command after ->" in _refused("screen A -&gt; &lt;- V1", "screen")
    assert "at least one view after <-" in _refused("screen A -&gt; C1 &lt;-", "screen")
    assert "cannot be empty" in _refused("screen -&gt; C1", "screen")


def test_screen_has_its_usage_and_help() -> None:
    usage = grammar.USAGES["screen"]
    assert usage.syntax == "/storm screen <name> -> <command ref>[, …] [<- <view ref>[, …]]"
    assert parse("help screen") == commands.Help("screen")


def test_a_policy_may_be_triggered_by_a_view() -> None:
    assert parse("policy Ship each: V2 -&gt; C3") == commands.AddPolicy("Ship each", "V2", "C3")
    assert "event or view" in grammar.USAGES["policy"].syntax


def test_fields_of_policies_and_screens_and_views_in_aggregates_parse() -> None:
    assert parse("fields U1: coupon, order id*") == commands.SetFields(
        "U1", (commands.FieldInput("coupon"), commands.FieldInput("order id", generated=True))
    )
    assert parse("fields P1: order id") == commands.SetFields(
        "P1", (commands.FieldInput("order id"),)
    )
    assert parse("aggregate Order: C1 E1 V1") == commands.Group("Order", ("C1", "E1", "V1"))

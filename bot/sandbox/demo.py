"""`stormbot demo`: a whole workshop, played in a few seconds, as a story a facilitator knows.

Why a script of sandbox lines: the demo is the sandbox with someone else typing.  Every line
below is exactly what a person could type at `stormbot sandbox` (`/storm …`, `:say`,
`:react`, `:clock`), so the demo shows the real bot and doubles as a tour of the commands.
A `{…}` in a line stands for a message's number, which only exists once it is shown: `{E4}`
is the message carrying element E4, `{Some text}` the latest message containing that text.

The story: an online shop's ordering and payment, stormed asynchronously over a week in
#ordering by Alice (product owner, facilitator), Bob (developer), Carol (payments) and
Dana (customer support, co-facilitator).  Events come by command and by :zap:, votes by
command and by :+1:, a duplicate is merged, questions become hotspots (one by :question:)
and one is resolved by a scenario; causes, aggregates, fields and scenarios follow; the
completeness check finds gaps, the team fixes most of them, and what is left is on purpose.
"""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.rule import Rule
from rich.text import Text

from bot.core.canvas import canvas_markdown
from bot.core.exports import FORMATS
from bot.runtime.settings import Settings
from bot.sandbox.console import SandboxConsole
from bot.sandbox.fake_slack import Message
from bot.sandbox.render import STYLES
from bot.sandbox.session import Sandbox, SandboxError
from storage import repository as repo
from storage.unit_of_work import unit_of_work

#: A Monday morning, so that the week reads naturally (and the output is the same each run).
#: Half past nine, so that no deadline falls on the 09:00 digests the story jumps to: the
#: clock keeps flowing in real time, and a post due a few milliseconds after the moment the
#: clock lands on would go out at some point during the next lines instead of right there.
START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CHANNEL = "ordering"
PEOPLE = ("alice", "bob", "carol", "dana")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_ELEMENT_KEY = re.compile(r"[A-Z]\d+")
#: What Storm puts in an answer that refuses a line (a usage error, a refusal).
_REFUSED = (":warning:", ":no_entry_sign:")


@dataclass(frozen=True)
class Scene:
    """A moment of the workshop: what happens, in words, then the lines typed, each as
    `name: line` (that person types it) or `:clock …` (time passes)."""

    story: str
    lines: tuple[str, ...]


SCRIPT: tuple[Scene, ...] = (
    Scene(
        "Monday 09:30. Alice, the product owner, opens the workshop in #ordering, shares "
        "facilitation with Dana from customer support, and has the channel's canvas follow "
        "the model.",
        (
            "alice: /storm start Ordering and Payment",
            "alice: /storm facilitator add @dana",
            "alice: /storm canvas on",
        ),
    ),
    Scene(
        "Step 1, Collect Domain Events. Bob adds what he knows from the code. Carol, from "
        "payments, just says it in the channel, and Dana turns her message into an event with "
        ":zap:. Carol adds the rest; Storm points out that one of hers repeats Bob's.",
        (
            ":clock +1h",
            "bob: /storm event Item Added to Cart; Order Placed; Order Shipped",
            "carol: :say Payment Authorised",
            "dana: :react {Payment Authorised} zap",
            "carol: /storm event Payment Captured; Payment Declined; order placed",
            "dana: /storm event Refund Issued",
        ),
    ),
    Scene(
        "Monday evening: half of step 1's day is gone, and Storm reminds the channel who has "
        "not added anything yet.",
        (":clock 22:00",),
    ),
    Scene(
        "Tuesday 09:00. The daily digest sums up Monday. Alice closes step 1; Storm posts "
        "every event with its author and opens step 2, Refine Domain Events.",
        (
            ":clock 09:00 tomorrow",
            "alice: /storm next",
        ),
    ),
    Scene(
        "Carol merges her duplicate into Bob's event. People vote, by command and with :+1:. "
        "Alice puts the timeline in order. Dana asks what happens after two declines; Carol "
        "wonders about refunding shipping, and Bob makes that a hotspot with :question:.",
        (
            "carol: /storm merge E7 into E2",
            "bob: /storm vote E2",
            "carol: :react {E4} +1",
            "dana: /storm vote Payment Declined",
            "alice: /storm order E1 E2 E4 E6 E3 E5 E8",
            "dana: /storm hotspot What happens when a card is declined twice? on E6",
            "carol: :say Do we refund the shipping cost too?",
            "bob: :react {Do we refund the shipping cost too?} question",
            ":clock 17:00",
            "alice: /storm next",
        ),
    ),
    Scene(
        "Wednesday, step 3, Track Causes: the commands behind each event, the policies that "
        "chain them, who issues them, the payment provider outside, and the views people read.",
        (
            ":clock 09:00 tomorrow",
            "bob: /storm command Add Item -> E1",
            "bob: /storm command Place Order -> E2",
            "carol: /storm command Authorise Payment -> E4, E6",
            "carol: /storm policy Authorise when ordered: E2 -> C3",
            "bob: /storm command Ship Order -> E3",
            "carol: /storm policy Capture when shipped: E3 -> Capture Payment",
            "carol: /storm command Capture Payment -> E5",
            "dana: /storm command Refund Payment -> E8",
            "alice: /storm actor Customer -> C1, C2",
            "dana: /storm actor Warehouse Clerk -> C4",
            "dana: /storm actor Support Agent -> C6",
            "carol: /storm external Payment Provider -> E6",
            "dana: /storm view Order Status <- E2, E4, E3, E5, E8",
            "bob: /storm view Cart <- E1",
            ":clock 14:00",
            "alice: /storm next",
        ),
    ),
    Scene(
        "Step 4, Aggregation: Bob and Carol split the model into Order and Payment. Nobody "
        "closes the step, so Storm reminds the channel on Thursday morning and, when its day "
        "is up, asks the facilitators to move on; Dana does.",
        (
            "bob: /storm aggregate Order: C1 C2 C4 E1 E2 E3",
            "carol: /storm aggregate Payment: C3 C5 C6 E4 E5 E6 E8",
            ":clock 09:00 tomorrow",
            ":clock 15:00",
            "dana: /storm next",
        ),
    ),
    Scene(
        "Step 5, Identify Inputs: the fields each command carries. `*` marks what the system "
        "generates; `<-` says where a value comes from.",
        (
            "bob: /storm fields C1: cart id*, product, quantity",
            "bob: /storm fields C2: order id*, cart id, total",
            "carol: /storm fields C3: order id, amount <- E2.total, card token",
            "bob: /storm fields C4: order id, address",
            "carol: /storm fields C5: order id, amount",
            "dana: /storm fields C6: order id, amount, reason",
            "alice: /storm next",
        ),
    ),
    Scene(
        "Step 6, Identify Outputs: the fields of events and of the views people read.",
        (
            "bob: /storm fields E1: cart id, product, quantity",
            "bob: /storm fields E2: order id, cart id, total, placed at*",
            "carol: /storm fields E4: order id, amount, authorisation id*",
            "carol: /storm fields E6: order id, reason",
            "bob: /storm fields E3: order id, tracking number*",
            "carol: /storm fields E5: order id, amount",
            "dana: /storm fields E8: order id, amount, reason",
            "bob: /storm fields V2: cart id, product, quantity",
            "dana: /storm fields V1: order id, total, status, tracking number",
            "alice: /storm next",
        ),
    ),
    Scene(
        "Friday, step 7, Elaborate Scenarios: given, when, then; a rejection; a view. Carol's "
        "scenario for a card declined twice answers Dana's question, so Dana resolves it.",
        (
            ":clock 09:00 tomorrow",
            "bob: /storm scenario Place an order: given E1 when C2 then E2",
            "bob: /storm scenario Empty cart: given nothing when C2 then error the cart is empty",
            "carol: /storm scenario Authorise: given E2 when C3 then E4",
            "carol: /storm scenario Declined twice: given E6 when C3 then error ask for "
            "another card",
            "dana: /storm resolve H1",
            "carol: /storm scenario Capture on dispatch: given E4, E3 when C5 then E5",
            "bob: /storm scenario Ship a paid order: given E4 when C4 then E3",
            "dana: /storm scenario Status after dispatch: given E2, E4, E3 then V1",
            "alice: /storm next",
        ),
    ),
    Scene(
        "Step 8, Completeness Check. The first check finds a card token and an address that "
        "no event records, a view field nobody provides, and event fields that go nowhere. "
        "Carol drops the card token (it must never be stored); Bob records the address on "
        "Order Shipped and has the cart view listen to Order Placed; Dana reworks the Order "
        "Status view; Bob specifies adding to the cart. What is left is on purpose: refunds "
        "and their open question are next week's session, and the authorisation id waits "
        "for the reconciliation report.",
        (
            "alice: /storm check",
            "carol: /storm fields C3: order id, amount <- E2.total",
            "bob: /storm fields E3: order id, address, tracking number*",
            "bob: /storm view Cart <- E2",
            "dana: /storm view Order Status <- E6",
            "dana: /storm fields V1: order id, total, placed at, address, tracking number, "
            "amount, reason",
            "bob: /storm scenario Add to cart: given nothing when C1 then E1",
            "alice: /storm check",
        ),
    ),
    Scene(
        "Alice exports the model in every format and ends the workshop; Storm posts the final "
        "report.",
        (
            *(f"alice: /storm export {fmt}" for fmt in FORMATS),
            "alice: /storm end",
        ),
    ),
)


class DemoError(RuntimeError):
    """The script no longer runs as written (Storm refused a line): the demo must say so."""


class Demo:
    """Plays `SCRIPT` in a sandbox, a line or two per message, and the report at the end."""

    def __init__(self, sandbox: Sandbox, *, out: Path, terminal: Console) -> None:
        self.terminal = terminal
        self.console = SandboxConsole(
            sandbox, files=out, out=terminal, channel=CHANNEL, compact=True, strict=True
        )

    def play(self) -> Message | None:
        """Run every scene; returns the last completeness check Storm posted."""
        for scene in SCRIPT:
            self.terminal.print()
            self.terminal.print(Text(scene.story, STYLES["author"]))
            for line in scene.lines:
                self._line(line)
        feed = self.console.feed
        last = feed.latest(lambda m: m.is_bot and m.text.startswith("Completeness"))
        return feed.message(last) if last is not None else None

    def _line(self, line: str) -> None:
        if line.startswith(":clock"):
            self.terminal.print(Text(f"  {line}", STYLES["note"]))
            self.console.handle(line)
            return
        person, _, typed = line.partition(": ")
        typed = _PLACEHOLDER.sub(self._number, typed)
        self.terminal.print(Text.assemble(("  ", ""), (person, STYLES["author"]), f"> {typed}"))
        self.console.act(person, typed)
        answer = self.console.last_answer
        if typed.startswith("/storm") and answer is not None:
            said = answer.text + repr(answer.blocks)
            if any(mark in said for mark in _REFUSED):
                raise DemoError(f"Storm refused “{typed}”: {answer.text}")

    def _number(self, match: re.Match[str]) -> str:
        wanted = match.group(1)
        if _ELEMENT_KEY.fullmatch(wanted):
            found = self.console.feed.latest(lambda m: m.is_bot and m.text.startswith(f"{wanted} "))
        else:
            found = self.console.feed.latest(lambda m: not m.is_bot and wanted in m.text)
        if found is None:
            raise DemoError(f"no message for {{{wanted}}} has been shown")
        return str(found)


def run_demo(settings: Settings, *, out: Path) -> int:
    """`stormbot demo`: play the workshop, write the exports to `out`, print the report.

    It plays on `DATABASE_URL` when that is set, and otherwise on a throw-away database, so
    that it never meets the workshops of your own sandbox (nor a demo cut short earlier).
    """
    terminal = Console(highlight=False, markup=False, emoji=False)
    with contextlib.ExitStack() as stack:
        if "database_url" not in settings.model_fields_set:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="storm-demo-"))
            settings = settings.model_copy(
                update={"database_url": f"sqlite:///{Path(folder) / 'storm.db'}"}
            )
        sandbox = stack.enter_context(Sandbox(settings, people=PEOPLE, start_at=START))
        demo = Demo(sandbox, out=out, terminal=terminal)
        try:
            check = demo.play()
        except (DemoError, SandboxError) as error:
            print(f"stormbot demo: {error}", file=sys.stderr)
            return 1
        terminal.print()
        terminal.print(Rule("The completeness report", style=STYLES["note"]))
        if check is not None:
            terminal.print(demo.console.feed.render(check))
        terminal.print(Rule(style=STYLES["note"]))
        # A picture of the board comes with every summary from step 3 on: name each file once.
        written = ", ".join(dict.fromkeys(path.name for path in demo.console.saved))
        terminal.print(f"Exports written to {out}/: {written}")
        canvas = _write_canvas(sandbox, out)
        terminal.print(f"The channel canvas's Markdown (`/storm canvas on`) is in {canvas}")
    return 0


def _write_canvas(sandbox: Sandbox, out: Path) -> Path:
    """`canvas.md`: the Markdown of #ordering's canvas as Storm keeps it, for the final model
    (rendered here rather than read from the fake Slack, whose copy is edited at most every
    ten seconds and may be one edit behind when the story ends)."""
    storm = sandbox.storm
    with unit_of_work(storm.engine, read_only=True) as session:
        workshop = repo.last_workshop(
            session, team_id=sandbox.fake.team_id, channel_id=sandbox.channel(CHANNEL)
        )
        assert workshop is not None
        snapshot = storm.workshops.snapshot(session, workshop)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "canvas.md"
    path.write_text(canvas_markdown(snapshot), encoding="utf-8")
    return path

"""Every time Storm shows in Slack is Slack's date formatting, so each reader sees their own
time zone, with UTC as the fallback (SPEC §4.3): a whole workshop's posts, updates, ephemeral
answers and answers to commands are scanned for a time written any other way."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.support.running import CHANNEL, InProcess, text_of

# `<!date^1796476424^{date_short_pretty} at {time}|2026-12-05 09:00 UTC>`: a moment Slack
# formats for its reader; the part after `|` is the fallback for clients that cannot.
DATE_TOKEN = re.compile(r"<!date\^(\d+)\^([^|>]*)\|([^>]*)>")
FALLBACK = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
# A time of day, a date, a time zone or an ISO timestamp written out as text.
RAW_TIME = re.compile(
    r"\b\d{1,2}:\d{2}\b|\b\d{4}-\d{2}-\d{2}\b|\bUTC\b|\bGMT\b|\b\d{1,2} ?[ap]\.?m\.?\b|T\d{2}:\d{2}",
    re.IGNORECASE,
)


def raw_times(text: str) -> list[str]:
    """What `text` shows as a time outside Slack's date tokens (whose fallbacks must be UTC)."""
    for token in DATE_TOKEN.finditer(text):
        epoch, shown, fallback = token.groups()
        if epoch != "00000000":  # `literal()`'s tokens keep `*` and `_` as typed: no time
            assert "{time}" in shown or "{date" in shown, token.group()
            assert FALLBACK.fullmatch(fallback), token.group()
    return RAW_TIME.findall(DATE_TOKEN.sub(" ", text))


def test_no_post_of_a_whole_workshop_writes_a_time_out(storm: InProcess) -> None:
    fake = storm.fake
    answers = []
    for line in [
        "start Checkout",
        "timebox all 2h",
        "event Order Placed; Payment Received; Order Shipped",
        "hotspot Who pays shipping? on E3",
        "resolve H1 The customer, above 50 EUR",
        "status",
        "extend 30m",
        "digest 08:30",
        "digest now",
    ]:
        answers.append(storm.run(line))
    storm.wait_for_post("Daily digest")
    storm.clock.advance(timedelta(hours=1, minutes=20))  # half time
    storm.wait_for_post("Half time")
    storm.clock.advance(timedelta(hours=1, minutes=20))  # time's up
    storm.wait_for_post("Time's up")
    for line in [
        "next",
        "command Place Order -> E1",
        "view Order Summary <- E1, E2",
        "aggregate Order: C1 E1",
        "fields C1: order id*, items",
        "fields E1: order id, items",
        "fields V1: order id, total <- E2.amount",
        "scenario Happy: given nothing when C1 then E1",
        "check",
        "report",
        "status",
        "step 8",
        "undo",
        "end",
    ]:
        answers.append(storm.run(line))
    storm.wait_for_post("Final report")
    storm.wait_until_sent()

    shown = {
        "post": [text_of(m) + "\n" + m.text for m in storm.posts()],
        "ephemeral": [text_of(m) + "\n" + m.text for m in fake.ephemerals(CHANNEL)],
        "answer": answers,
        "update": [str(call.params.get("blocks")) for call in fake.calls_to("chat.update")],
    }
    found = {
        (where, time, text[:80])
        for where, texts in shown.items()
        for text in texts
        for time in raw_times(text)
    }
    assert len(shown["post"]) > 15 and any("Daily digest" in t for t in shown["post"])
    assert found == set()
    # And the times are there, as Slack's tokens: deadlines, the extension, the next digest.
    everything = "\n".join(text for texts in shown.values() for text in texts)
    assert len({m.group(1) for m in DATE_TOKEN.finditer(everything)} - {"00000000"}) >= 4
    assert "the next one comes <!date^" in answers[7]
    assert "it now ends <!date^" in answers[6]


def test_the_scan_catches_a_time_written_out() -> None:
    assert raw_times("due 09:00") == ["09:00"]
    assert raw_times("on 2026-12-05") == ["2026-12-05"]
    assert raw_times("at 9 pm UTC") == ["9 pm", "UTC"]
    assert raw_times("until <!date^1796476424^{time}|2026-12-05 09:00 UTC>") == []

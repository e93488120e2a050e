"""A hotspot's answer (SPEC §3) from its message's Resolve… form, over signed HTTP: kept,
shown on the message and in exports, refused when too long, and taken back by undo."""

from __future__ import annotations

import json

from tests.e2e.test_step_buttons import told
from tests.support.running import CHANNEL, InProcess, text_of


def test_the_resolve_form_keeps_the_answer_and_undo_takes_it_back(storm: InProcess) -> None:
    storm.run("start Checkout")
    storm.run("hotspot Who pays shipping?", user="U2")
    (message,) = storm.wait_for_post("*H1* Who pays shipping?")
    assert storm.slack.click(CHANNEL, message.ts, "Resolve…", user="U3").ok
    too_long = storm.slack.submit("U3", {"answer": "x" * 1001})
    assert too_long.outcome == "errors"
    assert "at most 1000 characters" in too_long.errors["answer"]

    done = storm.slack.submit("U3", {"answer": "The customer,\nabove <50> EUR"})

    assert done.outcome == "closed", done.errors
    told(storm, "U3", "Resolved hotspot *H1* Who pays shipping? Answer: The customer, above")

    def shown(needle: str, *, present: bool = True) -> None:
        storm.fake.wait_for(
            lambda f: (needle in text_of(f.message(CHANNEL, message.ts))) == present, timeout=10
        )

    shown("*Answer:* The customer, above &lt;50&gt; EUR")
    (hotspot,) = storm.export_json()["hotspots"]
    assert (hotspot["resolved"], hotspot["answer"]) == (True, "The customer, above <50> EUR")
    # A resolved hotspot's menu offers no Resolve… any more; undo reopens it without answer.
    assert "Resolve…" not in json.dumps(
        storm.fake.message(CHANNEL, message.ts).blocks, ensure_ascii=False
    )
    assert "Undone" in storm.run("undo", user="U3")
    shown("Answer", present=False)
    assert "Resolve…" in json.dumps(
        storm.fake.message(CHANNEL, message.ts).blocks, ensure_ascii=False
    )
